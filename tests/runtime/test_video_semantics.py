"""Every input frame gives one output frame, in order, with the same timestamp; audio is
copied byte for byte; rotation and odd sizes survive. Checked on real files and synthetic clips."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from stream_astgan.runner import RunOptions, stylize

REAL_VIDEOS = ["box.mp4", "cup.mp4", "tree.avi", "carphone.mp4"]


def run(src, out, model, **kw):
    opts = RunOptions(input=src, output=out, model=str(model), **kw)
    return stylize(opts)


def input_times(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sorted(f.pts * s.time_base for f in c.decode(s)), c.streams.video[0]


def frame_interval(times):
    return float(np.median(np.diff([float(t) for t in times])))


def assert_inverted(media, src_frames, out_frames, tolerance=12.0):
    """Frame i of the output is the inverse of frame i of the input (not of a neighbour)."""
    assert len(src_frames) == len(out_frames)
    for i, (a, b) in enumerate(zip(src_frames, out_frames, strict=True)):
        err = media.inversion_error(a, b)
        assert err < tolerance, f"frame {i}: mean error {err:.1f}"


@pytest.mark.parametrize("name", REAL_VIDEOS)
def test_real_video_keeps_frames_timestamps_audio(name, shared_data, invert_model, media, tmp_path):
    src = shared_data / "video" / name
    out = tmp_path / "out.mp4"
    result = run(src, out, invert_model)
    src_frames, src_times, _ = media.decode_video(src)
    expected_times = sorted(src_times)  # presentation order (box.mp4 decodes B-frames out of it)
    out_frames, out_times, _ = media.decode_video(out)

    assert result.stats.frames_out == len(expected_times)
    assert out_times == expected_times
    assert media.audio_packets(out) == media.audio_packets(src)
    interval = frame_interval(expected_times)
    assert abs(media.container_duration(out) - media.container_duration(src)) <= interval + 1e-3
    assert_inverted(media, src_frames, out_frames)


def test_box_timestamps_are_reassigned_in_presentation_order(shared_data):
    """box.mp4 stores decode-order pts with B-frames; decoded pts are not monotonic."""
    with av.open(str(shared_data / "video" / "box.mp4")) as c:
        pts = [f.pts for f in c.decode(video=0)]
    assert pts != sorted(pts)  # the premise of the reorder window in sources.py


def test_odd_size_rotation_no_audio(make_clip, invert_model, media, tmp_path):
    src = make_clip("rot.mp4", n=12, size=(102, 78), rotation=90)
    out = tmp_path / "out.mp4"
    result = run(src, out, invert_model, size="101x77")
    frames, times, rotation = media.decode_video(out)
    assert rotation == 90
    assert len(frames) == 12 == result.stats.frames_out
    assert frames[0].shape[:2] == (78, 102)  # 4:2:0 needs even sizes: one replicated pixel
    pad_vs_edge = np.abs(frames[0][:, 101].astype(int) - frames[0][:, 100].astype(int)).mean()
    pad_vs_inner = np.abs(frames[0][:, 101].astype(int) - frames[0][:, 90].astype(int)).mean()
    assert pad_vs_edge < 3 < pad_vs_inner  # replicated edge, not black, survives the codec
    assert media.audio_packets(out) == []
    assert times == [Fraction(i, 25) for i in range(12)]


def test_variable_frame_rate_and_audio_survive(make_clip, invert_model, media, tmp_path):
    pts = [0, 1, 2, 5, 6, 20, 21, 22, 40, 41]  # gaps: a variable frame rate
    src = make_clip("vfr.mkv", n=len(pts), pts=pts, fps=25, audio=True)
    out = tmp_path / "out.mp4"
    run(src, out, invert_model)
    in_times, _ = input_times(src)
    _, out_times, _ = media.decode_video(out)
    assert out_times == in_times
    assert len(media.audio_packets(out)) > 0
    assert media.audio_packets(out) == media.audio_packets(src)


@pytest.mark.parametrize("container", [".mkv", ".mov"])
def test_other_containers_keep_timestamps(container, shared_data, invert_model, media, tmp_path):
    src = shared_data / "video" / "cup.mp4"
    out = tmp_path / f"out{container}"
    run(src, out, invert_model)
    in_times, _ = input_times(src)
    _, out_times, _ = media.decode_video(out)
    assert len(out_times) == len(in_times)
    # Matroska stores milliseconds: each time within half a millisecond of the input's.
    assert max(abs(float(a - b)) for a, b in zip(in_times, out_times, strict=True)) <= 0.0005
    assert media.audio_packets(out) == media.audio_packets(src)


def test_audio_is_transcoded_when_the_container_cannot_hold_it(
    shared_data, invert_model, media, tmp_path
):
    src = shared_data / "video" / "cup.mp4"  # AAC, which WebM cannot hold
    out = tmp_path / "out.webm"
    result = run(src, out, invert_model)
    note = next(s.audio_note for s in result.sinks)
    assert note.startswith("transcoded aac ->")
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "opus"
        assert c.streams.video[0].codec_context.name == "vp9"
        assert c.streams.audio[0].codec_context.channels == 2
    assert len(media.audio_packets(out)) > 0


def test_processing_size_and_colour_tags(shared_data, invert_model, tmp_path):
    src = shared_data / "video" / "carphone.mp4"
    out = tmp_path / "out.mp4"
    run(src, out, invert_model, scale=2.0)
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.width, cc.height) == (352, 288)
        assert cc.colorspace == 6  # smpte170m: what the OpenCV I420 conversion writes
        assert cc.color_range == 1  # limited (MPEG) range
