"""Where flicker comes from: how far each model's output moves when the scene moves.

For each held-out photo of `benchmarks.quality`, the photo is cut 1, 2, 3, 4 and 8 pixels
further right and stylized again; the output should be the first output moved by as much.
A generator whose reductions are plain strided convolutions is only consistent for moves by
a multiple of its stride (8), so the sub-stride moves of real video change its strokes; a
low-pass before each reduction (`GeneratorConfig.antialias`) is meant to close that gap. The
last column is the change that sensor noise of 1% (2.55 levels) causes, the other source of
flicker. Changes are mean absolute differences in 0..255 levels, 16 px from every border.

    python -m benchmarks.shift [--model NAME|M.onnx ...]

Writes results/shift.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.models import contract_models
from benchmarks.quality import held_out_photos
from benchmarks.report import write_report
from benchmarks.usage import fail, user_errors
from stream_astgan.engine import Engine

SHIFTS = (1, 2, 3, 4, 8)
BORDER = 16
NOISE_LEVELS = 2.55


def changes(engine: Engine, rgb: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Output change per move (and for noise) on one photo."""
    base = engine.run(rgb[None])[0].astype(np.float32)
    width, b = rgb.shape[1], BORDER
    out: dict[str, float] = {}
    for k in SHIFTS:
        moved = engine.run(np.ascontiguousarray(rgb[:, k:])[None])[0].astype(np.float32)
        diff = moved[b:-b, b : width - k - b] - base[b:-b, b + k : width - b]
        out[f"{k} px"] = float(np.abs(diff).mean())
    noise = rng.normal(0, NOISE_LEVELS, rgb.shape)
    noisy = np.clip(rgb + noise, 0, 255).round().astype(np.uint8)
    diff = engine.run(noisy[None])[0].astype(np.float32) - base
    out["noise 1%"] = float(np.abs(diff[b:-b, b:-b]).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", help="bundled names or .onnx files (default: all)")
    args = parser.parse_args()
    photos = held_out_photos(384)
    if not photos:
        fail("no held-out photos: install scikit-image or provide ../shared/data/video")
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        models, note = contract_models(args.model, Path(tmp))
        for model in models:
            engine = Engine(model.path, "cpu")
            rng = np.random.default_rng(0)
            per = [changes(engine, rgb, rng) for rgb in photos.values()]
            rows[model.label] = {k: round(statistics.fmean(p[k] for p in per), 2) for k in per[0]}
    columns = list(next(iter(rows.values())))
    table = [
        f"Held-out photos ({len(photos)}): {', '.join(photos)}; long side <= 384. Mean absolute "
        "change of the output (0..255 levels) when the photo moves by k pixels, against the first "
        f"output moved by as much, {BORDER} px from every border; last column: sensor noise of "
        "1%. The generators' stride is 8.",
        *([f"Note: {note}."] if note else []),
        "",
        "| model | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
        *(f"| {name} | {' | '.join(str(r[c]) for c in columns)} |" for name, r in rows.items()),
    ]
    write_report("shift", {"photos": list(photos), "models": rows, "note": note}, table)


if __name__ == "__main__":
    main()
