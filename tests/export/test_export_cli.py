"""`python -m export` end to end on a tiny checkpoint: files, metadata, refusals, failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from typer.testing import CliRunner

import export.run
from export.cli import app
from export.metadata import read_metadata
from export.photos import list_photos
from export.verify import onnxruntime_runner
from stream_astgan import contract
from stream_astgan.catalog import read_metadata as runtime_read_metadata
from training.config import config_hash


def _run(*args: str):
    return CliRunner().invoke(app, [*args, "--threads", "1"])


@pytest.fixture(scope="module")
def fp32_export(checkpoint_path: Path, photo_dir: Path, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("fp32")
    result = _run(
        str(checkpoint_path),
        "-o",
        str(out / "tiny.onnx"),
        "--calib",
        str(photo_dir),
        "--triton",
        str(out / "repo"),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)


def test_help_explains_every_option() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for option in ("--output", "--precision", "--calib", "--name", "--triton", "--overwrite"):
        assert option in result.stdout
    for word in ("fp16", "int8", "parity", "recommended_for", "small"):
        assert word in result.stdout


def test_fp32_export_writes_a_runnable_model_with_its_metadata(
    fp32_export: tuple[Path, dict], checkpoint_path: Path
) -> None:
    out, summary = fp32_export
    model = onnx.load(out / "tiny.onnx")
    meta = read_metadata(model)
    assert meta == summary["metadata"]
    assert meta[contract.META_STYLE] == "tiny-style"
    assert meta[contract.META_SOURCE] == "starry_night.jpg"
    assert meta[contract.META_STEPS] == "321"
    assert meta[contract.META_PRECISION] == "fp32"
    assert meta[contract.META_RECOMMENDED] == "cpu"
    config = torch.load(checkpoint_path, weights_only=True)["config"]
    assert meta[contract.META_CONFIG_HASH] == config_hash(config)
    parity = json.loads(meta[contract.META_PARITY])
    assert parity["fp32"]["frac_over_1"] <= 0.001
    assert parity["fp32"]["cases"] == 7  # noise, gradient, three photos, batched photos
    frames = np.zeros((3, 97, 131, 3), np.uint8)
    assert onnxruntime_runner(model, 1)(frames).shape == frames.shape
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_triton_repository_is_written_beside(fp32_export: tuple[Path, dict]) -> None:
    out, summary = fp32_export
    entry = out / "repo" / "tiny-style"
    assert summary["triton"] == str(entry)
    assert (entry / "1" / "model.onnx").read_bytes() == (out / "tiny.onnx").read_bytes()
    config = (entry / "config.pbtxt").read_text()
    assert 'name: "tiny-style"' in config and "dynamic_batching" in config
    assert 'name: "tensorrt"' in config and 'value: "FP16"' in config


def test_existing_output_is_kept_unless_overwrite(
    fp32_export: tuple[Path, dict], checkpoint_path: Path
) -> None:
    out, _ = fp32_export
    target = out / "tiny.onnx"
    before = target.read_bytes()
    result = _run(str(checkpoint_path), "-o", str(target))
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert target.read_bytes() == before


def test_overwrite_replaces_and_name_renames(checkpoint_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    result = _run(str(checkpoint_path), "-o", str(target), "--overwrite", "--name", "my-style")
    assert result.exit_code == 0, result.stderr
    assert read_metadata(onnx.load(target))[contract.META_STYLE] == "my-style"


def test_fp16_export_is_marked_for_gpus(checkpoint_path: Path, tmp_path: Path) -> None:
    result = _run(str(checkpoint_path), "-o", str(tmp_path / "m.onnx"), "--precision", "fp16")
    assert result.exit_code == 0, result.stderr
    meta = read_metadata(onnx.load(tmp_path / "m.onnx"))
    assert (meta[contract.META_PRECISION], meta[contract.META_RECOMMENDED]) == ("fp16", "gpu")
    readers = [n.op_type for n in onnx.load(tmp_path / "m.onnx").graph.node if "frames" in n.input]
    assert "Transpose" in readers and "Pad" not in readers  # no layout rules for GPUs
    parity = json.loads(meta[contract.META_PARITY])
    assert {"fp32", "fp16", "fp16_true"} <= set(parity)
    assert "fp16_true" in result.stderr  # the summary reports the fp16 error


def test_int8_export_reports_error_and_speed(
    checkpoint_path: Path, photo_dir: Path, tmp_path: Path
) -> None:
    few = tmp_path / "photos"  # calibrating on five photos keeps the test quick
    few.mkdir()
    for photo in list_photos(photo_dir)[:5]:
        (few / photo.name).symlink_to(photo)
    target = tmp_path / "m.onnx"
    result = _run(
        str(checkpoint_path), "-o", str(target), "--precision", "int8", "--calib", str(few)
    )
    assert result.exit_code == 0, result.stderr
    meta = read_metadata(onnx.load(target))
    int8 = json.loads(meta[contract.META_PARITY])["int8"]
    assert int8["speedup_vs_fp32"] > 0 and set(int8["latency_ms_640x360"]) == {"fp32", "int8"}
    # The documented rule, written out (the thresholds themselves: test_export_recommend.py).
    fast = int8["speedup_vs_fp32"] >= 1.10
    small = int8["mean_abs"] <= 1.5 and int8["frac_over_8"] <= 0.01
    assert meta[contract.META_RECOMMENDED] == ("cpu" if fast and small else "")
    assert "int8" in result.stderr and "x)" in result.stderr


def test_int8_without_photos_is_refused(checkpoint_path: Path, tmp_path: Path) -> None:
    result = _run(str(checkpoint_path), "-o", str(tmp_path / "m.onnx"), "--precision", "int8")
    assert result.exit_code == 2 and "--calib" in result.stderr


def test_a_failed_parity_check_writes_nothing(
    checkpoint_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A graph that drifts from the checkpoint (here: one conv's weights scaled) is refused."""
    real_export = export.run.export_fp32

    def drifting_export(generator, **options):
        model = real_export(generator, **options)
        weight = next(i for i in model.graph.initializer if len(i.dims) == 4)
        values = onnx.numpy_helper.to_array(weight) * 1.5
        weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
        return model

    monkeypatch.setattr(export.run, "export_fp32", drifting_export)
    target = tmp_path / "m.onnx"
    result = _run(str(checkpoint_path), "-o", str(target), "--triton", str(tmp_path / "repo"))
    assert result.exit_code == 1
    assert "fp32 parity failed" in result.stderr and "no model was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_bad_photo_folder_is_named(checkpoint_path: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no photos here")
    for folder, message in (("missing", "does not exist"), ("empty", "holds no photos")):
        result = _run(
            str(checkpoint_path), "-o", str(tmp_path / "m.onnx"), "--calib", str(tmp_path / folder)
        )
        assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_exports_are_reproducible(
    fp32_export: tuple[Path, dict], checkpoint_path: Path, photo_dir: Path, tmp_path: Path
) -> None:
    """The same checkpoint and options give the same bytes, so a model file can be rebuilt."""
    out, _ = fp32_export
    again = tmp_path / "again.onnx"
    result = _run(str(checkpoint_path), "-o", str(again), "--calib", str(photo_dir))
    assert result.exit_code == 0, result.stderr
    assert again.read_bytes() == (out / "tiny.onnx").read_bytes()


def test_the_runtime_reads_the_same_metadata(fp32_export: tuple[Path, dict]) -> None:
    """The runtime reads metadata through ONNX Runtime, without the onnx package."""
    out, summary = fp32_export
    assert runtime_read_metadata(out / "tiny.onnx") == summary["metadata"]
