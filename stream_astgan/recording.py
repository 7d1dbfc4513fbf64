"""A live recording that can be paused and resumed (`r` in the preview) without a hole in time.

Frames that arrive while paused are not written; on resume every later timestamp is moved back
by the paused time, so the file plays the recorded parts one after the other at their own pace.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

from .frames import Frame
from .sinks import Sink


class PausableRecording(Sink):
    """Wraps a video sink; `toggle()` pauses and resumes what reaches it."""

    def __init__(self, inner: Sink, rate: Fraction | None, time_base: Fraction | None) -> None:
        self.inner = inner
        self.paused = False
        # After a pause, the next frame follows the last one by one nominal frame interval.
        self._step = max(1, round(1 / (rate * time_base))) if rate and time_base else 1
        self._offset = 0
        self._last: int | None = None
        self._resumed = False

    @property
    def audio_note(self) -> str:  # type: ignore[override]
        return self.inner.audio_note

    @property
    def path(self) -> Any:
        return getattr(self.inner, "path", None)

    def toggle(self) -> bool:
        """Pause or resume; returns True when recording."""
        self.paused = not self.paused
        if not self.paused:
            self._resumed = True
        return not self.paused

    def write(self, frame: Frame, stylized: Any) -> None:
        if self.paused:
            return
        if frame.pts is not None:
            if self._resumed and self._last is not None:
                self._offset = frame.pts - (self._last + self._step)
            self._resumed = False
            frame = replace(frame, pts=frame.pts - self._offset)
            self._last = frame.pts
        self.inner.write(frame, stylized)
        self.written = self.inner.written

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        self.inner.finish(trailing_packets)

    def abort(self) -> None:
        self.inner.abort()
