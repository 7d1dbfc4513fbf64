"""Ctrl-C and SIGTERM: the one place the runtime and training handle signals.

- Around a whole command (`sigterm_as_interrupt`): SIGTERM is delivered as Ctrl-C is, so `kill`
  stops a run as gently and with the same exit code (130).
- Around a loop of units of work (`stop_on_signal`): a request to stop after the unit of work
  in progress (below).
- Around finishing an output (`signals_deferred`): no signal can cut a flush in half.

Raising KeyboardInterrupt wherever the signal lands can cut a unit of work in half: a frame
whose encoded packets were taken from the encoder but not yet muxed leaves a gap in the output
video; a training step with G stepped and D not cannot be resumed exactly. So the first signal
only sets a flag (and runs an optional callback, e.g. to stop the other threads) that the loop
checks between units; a second signal interrupts at once, for a run that is stuck.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGTERM, delivered the way Ctrl-C is so both finish the output the same way."""


def _on_main_thread() -> bool:
    """Python installs signal handlers only from the main thread; elsewhere all is left as is."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Let `kill` stop a command as gently as Ctrl-C does (main thread only)."""
    if not _on_main_thread():
        yield
        return

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while an output is flushed and closed, so it stays whole."""
    if not _on_main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class StopRequest:
    """Set by the first Ctrl-C/SIGTERM; read by the loop between units of work."""

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.requested = False
        self._on_request = on_request

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self._on_request is not None:
            self._on_request()


@contextmanager
def stop_on_signal(on_request: Callable[[], None] | None = None) -> Iterator[StopRequest]:
    """Install the handlers for the duration of the loop (main thread only: Python's rule;
    elsewhere the request is never set and signals keep their handlers)."""
    request = StopRequest(on_request)
    if not _on_main_thread():
        yield request
        return
    previous = {sig: signal.signal(sig, request._handle) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
