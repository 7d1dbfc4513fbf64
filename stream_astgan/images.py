"""Image files: which names count as images, how a folder of them is found, how one is read.

The one definition for the runtime (image and folder inputs), training (photos and paintings),
export (calibration photos) and the benchmarks, so a folder means the same thing everywhere.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


def is_image_name(path: Path) -> bool:
    """True when the file's suffix is one of IMAGE_SUFFIXES (in any case)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def find_images(folder: Path) -> list[Path]:
    """Every image file in `folder` and its subfolders, sorted, so runs are repeatable."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p))


def read_image(path: Path) -> np.ndarray | None:
    """uint8 RGB [H, W, 3], or None when OpenCV cannot decode the file (any path encoding)."""
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
