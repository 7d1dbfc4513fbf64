"""The threaded pipeline: batching, order, partial batches, errors, and live sources."""

from __future__ import annotations

import os
import signal
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from stream_astgan.errors import RunError
from stream_astgan.frames import Frame, StreamInfo
from stream_astgan.pipeline import Pipeline
from stream_astgan.sinks import NullSink, Sink
from stream_astgan.sources import LiveSource, Source


class ListSource(Source):
    def __init__(self, frames, rate=Fraction(25), fail_at=None):
        self._frames = frames
        self.fail_at = fail_at
        h, w = frames[0].rgb.shape[:2] if frames else (8, 8)
        self.info = StreamInfo(w, h, rate, Fraction(1, 25), len(frames))
        self.stopped = False

    def frames(self):
        for i, f in enumerate(self._frames):
            if self.stopped:
                return
            if i == self.fail_at:
                raise RuntimeError("decoder exploded")
            yield f

    def stop(self):
        self.stopped = True


class RecordingSink(Sink):
    def __init__(self):
        self.frames = []
        self.finished = self.aborted = False

    def write(self, frame, stylized):
        self.frames.append((frame.index, frame.pts, np.asarray(stylized).copy()))

    def finish(self, trailing_packets=None):
        self.finished = True

    def abort(self):
        self.aborted = True


def numbered_frames(n, shape=(4, 6)):
    return [
        Frame(
            np.full((*shape, 3), i % 256, np.uint8), pts=i * 3, time_base=Fraction(1, 75), index=i
        )
        for i in range(n)
    ]


def invert(batch):
    return 255 - batch


