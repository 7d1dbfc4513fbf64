"""Strength and colour preservation: mixing the stylized picture with the frame it came from.

Done with OpenCV on the uint8 batch after the model, not as an input of the graph: the model
contract stays one input and one output (any contract-following `.onnx` works, and the runtime
needs no `onnx` package to rewrite graphs), strength 1 without colour preservation costs nothing
at all, and the measured cost is a small fraction of a frame (benchmarks/blend_cost.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import UsageError


def _rows(batch: np.ndarray) -> np.ndarray:
    """[N, H, W, 3] as one [N*H, W, 3] picture: OpenCV converts a whole batch in one call."""
    return batch.reshape(-1, batch.shape[-2], 3)


def keep_colour(frames: np.ndarray, stylized: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """The frames' chroma (Cr, Cb) with the stylized luminance: the strokes without the palette.

    With a strength below 1 only the luminance is mixed: the frame and its colour-kept
    stylization share their chroma, so this is their mix in one pass instead of two.
    """
    ycc = cv2.cvtColor(_rows(frames), cv2.COLOR_RGB2YCrCb)
    luma = cv2.cvtColor(_rows(stylized), cv2.COLOR_RGB2GRAY)
    if strength < 1:
        luma = cv2.addWeighted(luma, strength, ycc[..., 0], 1.0 - strength, 0.0)
    ycc[..., 0] = luma
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB).reshape(frames.shape)


def blend(
    frames: np.ndarray, stylized: np.ndarray, strength: float, preserve_colour: bool
) -> np.ndarray:
    """uint8 batches in, uint8 out: strength 0 gives the frames, 1 the (colour-kept) stylization."""
    if strength <= 0:
        return frames
    if preserve_colour:
        return keep_colour(frames, stylized, strength)
    if strength >= 1:
        return stylized
    mixed = cv2.addWeighted(_rows(stylized), strength, _rows(frames), 1.0 - strength, 0.0)
    return mixed.reshape(frames.shape)


def check_strength(strength: float) -> float:
    """--strength is a fraction of the stylization; anything outside [0, 1] is a typo."""
    if not 0.0 <= strength <= 1.0:
        raise UsageError(f"--strength must be between 0 and 1, got {strength}")
    return strength
