"""Latency measured side by side: the one timing loop that export and the benchmarks share.

Every candidate runs once per round, in turn, so a burst of load from another process slows
all candidates of that round alike; the median drops the rounds it hit.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_median_seconds(
    calls: dict[str, Callable[[], object]], rounds: int, warmup: int = 2
) -> dict[str, float]:
    """Median seconds per call of each candidate over `rounds` interleaved rounds."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}
