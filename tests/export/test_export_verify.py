"""The parity measure and its pass/fail rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export.errors import ParityError
from export.photos import list_photos
from export.verify import (
    FP32_LEVELS,
    FP32_MAX_FRACTION,
    Case,
    compare,
    parity_cases,
    require,
)


def _frames() -> list[Case]:
    rng = np.random.default_rng(0)
    return [Case("a", rng.integers(0, 256, (1, 50, 40, 3), dtype=np.uint8))]


def _off_by(levels: int, fraction: float):
    """A runner that changes one channel of the first `fraction` of pixels by `levels`."""

    def run(frames: np.ndarray) -> np.ndarray:
        out = frames.astype(np.int16).reshape(-1, 3)
        count = round(fraction * len(out))
        out[:count, 1] = np.clip(
            out[:count, 1] + np.where(out[:count, 1] > 127, -levels, levels), 0, 255
        )
        return out.reshape(frames.shape).astype(np.uint8)

    return run


def identity(frames: np.ndarray) -> np.ndarray:
    return frames


def test_identical_outputs_have_no_error() -> None:
    stats = compare(identity, identity, _frames())
    assert stats["max_abs"] == 0 and stats["mean_abs"] == 0 and stats["psnr_db"] is None
    assert stats["pixels"] == 2000


def test_errors_are_counted_per_pixel() -> None:
    stats = compare(identity, _off_by(3, 0.01), _frames())
    assert stats["max_abs"] == 3
    assert stats["frac_over_1"] == pytest.approx(0.01)
    assert stats["frac_over_8"] == 0
    assert stats["mean_abs"] == pytest.approx(3 * 0.01 / 3)


def test_fp32_rule_fails_above_a_tenth_of_a_percent() -> None:
    bad = compare(identity, _off_by(2, 0.002), _frames())
    with pytest.raises(ParityError, match=r"0\.200% of 2000 pixels"):
        require(bad, "fp32", FP32_LEVELS, FP32_MAX_FRACTION)
    good = compare(identity, _off_by(2, 0.0005), _frames())
    require(good, "fp32", FP32_LEVELS, FP32_MAX_FRACTION)
    off_by_one = compare(identity, _off_by(1, 0.5), _frames())
    require(off_by_one, "fp32", FP32_LEVELS, FP32_MAX_FRACTION)


def test_a_wrong_shape_is_a_parity_failure() -> None:
    with pytest.raises(ParityError, match="expected uint8"):
        compare(identity, lambda frames: frames[:, :-1], _frames())


def test_cases_cover_odd_sizes_batch_three_and_real_photos(photo_dir: Path) -> None:
    shapes = [case.frames.shape for case in parity_cases(list_photos(photo_dir)[:3])]
    assert (1, 97, 131, 3) in shapes
    assert any(shape[0] == 3 for shape in shapes)
    assert sum(shape[1] % 2 == 1 for shape in shapes) >= 3
    assert len(shapes) == len(parity_cases([])) + 4  # three photos alone, and batched


def test_calibration_folders_are_searched_recursively_like_every_folder_input(tmp_path):
    (tmp_path / "trip" / "day2").mkdir(parents=True)
    for name in ("z.png", "trip/day2/y.JPG", "trip/notes.txt"):
        (tmp_path / name).write_bytes(b"only the names matter here")
    assert list_photos(tmp_path) == [tmp_path / "trip" / "day2" / "y.JPG", tmp_path / "z.png"]
