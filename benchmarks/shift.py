"""Where flicker comes from: how far each model's output moves when the scene moves, what
input noise does to it, and in which parts of a real video the flicker sits.

For each held-out photo of `benchmarks.quality`, the photo is cut 1, 2, 3, 4 and 8 pixels
further right and stylized again; the output should be the first output moved by as much.
A generator whose reductions are plain strided convolutions is only consistent for moves by
a multiple of its stride (8), so the sub-stride moves of real video change its strokes; a
low-pass before each reduction (`GeneratorConfig.antialias`) is meant to close that gap. The
noise columns are the change that noise of 1% (2.55 levels) causes, the other source of
flicker: per pixel (a sensor's), and in blocks of 8, 16 and 32 pixels (a codec's drift in
flat areas, `training.temporal.smooth_noise`), which the generator's blurs do not remove.
Changes are mean absolute differences in 0..255 levels, 16 px from every border.

The second table splits the warping error of `benchmarks.temporal` on box.mp4 (all its
frames unless `--frames` says fewer) by how textured the source is around each pixel (the
standard deviation of its luminance over 9x9 pixels): the stylized/source ratio in each
class, and the class's share of the stylized error. A stylizer that paints flat areas by
amplifying their noise flickers there, where the source hardly changes.

    python -m benchmarks.shift [--model NAME|M.onnx ...] [--frames N]

Writes results/shift.{json,md}.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.models import BOX, contract_models
from benchmarks.quality import held_out_photos
from benchmarks.report import model_table, write_report
from benchmarks.usage import fail, user_errors
from benchmarks.warping import FlowPair, error_map, flow_estimator, gray
from stream_astgan.engine import Engine
from stream_astgan.sources import open_source
from training.temporal import smooth_noise

SHIFTS = (1, 2, 3, 4, 8)
BORDER = 16
NOISE_LEVELS = 2.55
BLOCKS = (8, 16, 32)
TEXTURE_EDGES = (0.01, 0.02, 0.04, 0.08)  # local luminance std (0..1) between the classes
TEXTURE_WINDOW = 9


def changes(engine: Engine, rgb: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Output change per move (and for noise) on one photo."""
    base = engine.run(rgb[None])[0].astype(np.float32)
    width, b = rgb.shape[1], BORDER
    out: dict[str, float] = {}
    for k in SHIFTS:
        moved = engine.run(np.ascontiguousarray(rgb[:, k:])[None])[0].astype(np.float32)
        diff = moved[b:-b, b : width - k - b] - base[b:-b, b + k : width - b]
        out[f"{k} px"] = float(np.abs(diff).mean())
    noises = {"noise 1%": rng.normal(0, NOISE_LEVELS, rgb.shape)}
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    for cell in BLOCKS:
        field = smooth_noise((1, 3, *rgb.shape[:2]), NOISE_LEVELS, [cell], gen)
        noises[f"blocks {cell} px"] = field[0].permute(1, 2, 0).numpy()
    for name, noise in noises.items():
        noisy = np.clip(rgb + noise, 0, 255).round().astype(np.uint8)
        diff = engine.run(noisy[None])[0].astype(np.float32) - base
        out[name] = float(np.abs(diff[b:-b, b:-b]).mean())
    return out


def texture_class(rgb: np.ndarray) -> np.ndarray:
    """Per pixel, the index of its texture class (0 flattest): by the local standard
    deviation of the luminance."""
    luma = gray(rgb).astype(np.float32) / 255
    size = (TEXTURE_WINDOW, TEXTURE_WINDOW)
    mean = cv2.blur(luma, size)
    std = np.sqrt(np.maximum(cv2.blur(luma * luma, size) - mean * mean, 0))
    return np.digitize(std, TEXTURE_EDGES)


def by_texture(
    frames: Iterable[np.ndarray], engines: dict[str, Engine], limit: int
) -> dict[str, np.ndarray]:
    """Summed warping error per texture class of the source, for the source and each model,
    over consecutive frame pairs; "pixels" counts the valid pixels of each class."""
    estimator = flow_estimator()
    classes = len(TEXTURE_EDGES) + 1
    sums = {name: np.zeros(classes) for name in ("pixels", "source", *engines)}
    previous = None
    for index, rgb in enumerate(frames):
        if limit and index == limit:
            break
        outputs = {"source": rgb} | {n: e.run(rgb[None])[0] for n, e in engines.items()}
        if previous is not None:
            motion = FlowPair(estimator, previous["source"], rgb)
            where = texture_class(rgb)[motion.mask]
            sums["pixels"] += np.bincount(where, minlength=classes)
            for name, out in outputs.items():
                error = error_map(previous[name], out, motion.backward)[motion.mask]
                sums[name] += np.bincount(where, weights=error, minlength=classes)
        previous = outputs
    return sums


