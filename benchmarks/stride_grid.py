"""How strongly each model prints its own sampling grid: the part of its output that repeats
every stride of the generator (8 px).

A strided generator can raise the mean of a texture feature over a flat area most cheaply with a
pattern fixed to its grid, a faint lattice of dots. The Gram ratio rewards that, no painting has
it, and it does not move with the scene. The figure: the output's luminance minus its 9x9 box
blur, averaged over each of the stride x stride phases of the grid, as an RMS in 0..255 levels.
Noise and detail off the grid average out; a lattice of dots stays. Photos keep a little of
their own (8x8 codec blocks), so the table starts with the inputs' figures.

    python -m benchmarks.stride_grid [--model NAME|M.onnx ...]

Writes results/stride_grid.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from benchmarks.models import contract_models
from benchmarks.quality import held_out_photos
from benchmarks.report import model_table, write_report
from benchmarks.usage import fail, user_errors
from stream_astgan import contract
from stream_astgan.engine import Engine

BLUR = 9
FLAT_SIZE = (360, 640)
FLAT_RGB = (200, 190, 170)  # paper-like beige
FLAT_NOISE = 2.55  # 1% sensor noise, in 0..255 levels


def grid_amplitude(rgb: np.ndarray, stride: int) -> float:
    """RMS over the stride x stride phases of the high-passed luminance's per-phase mean."""
    luma = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)  # float: the grid is ~1 level
    h, w = (luma.shape[0] // stride) * stride, (luma.shape[1] // stride) * stride
    high = (luma - cv2.blur(luma, (BLUR, BLUR)))[:h, :w]
    phases = high.reshape(h // stride, stride, w // stride, stride).mean((0, 2))
    return float(np.sqrt(np.square(phases).mean()))


def flat_frame() -> np.ndarray:
    """A plain beige frame with 1% noise: nothing to paint but what the model adds itself."""
    rng = np.random.default_rng(0)
    frame = np.full((*FLAT_SIZE, 3), FLAT_RGB, np.float32) + rng.normal(
        0, FLAT_NOISE, (*FLAT_SIZE, 3)
    )
    return np.clip(frame, 0, 255).round().astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", help="bundled names or .onnx files (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        photos = held_out_photos(384)
        if not photos:
            fail("no held-out photos: install scikit-image or provide ../shared/data/video")
        inputs = {"flat frame": flat_frame(), **photos}
        models, note = contract_models(args.model, Path(tmp))
        rows = {"(the input itself)": [grid_amplitude(rgb, 8) for rgb in inputs.values()]}
        for model in models:
            engine = Engine(model.path, "cpu")
            stride = int(engine.metadata.get(contract.META_STRIDE, 8))
            rows[model.label] = [
                grid_amplitude(engine.run(rgb[None])[0], stride) for rgb in inputs.values()
            ]
            print(model.label, [round(v, 2) for v in rows[model.label]], flush=True)
    table = [
        *([note, ""] if note else []),
        "The stride grid each model prints: the RMS, in 0..255 luma levels, of its output's "
        f"high-pass (minus a {BLUR}x{BLUR} box blur) averaged over each phase of the generator's "
        "stride (8 px). Inputs: a plain beige frame with 1% noise, then the held-out photos of "
        "benchmarks.quality (long side 384). The first row is the inputs' own figure: a noise-only "
        "frame's phases average out; photos keep some (8x8 codec blocks, or detail on the grid).",
        "",
        *model_table(list(inputs), {n: [f"{v:.2f}" for v in row] for n, row in rows.items()}),
    ]
    write_report("stride_grid", {"inputs": list(inputs), "models": rows}, table)


if __name__ == "__main__":
    main()
