"""Atomic writes: all or nothing, and no stray temporary files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from export.errors import ExportError
from export.files import write_dir_atomic, write_model_file


def test_file_write_refuses_existing_then_replaces(tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    write_model_file(target, b"one", overwrite=False)
    with pytest.raises(ExportError, match="already exists"):
        write_model_file(target, b"two", overwrite=False)
    write_model_file(target, b"two", overwrite=True)
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_written_model_gets_the_usual_permissions_not_a_temp_files(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_model_file(tmp_path / "m.onnx", b"x", overwrite=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.onnx").stat().st_mode) == 0o640


def test_a_failing_directory_build_leaves_the_old_tree(tmp_path: Path) -> None:
    target = tmp_path / "model"
    write_dir_atomic(target, lambda d: (d / "a.txt").write_text("old"), overwrite=False)

    def broken(directory: Path) -> None:
        (directory / "a.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(ExportError, match=r"cannot write .*disk full"):
        write_dir_atomic(target, broken, overwrite=True)
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_folder_is_not_a_model_file_and_unwritable_places_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a folder"):
        write_model_file(tmp_path, b"x", overwrite=True)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ExportError, match="cannot write"):
        write_model_file(tmp_path / "file" / "m.onnx", b"x", overwrite=False)