class SignalledMidWriteSink(RecordingSink):
    """Gets Ctrl-C/SIGTERM in the middle of writing frame `at`, as an encoder can between
    handing out packets and muxing them."""

    def __init__(self, sig, at):
        super().__init__()
        self.sig, self.at, self.halves = sig, at, []

    def write(self, frame, stylized):
        self.halves.append((frame.index, "start"))
        if frame.index == self.at:
            os.kill(os.getpid(), self.sig)
            time.sleep(0.05)  # the handler runs here, in the middle of the write
        super().write(frame, stylized)
        self.halves.append((frame.index, "end"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_write_stops_after_that_frame_not_inside_it(sig):
    sink = SignalledMidWriteSink(sig, at=5)
    previous = signal.getsignal(sig)
    stats = Pipeline(ListSource(numbered_frames(40)), invert, [sink], batch=1).run()
    assert stats.interrupted and stats.stop_reason == "interrupted"
    assert [i for i, _, _ in sink.frames] == list(range(6))  # frame 5 whole, then stop
    assert sink.halves[-1] == (5, "end") and sink.finished
    assert signal.getsignal(sig) is previous  # the run's handlers are gone afterwards


@pytest.mark.parametrize(("n", "batch"), [(10, 3), (7, 1), (8, 8), (1, 4)])
def test_order_count_and_partial_batches(n, batch):
    sizes = []

    def infer(x):
        sizes.append(len(x))
        return invert(x)

    sink = RecordingSink()
    stats = Pipeline(ListSource(numbered_frames(n)), infer, [sink], batch=batch).run()
    assert [i for i, _, _ in sink.frames] == list(range(n))
    assert [p for _, p, _ in sink.frames] == [3 * i for i in range(n)]
    assert all(int(img[0, 0, 0]) == 255 - i for i, _, img in sink.frames)
    assert max(sizes) <= batch and sum(sizes) == n
    assert stats.frames_in == stats.frames_out == n
    assert sink.finished


def test_a_size_change_starts_a_new_batch():
    frames = numbered_frames(4) + [
        Frame(np.zeros((6, 4, 3), np.uint8), 100 + i, Fraction(1, 75), 4 + i) for i in range(3)
    ]
    shapes = []

    def infer(x):
        shapes.append(x.shape)
        return x

    Pipeline(ListSource(frames), infer, [RecordingSink()], batch=8).run()
    assert {s[1:3] for s in shapes} == {(4, 6), (6, 4)}  # np.stack would fail on a mixed batch
    assert sum(s[0] for s in shapes) == 7


@pytest.mark.parametrize(
    ("stage", "named"), [("source", "decode"), ("model", "inference"), ("sink", "encode")]
)
def test_a_failing_stage_stops_everything_and_ends_the_sink(stage, named):
    frames = numbered_frames(50)
    source = ListSource(frames, fail_at=20 if stage == "source" else None)

    def infer(x):
        if stage == "model" and x[0, 0, 0, 0] == 30:
            raise RuntimeError("model exploded")
        return x

    class FailingSink(RecordingSink):
        def write(self, frame, stylized):
            if stage == "sink" and frame.index == 10:
                raise OSError("disk full")
            super().write(frame, stylized)

    sink = FailingSink()
    before = threading.active_count()
    with pytest.raises(RunError) as failure:
        Pipeline(source, infer, [sink], batch=2).run()
    # A library's exception is told as one line naming the stage and how far the run got,
    # with the original kept as the cause for the debug log.
    error = failure.value
    assert error.stage == named and error.exit_code == 1
    assert isinstance(error.__cause__, (RuntimeError, OSError))
    failed_at = {"decode": 21, "inference": 31}.get(named, len(sink.frames) + 1)
    assert f"{named} failed at frame {failed_at}" in str(error)
    assert "exploded" in str(error) or "disk full" in str(error)
    # What was written before a decode or model failure is intact and finished; a sink that
    # failed itself is dropped rather than closed by the state that failed.
    assert (sink.finished, sink.aborted) == ((False, True) if named == "encode" else (True, False))
    assert [i for i, _, _ in sink.frames] == list(range(len(sink.frames)))
    time.sleep(0.3)
    assert threading.active_count() <= before


def test_live_source_keeps_only_the_newest_frame_and_measures_latency():
    """A fake camera at 200 fps feeding a 25 fps model: most frames are dropped, none queue up."""
    produced = []

    def grab():
        if len(produced) >= 120:
            return None
        time.sleep(0.005)
        produced.append(1)
        return np.full((12, 16, 3), len(produced) % 256, np.uint8)

    def slow_model(x):
        time.sleep(0.04)
        return x

    source = LiveSource(grab, 16, 12, rate=200)
    sink = RecordingSink()
    stats = Pipeline(source, slow_model, [sink], batch=1).run()
    source.close()
    assert stats.frames_out == len(sink.frames) > 0
    assert stats.dropped > 0
    assert stats.frames_out + stats.dropped <= 120
    assert stats.latency_percentile(50) is not None
    # A dropped-frame policy keeps latency near one model call, not a growing queue.
    assert stats.latency_percentile(95) < 1000
    pts = [p for _, p, _ in sink.frames]
    assert pts == sorted(pts) and len(set(pts)) == len(pts)


def test_live_batches_never_wait_longer_than_a_frame_interval():
    """At 10 fps with --batch 8, the model must still be fed as frames come (batches of ~1)."""
    count = []

    def grab():
        if len(count) >= 6:
            return None
        time.sleep(0.1)
        count.append(1)
        return np.zeros((4, 4, 3), np.uint8)

    sizes = []

    def infer(x):
        sizes.append(len(x))
        return x

    source = LiveSource(grab, 4, 4, rate=10)
    Pipeline(source, infer, [NullSink()], batch=8).run()
    source.close()
    assert max(sizes) <= 2


def test_opencv_capture_reads_a_file_like_a_camera(make_clip):
    from stream_astgan.sources import open_camera

    clip = make_clip("cam.mp4", n=15)
    source = open_camera(str(clip))
    sink = RecordingSink()
    stats = Pipeline(source, invert, [sink], batch=1).run()
    source.close()
    assert stats.frames_out >= 1
    assert stats.frames_out + stats.dropped == source.captured
    assert sink.frames[0][2].shape == (96, 160, 3)
