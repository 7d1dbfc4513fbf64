"""Files per minute for a folder of short clips: `astgan-stream batch` with --jobs 1, --jobs 2
and --ray (local), against the single-file command run once per clip in a shell loop.

Clips are the demo scene (PyAV, H.264 + AAC) at 640x360; every mode runs as a fresh process,
so its start-up is counted, as a user would see it. Each mode writes into its own folder. The
Ray row's overhead is its time beyond --jobs 2, which runs the same 2 files at a time. CPU
seconds (all the mode's processes) are printed beside wall time: on a machine shared with
other work, more processes take a larger share of the CPU, which wall time alone credits to
the mode; files per CPU-minute does not.

    python -m benchmarks.batch [--clips 20] [--seconds 1] [--skip-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stream_astgan.demo import write_demo_clip
from stream_astgan.engine import default_threads

try:
    from benchmarks.report import write_report
except ImportError:  # run as a script from the benchmarks folder
    from report import write_report  # type: ignore[no-redef]

CLI = [sys.executable, "-m", "stream_astgan"]


def cpu_seconds() -> float:
    """CPU time of every finished child process so far (Ray's workers are reaped by its raylet,
    itself a child of the batch)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, float, dict]:
    """Wall and CPU seconds of one command, and its --json summary when it prints one."""
    start, cpu = time.perf_counter(), cpu_seconds()
    res = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if res.returncode != 0:
        sys.exit(f"{shlex.join(command)} failed ({res.returncode}): {res.stderr[-2000:]}")
    lines = res.stdout.strip().splitlines()
    return seconds, cpu, json.loads(lines[-1]) if lines else {}


def per_file_seconds(out: Path) -> float:
    """Median seconds one file took inside its worker (from the batch's manifest)."""
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return statistics.median(r["elapsed_s"] for r in records if r["status"] == "done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each clip")
    parser.add_argument("--skip-ray", action="store_true", help="leave out the --ray row")
    args = parser.parse_args()
    threads = default_threads()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clips = root / "clips"
        clips.mkdir()
        for i in range(args.clips):
            write_demo_clip(clips / f"clip{i:02d}.mp4", args.seconds)
        loop_out = root / "loop"
        loop_out.mkdir()
        cli = shlex.join(CLI)
        loop = f'for f in {shlex.quote(str(clips))}/*.mp4; do {cli} "$f" -o {loop_out}/"$(basename "$f")" -q; done'  # noqa: E501
        modes: dict[str, list[str]] = {
            f"shell loop, 1 process per file, {threads} threads": ["bash", "-c", loop],
            f"batch --jobs 1 ({threads} threads)": ["--jobs", "1"],
            f"batch --jobs 2 ({max(1, threads // 2)} thread each)": ["--jobs", "2"],
        }
        if not args.skip_ray:
            modes["batch --ray (local, 2 tasks of 1 CPU)"] = ["--ray", "local", "--threads", "1"]
        rows = []
        for name, extra in modes.items():
            if extra[0] == "bash":
                seconds, cpu, summary = timed(extra)
                per_file = None
            else:
                out = root / name.split("(")[0].strip().replace(" ", "_")
                seconds, cpu, summary = timed([*CLI, "batch", str(clips), "-o", str(out), *extra,
                                          "--json"])  # fmt: skip
                assert summary["done"] == args.clips, summary
                per_file = round(per_file_seconds(out), 3)
            rows.append({"mode": name, "wall_s": round(seconds, 1), "cpu_s": round(cpu, 1),
                         "files_per_min": round(60 * args.clips / seconds, 1),
                         "files_per_cpu_min": round(60 * args.clips / cpu, 1),
                         "median_s_per_file_in_worker": per_file})  # fmt: skip
            print(f"{name}: {seconds:.1f} s, {cpu:.1f} CPU s", flush=True)
    loop_rate = rows[0]["files_per_min"]
    for row in rows:
        row["vs_shell_loop"] = round(row["files_per_min"] / loop_rate, 2)
    table = [
        f"{args.clips} clips of {args.seconds:g} s at 640x360 (30 fps, H.264 + AAC), bundled "
        f"default style, fp32; wall time of each command, start-up included "
        f"(load average at the end: {os.getloadavg()[0]:.1f}).",
        "",
        "| mode | wall s | files/min | vs shell loop | CPU s | files/CPU-min "
        "| median s per file in its worker |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {r['mode']} | {r['wall_s']} | {r['files_per_min']} | {r['vs_shell_loop']}x | "
            f"{r['cpu_s']} | {r['files_per_cpu_min']} | {r['median_s_per_file_in_worker'] or ''} |"
            for r in rows
        ),
    ]
    write_report("batch", {"clips": args.clips, "seconds": args.seconds, "rows": rows}, table)


if __name__ == "__main__":
    main()
