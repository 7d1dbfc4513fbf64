"""`python -m benchmarks`: rerun the suite's benchmarks at their fast settings and rewrite
results/REPORT.md from every results/*.md.

    python -m benchmarks [--only NAME[,NAME]] [--list]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks.report import RESULTS
from benchmarks.suite import SUITE, report, select
from benchmarks.usage import fail


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()
    if args.list:
        for b in SUITE:
            default = "" if b.in_default_run else "  (not in the default run: --only)"
            print(f"{b.name:22s} ~{b.budget_s:4d} s  {b.command()}{default}")
        return
    try:
        chosen = select(args.only)
    except KeyError as e:
        fail(f"unknown benchmark {e.args[0]!r}; `python -m benchmarks --list` shows them")
    total_budget = sum(b.budget_s for b in chosen)
    print(f"running {len(chosen)} benchmark(s), budget {total_budget} s", file=sys.stderr)
    start, failed, rerun = time.perf_counter(), [], set()
    for bench in chosen:
        print(f"\n== {bench.name}: {bench.command()}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        command = [sys.executable, "-m", f"benchmarks.{bench.name}", *bench.args]
        code = subprocess.call(command, cwd=RESULTS.parents[1])  # paths in args: repo-relative
        used = time.perf_counter() - t0
        verdict = "failed" if code else ("over budget" if used > bench.budget_s else "ok")
        print(
            f"== {bench.name}: {verdict}, {used:.0f} s of {bench.budget_s} s budget",
            file=sys.stderr,
        )
        if code:
            failed.append(bench.name)
        else:
            rerun.add(bench.name)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "REPORT.md").write_text(report(RESULTS, rerun))
    elapsed = time.perf_counter() - start
    print(
        f"\nall done in {elapsed:.0f} s (budget {total_budget} s); wrote {RESULTS / 'REPORT.md'}",
        file=sys.stderr,
    )
    if failed:
        print(f"error: failed: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
