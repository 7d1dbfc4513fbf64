"""Ctrl-C and SIGTERM during training: finish the current step, save, then stop.

Raising KeyboardInterrupt wherever the signal lands could leave a step half applied (G stepped,
D not) and lose everything since the last periodic checkpoint. Instead the first signal only
asks the loop to stop after the step in progress, so the checkpoint it saves resumes exactly.
A second signal interrupts at once, for a run that is stuck.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingStopped(KeyboardInterrupt):
    """The loop stopped on request after a complete step, whose checkpoint it saved."""

    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


class StopRequest:
    """Set by the first Ctrl-C/SIGTERM; read by the training loop after each step."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def stop_on_signal() -> Iterator[StopRequest]:
    """Install the handlers for the duration of the loop (main thread only: Python's rule)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {sig: signal.signal(sig, request._handle) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
