"""How far the texture a recipe trains towards sits from the painting `benchmarks.quality`
measures against: the Gram ratio of a generator that matched its training target exactly.

Training matches the average statistics of a fixed set of painting patches (the trainer's own
sampler, seed and patch count), cut from the painting at each of `data.style_scales`; the
benchmark compares with the whole painting at short side 512. A generator that matched the
training target exactly would score this ratio on the held-out photos (same Grams, same
photos, same average of per-photo ratios as the quality table). It is a diagnostic, not a
floor: training matches centred statistics, and a model can score below its target. The patch
draw matters where the painting changes much with scale, so beside the draw the recipe trains
with (its seed), the range over other draws (seeds after it). For each recipe in
training/configs: the scales it trains at, and each single scale.

    python -m benchmarks.style_target [--scales 1.0 0.75 0.5] [--draws 5]

Writes results/style_target.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch

from benchmarks.quality import (
    gram_distance,
    grams,
    held_out_photos,
    painting_grams,
    prepared_vgg,
    to_tensor,
)
from benchmarks.report import write_report
from benchmarks.usage import fail, user_errors
from training.config import load_toml, resolve_config
from training.data import StyleSampler, load_paintings, step_generator
from training.features import VGGFeatures
from training.trainer import PREVIEW_SEED_STEP, STYLE_TARGET_PATCHES

RECIPES = Path(__file__).resolve().parents[1] / "training" / "configs"


def target_ratio(
    vgg: VGGFeatures,
    sampler: StyleSampler,
    seed: int,
    painting: list[torch.Tensor],
    photo_distances: list[float],
) -> float:
    """The Gram ratio, on the held-out photos, of an output whose Grams are the patches'."""
    patches = sampler.batch(STYLE_TARGET_PATCHES, step_generator(seed, 0, PREVIEW_SEED_STEP + 1))
    with torch.no_grad():
        chunks = [grams(vgg(chunk)) for chunk in patches.split(16)]
    target = [torch.cat(layer).mean(0, keepdim=True) for layer in zip(*chunks, strict=True)]
    distance = gram_distance(target, painting).item()
    return statistics.fmean(distance / d for d in photo_distances)


def cell(draws: list[float]) -> str:
    if len(draws) == 1:
        return f"{draws[0]:.3f}"
    return f"{draws[0]:.3f} ({min(draws):.3f}-{max(draws):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0, 0.75, 0.5],
        help="single painting scales to report beside each recipe's own",
    )
    parser.add_argument(
        "--draws", type=int, default=5, help="patch draws per cell: the recipe's and N-1 others"
    )
    args = parser.parse_args()
    if any(s <= 0 for s in args.scales) or args.draws < 1:
        fail("--scales must be > 0 and --draws >= 1")
    with user_errors():
        vgg, _ = prepared_vgg()
        photos = [to_tensor(rgb) for rgb in held_out_photos(384).values()]
        if not photos:
            fail("no held-out photos: install scikit-image or provide ../shared/data/video")
        rows: dict[str, dict[str, Any]] = {}
        for recipe in sorted(RECIPES.glob("*.toml")):
            cfg = resolve_config(load_toml(recipe))
            paths, pixels = load_paintings(cfg.style.paths)
            if not pixels:
                fail(f"{recipe.name}: no readable painting (is ../shared/data beside the repo?)")
            painting = painting_grams(vgg, ",".join(p.name for p in paths))
            with torch.no_grad():
                photo_distances = [gram_distance(grams(vgg(p)), painting).item() for p in photos]
            d = cfg.data
            row: dict[str, Any] = {"scales": ", ".join(f"{s:g}" for s in d.style_scales)}
            for key, scales in [
                ("recipe", d.style_scales),
                *((f"{s:g}", [s]) for s in args.scales),
            ]:
                sampler = StyleSampler(pixels, d.crop, d.style_short_side, scales)
                row[key] = [
                    target_ratio(vgg, sampler, cfg.seed + i, painting, photo_distances)
                    for i in range(args.draws)
                ]
            rows[recipe.stem] = row
            print(recipe.stem, row, flush=True)
    singles = [f"{s:g}" for s in args.scales]
    table = [
        f"Held-out photos: {len(photos)} (those of benchmarks.quality). Gram ratio of the "
        f"training's style target ({STYLE_TARGET_PATCHES} painting patches of the recipe's crop, "
        "the painting at short side 512 times the scale) against the whole painting at short "
        "side 512: what a generator that matched the target exactly would score. Each cell: "
        f"the draw the recipe trains with, then the range over {args.draws} draws.",
        "",
        "| recipe | its scales | its target | "
        + " | ".join(f"scale {s} only" for s in singles)
        + " |",
        "| --- | --- | ---: |" + " ---: |" * len(singles),
        *(
            f"| {name} | {row['scales']} | "
            + " | ".join(cell(row[key]) for key in ["recipe", *singles])
            + " |"
            for name, row in rows.items()
        ),
    ]
    write_report("style_target", {"recipes": rows}, table)


if __name__ == "__main__":
    main()