def texture_rows(sums: dict[str, np.ndarray]) -> dict[str, dict[str, list[float]]]:
    """Per model, each class's stylized/source ratio and share of the model's error."""
    source = sums["source"]
    return {
        name: {
            "ratio": (s / np.maximum(source, 1e-12)).round(2).tolist(),
            "share": (s / max(s.sum(), 1e-12)).round(2).tolist(),
            "ratio_all": round(float(s.sum() / max(source.sum(), 1e-12)), 3),
        }
        for name, s in sums.items()
        if name not in ("pixels", "source")
    }


def class_names() -> list[str]:
    return [f"{a:.0%}-{b:.0%}" for a, b in itertools.pairwise([0, *TEXTURE_EDGES])] + [
        f"> {TEXTURE_EDGES[-1]:.0%}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", help="bundled names or .onnx files (default: all)")
    parser.add_argument(
        "--frames",
        type=int,
        default=0,
        help="first N frames of box.mp4 for the second table "
        "(0: all, as benchmarks.temporal; the table is left out when box.mp4 is absent)",
    )
    args = parser.parse_args()
    if args.frames < 0:
        fail(f"--frames must be 0 (all) or more, got {args.frames}")
    photos = held_out_photos(384)
    if not photos:
        fail("no held-out photos: install scikit-image or provide ../shared/data/video")
    rows: dict[str, dict[str, float]] = {}
    sums: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        models, note = contract_models(args.model, Path(tmp))
        engines = {model.label: Engine(model.path, "cpu") for model in models}
        for name, engine in engines.items():
            rng = np.random.default_rng(0)
            per = [changes(engine, rgb, rng) for rgb in photos.values()]
            rows[name] = {k: round(statistics.fmean(p[k] for p in per), 2) for k in per[0]}
        if BOX.is_file():
            source = open_source(BOX, None)
            try:
                sums = by_texture((f.rgb for f in source.frames()), engines, args.frames)
            finally:
                source.close()
    columns = list(next(iter(rows.values())))
    table = [
        f"Held-out photos ({len(photos)}): {', '.join(photos)}; long side <= 384. Mean absolute "
        "change of the output (0..255 levels) when the photo moves by k pixels, against the first "
        f"output moved by as much, {BORDER} px from every border; the noise columns: noise of 1% "
        "(2.55 levels) per pixel, and varying over blocks of 8, 16 and 32 px (one random value "
        "per block, bicubic between them). An unchanged photo would show about 2.0 in each noise "
        "column. The generators' stride is 8.",
        *([f"Note: {note}."] if note else []),
        "",
        *model_table(columns, {name: [str(r[c]) for c in columns] for name, r in rows.items()}),
    ]
    found = texture_rows(sums) if sums else {}
    if found:
        pixels = sums["pixels"] / sums["pixels"].sum()
        names = class_names()
        table += [
            "",
            f"box.mp4, {args.frames or 'all'} frames: the warping error (as `benchmarks.temporal`) "
            f"by the source's local texture (luminance std over {TEXTURE_WINDOW}x"
            f"{TEXTURE_WINDOW} px): each cell is the stylized/source ratio in that class and, in "
            "brackets, the class's share of the stylized error.",
            "",
            *model_table(
                [*names, "all"],
                {
                    "share of pixels": [*(f"{p:.0%}" for p in pixels), ""],
                    **{
                        name: [
                            *(
                                f"{r:.2f} ({s:.0%})"
                                for r, s in zip(row["ratio"], row["share"], strict=True)
                            ),
                            str(row["ratio_all"]),
                        ]
                        for name, row in found.items()
                    },
                },
            ),
        ]
    result = {
        "photos": list(photos),
        "models": rows,
        "note": note,
        "box_by_texture": found,
        "texture_classes": class_names(),
        "pixel_share": (sums["pixels"] / sums["pixels"].sum()).round(3).tolist() if found else [],
    }
    write_report("shift", result, table)


if __name__ == "__main__":
    main()
