"""A live preview window with the stylized feed, its frame rate and its capture-to-screen latency.

Runs in the pipeline's calling thread (HighGUI wants the main thread); `q`, Esc or closing the
window sets `closed`, which ends the run like the input ending. Other keys go to the live
controls (styles, strength, snapshot, recording), whose messages are drawn over the picture;
only the window shows them, recordings and the virtual camera get the clean picture.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from typing import Any

import cv2
import numpy as np

from .errors import UsageError
from .frames import Frame
from .live_controls import KEYS, LiveControls
from .sinks import Sink

_QUIT_KEYS = {ord("q"), ord("Q"), 27}
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def display_problem() -> str | None:
    """Why no window can open here, if so: OpenCV's Qt aborts the process without a display."""
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (DISPLAY is not set)"


class PreviewSink(Sink):
    def __init__(self, title: str = "astgan-stream", controls: LiveControls | None = None) -> None:
        problem = display_problem()
        if problem:
            raise UsageError(f"cannot open a preview window: {problem}; use --no-preview")
        self.title = title
        self.controls = controls
        self.closed = False
        self._times: deque[float] = deque(maxlen=30)
        self._opened = False

    def _open(self) -> None:
        # OpenCV's Qt warns about fonts it does not need (the overlay uses Hershey fonts).
        os.environ.setdefault("QT_LOGGING_RULES", "*.warning=false")
        try:
            flags = cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL
            cv2.namedWindow(self.title, flags)
        except cv2.error as e:
            raise UsageError(
                f"cannot open a preview window ({str(e).strip().splitlines()[-1]}); "
                "use --no-preview to run without one"
            ) from None
        self._opened = True

    def write(self, frame: Frame, stylized: Any) -> None:
        h, w = np.shape(stylized)[:2]
        if not self._opened:
            self._open()
            cv2.resizeWindow(self.title, w, h)
        now = time.perf_counter()
        self._times.append(now)
        fps = (len(self._times) - 1) / (now - self._times[0]) if len(self._times) > 1 else 0.0
        latency = (now - frame.captured_at) * 1e3 if frame.captured_at else None
        shown = cv2.cvtColor(np.asarray(stylized), cv2.COLOR_RGB2BGR)
        text = f"{fps:5.1f} fps" + (f"  {latency:4.0f} ms" if latency is not None else "")
        scale = max(0.5, h / 600)
        _label(shown, text, (8, int(28 * scale) + 4), scale)
        if self.controls is not None:
            _overlay(shown, self.controls, scale)
        cv2.imshow(self.title, shown)
        key = cv2.waitKey(1)
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        if (key & 0xFF) in _QUIT_KEYS or visible < 1:
            self.closed = True
        elif key >= 0 and self.controls is not None:
            self.controls.handle(key & 0xFF, frame, np.asarray(stylized))
        self.written += 1

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        if self._opened:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)

    def abort(self) -> None:
        self.finish()


def _label(img: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    """White text outlined in black: readable over any painting.

    The outline is the same text drawn at small offsets: a thicker black stroke would not line
    up, because Hershey glyphs advance by more when drawn thicker.
    """
    thickness = max(1, round(scale * 1.5))
    x, y = origin
    d = max(1, thickness)
    for dx, dy in ((-d, -d), (d, -d), (-d, d), (d, d)):
        cv2.putText(img, text, (x + dx, y + dy), _FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    cv2.putText(img, text, origin, _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _overlay(img: np.ndarray, controls: LiveControls, scale: float) -> None:
    """The style name or setting just changed (bottom), the lasting state (top right), the help."""
    h, w = img.shape[:2]
    line = int(30 * scale) + 6
    if status := controls.status():
        (tw, _), _ = cv2.getTextSize(status, _FONT, scale, 2)
        _label(img, status, (max(8, w - tw - 12), line - 2), scale)
    if message := controls.message:
        big = scale * 1.4
        (tw, th), _ = cv2.getTextSize(message, _FONT, big, 2)
        box = img[max(0, h - th - 28) : h - 4, 4 : min(w - 4, tw + 22)]
        box[:] = box // 3  # the name stays readable over whatever the picture has there
        _label(img, message, (12, h - 14), big)
    if controls.show_help:
        top, left = 2 * line, 12
        bottom = min(h - 4, top + line * len(KEYS) + line // 2)
        right = min(w - 4, left + int(460 * scale))
        panel = img[top:bottom, left:right]
        panel[:] = panel // 3  # darken: the keys stay readable over a bright picture
        for i, (keys, what) in enumerate(KEYS):
            y = top + line * (i + 1)
            _label(img, keys, (left + 8, y), scale)
            _label(img, what, (left + 8 + int(130 * scale), y), scale)
