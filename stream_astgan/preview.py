"""A live preview window with the stylized feed, its frame rate and its capture-to-screen latency.

Runs in the pipeline's calling thread (HighGUI wants the main thread); `q`, Esc or closing the
window sets `closed`, which ends the run like the input ending.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import cv2
import numpy as np

from .errors import UsageError
from .frames import Frame
from .sinks import Sink

_QUIT_KEYS = {ord("q"), ord("Q"), 27}


class PreviewSink(Sink):
    def __init__(self, title: str = "astgan-stream") -> None:
        self.title = title
        self.closed = False
        self._times: deque[float] = deque(maxlen=30)
        self._opened = False

    def _open(self) -> None:
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as e:
            raise UsageError(
                f"cannot open a preview window ({str(e).strip().splitlines()[-1]}); "
                "use --no-preview to run without one"
            ) from None
        self._opened = True

    def write(self, frame: Frame, stylized: Any) -> None:
        if not self._opened:
            self._open()
        now = time.perf_counter()
        self._times.append(now)
        fps = (len(self._times) - 1) / (now - self._times[0]) if len(self._times) > 1 else 0.0
        latency = (now - frame.captured_at) * 1e3 if frame.captured_at else None
        shown = cv2.cvtColor(np.asarray(stylized), cv2.COLOR_RGB2BGR)
        text = f"{fps:5.1f} fps" + (f"  {latency:4.0f} ms" if latency is not None else "")
        for color, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(shown, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, color, thickness)
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
