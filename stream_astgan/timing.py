"""The two ways the project times work; export, `astgan-stream bench` and the benchmarks share them.

- Latency side by side (`interleaved_median_seconds`): every candidate runs once per round, in
  turn, so a burst of load from another process slows all candidates of that round alike; the
  median drops the rounds it hit.
- Throughput (`calls_per_second`): a stream of work timed as a whole after a short warm-up, as
  frames flow through a stage.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


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


def calls_per_second(items: Sequence[T], work: Callable[[T], object], warmup: int = 5) -> float:
    """Calls per second of `work` over `items`, after a warm-up on the first `warmup` of them."""
    warm, rest = items[:warmup], items[warmup:] or items
    for item in warm:
        work(item)
    start = time.perf_counter()
    for item in rest:
        work(item)
    return rate(len(rest), time.perf_counter() - start)


def rate(count: int, seconds: float) -> float:
    """Per second, rounded as reports print it; 0 for no time at all."""
    return round(count / seconds, 1) if seconds > 0 else 0.0
