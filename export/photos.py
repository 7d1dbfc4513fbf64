"""Real photos for int8 calibration and for the parity check, read and sized like video frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from export.errors import ExportError
from stream_astgan.images import IMAGE_SUFFIXES, find_images, read_image


def list_photos(directory: Path) -> list[Path]:
    """The image files in `directory` and its subfolders (as every folder input is read),
    sorted so runs are repeatable."""
    if not directory.is_dir():
        raise ExportError(f"photo folder {directory} does not exist; give --calib a photo folder")
    photos = find_images(directory)
    if not photos:
        raise ExportError(
            f"{directory} holds no photos ({', '.join(sorted(IMAGE_SUFFIXES))}); give --calib a "
            "folder of ordinary photos like the videos you will stylize"
        )
    return photos


def load_photo(path: Path, height: int, width: int) -> np.ndarray:
    """uint8 RGB [height, width, 3]: centre-cropped to the target's aspect ratio, then resized."""
    rgb = read_image(path)
    if rgb is None:
        raise ExportError(f"cannot read photo {path}; remove it from the folder or convert it")
    h, w = rgb.shape[:2]
    scale = min(h / height, w / width)
    crop_h, crop_w = round(height * scale), round(width * scale)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    rgb = rgb[top : top + crop_h, left : left + crop_w]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
