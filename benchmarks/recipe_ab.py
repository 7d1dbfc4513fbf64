"""Recipe A/B: the same short training with one thing changed, judged on held-out photos.

Each variant is the bundled starry-night recipe (the config defaults) plus a few overrides; all
variants share seed, data and step count. Reported per variant: the held-out Gram-distance ratio
and content distance of `benchmarks.quality` and the warping-error ratio on all of box.mp4
(`benchmarks.trained_runs.quality`), and a sheet with one row of held-out photos per variant, to
be looked at: a lower Gram ratio with unreadable faces or a flickering video is not a better
recipe. The variants below are the ones that decided the recipe.

    python -m benchmarks.recipe_ab [--steps 300] [--only recipe,no-temporal] [--runs DIR]
        [--threads N]

Runs are kept under --runs and reused (a finished run, or its milestone at --steps) or resumed,
so the A/B can be spread over sessions. Writes results/recipe_ab.{json,md} and recipe_ab.jpg.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP

import argparse
import json
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.contact_sheet import save_jpeg
from benchmarks.models import TorchEngine
from benchmarks.report import RESULTS, write_report
from benchmarks.trained_runs import HeldOut, train
from benchmarks.usage import chosen, user_errors
from training.checkpoint import CHECKPOINT_NAME, milestone_name

BASE = ("--config", "training/configs/starry-night.toml")
PLAIN = (  # Johnson et al.'s losses alone: style and content, no GAN or other terms
    "loss.adversarial=0", "loss.pooled=0", "loss.structure=0", "loss.colour=0",
    "loss.temporal=0", "optim.lr_policy=fixed", "optim.betas=0.9,0.999",
)  # fmt: skip
EVERY = "generator.plain_levels=0"  # normalization at every level, as before plain_levels
NONE = ("generator.norm=none", EVERY)  # no normalization, reflect padding at every level
# Every variant was trained under the balance controller, temporal 0.5, plain strided
# reductions and no exact-move term, the defaults before damped, 0.2 and antialias and
# starry-night.toml's move term and phases; a variant's own settings (PLAIN's fixed, its
# temporal) come later and win.
PINNED = (
    "optim.lr_policy=balance", "loss.temporal=0.5", "generator.antialias=false", "loss.move=0",
    "phases=",
)  # fmt: skip
# the recipe of the files shipped before the move term
SHIPPED = ("loss.temporal=0.2", "generator.antialias=true")
VARIANTS: dict[str, tuple[str, ...]] = {
    "recipe": (),
    "temporal 0.2": ("loss.temporal=0.2",),
    "temporal 0.2, batch norm": ("loss.temporal=0.2", "generator.norm=batch"),
    "shipped recipe (low-pass, temporal 0.2)": SHIPPED,
    "shipped recipe, exact moves 40": (*SHIPPED, "loss.move=40"),
    "norm at every level (previous release)": (EVERY,),
    "previous recipe (no norm, temporal 10)": (*NONE, "loss.temporal=10"),
    "previous recipe, style 50": (*NONE, "loss.temporal=10", "loss.style=50"),
    "temporal 10": (EVERY, "loss.temporal=10"),
    "temporal 2": (EVERY, "loss.temporal=2"),
    "no temporal": (EVERY, "loss.temporal=0"),
    "temporal 10, no adversarial": (EVERY, "loss.temporal=10", "loss.adversarial=0"),
    "plain Johnson losses": (*PLAIN, EVERY),
    "plain Johnson losses, no norm": (*PLAIN, *NONE),
}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


SLUGS = {slug(name): name for name in VARIANTS}  # the run dir names, and --only's spelling
CELL = 256  # sheet cell width in pixels


def scored_checkpoint(run: Path, steps: int) -> str:
    """The milestone at `steps` when the run went further (a kept longer run), else the last."""
    return milestone_name(steps) if (run / milestone_name(steps)).is_file() else CHECKPOINT_NAME


def sheet_row(checkpoint: Path, photos: dict[str, np.ndarray]) -> np.ndarray:
    engine = TorchEngine(checkpoint)
    cells = []
    for rgb in photos.values():
        out = engine.run(rgb[None])[0]
        cells.append(cv2.resize(out, (CELL, CELL * out.shape[0] // out.shape[1])))
    height = max(c.shape[0] for c in cells)
    return np.concatenate([np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0))) for c in cells], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per run (100 warm start)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated variants (default: all): {', '.join(SLUGS)}"
    )
    parser.add_argument("--runs", type=Path, help="keep (and reuse) the run dirs here")
    parser.add_argument("--threads", type=int, default=0, help="torch threads per run (0: all)")
    args = parser.parse_args()
    variants = [SLUGS[v] for v in chosen(args.only, SLUGS)]
    held_out = HeldOut()
    results, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        root = args.runs or Path(tmp)
        for name in variants:
            run = root / slug(name)
            overrides = [a for o in (*PINNED, *VARIANTS[name]) for a in ("--set", o)]
            train(run, [*BASE, "--threads", str(args.threads), *overrides], args.steps)
            config = json.loads((run / "config.json").read_text())
            checkpoint = scored_checkpoint(run, args.steps)
            step = torch.load(run / checkpoint, map_location="cpu", weights_only=False)["step"]
            results[name] = {
                "overrides": list(VARIANTS[name]), "step": step,
                **held_out.figures(run, config, step, checkpoint),
            }  # fmt: skip
            rows.append(sheet_row(run / checkpoint, held_out.photos))
    width = max(r.shape[1] for r in rows)
    grid = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
    save_jpeg(RESULTS / "recipe_ab.jpg", grid)
    table = [
        f"Each variant: `{' '.join(BASE)}` plus its overrides, {args.steps} steps (100 warm "
        f"start), seed 0; held-out photos ({', '.join(held_out.photos)}) as in "
        "`benchmarks.quality`. Sheet rows, top to bottom: the variants in this order.",
        "",
        "| variant | overrides | Gram ratio | content | warping ratio, box.mp4 |",
        "| --- | --- | ---: | ---: | ---: |",
        *(
            f"| {n} | {' '.join(r['overrides']) or '-'} | {r['gram_ratio']:.3f} | "
            f"{r['content']:.3f} | {r.get('warping_ratio_box', float('nan')):.2f} |"
            for n, r in results.items()
        ),
        "",
        "![one row of held-out photos per variant](recipe_ab.jpg)",
    ]
    write_report("recipe_ab", {"steps": args.steps, "results": results}, table)


if __name__ == "__main__":
    main()
