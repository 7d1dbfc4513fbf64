"""What every speed comparison shares: the same options and the same rounding of figures.
The timing loop itself is the runtime's (`stream_astgan.timing`), which export uses too."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from stream_astgan.engine import default_threads
from stream_astgan.timing import interleaved_median_seconds


def fps(seconds: float, frames: int = 1) -> float:
    """Frames per second, rounded as the tables print it."""
    return round(frames / seconds, 1)


def add_speed_options(parser: argparse.ArgumentParser) -> None:
    """--sizes, --threads and --rounds, the same in every speed comparison."""
    parser.add_argument("--sizes", default="640x360,1280x720", help="comma-separated WxH list")
    parser.add_argument("--threads", type=int, default=default_threads(), help="CPU threads")
    parser.add_argument("--rounds", type=int, default=20, help="timed runs per candidate and size")


def fps_by_size(
    runs: dict[str, Callable[[np.ndarray], object]], sizes: list[tuple[int, int]], rounds: int
) -> dict[str, dict[str, float]]:
    """fps of each candidate at each (width, height), as {name: {"fps_WxH": fps}}: one random
    uint8 frame per size (seed 0), candidates interleaved round by round."""
    rng = np.random.default_rng(0)
    rows: dict[str, dict[str, float]] = {name: {} for name in runs}
    for width, height in sizes:
        frame = rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8)
        seconds = interleaved_median_seconds(
            {name: lambda r=run, f=frame: r(f) for name, run in runs.items()}, rounds
        )
        for name, s in seconds.items():
            rows[name][f"fps_{width}x{height}"] = fps(s)
    return rows
