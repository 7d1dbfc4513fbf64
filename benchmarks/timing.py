"""What every speed comparison shares: the same options and the same rounding of figures.
The timing loop itself is the runtime's (`stream_astgan.timing`), which export uses too."""

from __future__ import annotations

import argparse

from stream_astgan.engine import default_threads


def fps(seconds: float, frames: int = 1) -> float:
    """Frames per second, rounded as the tables print it."""
    return round(frames / seconds, 1)


def add_speed_options(parser: argparse.ArgumentParser) -> None:
    """--sizes, --threads and --rounds, the same in every speed comparison."""
    parser.add_argument("--sizes", default="640x360,1280x720", help="comma-separated WxH list")
    parser.add_argument("--threads", type=int, default=default_threads(), help="CPU threads")
    parser.add_argument("--rounds", type=int, default=20, help="timed runs per candidate and size")
