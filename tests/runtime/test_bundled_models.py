"""The styles shipped in the package: present, contract-following, really stylizing, and what a
fresh install's default commands (`models`, `demo`) use."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from stream_astgan import catalog
from stream_astgan.contract import META_PRECISION, META_RECOMMENDED, META_STEPS, META_STYLE
from stream_astgan.engine import Engine

from .conftest import cli_in_process

SHIPPED = ("starry-night", "great-wave", "van-gogh", "the-scream", "kandinsky")
MODELS = catalog.bundled()
FILES = [(name, p, path) for name, m in sorted(MODELS.items()) for p, path in m.files.items()]


def scene(height: int = 90, width: int = 160) -> np.ndarray:
    """A smooth gradient with a few hard-edged shapes, two frames of it."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    rgb = np.stack([x, y, 1 - x], -1) * 200 + 20
    rgb[20:60, 30:70] = (230, 40, 40)
    rgb[50:80, 100:150] = (30, 30, 60)
    return np.stack([rgb, rgb[:, ::-1]]).astype(np.uint8)


def test_the_promised_styles_are_bundled_and_the_default_is_one_of_them():
    assert set(SHIPPED) <= set(MODELS)
    assert catalog.DEFAULT_MODEL in MODELS
    for name in SHIPPED:
        assert "fp32" in MODELS[name].files


@pytest.mark.parametrize(("name", "precision", "path"), FILES, ids=[p.name for *_, p in FILES])
def test_each_file_follows_the_contract_and_stylizes(name, precision, path):
    engine = Engine(path, "cpu", threads=1)
    meta = engine.metadata
    assert meta[META_STYLE] == name and meta[META_PRECISION] == precision
    assert int(meta[META_STEPS]) > 0
    if precision == "int8":  # shipped only where the export measured it faster
        assert "cpu" in meta[META_RECOMMENDED].split(",")
    frames = scene()
    out = engine.run(frames).astype(float)
    change = np.abs(out - frames).mean()
    assert change > 8, f"{path.name} barely changes the picture ({change:.1f} levels)"
    assert 30 < out.mean() < 225 and out.std() > 20, "collapsed to black, white or grey"
    # The content stays: the red square's outline is still an edge. A style may repaint the
    # square in the gradient's colours (great-wave turns red beige) and paint strokes into the
    # smooth gradient (starry-night: 2.6x the source's contrast there), but the outline must
    # keep at least half the source's contrast and stand above the strokes around it. A
    # washed-out output keeps 0.3 of it, and 1.5x the gradient's.
    border, flat = outline_contrast(out[0].astype(np.uint8))
    source_border, _ = outline_contrast(frames[0])
    assert border > 0.5 * source_border and border > 1.7 * flat, (
        f"the red square's outline is gone: {border:.1f} at its border ({source_border:.1f} in "
        f"the source), {flat:.1f} in the gradient"
    )


def outline_contrast(rgb: np.ndarray) -> tuple[float, float]:
    """Mean luminance gradient on the red square's border and in the plain gradient beside it."""
    luma = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(float)
    magnitude = np.hypot(cv2.Sobel(luma, cv2.CV_64F, 1, 0), cv2.Sobel(luma, cv2.CV_64F, 0, 1))
    ring = np.zeros(luma.shape, bool)
    ring[18:22, 30:70] = ring[58:62, 30:70] = ring[20:60, 28:32] = ring[20:60, 68:72] = True
    return float(magnitude[ring].mean()), float(magnitude[25:55, 5:20].mean())


def test_cpu_default_is_fp32_unless_int8_was_measured_faster():
    for name, model in MODELS.items():
        chosen = catalog.resolve(name, gpu=False)
        assert chosen == model.files.get("int8", model.files["fp32"])
        if "fp16" in model.files:
            assert catalog.resolve(name, gpu=True) == model.files["fp16"]


def test_models_command_lists_every_style():
    res = cli_in_process("models", "--json")
    assert res.returncode == 0, res.stderr
    listed = {m["name"] for m in json.loads(res.stdout)["models"]}
    assert set(SHIPPED) <= listed


def test_demo_runs_on_the_default_model(tmp_path):
    out = tmp_path / "demo.mp4"
    res = cli_in_process("demo", "-o", out, "--seconds", "0.5", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert Path(summary["model"]).parent == catalog.MODELS_DIR  # a file of the default style,
    assert Path(summary["model"]).name.startswith(f"{catalog.DEFAULT_MODEL}.")  # any precision
    assert summary["frames_out"] == 15
    assert out.is_file()
