"""Damaged input is normal input: seeded damaged copies of small clips (byte flips, zeroed runs,
truncations, splices, duplicated spans, damaged headers) run through the real command, in
process. Each must end in a documented exit code with no traceback, within a time limit, with
no `.partial` file left; every exit-0 output decodes to its end and keeps the surviving audio.

The clips are the first seconds of the real videos in ../shared/data (an mp3 and an AAC track
among them) or, without them, clips generated here with an AAC track. The benchmark
`python -m benchmarks.damaged_files` runs the same generator over 300 files.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from benchmarks.damage import damaged_copies, decode_to_the_end, surviving_audio_packets
from stream_astgan.cli import app

from .conftest import SHARED_DATA

CASES = 36  # six of each kind of damage
SEED = 17
SECONDS = 2.0  # of each real clip
CASE_LIMIT_S = 30  # far above a case's normal second or two: a case over it hangs
EXIT_CODES = {0, 1, 2}  # stylized; a library failed mid-run; the input was refused
STAGES = ("decode", "inference", "encode", "mux")


class Hang(BaseException):
    """Raised in the main thread when a case runs past its limit (BaseException, so that no
    `except Exception` in the run can swallow it)."""


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


def _run(args: list[str]) -> object:
    def hang(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(CASE_LIMIT_S)
    try:
        return CliRunner().invoke(app, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_damaged_files_end_cleanly(clips, invert_model, tmp_path):
    folder = tmp_path / "damaged"
    folder.mkdir()
    outcomes: dict[int, int] = {}
    for case in damaged_copies(clips, CASES, folder, seed=SEED):
        out = folder / f"{case.path.stem}-out.mp4"
        label = f"{case.path.name} ({case.kind} of {case.clip.name})"
        try:
            result = _run([str(case.path), "-o", str(out), "--model", str(invert_model), "--json",
                           "--size", "96x64"])  # fmt: skip
        except Hang:
            pytest.fail(f"{label}: still running after {CASE_LIMIT_S} s")
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{label}: {result.exc_info and result.exception!r}"
        )
        assert "Traceback" not in result.output, label
        code = result.exit_code
        assert code in EXIT_CODES, f"{label}: exit {code}: {result.output}"
        assert not list(folder.glob("*.partial*")), label
        outcomes[code] = outcomes.get(code, 0) + 1
        if code != 0:
            last = result.output.strip().splitlines()[-1]
            assert last.startswith("error: "), f"{label}: {result.output}"
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
