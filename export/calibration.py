"""The int8 calibration data: photos at the frame sizes the model will really see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from export.photos import load_photo
from stream_astgan.contract import INPUT_NAME

CALIBRATION_PHOTOS = 32
"""At most this many photos are used: min/max ranges settle long before, and each costs time."""

CALIBRATION_SIZES = ((360, 640), (270, 480), (540, 960))
"""Sizes cycled through, so the activation ranges hold for common video resolutions."""


class PhotoCalibrationReader(CalibrationDataReader):
    """Feeds ONNX Runtime's calibrator one photo per call as a batch-1 `frames` input."""

    def __init__(self, photos: list[Path], on_frame: Callable[[], None] | None = None) -> None:
        self.photos = photos[:CALIBRATION_PHOTOS]
        self._on_frame = on_frame
        self._frames = self._generate()

    def _generate(self) -> Iterator[dict[str, np.ndarray]]:
        for i, path in enumerate(self.photos):
            height, width = CALIBRATION_SIZES[i % len(CALIBRATION_SIZES)]
            yield {INPUT_NAME: load_photo(path, height, width)[None]}
            if self._on_frame is not None:
                self._on_frame()

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._frames, None)

    def rewind(self) -> None:
        self._frames = self._generate()
