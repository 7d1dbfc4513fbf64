"""Files that appear whole or not at all: the one way every package writes an output.

A file is written under its `.partial` name beside the target (same folder, so the rename is
one step on one file system), flushed to the disk, then renamed over the target. A crash, a
full disk or Ctrl-C leaves the target absent or as it was, never torn; the `.partial` name
keeps the suffix, so libraries that guess a format from the name still do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def partial_path(target: Path) -> Path:
    """Where a file is written until it is complete; keeps the suffix so the format is guessed."""
    return target.with_name(f"{target.stem}.partial{target.suffix}")


def commit(tmp: Path, target: Path) -> None:
    """Flush `tmp` to the disk, then rename it over `target`: the rename publishes whole data."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A binary file to write `target`'s new contents into; published when the block ends.

    Whatever interrupts the block (an exception, Ctrl-C) removes the partial file and leaves
    `target` untouched.
    """
    tmp = partial_path(target)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """`target` holds `data`, or what it held before: never a part of `data`."""
    with atomic_file(target) as f:
        f.write(data)
