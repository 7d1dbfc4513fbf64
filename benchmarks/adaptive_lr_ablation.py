"""Ablation of the adaptive learning-rate controller: `fixed` vs `adaptive`, all else equal.

Both runs use the same config, seed, data and step count (only `--lr-policy` differs; the
batches are identical because every batch is a function of seed and step). Reported per run:
- D oscillation: std of the first difference of the discriminator loss over the second half of
  the run (as the issue defines it), and the same on a 10-step moving average (slow swings);
- final style and content losses: means over the last 10% of steps;
- whether D collapsed: mean D loss over the last 20% of steps below 10% of its equilibrium
  value (hinge 2.0, LSGAN 0.5), i.e. D won outright and the generator's adversarial gradient
  vanished.
Writes benchmarks/results/adaptive_lr_ablation.{json,md}.

    python -m benchmarks.adaptive_lr_ablation --config training/configs/starry-night.toml \\
        --steps 400 [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
from pathlib import Path

from benchmarks.report import RESULTS, write_report
from training.adaptive_lr import REFERENCE_LOSSES
from training.cli import main as train_main
from training.metrics import read_metrics

POLICIES = ("fixed", "adaptive")


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over `window` values (shorter at the start)."""
    return [statistics.fmean(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))]


def diff_std(values: list[float]) -> float:
    """Std of the first difference: how much the series jumps from step to step."""
    return statistics.pstdev(b - a for a, b in itertools.pairwise(values))


def summarize(rows: list[dict[str, str]], gan_mode: str) -> dict[str, float | bool]:
    """The ablation's figures for one run's metrics.csv."""
    rows = [r for r in rows if r["loss_d"]]  # the adversarial steps (after the warm start)
    loss_d = [float(r["loss_d"]) for r in rows]
    n = len(loss_d)
    second = loss_d[n // 2 :]
    tail = slice(n - max(1, n // 10), n)
    d_eq = REFERENCE_LOSSES[gan_mode][0]
    last_d = statistics.fmean(loss_d[n - max(1, n // 5) :])
    return {
        "d_oscillation": diff_std(second),
        "d_oscillation_ma10": diff_std(moving_average(loss_d, 10)[n // 2 :]),
        "d_loss_mean_last20pct": last_d,
        "style_final": statistics.fmean(float(r["style"]) for r in rows[tail]),
        "content_final": statistics.fmean(float(r["content"]) for r in rows[tail]),
        "d_collapsed": last_d < 0.1 * d_eq,
        "mean_scale_g": statistics.fmean(float(r["scale_g"]) for r in rows),
        "seconds_per_step": statistics.median(float(r["seconds_per_step"]) for r in rows),
    }


def markdown(results: dict[str, dict], steps: int, extra: list[str]) -> list[str]:
    """The table for the README."""
    lines = [
        f"Ablation: {steps} steps, same seed and batches; args: {' '.join(extra) or '-'}",
        "",
        "| lr policy | D osc. (std of dL_D, 2nd half) | D osc. (10-step MA) | final style "
        "| final content | mean D loss, last 20% | D collapsed | mean lr_G scale |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for policy, r in results.items():
        lines.append(
            f"| {policy} | {r['d_oscillation']:.4f} | {r['d_oscillation_ma10']:.4f} "
            f"| {r['style_final']:.4f} | {r['content_final']:.4f} "
            f"| {r['d_loss_mean_last20pct']:.3f} "
            f"| {'yes' if r['d_collapsed'] else 'no'} | {r['mean_scale_g']:.2f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="training TOML (content and style inside)")
    parser.add_argument("--content", nargs="+", help="content folders/videos (else from config)")
    parser.add_argument("--style", nargs="+", help="painting(s) (else from config)")
    parser.add_argument("--steps", type=int, default=400, help="steps per run")
    parser.add_argument("--set", action="append", default=[], help="config override KEY=VALUE")
    parser.add_argument("--runs", type=Path, help="keep the two run dirs here (default: temp)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    args = parser.parse_args()

    given = ["--config", str(args.config)] if args.config else []
    if args.content:
        given += ["--content", *args.content]
    if args.style:
        given += ["--style", *args.style]
    for text in args.set:
        given += ["--set", text]
    every = str(args.steps)
    common = [*given, "--steps", every, "--sample-every", every, "--checkpoint-every", every]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs or Path(tmp)
        for policy in POLICIES:
            run = runs / policy
            code = train_main([*common, "--lr-policy", policy, "--out", str(run), "--overwrite"])
            if code:
                raise SystemExit(code)
            config = json.loads((run / "config.json").read_text())
            results[policy] = summarize(
                read_metrics(run / "metrics.csv"), config["loss"]["gan_mode"]
            )
    stem = f"adaptive_lr_ablation{'_' + args.tag if args.tag else ''}"
    write_report(stem, results, markdown(results, args.steps, given), args.out)


if __name__ == "__main__":
    main()
