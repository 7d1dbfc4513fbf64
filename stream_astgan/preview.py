"""A live preview window with the stylized feed, its frame rate and its capture-to-screen latency.

Runs in the pipeline's calling thread (HighGUI wants the main thread); `q`, Esc or closing the
window sets `closed`, which ends the run like the input ending.
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
from .sinks import Sink

_QUIT_KEYS = {ord("q"), ord("Q"), 27}


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
    def __init__(self, title: str = "astgan-stream") -> None:
        problem = display_problem()
        if problem:
            raise UsageError(f"cannot open a preview window: {problem}; use --no-preview")
        self.title = title
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
        origin = (8, int(28 * scale) + 4)
        for color, extra in (((0, 0, 0), 2), ((255, 255, 255), 0)):
            thickness = max(1, round(scale * 1.5)) + extra
            cv2.putText(shown, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness)
        cv2.imshow(self.title, shown)
        key = cv2.waitKey(1) & 0xFF
        visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        if key in _QUIT_KEYS or visible < 1:
            self.closed = True
        self.written += 1

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        if self._opened:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)

    def abort(self) -> None:
        self.finish()
