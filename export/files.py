"""Atomic writes, so an interrupted or failed export never leaves a half-written model behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from export.errors import ExportError


def refuse_existing(path: Path, overwrite: bool) -> None:
    """Fail before any slow work when the output exists and the user did not allow replacing it."""
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; pass --overwrite to replace it")


def write_bytes_atomic(path: Path, data: bytes, overwrite: bool) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` in one step."""
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_dir_atomic(path: Path, fill: Callable[[Path], None], overwrite: bool) -> None:
    """Build a directory under a temporary name beside `path`, then rename it into place.

    Replacing an existing directory takes two renames (old out of the way, new in), so a
    crash between them leaves the old tree under a hidden name rather than a mix of both.
    """
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        fill(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
