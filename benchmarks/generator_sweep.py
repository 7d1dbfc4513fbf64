"""Generator variants (width, depth, normalization, padding, upsampling, skips) against speed
and quality: params, GMAC per 640x360 frame, model-only ONNX Runtime fps at 640x360 and
1280x720 (generator_speed.py's measurement), and the style and content losses after the same
short training of each variant (training's own CLI and trainer, same seed, data and steps).

The short training ranks the variants' ability to pick up a style early; it is not a trained
model's quality. Losses are the means over the last 10% of steps (adaptive_lr_ablation.py's
`summarize`). Plots fps against style loss with the frontier.

    python -m benchmarks.generator_sweep [--steps 300] [--only default,w12] [--repeats 20]

Writes results/generator_sweep.{json,md,png}.
"""

from __future__ import annotations

import os

# Training threads wait passively: spinning ones slowed steps up to 10x on a shared 2-core CPU.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP

import argparse
import dataclasses
import json
import tempfile
import time
import warnings
from pathlib import Path

import torch

from benchmarks.adaptive_lr_ablation import summarize
from benchmarks.frontier import pareto_front, plot_frontier
from benchmarks.generator_speed import CANDIDATES, describe, measure
from benchmarks.models import PHOTOS, SHARED_DATA
from benchmarks.report import RESULTS, write_report
from benchmarks.usage import chosen, fail
from training.cli import main as train_main
from training.config import GeneratorConfig
from training.metrics import read_metrics

STYLE = SHARED_DATA / "style" / "starry_night.jpg"
SIZES = [(640, 360), (1280, 720)]


def generator_overrides(cfg: GeneratorConfig) -> list[str]:
    """`--set generator.KEY=VALUE` flags that make training build exactly `cfg`."""
    flags = []
    for key, value in dataclasses.asdict(cfg).items():
        flags += ["--set", f"generator.{key}={value}"]
    return flags


def train_losses(cfg: GeneratorConfig, common: list[str], run: Path) -> dict:
    """Train one variant with the shared settings; its final style and content losses."""
    code = train_main([*common, *generator_overrides(cfg), "--out", str(run), "--overwrite"])
    if code:
        raise SystemExit(code)
    config = json.loads((run / "config.json").read_text())
    figures = summarize(read_metrics(run / "metrics.csv"), config["loss"]["gan_mode"])
    return {k: figures[k] for k in ("style_final", "content_final", "seconds_per_step")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated variant names")
    parser.add_argument("--steps", type=int, default=300, help="training steps per variant")
    parser.add_argument("--init-steps", type=int, default=50, help="warm-start steps of those")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--content", default=str(PHOTOS), help="content folder")
    parser.add_argument("--style", default=str(STYLE), help="painting")
    parser.add_argument("--repeats", type=int, default=20, help="timed ORT runs per size")
    args = parser.parse_args()
    names = chosen(args.only, CANDIDATES)
    if not 0 <= args.init_steps < args.steps:
        fail(f"--init-steps must be below --steps ({args.steps}), got {args.init_steps}")
    training = [
        "--content", args.content, "--style", args.style, "--steps", str(args.steps),
        "--crop", str(args.crop), "--batch-size", str(args.batch_size), "--threads", "2",
        "--seed", "0", "--set", f"optim.init_steps={args.init_steps}",
        "--sample-every", str(args.steps), "--checkpoint-every", str(args.steps),
    ]  # fmt: skip
    torch.set_num_threads(2)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            t0 = time.perf_counter()
            cfg = CANDIDATES[name]
            with warnings.catch_warnings():  # the TorchScript exporter's deprecation notes
                warnings.simplefilter("ignore")
                row = measure(cfg, SIZES, args.repeats)
            row |= train_losses(cfg, training, Path(tmp) / name)
            rows[name] = row
            print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    points = {n: (r["style_final"], r["fps_640x360"]) for n, r in rows.items()}
    front = pareto_front(points)
    setting = (
        f"{args.steps} training steps ({args.init_steps} warm-start), crop {args.crop}, batch "
        f"{args.batch_size}, seed 0, {Path(args.style).name}; speed: ONNX Runtime CPU, batch 1, "
        f"2 threads, median of {args.repeats}, generator alone (float NCHW)"
    )
    RESULTS.mkdir(exist_ok=True)
    plot_frontier(
        points, f"generator variants: {args.steps} training steps", RESULTS / "generator_sweep.png"
    )
    result = {"setting": setting, "variants": rows, "frontier": front}
    table = [
        f"Setting: {setting}. Losses: means over the last 10% of steps.",
        "",
        "| variant | params | GMAC/640x360 | fps 640x360 | fps 1280x720 | style loss "
        "| content loss | on frontier |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {n} | {r['params']} | {r['gmac_640x360']} | {r['fps_640x360']} "
            f"| {r['fps_1280x720']} | {r['style_final']:.4f} | {r['content_final']:.4f} "
            f"| {'yes' if n in front else ''} |"
            for n, r in rows.items()
        ),
        "",
        "Variants (differences from the default GeneratorConfig): "
        + "; ".join(f"{n}: {describe(CANDIDATES[n])}" for n in rows),
        "",
        "![fps against style loss](generator_sweep.png)",
    ]
    write_report("generator_sweep", result, table)


if __name__ == "__main__":
    main()
