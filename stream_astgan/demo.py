"""`astgan-stream demo`: a short synthetic clip with a tone, stylized by the default model.

Everything is made on the spot (no download, no sample files), so a fresh install can show
what the product does and how fast it runs here.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .clips import tone, write_clip


def scene(i: int, size: tuple[int, int], fps: int) -> np.ndarray:
    """Frame i of a small animated landscape: sky, sun, hills, a walking figure and a caption."""
    w, h = size
    t = i / fps
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    sky = np.stack([70 + 120 * yy, 130 + 90 * yy, 230 - 60 * yy], -1) * np.ones((1, w, 1))
    img = np.ascontiguousarray(sky.astype(np.uint8))
    sun = (int(w * (0.2 + 0.6 * (t / 5 % 1))), int(h * 0.25))
    cv2.circle(img, sun, h // 9, (255, 210, 80), -1, cv2.LINE_AA)
    xs = np.arange(w)
    for k, (color, base, amp) in enumerate(
        [((60, 140, 70), 0.62, 0.06), ((40, 110, 50), 0.72, 0.05), ((90, 70, 50), 0.85, 0.03)]
    ):
        ridge = h * (base + amp * np.sin(xs / w * (5 + 2 * k) + t * (0.4 + 0.3 * k)))
        pts = np.concatenate([np.stack([xs, ridge], 1), [[w - 1, h - 1], [0, h - 1]]]).astype(
            np.int32
        )
        cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
    x = int((t * 60) % (w + 80)) - 40
    y = int(h * 0.8)
    cv2.circle(img, (x, y - 46), 10, (240, 200, 170), -1, cv2.LINE_AA)
    cv2.line(img, (x, y - 36), (x, y - 8), (200, 40, 40), 6, cv2.LINE_AA)
    swing = int(10 * np.sin(t * 8))
    cv2.line(img, (x, y - 8), (x - swing, y + 12), (40, 40, 120), 5, cv2.LINE_AA)
    cv2.line(img, (x, y - 8), (x + swing, y + 12), (40, 40, 120), 5, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_DUPLEX
    cv2.putText(img, "stream-astgan", (16, h - 16), font, h / 480, (255, 255, 255), 2, cv2.LINE_AA)
    return img


def write_demo_clip(
    path: Path, seconds: float = 5.0, size: tuple[int, int] = (640, 360), fps: int = 30
) -> Path:
    """Encode the scene and the tone into an H.264 + AAC mp4."""
    frames = (scene(i, size, fps) for i in range(int(seconds * fps)))
    return write_clip(path, frames, size, fps, audio=tone(seconds))


def free_name(path: Path) -> Path:
    """`path`, or `stem-1.ext`, `stem-2.ext`...: the demo never overwrites anything."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
