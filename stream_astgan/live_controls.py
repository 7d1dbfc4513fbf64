"""What the keys of the live preview do: switch styles, set the strength, snapshot, record.

The preview calls `handle` with each key it reads (in the writer thread); the inference thread
reads the resulting choice from `Styles` once per batch. The key list is kept here once and
shown both by `h` in the window and by `astgan-stream run --help`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .demo import free_name
from .frames import Frame
from .recording import PausableRecording
from .sinks import ImageSink
from .styles import Styles

KEYS: list[tuple[str, str]] = [
    ("n / p", "next / previous style"),
    ("1 - 9", "style by number"),
    ("+ / -", "strength up / down"),
    ("c", "keep the camera's colours on / off"),
    ("s", "save a snapshot (PNG)"),
    ("r", "pause / resume the recording (-o)"),
    ("h", "show / hide this help"),
    ("q / Esc", "quit"),
]
STRENGTH_STEP = 0.1
MESSAGE_S = 1.5  # how long a style name or a setting stays on the picture


def keys_help() -> str:
    """The key list as `astgan-stream run --help` prints it."""
    return "Keys in the preview window: " + "; ".join(f"{k}: {what}" for k, what in KEYS) + "."


def snapshot_base(recording: Path | None) -> Path:
    """Snapshots go next to the recording, else into the working folder."""
    if recording is None:
        return Path("astgan-snapshot.png")
    return recording.with_name(f"{recording.stem}-snapshot.png")


class LiveControls:
    """The state the keys change, and the short messages the preview shows about it."""

    def __init__(
        self,
        styles: Styles,
        recording: PausableRecording | None = None,
        snapshots: Path = Path("astgan-snapshot.png"),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.styles = styles
        self.recording = recording
        self.snapshot_base = snapshots
        self.saved: list[Path] = []
        self.show_help = False
        self._clock = clock
        self._message = ""
        self._until = 0.0
        self.say(self._style_label())

    def say(self, text: str) -> None:
        """Show `text` over the picture for a moment."""
        self._message, self._until = text, self._clock() + MESSAGE_S

    @property
    def message(self) -> str:
        return self._message if self._clock() < self._until else ""

    def status(self) -> str:
        """The lasting state worth a corner of the picture: recording, strength, colours."""
        parts = []
        if self.recording is not None:
            parts.append("REC paused" if self.recording.paused else "REC")
        if self.styles.strength < 1:
            parts.append(f"strength {self.styles.strength:.1f}")
        if self.styles.preserve_colour:
            parts.append("colours kept")
        return "  ".join(parts)

    def _style_label(self) -> str:
        n = len(self.styles.styles)
        return self.styles.name if n == 1 else f"{self.styles.current + 1}/{n} {self.styles.name}"

    def handle(self, key: int, frame: Frame, stylized: np.ndarray) -> None:
        """Act on one key code from the preview (-1 or 255 when none was pressed)."""
        char = chr(key) if 0 <= key < 128 else ""
        if char in ("n", "p"):
            self.styles.step(1 if char == "n" else -1)
            self.say(self._style_label())
        elif char.isdigit() and char != "0":
            if int(char) <= len(self.styles.styles):
                self.styles.select(int(char) - 1)
            self.say(self._style_label())
        elif char in ("+", "=", "-", "_"):
            sign = -1 if char in ("-", "_") else 1
            strength = round(self.styles.strength + sign * STRENGTH_STEP, 2)
            self.styles.strength = min(1.0, max(0.0, strength))
            self.say(f"strength {self.styles.strength:.1f}")
        elif char == "c":
            self.styles.preserve_colour = not self.styles.preserve_colour
            self.say("colours kept" if self.styles.preserve_colour else "style colours")
        elif char == "s":
            self.say(f"saved {self.snapshot(frame, stylized).name}")
        elif char == "r":
            if self.recording is None:
                self.say("not recording (start with -o FILE.mp4)")
            else:
                self.say("recording" if self.recording.toggle() else "recording paused")
        elif char == "h":
            self.show_help = not self.show_help

    def snapshot(self, frame: Frame, stylized: np.ndarray) -> Path:
        """Save the stylized picture as shown (no overlay) under a name not yet taken."""
        path = free_name(self.snapshot_base)
        ImageSink(path, single=True, names=[], overwrite=False).write(frame, stylized)
        self.saved.append(path)
        return path
