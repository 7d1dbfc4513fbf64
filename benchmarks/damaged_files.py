"""Damaged files: seeded damaged copies of the shared videos through the real command, counting
every outcome. Each runs through the command's own entry point in this process (no interpreter
start-up per file: 300 of them fit in minutes), with a time limit that counts it as a hang.

Targets (issue 17): no traceback and no hang in any case; every exit-0 output decodes to its
end and keeps the audio that survived the damage (the output's audio packets are the input's
demuxed audio packets less those the summary reports as dropped).

    python -m benchmarks.damaged_files [--count 300] [--seed 0] [--size 320x180]

Writes results/damaged_files.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.damage import (
    KINDS,
    Hang,
    damaged_copies,
    decode_to_the_end,
    run_cli,
    surviving_audio_packets,
)
from benchmarks.models import SHARED_DATA
from benchmarks.report import write_report
from benchmarks.usage import fail
from stream_astgan.invert_model import write_invert_model

CLIPS = ("box.mp4", "cup.mp4", "tree.avi", "carphone.mp4")
CASE_LIMIT_S = 120  # a case still running after this is a hang
COUNTERS = ("undecodable", "video_retimed", "audio_retimed", "audio_dropped")


def run_case(path: Path, out: Path, model: Path, size: str) -> dict[str, Any]:
    """One damaged file through `astgan-stream`; what a user would see, and the output's checks."""
    args = [str(path), "-o", str(out), "--model", str(model), "--size", size, "--json", "--quiet"]
    t0 = time.perf_counter()
    try:
        done = run_cli(args, CASE_LIMIT_S)
    except Hang:
        return {"outcome": "hang", "seconds": CASE_LIMIT_S}
    row: dict[str, Any] = {
        "outcome": f"exit {done.exit_code}",
        "seconds": round(time.perf_counter() - t0, 2),
        "traceback": bool(done.traceback) or "Traceback" in done.stderr,
        "partial_left": any(out.parent.glob("*.partial*")),
    }
    if done.traceback:
        row["exception"] = done.traceback.strip().splitlines()[-1]
    if done.exit_code != 0:
        lines = done.stderr.strip().splitlines()
        row["message"] = lines[-1] if lines else ""
        return row
    summary = json.loads(done.stdout)
    row.update({key: summary[key] for key in COUNTERS})
    try:
        frames, audio = decode_to_the_end(out)
        row["plays_to_end"] = frames == summary["frames_out"]
    except Exception as e:  # any failure to decode the output is what this counts
        row["plays_to_end"], audio = False, None
        row["decode_error"] = str(e)
    surviving = surviving_audio_packets(path)
    if surviving is not None and summary["audio"].startswith("copied"):
        row["keeps_audio"] = audio == surviving - summary["audio_dropped"]
    return row


def _message_kind(message: str) -> str:
    """An error line without its paths, so that alike failures count together."""
    text = re.sub(r"[^\s:]*damaged-\d+[^\s:]*", "FILE", message.removeprefix("error: "))
    text = re.sub(r"frame \d+", "frame N", text).replace("|", "\\|")
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="320x180", help="processing size (decode is full)")
    args = parser.parse_args()
    clips = [SHARED_DATA / "video" / name for name in CLIPS]
    if missing := [str(c) for c in clips if not c.is_file()]:
        fail(f"the shared videos are needed: missing {', '.join(missing)}")
    if args.count < 1:
        fail(f"--count must be at least 1, got {args.count}")
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        model = write_invert_model(tmp / "invert.onnx")
        folder = tmp / "damaged"
        folder.mkdir()
        for case in damaged_copies(clips, args.count, folder, args.seed):
            out = folder / "out.mp4"
            row = {"file": case.path.name, "clip": case.clip.name, "kind": case.kind}
            row.update(run_case(case.path, out, model, args.size))
            print(json.dumps(row), flush=True)
            rows.append(row)
            out.unlink(missing_ok=True)
            case.path.unlink()
    result = summarize(rows, args, time.perf_counter() - t0)
    write_report("damaged_files", result, table(rows, args))


def summarize(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> dict:
    ok = [r for r in rows if r["outcome"] == "exit 0"]
    return {
        "count": len(rows),
        "seed": args.seed,
        "size": args.size,
        "clips": list(CLIPS),
        "seconds": round(seconds, 1),
        "outcomes": dict(Counter(r["outcome"] for r in rows)),
        "tracebacks": sum(r.get("traceback", False) for r in rows),
        "hangs": sum(r["outcome"] == "hang" for r in rows),
        "partial_left": sum(r.get("partial_left", False) for r in rows),
        "exit0_playing_to_end": sum(r.get("plays_to_end", False) for r in ok),
        "exit0_with_copied_audio": sum("keeps_audio" in r for r in ok),
        "exit0_keeping_surviving_audio": sum(r.get("keeps_audio", False) for r in ok),
        "totals": {key: sum(r.get(key, 0) for r in ok) for key in COUNTERS},
        "error_lines": dict(
            Counter(_message_kind(r["message"]) for r in rows if "message" in r).most_common()
        ),
        "cases": rows,
    }


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """Outcomes per kind of damage, then the totals the targets are about."""
    ok = [r for r in rows if r["outcome"] == "exit 0"]
    audio = [r for r in ok if "keeps_audio" in r]
    lines = [
        f"{len(rows)} damaged copies of {', '.join(CLIPS)} (seed {args.seed}; "
        "`benchmarks/damage.py`), "
        f"each run as `astgan-stream FILE -o out.mp4 --size {args.size} --json` (in process, "
        f"{CASE_LIMIT_S} s limit).",
        "",
        "| damage | files | exit 0 | exit 1 | exit 2 | traceback | hang | exit 0 plays to end |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in [*KINDS, None]:
        group = [r for r in rows if kind is None or r["kind"] == kind]
        count = Counter(r["outcome"] for r in group)
        played = sum(r.get("plays_to_end", False) for r in group)
        lines.append(
            f"| {kind or '**all**'} | {len(group)} | {count['exit 0']} | {count['exit 1']} "
            f"| {count['exit 2']} | {sum(r.get('traceback', False) for r in group)} "
            f"| {count['hang']} | {played} of {count['exit 0']} |"
        )
    totals = {key: sum(r.get(key, 0) for r in ok) for key in COUNTERS}
    lines += [
        "",
        f"Exit-0 outputs with copied audio keeping every surviving audio packet: "
        f"{sum(r['keeps_audio'] for r in audio)} of {len(audio)}. `.partial` files left: "
        f"{sum(r.get('partial_left', False) for r in rows)}.",
        f"Over the exit-0 runs: {totals['undecodable']} undecodable video packets skipped, "
        f"{totals['video_retimed']} frames re-timed, {totals['audio_retimed']} audio packets "
        f"re-timed, {totals['audio_dropped']} audio packets dropped (broken timestamps or "
        "undecodable).",
        "",
        "| error line (paths removed) | files |",
        "| --- | ---: |",
        *(
            f"| {kind} | {n} |"
            for kind, n in Counter(
                _message_kind(r["message"]) for r in rows if "message" in r
            ).most_common()
        ),
    ]
    return lines


if __name__ == "__main__":
    main()
