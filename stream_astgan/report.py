"""What the user sees: a progress bar on stderr while frames flow, and a summary at the end.

Human output goes to stderr so that `--json` can keep stdout to exactly one JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .frames import Frame
from .pipeline import RunStats

# Without a terminal rich assumes 80 columns, which mangles tables in logs; give them room.
stderr = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 140)


class _OneLineHandler(logging.Handler):
    """`warning: message`, one line, printed through the console so progress bars stay intact."""

    def emit(self, record: logging.LogRecord) -> None:
        label = Text(f"{record.levelname.lower()}: ", style="yellow")
        stderr.print(label + Text(record.getMessage()), soft_wrap=True)


def setup_logging(quiet: bool) -> None:
    """Warnings from the stages appear as one line each on stderr (none with --quiet)."""
    level = logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, handlers=[_OneLineHandler()], force=True)


def error_line(message: str) -> None:
    """The one line a user-caused error is shown as."""
    stderr.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


class _FpsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} fps" if speed else "  --- fps", style="cyan")


class FrameProgress:
    """A rich progress bar counting written frames; a no-op when quiet."""

    def __init__(self, total: int | None, label: str, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _FpsColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
            disable=not enabled,
        )
        self._task = self._progress.add_task(label, total=total)

    def __enter__(self) -> FrameProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def advance(self, frame: Frame, stats: RunStats) -> None:
        if self.enabled:
            self._progress.update(self._task, completed=stats.frames_out)

    def finish(self, stats: RunStats) -> None:
        """Stream frame counts are estimates; at the end the bar shows what really happened."""
        if self.enabled and not stats.interrupted:
            self._progress.update(self._task, total=stats.frames_out, completed=stats.frames_out)


@dataclass
class Summary:
    """Everything the end-of-run report says; `--json` prints exactly these fields."""

    input: str
    output: str | None
    model: str
    style: str
    frames_in: int
    frames_out: int
    dropped: int
    undecodable: int
    video_retimed: int
    audio_retimed: int
    audio_dropped: int
    fps: float
    elapsed_s: float
    model_fps: float
    provider: str
    providers: list[str]
    precision: str
    threads: int
    batch: int
    size: str
    audio: str
    stop_reason: str
    ended_early: bool
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    notes: list[str]

    def to_json(self) -> str:
        return json.dumps(self.__dict__, default=_plain)

    def show(self, console: Console = stderr) -> None:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        rows: list[tuple[str, str]] = [
            ("frames", f"{self.frames_in} in, {self.frames_out} out"),
            ("dropped", str(self.dropped)),
            ("undecodable", str(self.undecodable)),
            (
                "timestamps",
                f"{self.video_retimed} frame(s) re-timed; audio: {self.audio_retimed} packet(s) "
                f"re-timed, {self.audio_dropped} dropped",
            ),
            ("speed", f"{self.fps:.1f} fps end to end, model {self.model_fps:.1f} fps"),
            ("model", f"{self.style} ({self.precision}) {self.model}"),
            ("provider", f"{self.provider} ({self.threads} threads), batch {self.batch}"),
            ("size", self.size),
            ("audio", self.audio),
        ]
        if self.latency_ms_p50 is not None:
            rows.append(
                ("latency", f"p50 {self.latency_ms_p50:.0f} ms, p95 {self.latency_ms_p95:.0f} ms")
            )
        rows.append(("output", self.output or "(none)"))
        if self.stop_reason != "end of input":
            rows.append(("stopped", self.stop_reason))
        for key, value in rows:
            table.add_row(key, Text(value))  # paths and metadata may contain [brackets]
        console.print(table)
        for note in self.notes:
            console.print(Text("note: ", style="yellow") + Text(note))


def _plain(value: Any) -> Any:
    return str(value)


def print_json(payload: dict[str, Any] | Summary) -> None:
    """One JSON object on stdout, nothing else there."""
    text = (
        payload.to_json() if isinstance(payload, Summary) else json.dumps(payload, default=_plain)
    )
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
