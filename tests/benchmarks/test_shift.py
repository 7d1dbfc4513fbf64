"""The flicker-source measurement tells a moving-consistent model from an aliasing one, block
noise from pixel noise, and flicker in flat areas from flicker elsewhere."""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks.shift import by_texture, changes, class_names, texture_class, texture_rows


class Blocks:
    """Averages 8x8 blocks on a fixed grid: consistent for 8-pixel moves only."""

    def run(self, frames: np.ndarray) -> np.ndarray:
        frame = frames[0].astype(np.float32)
        h, w = frame.shape[0] // 8 * 8, frame.shape[1] // 8 * 8
        out = frame.copy()
        blocks = frame[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean((1, 3))
        out[:h, :w] = np.repeat(np.repeat(blocks, 8, 0), 8, 1)
        return out.round().astype(np.uint8)[None]


class Identity:
    def run(self, frames: np.ndarray) -> np.ndarray:
        return frames


def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)


def test_an_identity_model_does_not_change_when_the_scene_moves():
    found = changes(Identity(), photo(), np.random.default_rng(0))
    assert all(found[f"{k} px"] == 0 for k in (1, 2, 3, 4, 8))
    assert 1.5 < found["noise 1%"] < 2.5  # |N(0, 2.55)| averages 2.0 levels


def test_a_fixed_grid_changes_under_sub_stride_moves_only():
    found = changes(Blocks(), photo(), np.random.default_rng(0))
    assert found["8 px"] == 0
    assert min(found[f"{k} px"] for k in (1, 2, 3, 4)) > 2


class Smooth:
    """A 9x9 box blur: per-pixel noise mostly goes, noise over large blocks stays."""

    def run(self, frames: np.ndarray) -> np.ndarray:
        return cv2.blur(frames[0], (9, 9))[None]


class NoisyFlats:
    """The frame itself, plus fresh noise wherever it is flat: flicker in flat areas."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(5)

    def run(self, frames: np.ndarray) -> np.ndarray:
        frame = frames[0]
        flat = (texture_class(frame) == 0)[..., None]
        noise = self.rng.normal(0, 8, frame.shape) * flat
        return np.clip(frame + noise, 0, 255).astype(np.uint8)[None]


def test_block_noise_passes_a_blur_that_removes_pixel_noise():
    found = changes(Smooth(), photo(), np.random.default_rng(0))
    identity = changes(Identity(), photo(), np.random.default_rng(0))
    assert found["noise 1%"] < 0.5 * identity["noise 1%"]
    assert found["blocks 32 px"] > 0.7 * identity["blocks 32 px"]
    assert 1.5 < identity["blocks 8 px"] < 2.5


def scene(dx: int) -> np.ndarray:
    """A flat grey left half and a textured right half, the texture moved right by dx."""
    rng = np.random.default_rng(1)
    frame = np.full((64, 128, 3), 120, np.uint8)
    pattern = cv2.resize(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), (72, 64))
    frame[:, 56:] = np.roll(pattern, dx, axis=1)
    return frame


def test_texture_classes_split_flat_from_textured():
    classes = texture_class(scene(0))
    assert (classes[:, :40] == 0).all()
    assert (classes[:, 70:] > 0).mean() > 0.9


def test_flicker_in_flat_areas_shows_in_the_flattest_class():
    frames = [scene(dx) for dx in (0, 1, 2, 3)]
    sums = by_texture(frames, {"identity": Identity(), "flats": NoisyFlats()}, 0)
    rows = texture_rows(sums)
    assert sums["pixels"][0] > 0 and sums["pixels"][1:].sum() > 0
    assert rows["identity"]["ratio_all"] == 1.0
    assert rows["flats"]["ratio"][0] > 3 * max(rows["flats"]["ratio"][1:])
    assert rows["flats"]["share"][0] > 0.5
    assert len(class_names()) == len(rows["flats"]["ratio"])
