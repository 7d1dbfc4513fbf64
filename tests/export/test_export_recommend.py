"""The int8 recommendation at its documented thresholds (export --help): at least 1.10x the
speed of fp32, a mean channel error of at most 1.5 levels, at most 1% of pixels > 8 levels off."""

from __future__ import annotations

import pytest

from export.recommend import recommended_for

SMALL = {"mean_abs": 1.5, "frac_over_8": 0.01}


@pytest.mark.parametrize(
    ("speedup", "stats", "expected"),
    [
        (1.10, SMALL, ["cpu"]),  # every figure exactly at its limit
        (1.0999, SMALL, []),  # not fast enough
        (2.0, {"mean_abs": 1.5001, "frac_over_8": 0.0}, []),  # mean error too large
        (2.0, {"mean_abs": 0.1, "frac_over_8": 0.0101}, []),  # too many pixels far off
        (0.8, {"mean_abs": 0.0, "frac_over_8": 0.0}, []),  # exact, but slower than fp32
    ],
)
def test_int8_is_recommended_only_inside_every_threshold(speedup, stats, expected):
    assert recommended_for("int8", stats, speedup) == expected


def test_fp32_and_fp16_have_fixed_devices_and_int8_without_figures_has_none():
    assert recommended_for("fp32") == ["cpu"]
    assert recommended_for("fp16") == ["gpu"]
    assert recommended_for("int8") == []
