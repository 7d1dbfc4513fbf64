"""The unit of work passed between pipeline stages, and the facts about a stream a sink needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass
class Frame:
    """One RGB picture with the timestamp it must keep at the output.

    `extra_packets` carries audio packets demuxed just before this frame, so the sink can mux
    them in order without a second queue between threads.
    """

    rgb: np.ndarray  # uint8 [H, W, 3]
    pts: int | None
    time_base: Fraction | None
    index: int
    captured_at: float = 0.0  # time.perf_counter() when a live source grabbed it
    name: str = ""  # file name for image sources (keeps output names)
    extra_packets: list[Any] = field(default_factory=list)


@dataclass
class ColorSpec:
    """How the input's YUV relates to RGB; read from the stream and written as the output's tags."""

    matrix: str = "bt601"  # "bt601" | "bt709" | "bt2020"
    full_range: bool = False


@dataclass
class StreamInfo:
    """What a source knows about its video before the first frame is processed."""

    width: int
    height: int
    rate: Fraction | None  # nominal frame rate, for the encoder and for ETA
    time_base: Fraction | None
    frames: int | None  # expected frame count (None if unknown: live or no index)
    duration_s: float | None = None
    rotation: int = 0  # degrees, counter-clockwise, from the display matrix
    color: ColorSpec = field(default_factory=ColorSpec)
    audio_stream: Any = None  # the input's PyAV audio stream, when there is one
    live: bool = False
    kind: str = "video"  # "video" | "images" | "live"
