"""Parity: does the ONNX file compute what the checkpoint computes, on frames like users' own?

The reference is the checkpoint's generator in torch, wrapped exactly as the graph is. Each
candidate runner (ONNX Runtime on this CPU, or onnx's reference evaluator, which keeps fp16
tensors in fp16) stylizes the same frames: noise, a smooth synthetic picture and real photos, at
odd sizes and batch 3 as well as batch 1. Differences are measured per pixel in 0..255 levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx.reference import ReferenceEvaluator
from torch import nn

from export.errors import ParityError
from export.photos import load_photo
from export.wrapper import FramesWrapper
from stream_astgan.contract import INPUT_NAME
from stream_astgan.engine import session_options

Runner = Callable[[np.ndarray], np.ndarray]
"""uint8 [N, H, W, 3] -> uint8 [N, H, W, 3]."""

FP32_LEVELS = 1
FP32_MAX_FRACTION = 0.001
"""fp32 fails the export if more than 0.1% of pixels differ by more than 1 level."""

THRESHOLDS = (1, 2, 8)
"""Error levels whose exceeding pixel fractions are reported (`frac_over_<t>`)."""

PARITY_PHOTOS = 3
"""Real photos per parity check: one each at 640x360, 131x97 and 431x243, then all three batched."""

SLOW_RUNNER_MAX_PIXELS = 20_000
"""Batches larger than this are left to fast runners (onnx.reference needs about a minute per
megapixel for the default generator on this machine)."""


@dataclass(frozen=True)
class Case:
    """One parity input: a named batch of frames; `natural` when it looks like real footage."""

    name: str
    frames: np.ndarray
    natural: bool = True


def parity_cases(photos: list[Path], seed: int = 0) -> list[Case]:
    """Noise and a smooth gradient at odd sizes, batch 1 and 3, plus up to PARITY_PHOTOS photos."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("noise 1x97x131", rng.integers(0, 256, (1, 97, 131, 3), dtype=np.uint8), False),
        Case("noise 3x64x80", rng.integers(0, 256, (3, 64, 80, 3), dtype=np.uint8), False),
        Case("gradient 1x45x61", _gradient(45, 61)),
    ]
    sizes = ((360, 640), (97, 131), (243, 431))
    for path, (height, width) in zip(photos, sizes, strict=False):
        cases.append(Case(f"{path.name} 1x{height}x{width}", load_photo(path, height, width)[None]))
    if len(photos) >= PARITY_PHOTOS:
        batch = np.stack([load_photo(p, 72, 128) for p in photos[:PARITY_PHOTOS]])
        cases.append(Case("3 photos 3x72x128", batch))
    return cases


def natural_cases(cases: list[Case]) -> list[Case]:
    """Photos and the gradient: what quantization is calibrated for and judged on (not noise)."""
    return [c for c in cases if c.natural]


def small_cases(cases: list[Case]) -> list[Case]:
    """The cases cheap enough for onnx's reference evaluator (odd sizes and batch 3 included)."""
    return [c for c in cases if np.prod(c.frames.shape[:3]) <= SLOW_RUNNER_MAX_PIXELS]


def _gradient(height: int, width: int) -> np.ndarray:
    """A smooth colourful picture: the kind of flat region where banding would show."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / max(width - 1, 1), y / max(height - 1, 1), 0.5 + 0.5 * np.sin(x / 7)], -1)
    return (rgb * 255).round().astype(np.uint8)[None]


def torch_runner(generator: nn.Module) -> Runner:
    """The checkpoint's computation: the same uint8 wrapper the graph was traced from."""
    wrapper = FramesWrapper(generator).eval()

    def run(frames: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return wrapper(torch.from_numpy(frames)).numpy()

    return run


def onnxruntime_runner(model: onnx.ModelProto, threads: int) -> Runner:
    """ONNX Runtime's CPU provider with the runtime's own session options (spinning off too)."""
    session = ort.InferenceSession(
        model.SerializeToString(), session_options(threads), providers=["CPUExecutionProvider"]
    )
    return lambda frames: session.run(None, {INPUT_NAME: frames})[0]


def reference_runner(model: onnx.ModelProto) -> Runner:
    """onnx's pure-numpy evaluator: slow, but it computes each op in the graph's own dtype."""
    evaluator = ReferenceEvaluator(model)
    return lambda frames: evaluator.run(None, {INPUT_NAME: frames})[0]


def compare(
    reference: Runner,
    candidate: Runner,
    cases: list[Case],
) -> dict[str, float | None]:
    """Error of `candidate` against `reference` over all cases, in 0..255 levels.

    A pixel's error is its largest channel error. Reported: the largest error, the mean
    absolute channel error, the fraction of pixels more than t levels off for each t in
    THRESHOLDS, and the PSNR in dB (None when the outputs are identical).
    """
    pixel_errors, absolute, squared, values = [], 0.0, 0.0, 0
    for case in cases:
        expected, actual = reference(case.frames), candidate(case.frames)
        if actual.shape != expected.shape or actual.dtype != np.uint8:
            raise ParityError(
                f"{case.name}: the model returned {actual.dtype} {actual.shape}, "
                f"expected uint8 {expected.shape}"
            )
        diff = np.abs(expected.astype(np.int16) - actual.astype(np.int16))
        pixel_errors.append(diff.max(axis=-1).ravel())
        absolute += float(diff.sum(dtype=np.float64))
        squared += float(np.square(diff, dtype=np.float64).sum())
        values += diff.size
    errors = np.concatenate(pixel_errors)
    stats: dict[str, float | None] = {
        "cases": len(cases),
        "pixels": int(errors.size),
        "max_abs": int(errors.max()),
        "mean_abs": round(absolute / values, 4),
    }
    for levels in THRESHOLDS:
        stats[f"frac_over_{levels}"] = round(float(np.mean(errors > levels)), 6)
    stats["psnr_db"] = round(10 * math.log10(255**2 * values / squared), 2) if squared else None
    return stats


def require(
    stats: dict[str, float | None],
    what: str,
    levels: int,
    max_fraction: float,
    reference: str = "the checkpoint",
) -> None:
    """Raise ParityError when more than `max_fraction` of pixels are more than `levels` off."""
    fraction = float(stats[f"frac_over_{levels}"] or 0.0)
    if fraction > max_fraction:
        raise ParityError(
            f"{what} parity failed: {fraction:.3%} of {stats['pixels']} pixels differ from "
            f"{reference} by more than {levels} level(s) (limit {max_fraction:.1%}, largest "
            f"difference {stats['max_abs']}); no model was written"
        )
