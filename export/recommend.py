"""Which devices an exported file is the best pick for (the `recommended_for` metadata key).

int8 is faster than fp32 for some networks and CPUs and slower for others (README, export),
so it is recommended for CPUs only where this export measured it faster, at an error users will
not see.
"""

from __future__ import annotations

INT8_MIN_SPEEDUP = 1.10
"""int8 must be at least 10% faster than fp32: repeated measurements of one model on this
shared machine varied by several percent, so a smaller gain may not be real."""

INT8_MAX_MEAN_ABS = 1.5
INT8_MAX_FRAC_OVER_8 = 0.01
"""int8 error is "small" when the mean channel error is at most 1.5 levels (of 255) and at most
1% of pixels are more than 8 levels off the checkpoint's output."""


def int8_error_is_small(stats: dict[str, float | None]) -> bool:
    """The definition of "small" used for the recommendation, as documented in --help."""
    return (
        float(stats["mean_abs"] or 0.0) <= INT8_MAX_MEAN_ABS
        and float(stats["frac_over_8"] or 0.0) <= INT8_MAX_FRAC_OVER_8
    )


def recommended_for(
    precision: str, int8_stats: dict[str, float | None] | None = None, speedup: float = 0.0
) -> list[str]:
    """fp32 is the CPU default, fp16 the GPU model, int8 earns "cpu" only by measurement."""
    if precision == "fp32":
        return ["cpu"]
    if precision == "fp16":
        return ["gpu"]
    if int8_stats is not None and speedup >= INT8_MIN_SPEEDUP and int8_error_is_small(int8_stats):
        return ["cpu"]
    return []
