"""Property-based tests: random frame sizes, batch sizes, timestamp sequences (gaps, repeats,
reordering) and stage failures; the pipeline keeps order, count and timestamps and always
shuts down cleanly."""

from __future__ import annotations

import itertools
import threading
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_astgan.errors import RunError
from stream_astgan.frames import Frame, StreamInfo
from stream_astgan.packet_clock import PacketClock
from stream_astgan.pipeline import Pipeline
from stream_astgan.sinks import Sink
from stream_astgan.sources import PresentationClock, Source

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class ScriptedSource(Source):
    def __init__(self, frames, fail_at):
        self._frames, self.fail_at = frames, fail_at
        self.info = StreamInfo(8, 8, Fraction(1000), Fraction(1, 1000), len(frames))

    def frames(self):
        for i, frame in enumerate(self._frames):
            if i == self.fail_at:
                raise RuntimeError("source failed")
            yield frame


class ScriptedSink(Sink):
    def __init__(self, fail_at):
        self.fail_at, self.got, self.finished, self.aborted = fail_at, [], False, False

    def write(self, frame, stylized):
        if frame.index == self.fail_at:
            raise OSError("sink failed")
        assert stylized.shape == frame.rgb.shape
        assert int(stylized[0, 0, 0]) == 255 - int(frame.rgb[0, 0, 0])
        self.got.append((frame.index, frame.pts))

    def finish(self, trailing_packets=None):
        self.finished = True

    def abort(self):
        self.aborted = True


frame_specs = st.lists(
    st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(-5, 50)), min_size=0, max_size=25
)
failure = st.sampled_from(["none", "source", "model", "sink"])


@FAST
@given(specs=frame_specs, batch=st.integers(1, 6), fail=failure, fail_frac=st.floats(0, 1))
def test_pipeline_keeps_order_count_and_timestamps(specs, batch, fail, fail_frac):
    frames = [
        Frame(np.full((h, w, 3), i % 256, np.uint8), pts, Fraction(1, 1000), i)
        for i, (h, w, pts) in enumerate(specs)
    ]
    fail_at = int(fail_frac * len(frames)) if frames else 0

    def model(batch_array):
        if fail == "model" and any(int(x[0, 0, 0]) == fail_at % 256 for x in batch_array):
            raise RuntimeError("model failed")
        assert len({tuple(x.shape) for x in batch_array}) == 1
        return 255 - batch_array

    sink = ScriptedSink(fail_at if fail == "sink" else -1)
    source = ScriptedSource(frames, fail_at if fail == "source" else -1)
    threads_before = set(threading.enumerate())
    failed = None
    try:
        stats = Pipeline(source, model, [sink], batch=batch).run()
    except RunError as e:  # a stage's own exception, told as one line naming the stage
        assert isinstance(e.__cause__, (RuntimeError, OSError))
        failed = e
    sink_failed = failed is not None and failed.stage == "encode"
    assert (sink.finished, sink.aborted) == (not sink_failed, sink_failed)
    expected = [(f.index, f.pts) for f in frames]
    assert sink.got == expected[: len(sink.got)]  # order and timestamps, never a gap or swap
    if failed is None:
        assert sink.got == expected and stats.frames_out == len(frames)
    else:
        assert fail != "none" and len(frames) > fail_at
    leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    for t in leftover:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in leftover)


@FAST
@given(
    base=st.lists(st.integers(0, 10_000), min_size=1, max_size=40, unique=True),
    window=st.integers(1, 8),
    data=st.data(),
)
def test_presentation_clock_sorts_reordered_timestamps(base, window, data):
    """Decode-order timestamps (each displaced less than the window) come out sorted."""
    ordered = sorted(base)
    shuffled = list(ordered)
    for start in range(0, len(shuffled), window):  # B-frame-like local reordering
        block = shuffled[start : start + window]
        shuffled[start : start + window] = data.draw(st.permutations(block))
    clock, out, pending = PresentationClock(step=1), [], 0
    for pts in shuffled:
        clock.push(pts)
        pending += 1
        if pending > window:
            out.append(clock.pop())
            pending -= 1
    out += [clock.pop() for _ in range(pending)]
    assert out == ordered


@FAST
@given(pts=st.lists(st.one_of(st.none(), st.integers(-100, 100)), min_size=1, max_size=40))
def test_presentation_clock_output_strictly_increases(pts):
    """Gaps, repeats and missing timestamps still give one strictly increasing pts per frame."""
    clock = PresentationClock(step=3)
    out = []
    for p in pts:
        clock.push(p)
        out.append(clock.pop())
    assert len(out) == len(pts)
    assert all(b > a for a, b in itertools.pairwise(out))


