"""`astgan-stream sheet`: the photo, then each style, in labelled cells; never over a file."""

from __future__ import annotations

import cv2
import numpy as np
from typer.testing import CliRunner

from stream_astgan.cli import app
from stream_astgan.sheet import BAND, labelled

PHOTO = (200, 60, 120)


def test_sheet_shows_the_photo_then_each_style_and_keeps_an_existing_sheet(
    invert_model, halve_model, tmp_path
):
    photo, out = tmp_path / "photo.png", tmp_path / "sheet.png"
    cv2.imwrite(str(photo), np.full((120, 160, 3), PHOTO[::-1], np.uint8))  # BGR on disk
    args = ["sheet", str(photo), "-o", str(out), "--width", "80",
            "--model", str(invert_model), "--model", str(halve_model)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    sheet = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    cell_h, cell_w, gap = 60 + BAND, 80, 4
    assert sheet.shape == (2 * cell_h + gap, 2 * cell_w + gap, 3)  # 3 pictures: a 2x2 grid
    expected = [PHOTO, tuple(255 - c for c in PHOTO), tuple(c // 2 for c in PHOTO), (255,) * 3]
    for i, colour in enumerate(expected):
        top, left = (i // 2) * (cell_h + gap), (i % 2) * (cell_w + gap)
        picture = sheet[top + BAND : top + cell_h, left : left + cell_w]
        assert np.abs(np.median(picture.reshape(-1, 3), axis=0) - colour).max() <= 2, i
        band = sheet[top : top + BAND, left : left + cell_w]
        assert (band.min() < 100) == (i < 3)  # a label is written in each used band
    before = out.read_bytes()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.output
    assert out.read_bytes() == before


def test_sheet_of_something_that_is_not_a_photo(tmp_path, invert_model):
    (tmp_path / "notes.txt").write_text("hello")
    args = ["sheet", str(tmp_path), "-o", str(tmp_path / "s.png"), "--model", str(invert_model)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "give one photo" in result.output
    result = CliRunner().invoke(app, [*args[:3], str(tmp_path / "s.mp4"), *args[4:]])
    assert result.exit_code == 2 and "the sheet is an image" in result.output


def test_a_long_label_is_drawn_smaller_not_cut_off():
    picture = np.zeros((60, 160, 3), np.uint8)  # an 80 px wide cell at scale 0.5
    ends = {}
    for text in ("starry-night-step400.onnx: 0.61", "ok"):
        inked = np.flatnonzero(labelled(picture, text)[:BAND].min(axis=(0, 2)) < 128)
        assert inked.size and inked.max() < 80 - 3, text  # it ends inside the cell
        ends[text] = inked.max()
    assert ends["ok"] < 40  # a short label keeps its size and does not stretch
