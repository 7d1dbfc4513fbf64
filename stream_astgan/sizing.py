"""The processing size: parsed from --size/--scale and applied to every frame of a source.

The one parser of sizes in the project: `--size WxH` names one size, `--sizes WxH,WxH` a list
(benchmarks compare several), in the runtime's commands and the benchmark scripts alike."""

from __future__ import annotations

import cv2
import numpy as np

from .errors import UsageError

MAX_SIDE = 16384  # beyond 16K the request is a typo, not a video


def parse_size(text: str, what: str = "--size") -> tuple[int, int]:
    """'640x360' -> (640, 360), with a message a user can act on for anything else."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"{what} must look like 640x360, got {text!r}") from None
    check_size(w, h, what)
    return w, h


def parse_sizes(text: str, what: str = "--sizes") -> list[tuple[int, int]]:
    """'640x360,1280x720' -> [(640, 360), (1280, 720)]: the one spelling of a list of sizes."""
    sizes = [parse_size(s.strip(), what) for s in text.split(",") if s.strip()]
    if not sizes:
        raise UsageError(f"{what} must list sizes like 640x360,1280x720, got {text!r}")
    return sizes


def check_size(w: int, h: int, what: str) -> None:
    """Reject sizes that cannot be a picture before any work starts."""
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
        raise UsageError(f"{what} gives {w}x{h}; width and height must be between 1 and {MAX_SIDE}")


def target_size(
    width: int, height: int, size: tuple[int, int] | None, scale: float | None
) -> tuple[int, int]:
    """The size frames are processed (and written) at, from the input size and the options."""
    if size is not None and scale is not None:
        raise UsageError("give either --size or --scale, not both")
    if size is not None:
        return size
    if scale is not None:
        if not 0 < scale <= 16:
            raise UsageError(f"--scale must be in (0, 16], got {scale}")
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        check_size(w, h, "--scale")
        return w, h
    return width, height


def resize_to(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize only when needed; area filter when shrinking so thin detail does not alias."""
    h, w = rgb.shape[:2]
    if (w, h) == size:
        return rgb
    shrinking = size[0] * size[1] < w * h
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