@FAST
@given(
    steps=st.lists(st.integers(1, 3), min_size=2, max_size=60),
    cut=st.integers(0, 59),
    shift=st.sampled_from([-(10**9), -5000, -400, 700, 10**12]),
    missing=st.lists(st.integers(0, 59), max_size=3),
)
def test_presentation_clock_retimes_damaged_timelines(steps, cut, shift, missing):
    """A timeline broken part-way (a splice, a lying index: every later timestamp shifted) or
    with frames missing timestamps still gives strictly increasing pts with no absurd gap, and
    each break is counted; an unbroken timeline is left exactly as it was."""
    clean = list(itertools.accumulate(steps))
    clock = PresentationClock(step=2, max_jump=1000, start=clean[0])
    assert [_push_pop(clock, p) for p in clean] == clean and clock.retimed == 0
    damaged = [p + shift if i >= cut else p for i, p in enumerate(clean)]
    damaged = [None if i in missing else p for i, p in enumerate(damaged)]
    clock = PresentationClock(step=2, max_jump=1000, start=clean[0])
    out = [_push_pop(clock, p) for p in damaged]
    assert all(0 < b - a <= 1000 for a, b in itertools.pairwise(out))
    behind = 1000 if cut == 0 else 16 * 2  # the first frame is judged against the start
    shifted = cut < len(clean) and (shift > 1000 or -shift > behind)
    broken = shifted or any(i < len(clean) for i in missing)
    assert (clock.retimed > 0) == broken


def _push_pop(clock, pts):
    clock.push(pts)
    return clock.pop()


def _packets(dts_list, duration=1024):
    return [SimpleNamespace(dts=d, pts=d, duration=duration) for d in dts_list]


@FAST
@given(
    n=st.integers(1, 80),
    damage=st.lists(
        st.tuples(
            st.integers(0, 79),
            st.sampled_from(["none", "repeat", "back", "absurd", "far back", "restart"]),
        ),
        max_size=6,
    ),
)
def test_packet_clock_gives_muxable_audio_timestamps(n, damage):
    """Copied audio packets with missing, repeated, backward or absurd timestamps come out with
    strictly increasing dts, pts >= dts and no gap beyond the limit; every packet is either
    kept or counted as dropped; undamaged packets are left exactly as they were."""
    tb = Fraction(1, 44100)
    clean = [i * 1024 for i in range(n)]
    clock = PacketClock(tb)
    packets = _packets(clean)
    assert all(clock.place(p, Fraction(0)) for p in packets)
    assert [p.dts for p in packets] == clean and clock.retimed == clock.dropped == 0
    dts = list(clean)
    for at, kind in damage:
        if at >= n:
            continue
        dts[at] = {
            "none": None,
            "repeat": dts[at - 1] if at else dts[at],
            "back": clean[at] - 3000,
            "absurd": 10**15,
            "far back": -(10**12),
            "restart": 0,
        }[kind]
    clock = PacketClock(tb)
    packets = _packets(dts)
    kept = [p for p in packets if clock.place(p, Fraction(0))]
    assert len(kept) + clock.dropped == n
    assert all(b.dts > a.dts for a, b in itertools.pairwise(kept))
    assert all(p.pts >= p.dts for p in kept)
    assert all(b.dts - a.dts <= clock.max_jump + 1024 for a, b in itertools.pairwise(kept))
    assert all(abs(p.dts) <= clock.max_jump + 1024 * n for p in kept)  # nothing absurd stays


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gaps=st.lists(st.integers(1, 5000), min_size=1, max_size=30),
    tb_den=st.sampled_from([1000, 90000, 1_000_000, 30]),
    container=st.sampled_from([".mp4", ".mov"]),
)
def test_encoded_timestamps_survive_any_gaps_and_time_base(
    gaps, tb_den, container, tmp_path_factory
):
    """B-frames plus irregular timestamps in any time base: the muxer accepts every packet and
    the decoded output carries exactly the timestamps given."""
    import av

    from stream_astgan.sinks import VideoSink

    time_base = Fraction(1, tb_den)
    pts = list(np.cumsum([0, *gaps]))
    info = StreamInfo(32, 24, Fraction(25), time_base, len(pts))
    path = tmp_path_factory.mktemp("enc") / f"out{container}"
    sink = VideoSink(path, info)
    for i, p in enumerate(pts):
        rgb = np.full((24, 32, 3), (i * 37) % 256, np.uint8)
        sink.write(Frame(rgb, int(p), time_base, i), rgb)
    sink.finish()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        got = [f.pts * s.time_base for f in c.decode(s)]
    assert got == [p * time_base for p in pts]
