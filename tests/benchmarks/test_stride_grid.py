"""The stride-grid figure sees a lattice fixed to the generator's grid, in proportion to its
strength and wherever it sits, and not a photo's own detail or a pattern of another period."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.stride_grid import flat_frame, grid_amplitude


def lattice(period: int, offset: int = 0, size: int = 96) -> np.ndarray:
    dots = np.zeros((size, size, 3), np.float32)
    dots[offset::period, offset::period] = 1
    return dots


def test_a_flat_frame_has_no_grid_and_a_lattice_on_the_stride_counts_in_proportion():
    base = np.full((96, 96, 3), 120, np.float32)
    assert grid_amplitude(base, 8) == pytest.approx(0, abs=1e-4)
    one = grid_amplitude(base + 10 * lattice(8), 8)
    assert one > 1
    assert grid_amplitude(base + 20 * lattice(8), 8) == pytest.approx(2 * one, rel=1e-4)
    assert grid_amplitude(base + 10 * lattice(8, offset=3), 8) == pytest.approx(one, rel=0.05)


def test_detail_without_the_strides_period_scores_far_less():
    base = np.full((96, 96, 3), 120, np.float32)
    on_grid = grid_amplitude(base + 10 * lattice(8), 8)
    assert grid_amplitude(base + 10 * lattice(5), 8) < on_grid / 4
    noise = np.random.default_rng(0).normal(120, 10, (384, 384, 3)).astype(np.float32)
    assert grid_amplitude(noise, 8) < on_grid / 4  # std 10 per pixel, yet no grid


def test_the_flat_frame_is_fixed_and_plain():
    a, b = flat_frame(), flat_frame()
    assert np.array_equal(a, b) and a.dtype == np.uint8
    assert (np.abs(a.astype(float).std((0, 1)) - 2.55) < 0.1).all()  # the 1% noise, nothing else
