"""Latency measured side by side: every candidate runs once per round, in turn, so a burst of
load from another process slows all candidates of that round alike; the median drops it."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from stream_astgan.engine import default_threads
from stream_astgan.sizing import parse_size


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


def fps(seconds: float, frames: int = 1) -> float:
    """Frames per second, rounded as the tables print it."""
    return round(frames / seconds, 1)


def add_speed_options(parser: argparse.ArgumentParser) -> None:
    """--sizes, --threads and --rounds, the same in every speed comparison."""
    parser.add_argument("--sizes", default="640x360,1280x720", help="comma-separated WxH list")
    parser.add_argument("--threads", type=int, default=default_threads(), help="CPU threads")
    parser.add_argument("--rounds", type=int, default=20, help="timed runs per candidate and size")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'640x360,1280x720' -> [(640, 360), (1280, 720)]; a bad size is a UsageError."""
    return [parse_size(s) for s in text.split(",")]
