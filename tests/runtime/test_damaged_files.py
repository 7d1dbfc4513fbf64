"""Damaged input is normal input: seeded damaged copies of small clips (byte flips, zeroed runs,
truncations, splices, duplicated spans, damaged headers) run through the real command, in
process. Each must end in a documented exit code with no traceback, within a time limit, with
no `.partial` file left; every exit-0 output decodes to its end and keeps the surviving audio.

The clips are the first seconds of the real videos in ../shared/data (an mp3 and an AAC track
among them) or, without them, clips generated here with an AAC track. The benchmark
`python -m benchmarks.damaged_files` runs the same generator over 300 files.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import av
import pytest

from benchmarks.damage import (
    Hang,
    damaged_copies,
    decode_to_the_end,
    run_cli,
    surviving_audio_packets,
)

from .conftest import SHARED_DATA

CASES = 36  # six of each kind of damage
SEED = 17
SECONDS = 2.0  # of each real clip
CASE_LIMIT_S = 30  # far above a case's normal second or two: a case over it hangs
EXIT_CODES = {0, 1, 2}  # stylized; a library failed mid-run; the input was refused
STAGES = ("decode", "inference", "encode", "mux")


def _first_seconds(src: Path, dst: Path, seconds: float) -> Path:
    """The first `seconds` of a clip, packets copied as they are: a small real clip."""
    options = {"movflags": "faststart"} if dst.suffix == ".mp4" else {}  # index first, as shot
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options) as out:
        streams = [inp.streams.video[0], *inp.streams.audio[:1]]
        copies = {s.index: out.add_stream_from_template(s) for s in streams}
        for packet in inp.demux(streams):
            if packet.dts is None or packet.dts * packet.time_base > seconds:
                continue
            packet.stream = copies[packet.stream.index]
            out.mux(packet)
    return dst


@pytest.fixture
def clips(make_clip, tmp_path) -> list[Path]:
    if not SHARED_DATA.is_dir():
        return [
            make_clip("generated.mp4", n=50, audio=True),
            make_clip("generated.mkv", n=50, size=(176, 144), audio=True),
        ]
    video = SHARED_DATA / "video"
    return [
        _first_seconds(video / name, tmp_path / f"short-{name}", SECONDS)
        for name in ("box.mp4", "cup.mp4", "carphone.mp4", "tree.avi")
    ]


def test_damaged_files_end_cleanly(clips, invert_model, tmp_path):
    folder = tmp_path / "damaged"
    folder.mkdir()
    outcomes: dict[int, int] = {}
    for case in damaged_copies(clips, CASES, folder, seed=SEED):
        out = folder / f"{case.path.stem}-out.mp4"
        label = f"{case.path.name} ({case.kind} of {case.clip.name})"
        args = [case.path, "-o", out, "--model", invert_model, "--json", "--size", "96x64"]
        try:
            result = run_cli([str(a) for a in args], CASE_LIMIT_S)
        except Hang:
            pytest.fail(f"{label}: still running after {CASE_LIMIT_S} s")
        assert not result.traceback, f"{label}: {result.traceback}"
        assert "Traceback" not in result.stderr, label
        code = result.exit_code
        assert code in EXIT_CODES, f"{label}: exit {code}: {result.stderr}"
        assert not list(folder.glob("*.partial*")), label
        outcomes[code] = outcomes.get(code, 0) + 1
        if code != 0:
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("error: "), f"{label}: {result.stderr}"
            if code == 1:
                assert any(f"{stage} failed" in last for stage in STAGES), last
            continue
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        frames, audio = decode_to_the_end(out)
        assert frames == summary["frames_out"] > 0, label
        source_audio = surviving_audio_packets(case.path)
        if source_audio is not None and summary["audio"].startswith("copied"):
            assert audio == source_audio - summary["audio_dropped"], label
        out.unlink()
    assert sum(outcomes.values()) == CASES
    assert outcomes.get(0, 0) >= CASES // 4, outcomes  # damage mostly leaves something to stylize


def _fail_on_call(function, call, error):
    """`function`, raising `error` from its `call`-th call on (counted from 1)."""
    calls = itertools.count(1)

    def failing(*args, **kwargs):
        if next(calls) >= call:
            raise error
        return function(*args, **kwargs)

    return failing


def _refuse_one_packet(retime, call):
    """`_Retimer.retime`, handing the muxer one packet whose dts goes backwards, as damage did."""
    calls = itertools.count(1)

    def backwards(self, packet):
        held = retime(self, packet)
        if held is not None and next(calls) == call:
            held.pts = held.dts = -(10**6)
        return held

    return backwards


@pytest.mark.parametrize("stage", ["decode", "inference", "mux"])
def test_a_library_failing_mid_run_is_one_line_and_exit_1(
    stage, make_clip, invert_model, monkeypatch, tmp_path
):
    """An unexpected library error in any stage: one line naming the input, the stage and the
    frame, exit code 1, no traceback and no `.partial`. Output written before a decode or
    model failure is finished and the line says how many frames it holds; after the muxer
    failed the file is removed."""
    from stream_astgan import engine, sinks, sources

    clip = make_clip("in.mp4", n=30, audio=True)
    if stage == "decode":
        invalid = av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        to_rgb = _fail_on_call(sources.frame_to_rgb, 12, invalid)
        monkeypatch.setattr(sources, "frame_to_rgb", to_rgb)
    elif stage == "inference":
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail

        run = _fail_on_call(engine.Engine.run, 12, Fail("Non-zero status code returned"))
        monkeypatch.setattr(engine.Engine, "run", run)
    else:
        monkeypatch.setattr(sinks._Retimer, "retime", _refuse_one_packet(sinks._Retimer.retime, 8))
    out = tmp_path / "out.mp4"
    result = run_cli([str(clip), "-o", str(out), "--model", str(invert_model)], CASE_LIMIT_S)
    assert result.exit_code == 1 and not result.traceback, result.traceback or result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    line = lines[0]
    assert line.startswith(f"error: {clip}: {stage} failed at frame "), line
    assert {"decode": "12", "inference": "12"}.get(stage, "") in line.split("(")[0]
    assert not (tmp_path / "out.partial.mp4").exists()
    kept = re.search(r"keeps the (\d+) frame\(s\) written before it", line)
    if stage == "mux" or kept is None:
        assert line.endswith("; no output was written") and not out.exists(), line
    else:
        frames, _ = decode_to_the_end(out)
        assert frames == int(kept.group(1)) > 0, line
