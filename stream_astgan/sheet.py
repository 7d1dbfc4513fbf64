"""`astgan-stream sheet PHOTO -o sheet.png`: one photo in every style, named, on one picture.

The quickest way to choose a style: the photo first, then each bundled style (or each `--model`)
in a grid of labelled cells. The benchmarks' contact sheet draws its cells with the same helpers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .errors import UsageError
from .frames import Frame
from .images import IMAGE_SUFFIXES
from .providers import ShapeHint
from .runner import RunOptions, load_styles
from .sinks import ImageSink, check_output
from .sizing import check_size, resize_to
from .sources import open_source

BAND = 28  # height of the label band above each cell


def labelled(rgb: np.ndarray, text: str, scale: float = 0.5) -> np.ndarray:
    """The picture resized by `scale` under a white band holding its label. A long label is
    drawn smaller rather than cut, since its end (a score, a step) is often what it says."""
    h, w = round(rgb.shape[0] * scale), round(rgb.shape[1] * scale)
    cell = np.full((h + BAND, w, 3), 255, np.uint8)
    cell[BAND:] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    size = 0.5 * min(1.0, (w - 12) / max(width, 1))
    cv2.putText(
        cell, text, (6, BAND - 9), cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 1, cv2.LINE_AA
    )
    return cell


def grid(rows: list[list[np.ndarray]], gap: int = 4) -> np.ndarray:
    """Cells of equal size laid out in rows, with white gaps (a short last row stays white)."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(row) for row in rows)
    out = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = cell
    return out


def read_photo(photo: Path, width: int) -> np.ndarray:
    """The photo as RGB, scaled to `width` (the size it is stylized at, as a camera would be)."""
    if photo.is_dir() or (photo.exists() and photo.suffix.lower() not in IMAGE_SUFFIXES):
        raise UsageError(f"{photo}: give one photo ({', '.join(sorted(IMAGE_SUFFIXES))})")
    source = open_source(photo)  # an image file: a clear error when missing or unreadable
    rgb = next(iter(source.frames())).rgb
    h, w = rgb.shape[:2]
    size = (width, max(1, round(h * width / w)))
    check_size(*size, "--width")
    return resize_to(rgb, size)


def make_sheet(
    photo: Path,
    output: Path,
    model: Sequence[str] | None = None,
    width: int = 480,
    columns: int | None = None,
    provider: str = "auto",
    precision: str = "auto",
    overwrite: bool = False,
) -> list[str]:
    """Render the sheet to `output` (never over an existing file without `overwrite`)."""
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(f"{output}: the sheet is an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if columns is not None and columns < 1:
        raise UsageError(f"--columns must be at least 1, got {columns}")
    check_output(output, [photo], overwrite)
    rgb = read_photo(photo, width)
    opts = RunOptions(model=list(model or ["all"]), provider=provider, precision=precision)
    styles = load_styles(opts, ShapeHint(1, rgb.shape[0], rgb.shape[1]))
    cells = [labelled(rgb, f"photo: {photo.stem}", 1.0)] + [
        labelled(s.engine.run(rgb[None])[0], s.name, 1.0) for s in styles.styles
    ]
    cols = columns or math.ceil(math.sqrt(len(cells)))
    rows = [cells[i : i + cols] for i in range(0, len(cells), cols)]
    ImageSink(output, single=True, names=[], overwrite=overwrite).write(
        Frame(rgb, None, None, 0), grid(rows)
    )
    return styles.names
