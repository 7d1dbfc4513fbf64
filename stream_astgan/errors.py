"""Errors a run can end with. The CLI prints their message as one line and exits with `exit_code`:
2 for what the user can fix (usage, input, output, model), 1 for a library failing mid-run."""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_INTERRUPTED = 130


class AstganError(Exception):
    """Base of every error whose message tells the user what to do; never shown as a traceback."""

    exit_code = 2


class InputError(AstganError):
    """The input (file, folder, webcam) is missing, unreadable or not a video/image."""


class OutputError(AstganError):
    """The output cannot be written: it exists, is the input, or its folder is not writable."""


class ModelError(AstganError):
    """The model is missing, corrupt or does not follow the ONNX contract."""


class ProviderError(AstganError):
    """An execution provider that was asked for explicitly cannot run here."""


class UsageError(AstganError):
    """Options that contradict each other or are out of range."""


class RunError(AstganError):
    """A library failed in the middle of a run, on input the checks before the run accepted.

    Exit code 1, not 2: nothing the user typed was wrong. The message names the input, the
    stage (decode, inference, encode, mux), how far the run got and what became of the output.
    """

    exit_code = 1

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage} failed ({detail})")
        self.stage = stage
        self.detail = detail
        self.where = ""  # the input, set by the pipeline that saw the failure
        self.frame = 0  # the frame it failed on, counted from 1 in the stage's own order
        self.output_note = ""

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        note = f"; {self.output_note}" if self.output_note else ""
        at = f" at frame {self.frame}" if self.frame else ""
        return f"{where}{self.stage} failed{at} ({self.detail}){note}"


def reason(e: BaseException) -> str:
    """FFmpeg's (or any library's) own words for why, without the Python exception class."""
    text = getattr(e, "strerror", None) or str(e)
    return text.strip().rstrip(".") or type(e).__name__


def exit_code(work: Callable[[], object], interrupted: Callable[[KeyboardInterrupt], str]) -> int:
    """Run a plain (non-typer) command's `work`: 0 when it ends, a user error's exit code after
    its one `error:` line, 130 after the line `interrupted(e)` says for Ctrl-C or SIGTERM."""
    try:
        work()
    except AstganError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print(interrupted(e), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
