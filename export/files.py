"""Export's outputs: refused when they exist (unless --overwrite), written atomically, so an
interrupted or failed export never leaves a half-written model behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from export.errors import ExportError
from stream_astgan.atomic import write_bytes_atomic


def refuse_existing(path: Path, overwrite: bool) -> None:
    """Fail before any slow work when the output exists and the user did not allow replacing it."""
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; pass --overwrite to replace it")


def check_file_target(path: Path, overwrite: bool) -> None:
    """A model file path must not name a folder, nor an existing file unless overwriting."""
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give the model file's name, e.g. {path}/model.onnx")
    refuse_existing(path, overwrite)


def write_model_file(path: Path, data: bytes, overwrite: bool) -> None:
    """Write the model atomically (the runtime's `write_bytes_atomic`), as a one-line error."""
    check_file_target(path, overwrite)
    with _reported(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)


def write_dir_atomic(path: Path, fill: Callable[[Path], None], overwrite: bool) -> None:
    """Build a directory under a temporary name beside `path`, then rename it into place.

    Replacing an existing directory takes two renames (old out of the way, new in), so a
    crash between them leaves the old tree under a hidden name rather than a mix of both.
    """
    refuse_existing(path, overwrite)
    with _reported(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _hidden_sibling_dir(path, ".tmp")
        old = None
        try:
            fill(tmp)
            if path.exists():
                old = _hidden_sibling_dir(path, ".old")
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


def _hidden_sibling_dir(path: Path, suffix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent))


@contextlib.contextmanager
def _reported(path: Path) -> Iterator[None]:
    """Disk full, no permission, read-only folder: the user's to fix, so one line, exit 2."""
    try:
        yield
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from None
