"""The flicker-source measurement tells a moving-consistent model from an aliasing one."""

from __future__ import annotations

import numpy as np

from benchmarks.shift import changes


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
