"""Bad input, faults and interrupts: one clear line, exit code 2 (130 for a stop), no traceback,
nothing overwritten, and never a partial file that looks complete."""

from __future__ import annotations

import json
import re
import resource
import signal
import subprocess
import sys
import zipfile

import av
import numpy as np
import pytest
from onnx import TensorProto, helper
from typer.testing import CliRunner

from stream_astgan.cli import app

from .conftest import cli_in_process, cpu_seconds, loaded, size_at_least, wait_until

CLI = [sys.executable, "-m", "stream_astgan"]


def run_cli(*args, timeout=120, preexec_fn=None):
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout,
        preexec_fn=preexec_fn,
    )  # fmt: skip


def _identity(media, path, elem=TensorProto.UINT8, shape=("N", "H", "W", 3)):
    return media.save_model(
        path,
        [helper.make_node("Identity", ["frames"], ["stylized"])],
        [media.frames_io("frames", elem, shape)],
        [media.frames_io("stylized", elem, shape)],
    )


def _audio_only(path):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44100, layout="mono")
        for start in range(0, 44100, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 44100, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def _prepare(case, tmp_path, clip, media):
    """Files each case needs; returns (input, output, model)."""
    model = tmp_path / "ok.onnx"
    _identity(media, model)
    src, out = clip, tmp_path / "out.mp4"
    if case == "zero-byte file":
        src = tmp_path / "empty.mp4"
        src.write_bytes(b"")
    elif case == "random bytes named .mp4":
        src = tmp_path / "random.mp4"
        src.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
    elif case == "text file":
        src = tmp_path / "notes.mp4"
        src.write_text("this is not a video\n" * 100)
    elif case == "zip archive named .mp4":
        src = tmp_path / "archive.mp4"
        with zipfile.ZipFile(src, "w") as z:
            z.writestr("a.txt", "x" * 5000)
    elif case == "stream with no video":
        src = _audio_only(tmp_path / "sound.m4a")
    elif case == "missing file":
        src = tmp_path / "missing.mp4"
    elif case == "output folder not writable":
        out = tmp_path.parent / "no-such-folder-astgan" / "out.mp4"
    elif case == "output on a read-only file system":
        out = __import__("pathlib").Path("/proc/astgan-out.mp4")
    elif case == "output equals input":
        out = clip
    elif case == "missing .onnx":
        model = tmp_path / "missing.onnx"
    elif case == "corrupt .onnx":
        model = tmp_path / "corrupt.onnx"
        model.write_bytes(b"\x08\x07" + b"not a protobuf" * 40)
    elif case == "wrong-contract .onnx: rank":
        _identity(media, model, shape=("N", "H", "W"))
    elif case == "wrong-contract .onnx: dtype":
        _identity(media, model, elem=TensorProto.FLOAT)
    elif case == "wrong-contract .onnx: channels":
        _identity(media, model, shape=("N", "H", "W", 4))
    return src, out, model


CASES = [
    ("missing file", [], "no such file"),
    ("zero-byte file", [], "the file is empty"),
    ("random bytes named .mp4", [], "not a readable video"),
    ("text file", [], "not a readable video"),
    ("zip archive named .mp4", [], "not a readable video"),
    ("stream with no video", [], "has no video stream"),
    ("output folder not writable", [], "folder does not exist"),
    ("output on a read-only file system", [], "not writable"),
    ("output equals input", ["--overwrite"], "output is the input"),
    ("missing .onnx", [], "model file not found"),
    ("corrupt .onnx", [], "not a loadable ONNX model"),
    ("wrong-contract .onnx: rank", [], "has rank 3"),
    ("wrong-contract .onnx: dtype", [], r"tensor\(float\)"),
    ("wrong-contract .onnx: channels", [], "has 4 channels"),
    ("webcam index that does not exist", ["WEBCAM"], "webcam 97 could not be opened"),
    ("--size 0x0", ["--size", "0x0"], "must be between 1 and"),
    ("--size negative", ["--size", "-640x360"], "must be between 1 and|must look like"),
    ("--size absurd", ["--size", "100000x100000"], "must be between 1 and"),
    ("--size not a size", ["--size", "large"], "must look like 640x360"),
    ("--scale 0", ["--scale", "0"], r"--scale must be in"),
    ("--batch 0", ["--batch", "0"], "--batch must be at least 1"),
    ("--threads 0", ["--threads", "0"], "--threads must be at least 1"),
    ("unknown style", ["--model", "no-such-style"], "unknown model|no bundled model"),
    ("video to an image path", ["-o", "IMAGE"], "a video input needs a video output"),
    ("unknown provider", ["--provider", "metal"], "unknown provider"),
    ("--precision with a model file", ["--precision", "int8"], "drop --precision"),
]


IN_A_REAL_PROCESS = {"random bytes named .mp4", "corrupt .onnx", "--size not a size"}
"""A few cases run as a user runs them; the others run the same CLI in-process."""


@pytest.mark.parametrize(("case", "extra", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clear_line_and_exit_2(
    case, extra, message, make_clip, media, tmp_path
):
    clip = make_clip("in.mp4", n=4)
    before = clip.read_bytes()
    src, out, model = _prepare(case, tmp_path, clip, media)
    args = [src, "-o", out, "--model", model]
    if extra == ["WEBCAM"]:
        args, extra = ["--webcam", "97", "--no-preview", "-o", out, "--model", model], []
    if "-o" in extra:
        args, extra = [src, "-o", tmp_path / "still.png", "--model", model], []
    if "--model" in extra:
        args = args[:-2]
    if case in IN_A_REAL_PROCESS:  # exit code and stderr as a shell sees them
        res = run_cli(*args, *extra)
        code, stdout, stderr = res.returncode, res.stdout, res.stderr
    else:  # the same command in this process: no interpreter start-up and imports per case
        res = CliRunner().invoke(app, [str(a) for a in [*args, *extra]])
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        code, stdout, stderr = res.exit_code, res.stdout, res.stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in stderr and stdout == ""
    assert clip.read_bytes() == before  # the input is never touched
    leftovers = [p.name for p in tmp_path.iterdir() if "out" in p.name or "partial" in p.name]
    assert leftovers == [], leftovers


SMALL = "160x120"
"""box.mp4 (640x480) stylized and encoded at a sixteenth of its pixels."""


def _decodable_frames(path):
    """What a tolerant decoder gets out of a damaged file: the reference for 'every decodable',
    and how many packets it could not decode.

    Same threading as the runtime (frame threads can give up one or two frames at a torn end
    that slice threading would still show; the speed is worth it).
    """
    count = failed = 0
    with av.open(str(path)) as c:
        c.streams.video[0].thread_type = "AUTO"
        for packet in c.demux(c.streams.video[0]):
            try:
                count += len(packet.decode())
            except av.error.FFmpegError:
                failed += 1
    return count, failed


def test_corrupt_packets_mid_file_are_counted_and_the_rest_kept(
    shared_data, invert_model, media, tmp_path
):
    data = bytearray((shared_data / "video" / "box.mp4").read_bytes())
    rng = np.random.default_rng(0)
    for k in range(20):
        pos = int(len(data) * (0.3 + 0.02 * k))
        data[pos : pos + 300] = rng.integers(0, 256, 300, np.uint8).tobytes()
    src = tmp_path / "damaged.mp4"
    src.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    # In process and at a small output size: what is counted and copied does not depend on either.
    res = cli_in_process(src, "-o", out, "--model", invert_model, "--json", "--size", SMALL)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    decodable, failed = _decodable_frames(src)
    assert summary["frames_out"] == decodable >= 400
    assert summary["undecodable"] == failed > 0  # the damage made some packets undecodable
    assert len(media.decode_video(out)[0]) == summary["frames_out"]
    # Audio packets the damage made undecodable are dropped and counted (a player would fail
    # on them); every other packet is copied byte for byte, in order.
    kept, source = media.audio_packets(out), media.audio_packets(src)
    assert len(kept) == len(source) - summary["audio_dropped"]
    remaining = iter(source)
    assert all(packet in remaining for packet in kept)


def test_truncated_file_keeps_what_is_there_and_says_so(shared_data, invert_model, media, tmp_path):
    whole = (shared_data / "video" / "box.mp4").read_bytes()
    src = tmp_path / "half.mp4"
    src.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out.mp4"
    res = cli_in_process(src, "-o", out, "--model", invert_model, "--json", "--size", SMALL)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["ended_early"] is True
    assert any("ended before" in n for n in summary["notes"])
    assert 100 < summary["frames_out"] < 455
    assert summary["frames_out"] == _decodable_frames(src)[0]
    assert media.audio_packets(out) == media.audio_packets(src)


def _limit_file_size():
    """A 300 kB file-size limit: writes past it fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_disk_full_while_writing_is_a_clear_error(shared_data, invert_model, tmp_path):
    out = tmp_path / "out.mp4"
    res = run_cli(shared_data / "video" / "box.mp4", "-o", out, "--model", invert_model,
                  preexec_fn=_limit_file_size)  # fmt: skip
    lines = [line for line in res.stderr.splitlines() if line.strip() and "━" not in line]
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert lines[-1].startswith("error: ") and "File too large" in lines[-1]
    assert not out.exists() and not (tmp_path / "out.partial.mp4").exists()


def test_resolution_change_mid_stream_scales_to_the_first_size(invert_model, media, tmp_path):
    src = tmp_path / "two_sizes.ts"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        second = av.CodecContext.create("libx264", "w")
        second.width, second.height, second.pix_fmt = 128, 80, "yuv420p"
        second.time_base = stream.codec_context.time_base = stream.time_base = None or (
            __import__("fractions").Fraction(1, 25)
        )
        for i, (codec, (w, h)) in enumerate(
            [(stream, (160, 96))] * 10 + [(second, (128, 80))] * 10
        ):
            frame = av.VideoFrame.from_ndarray(np.full((h, w, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            for packet in codec.encode(frame):
                packet.stream = stream
                out.mux(packet)
            if i == 9:
                for packet in stream.encode():
                    out.mux(packet)
        for packet in second.encode():
            packet.stream = stream
            out.mux(packet)
    out_path = tmp_path / "out.mp4"
    res = cli_in_process(src, "-o", out_path, "--model", invert_model, "--json")
    assert res.returncode == 0, res.stderr
    assert "frame size changes from 160x96 to 128x80" in res.stderr
    frames, _, _ = media.decode_video(out_path)
    assert len(frames) == 20 and {f.shape for f in frames} == {(96, 160, 3)}


@pytest.mark.parametrize(
    ("sig", "when"),
    [
        (signal.SIGINT, "before the first frame"),
        (signal.SIGTERM, "before the first frame"),
        (signal.SIGINT, "early"),
        (signal.SIGTERM, "late"),
    ],
)
def test_interrupt_at_any_point_leaves_no_torn_file(
    sig, when, long_clip, slow_invert_model, media, tmp_path
):
    out = tmp_path / "o.mp4"
    partial = tmp_path / "o.partial.mp4"
    proc = subprocess.Popen(
        [*CLI, long_clip, "-o", out, "--model", slow_invert_model, "-q", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    if when == "before the first frame":  # past interpreter start-up, into the imports
        wait_until(loaded(proc, "onnxruntime"), "the run to import ONNX Runtime")
    else:  # the first packets are muxed
        wait_until(size_at_least(partial, 1), "the partial output")
    if when == "late":  # a CPU-second of work past the first packet: dozens of frames, any load
        start = cpu_seconds(proc)
        wait_until(lambda: cpu_seconds(proc) > start + 1.0, "a CPU-second of stylizing")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if when == "before the first frame":  # may land while Python is still starting up
        assert proc.returncode in (130, -sig), err
    else:
        assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not partial.exists()
    if out.exists():  # a file exists only if it holds frames, and then it plays
        frames, times, _ = media.decode_video(out)
        _, in_times, _ = media.decode_video(long_clip)
        assert 0 < len(frames) < 200 and times == in_times[: len(frames)]
    else:
        assert when in ("before the first frame", "early")
