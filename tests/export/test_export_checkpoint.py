"""Bad or incompatible checkpoints: one clear line on stderr and exit code 2."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from export.cli import app
from export.metadata import Provenance
from training.checkpoint import build_generator
from training.checkpoint import load_generator_checkpoint as load_checkpoint
from training.config import config_hash
from training.networks import Blur


def _export(tmp_path: Path, checkpoint: Path):
    result = CliRunner().invoke(app, [str(checkpoint), "-o", str(tmp_path / "out.onnx")])
    return result


def _resave(source: Path, target: Path, change) -> Path:
    raw = torch.load(source, weights_only=True)
    change(raw)
    torch.save(raw, target)
    return target


def test_a_good_checkpoint_loads_and_builds(checkpoint_path: Path) -> None:
    ckpt = load_checkpoint(checkpoint_path)
    origin = Provenance.of(ckpt)
    assert (origin.style, origin.training_steps) == ("tiny-style", 321)
    assert origin.config_hash == config_hash(ckpt.config)
    assert build_generator(ckpt).stride == 4


def _wrong_format(raw: dict) -> None:
    raw["format"] = "stream-astgan-checkpoint/0"


def _other_width(raw: dict) -> None:
    raw["config"]["generator"]["width"] = 6
    raw["config_hash"] = config_hash(raw["config"])


def _unknown_key(raw: dict) -> None:
    raw["config"]["generator"]["depth"] = 3
    raw["config_hash"] = config_hash(raw["config"])


def _edited_config(raw: dict) -> None:
    raw["config"]["generator"]["width"] = 6


def _no_generator(raw: dict) -> None:
    del raw["generator"]


def _not_tensors(raw: dict) -> None:
    raw["generator"] = {name: value.tolist() for name, value in raw["generator"].items()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_wrong_format, "has checkpoint format 'stream-astgan-checkpoint/0'"),
        (_other_width, "generator weights do not fit the network"),
        (_unknown_key, "does not fit this version of training"),
        (_edited_config, "does not match the stored config"),
        (_no_generator, "entry 'generator' is missing"),
        (_not_tensors, "holds non-tensor values"),
    ],
)
def test_incompatible_checkpoints_are_named(
    checkpoint_path: Path, tmp_path: Path, change, message: str
) -> None:
    bad = _resave(checkpoint_path, tmp_path / "bad.pt", change)
    result = _export(tmp_path, bad)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out.onnx").exists()


def test_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "noise.pt").write_bytes(bytes(range(256)) * 4)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "dict.pt")
    torch.save(collections.Counter(a=1), tmp_path / "pickled_object.pt")
    for name in ("noise.pt", "list.pt", "dict.pt", "pickled_object.pt"):
        result = _export(tmp_path, tmp_path / name)
        assert result.exit_code == 2, name
        assert "is not a stream-astgan checkpoint" in result.stderr
        assert result.stderr.count("\n") == 1


def test_a_missing_checkpoint(tmp_path: Path) -> None:
    result = _export(tmp_path, tmp_path / "nowhere.pt")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_checkpoints_for_other_configs_build_their_own_network(
    tmp_path: Path, make_checkpoint
) -> None:
    path = make_checkpoint(tmp_path / "nearest.pt", upsample="nearest", norm="instance")
    assert build_generator(load_checkpoint(path)).stride == 4


def test_checkpoints_from_before_plain_levels_build_the_network_they_trained(
    tmp_path: Path, make_checkpoint
) -> None:
    """Their config has neither plain_levels nor antialias: their weights normalise every
    level and their reductions have no low-pass."""
    path = make_checkpoint(tmp_path / "old.pt", norm="instance", plain_levels=0, antialias=False)
    raw = torch.load(path, weights_only=True)
    del raw["config"]["generator"]["plain_levels"], raw["config"]["generator"]["antialias"]
    raw["config_hash"] = config_hash(raw["config"])
    torch.save(raw, path)
    generator = build_generator(load_checkpoint(path))
    assert isinstance(generator.stem[1].norm, torch.nn.InstanceNorm2d)
    reductions = [*generator.stem, *generator.down.modules()]
    assert not any(isinstance(m, Blur) for m in reductions)
    assert "down.0.conv.weight" in generator.state_dict()  # the names such checkpoints hold


def test_training_writes_what_export_reads(checkpoint_path: Path, tmp_path: Path) -> None:
    """Both sides of the contract: training's own writer, export's reader."""
    writer = pytest.importorskip("training.checkpoint")
    raw = torch.load(checkpoint_path, weights_only=True)
    assert raw["format"] == writer.FORMAT
    writer.save_checkpoint(tmp_path / "written.pt", raw)
    assert load_checkpoint(tmp_path / "written.pt").step == raw["step"]
