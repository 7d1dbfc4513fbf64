"""A batch's record of what it did: one JSON line per file and outcome, in `manifest.jsonl`.

The manifest is what makes a batch resumable. A file counts as complete when the last `done`
line for that input names the same input (size and modification time), the same settings
(model file, size, codec...) and the very output file that is there (size and modification
time). A `done` line is written only after the per-file run renamed its `.partial` file into
place and was not interrupted, so a torn, cut-short or foreign file never matches one. A crash
between the rename and the line leaves a file the manifest does not vouch for: a rerun refuses
it like any existing file, and redoes it with --overwrite. Only the batch's own process appends,
each line flushed and synced; a torn last line (a crash mid-write) is ignored when read.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

NAME = "manifest.jsonl"
DONE, FAILED, INTERRUPTED = "done", "failed", "interrupted"


def input_stamp(path: Path) -> dict[str, int]:
    """What identifies an input's content cheaply: its size and modification time."""
    st = path.stat()
    return {"input_bytes": st.st_size, "input_mtime_ns": st.st_mtime_ns}


def output_stamp(path: Path) -> dict[str, int]:
    """Which output file a `done` line vouches for: any later replacement changes these."""
    st = path.stat()
    return {"output_bytes": st.st_size, "output_mtime_ns": st.st_mtime_ns}


def read_done(path: Path) -> dict[str, dict[str, Any]]:
    """The last `done` record of each input, keyed by its path relative to the input folder
    (a later failed or interrupted attempt never leaves a different file in its place)."""
    last: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return last
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:  # a line torn by a crash mid-write
                continue
            if isinstance(record, dict) and record.get("status") == DONE:
                last[record["input"]] = record
    return last


def is_complete(
    record: dict[str, Any] | None, source: Path, output: Path, settings: dict[str, Any]
) -> bool:
    """True when `output` is the finished result of this very input under these settings."""
    if record is None or record.get("status") != DONE:
        return False
    try:
        stamps = {**input_stamp(source), **output_stamp(output)}
    except OSError:  # no output (or no input) there
        return False
    return record.get("settings") == settings and all(
        record.get(key) == value for key, value in stamps.items()
    )


class Writer:
    """Appends records, one line each, durable before the next file is counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        torn = False
        if path.exists() and path.stat().st_size:
            with path.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
        self._file = path.open("a", encoding="utf-8")
        if torn:  # end the torn line so the next record stands on its own
            self._file.write("\n")

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps({**record, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
