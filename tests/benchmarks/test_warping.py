"""The warping error on frames whose motion is known: a texture sliding across the picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.warping import FlowPair, flow_estimator, valid_mask, warp


def texture(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """Smooth random blobs: the kind of detail optical flow can track."""
    noise = np.random.default_rng(seed).random((h // 8, w // 8, 3)).astype(np.float32)
    return (cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1) * 255).astype(
        np.uint8
    )


def slide(image: np.ndarray, dx: int) -> np.ndarray:
    """The picture moved right by dx pixels (edge repeated where nothing came in)."""
    return np.concatenate([np.repeat(image[:, :1], dx, 1), image[:, :-dx]], 1)


def test_warp_brings_a_shifted_frame_back() -> None:
    image = texture()
    flow = np.zeros((*image.shape[:2], 2), np.float32)
    flow[..., 0] = -4  # current(x) came from previous(x - 4)
    back = warp(image, flow)
    assert np.array_equal(back[:, 4:], image[:, :-4])


def test_consistent_motion_is_valid_and_inconsistent_is_masked() -> None:
    shape = (40, 50, 2)
    forward, backward = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    forward[..., 0], backward[..., 0] = 3, -3
    assert valid_mask(forward, backward)[5:-5, 5:-5].all()
    backward[..., 0] = 3  # both flows point the same way: an occlusion
    assert not valid_mask(forward, backward).any()


def test_following_the_motion_scores_far_better_than_flicker() -> None:
    estimator = flow_estimator()
    previous = texture()
    current = slide(previous, 3)
    motion = FlowPair(estimator, previous, current)
    assert motion.mask.mean() > 0.8
    steady = motion.error(previous, current)
    flicker = motion.error(previous, np.clip(current.astype(int) + 25, 0, 255).astype(np.uint8))
    assert steady < 1e-3
    assert flicker > 10 * steady
    assert flicker == pytest.approx(3 * (25 / 255) ** 2, rel=0.3)
