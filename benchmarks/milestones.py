"""Score a run's kept milestones on the held-out photos of `benchmarks.quality`, to pick the
one to ship: a GAN's look is not monotonic in the step, and each step trades Gram ratio against
flicker, which the training samples do not show.

    python -m benchmarks.milestones RUN_OR_CHECKPOINT ... [--steps N ...] [--live] [--no-flicker]
    python -m benchmarks.milestones CHECKPOINT CHECKPOINT ... --average OUT.pt [--live]

A run directory stands for its kept milestones (checkpoints/step_*.pt, or --steps). Each gets
the held-out Gram ratio, the relu3_3 content distance and the warping ratio on all of box.mp4
(a few minutes each on 2 cores; --no-flicker skips it, most of the time for a large generator),
kept in the run's held_out_quality.json for the next call.
The exported generator is the EMA of the trained weights; --live scores the trained weights
themselves. --average writes one checkpoint whose generator is the mean of the given ones'
(a model soup of branches from one start, or a longer average along one run), which
`python -m export OUT.pt` takes like any other, and scores it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from benchmarks.trained_runs import HeldOut
from benchmarks.usage import fail, user_errors
from training.checkpoint import (
    FORMAT,
    MILESTONES_DIR,
    load_checkpoint,
    load_generator_checkpoint,
    save_checkpoint,
)

LIVE_KEY = "generator_train"  # the trained weights beside the EMA in a training checkpoint


def milestones(target: Path, steps: list[int]) -> list[Path]:
    """The checkpoints an argument names: a file itself, a run's kept milestones (those of
    `steps` only, when given)."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        fail(f"{target} does not exist (expected a run directory or a checkpoint .pt)")
    kept = sorted((target / MILESTONES_DIR).glob("step_*.pt"))
    if steps:
        kept = [p for p in kept if int(p.stem.split("_")[1]) in steps]
    if not kept:
        fail(
            f"{target}: no kept milestones{' at those steps' if steps else ''} in {MILESTONES_DIR}/"
        )
    return kept


def weights(raw: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """The trained weights a training checkpoint keeps beside the EMA."""
    if not isinstance(raw.get(LIVE_KEY), dict):
        fail(f"{path} holds no trained weights beside the EMA (not a training checkpoint)")
    return raw[LIVE_KEY]


def averaged(paths: list[Path], live: bool) -> dict[str, Any]:
    """A generator checkpoint of the mean weights; the generators must be built alike and
    trained on the same painting(s)."""
    loaded = [load_generator_checkpoint(path) for path in paths]
    first = loaded[0]
    states, steps = [], []
    for path, ckpt in zip(paths, loaded, strict=True):
        for part in ("generator", "style"):
            if ckpt.config[part] != first.config[part]:
                fail(f"{path} differs from {paths[0]} in its {part}: weights cannot be averaged")
        states.append(weights(load_checkpoint(path), path) if live else ckpt.generator_state)
        steps.append(ckpt.step)
    mean = {
        key: torch.stack([s[key].float() for s in states]).mean(0).to(value.dtype)
        if value.is_floating_point()
        else value
        for key, value in states[0].items()
    }
    return {
        "format": FORMAT,
        "step": max(steps),
        "config": first.config,
        "config_hash": first.config_hash,
        "generator": mean,
        "averaged_from": [f"{p}{' (trained weights)' if live else ''}" for p in paths],
    }


def label(path: Path) -> str:
    """A milestone by its run's name, anything else by its file name: the table stays narrow."""
    return path.parent.parent.name if path.parent.name == MILESTONES_DIR else path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", type=Path, help="run directories or checkpoints")
    parser.add_argument("--steps", type=int, nargs="+", default=[], help="only these milestones")
    parser.add_argument("--live", action="store_true", help="the trained weights, not the EMA")
    parser.add_argument(
        "--no-flicker",
        action="store_true",
        help="skip the warping ratio on box.mp4 (most of the time for a large generator, such "
        "as the TransformerNet anchor)",
    )
    parser.add_argument(
        "--average", type=Path, metavar="OUT.pt", help="write and score the mean of the weights"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT.pt")
    args = parser.parse_args()
    table = Table("run or file", "step", "Gram ratio", "content", "warping ratio, box.mp4")
    held_out = HeldOut()
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        paths = [p for t in args.targets for p in milestones(t, args.steps)]
        if args.average:
            if args.average.exists() and not args.overwrite:
                fail(f"{args.average} exists; pass --overwrite to replace it")
            save_checkpoint(args.average, averaged(paths, args.live))
            scored = [(args.average, args.average)]
        elif args.live:  # a generator checkpoint of the trained weights, scored in a scratch dir
            scored = []
            for path in paths:
                copy = Path(tmp) / path.parent.parent.name / MILESTONES_DIR / path.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                save_checkpoint(copy, averaged([path], live=True))
                scored.append((path, copy))
        else:
            scored = [(p, p) for p in paths]
        # a few minutes per checkpoint on a CPU: say where the run is
        flicker = not args.no_flicker
        where = "held-out photos and box.mp4" if flicker else "held-out photos"
        for shown, path in track(scored, description=where):
            ckpt = load_generator_checkpoint(path)
            run = path.parent.parent if path.parent.name == MILESTONES_DIR else path.parent
            relative = str(path.relative_to(run))
            figures = held_out.figures(run, ckpt.config, ckpt.step, relative, flicker)
            table.add_row(
                label(shown) + (" (trained weights)" if args.live else ""),
                str(ckpt.step),
                f"{figures['gram_ratio']:.3f}",
                f"{figures['content']:.3f}",
                f"{figures['warping_ratio_box']:.2f}" if "warping_ratio_box" in figures else "-",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
