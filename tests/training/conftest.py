"""Fixtures for the training tests: tiny procedurally drawn images and a tiny model config.

The images are drawn in a temporary folder (smooth shapes for content, a stroke texture for
the painting), so the training mechanics are tested without the shared data; the test that
needs real photos and paintings skips when ../shared/data is absent.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# A model and batch small enough for a step to take milliseconds on one thread.
TINY = [
    "--set", "generator.width=8", "--set", "generator.max_width=16",
    "--set", "generator.downsamples=2", "--set", "generator.res_blocks=1",
    "--set", "discriminator.width=8", "--set", "discriminator.layers=2",
    "--set", "data.content_short_side=48", "--set", "data.style_short_side=64",
    "--set", "data.frames_per_video=4", "--set", "optim.adaptive.warmup=2",
    "--set", "optim.init_steps=2",
    "--crop", "32", "--batch-size", "2", "--threads", "1", "--seed", "3",
    "--sample-every", "1000",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def draw_photo(seed: int, size: tuple[int, int] = (60, 80)) -> np.ndarray:
    """A smooth 'photo': a colour gradient with a few filled shapes (BGR for cv2)."""
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    image = np.stack([x, y, 1 - x], -1) * rng.uniform(80, 200, 3)
    for _ in range(3):
        centre = (int(rng.integers(w)), int(rng.integers(h)))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, centre, int(rng.integers(5, 20)), color, -1)
    return image.astype(np.uint8)


def draw_painting(seed: int, size: tuple[int, int] = (96, 128)) -> np.ndarray:
    """A 'painting': many short coloured strokes on a dark ground."""
    rng = np.random.default_rng(seed)
    image = np.full((*size, 3), (80, 30, 20), np.uint8)
    for _ in range(300):
        p = rng.integers(0, size[::-1])
        d = rng.integers(-6, 7, 2)
        color = (int(rng.integers(150, 255)), int(rng.integers(100, 200)), 40)
        cv2.line(image, tuple(int(v) for v in p), tuple(int(v) for v in p + d), color, 2)
    return image


@pytest.fixture
def tiny_data(tmp_path: Path) -> tuple[Path, Path]:
    """(content folder with nested photos, painting file)."""
    content = tmp_path / "content"
    (content / "nested").mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(content / f"photo{i}.png"), draw_photo(i))
    cv2.imwrite(str(content / "nested" / "photo3.jpg"), draw_photo(3))
    painting = tmp_path / "painting.png"
    cv2.imwrite(str(painting), draw_painting(0))
    return content, painting


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
