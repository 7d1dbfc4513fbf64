"""Bundled models: names, precisions, and which file a run loads on which device."""

from __future__ import annotations

import shutil

import pytest

from stream_astgan import catalog
from stream_astgan.errors import ModelError, UsageError
from stream_astgan.invert_model import write_invert_model


@pytest.fixture
def models_dir(tmp_path):
    def variant(name, recommended=None):
        meta = {
            "style": name.split(".")[0],
            "precision": name.split(".")[1] if "." in name else "fp32",
        }
        if recommended is not None:
            meta["recommended_for"] = recommended
        write_invert_model(tmp_path / f"{name}.onnx", meta)

    variant("starry-night")
    variant("starry-night.fp16")
    variant("starry-night.int8", recommended="cpu")
    variant("great-wave")
    variant("great-wave.int8", recommended="")
    return tmp_path


def test_bundled_groups_precisions_by_name(models_dir):
    found = catalog.bundled(models_dir)
    assert sorted(found) == ["great-wave", "starry-night"]
    assert sorted(found["starry-night"].files) == ["fp16", "fp32", "int8"]


def test_device_picks_the_file(models_dir):
    def pick(model, gpu, precision="auto"):
        return catalog.resolve(model, gpu, precision, models_dir).name

    assert pick(None, gpu=True) == "starry-night.fp16.onnx"  # the default style
    assert pick(None, gpu=False) == "starry-night.int8.onnx"  # int8 marked faster on CPU
    assert pick("great-wave", gpu=False) == "great-wave.onnx"  # int8 not recommended: fp32
    assert pick("great-wave", gpu=True) == "great-wave.onnx"  # no fp16 shipped
    assert pick("starry-night", gpu=False, precision="fp32") == "starry-night.onnx"


def test_resolution_errors(models_dir, tmp_path):
    with pytest.raises(
        ModelError, match="unknown model 'mona-lisa'; bundled: great-wave, starry-night"
    ):
        catalog.resolve("mona-lisa", False, "auto", models_dir)
    with pytest.raises(ModelError, match="great-wave has no fp16 file; available: fp32, int8"):
        catalog.resolve("great-wave", False, "fp16", models_dir)
    with pytest.raises(UsageError, match="--precision must be"):
        catalog.resolve("great-wave", False, "int4", models_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no bundled model named 'starry-night' is installed"):
        catalog.resolve(None, False, "auto", empty)


def test_a_path_is_taken_as_is(models_dir, tmp_path):
    copy = tmp_path / "elsewhere" / "mine.onnx"
    copy.parent.mkdir()
    shutil.copy(models_dir / "great-wave.onnx", copy)
    assert catalog.resolve(str(copy), True, "auto", models_dir) == copy
    with pytest.raises(ModelError, match="model file not found"):
        catalog.resolve(str(tmp_path / "nope.onnx"), True, "auto", models_dir)
    assert catalog.read_metadata(copy)["style"] == "great-wave"
