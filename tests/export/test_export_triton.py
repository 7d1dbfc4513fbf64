"""The Triton repository entry: layout, configuration, names, and other models left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.errors import ExportError
from export.triton import config_pbtxt, default_model_name, write_triton_model
from stream_astgan.contract import INPUT_NAME, OUTPUT_NAME


def test_config_declares_uint8_frames_batching_and_tensorrt_fp16() -> None:
    text = config_pbtxt("starry-night")
    assert 'name: "starry-night"' in text
    assert 'platform: "onnxruntime_onnx"' in text
    assert f'name: "{INPUT_NAME}"' in text and f'name: "{OUTPUT_NAME}"' in text
    assert text.count("TYPE_UINT8") == 2 and text.count("dims: [ -1, -1, 3 ]") == 2
    assert "dynamic_batching" in text and "max_batch_size: 16" in text
    assert 'name: "tensorrt"' in text and 'key: "precision_mode" value: "FP16"' in text
    assert text.count("{") == text.count("}") and text.count("[") == text.count("]")


def test_repository_holds_config_and_versioned_model(tmp_path: Path) -> None:
    (tmp_path / "other-model" / "1").mkdir(parents=True)
    entry = write_triton_model(tmp_path, "wave", b"onnx bytes", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-model", "wave"]
    assert (entry / "1" / "model.onnx").read_bytes() == b"onnx bytes"
    assert (entry / "config.pbtxt").is_file()
    with pytest.raises(ExportError, match="--overwrite"):
        write_triton_model(tmp_path, "wave", b"new", overwrite=False)
    write_triton_model(tmp_path, "wave", b"new", overwrite=True)
    assert (entry / "1" / "model.onnx").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-model", "wave"]


def test_names_are_checked_and_defaults_made_safe(tmp_path: Path) -> None:
    assert default_model_name("Starry Night / v2") == "Starry-Night-v2"
    for bad in ("../escape", "a b", ""):
        with pytest.raises(ExportError, match="not usable"):
            write_triton_model(tmp_path, bad, b"x", overwrite=False)
    assert list(tmp_path.iterdir()) == []
