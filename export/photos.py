"""Real photos for int8 calibration and for the parity check, read and sized like video frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from export.errors import ExportError

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def list_photos(directory: Path) -> list[Path]:
    """The image files directly inside `directory`, sorted so runs are repeatable."""
    if not directory.is_dir():
        raise ExportError(f"photo folder {directory} does not exist; give --calib a photo folder")
    photos = sorted(p for p in directory.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise ExportError(
            f"{directory} holds no photos ({', '.join(PHOTO_SUFFIXES)}); give --calib a folder "
            "of ordinary photos like the videos you will stylize"
        )
    return photos


def load_photo(path: Path, height: int, width: int) -> np.ndarray:
    """uint8 RGB [height, width, 3]: centre-cropped to the target's aspect ratio, then resized."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ExportError(f"cannot read photo {path}; remove it from the folder or convert it")
    h, w = bgr.shape[:2]
    scale = min(h / height, w / width)
    crop_h, crop_w = round(height * scale), round(width * scale)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    bgr = bgr[top : top + crop_h, left : left + crop_w]
    resized = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized[:, :, ::-1])
