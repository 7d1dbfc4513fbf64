"""Synthetic clips: the one writer the demo, the benchmarks and the tests share.

Frames go in as uint8 RGB and are converted the way the runtime's own encoder does it
(`rgb_to_yuv420_frame`); timestamps, time base, rotation and an audio track are explicit, so
each caller states the timing it wants and nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .color import even_size, rgb_to_yuv420_frame

SAMPLE_RATE = 44100


def gradient(i: int, size: tuple[int, int]) -> np.ndarray:
    """Frame i of a moving colour gradient: cheap, and every pixel differs from its neighbours."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([(xx * 3 + i * 7) % 256, (yy * 3) % 256, np.full_like(xx, (i * 20) % 256)], -1)


def tone(seconds: float) -> np.ndarray:
    """A gentle three-note phrase, repeated: audible proof the audio track is carried over."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    notes = np.array([440.0, 554.37, 659.25])[(t * 2).astype(int) % 3]
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * (t * 2 % 1))
    return (0.2 * envelope * np.sin(2 * np.pi * notes * t)).astype(np.float32)


def write_clip(
    path: Path,
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    fps: int = 30,
    *,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int = 0,
    audio: np.ndarray | None = None,
) -> Path:
    """Encode RGB `frames` of `size` as H.264 (plus mono AAC `audio` samples) into `path`.

    Frame i gets timestamp `pts[i]` (default i) in `time_base` (default 1/fps); the container
    is chosen by the suffix. Odd sizes are padded to even, as 4:2:0 needs.
    """
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = even_size(*size)
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = time_base or Fraction(1, fps)
        video.codec_context.options = {"crf": "18", "preset": "veryfast"}
        if rotation:
            video.set_display_rotation(rotation)
        stream_audio = (
            out.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if audio is not None else None
        )
        for i, rgb in enumerate(frames):
            frame = rgb_to_yuv420_frame(np.ascontiguousarray(rgb, dtype=np.uint8))
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = video.codec_context.time_base
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if stream_audio is not None and audio is not None:
            for start in range(0, len(audio), 1024):
                chunk = av.AudioFrame.from_ndarray(
                    audio[None, start : start + 1024], format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = SAMPLE_RATE, start
                out.mux(stream_audio.encode(chunk))
            out.mux(stream_audio.encode())
    return path
