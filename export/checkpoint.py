"""Read a training checkpoint and rebuild its generator, with one clear message per way it can fail.

The format is the contract in ../shared/DESIGN.md: a `torch.save`d plain dict, loadable with
`weights_only=True`, whose "format" is CHECKPOINT_FORMAT. Training writes it; this module reads
it and checks everything export relies on, so a wrong file fails here and not deep in a trace.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from export.errors import ExportError
from export.metadata import Provenance
from training.config import GeneratorConfig, config_hash
from training.errors import TrainingError
from training.networks import build_generator as build

CHECKPOINT_FORMAT = "stream-astgan-checkpoint/1"
_REQUIRED = {"step": int, "config": dict, "config_hash": str, "generator": dict}


@dataclass(frozen=True)
class Checkpoint:
    """The parts of a checkpoint export needs; the optimizer and discriminator state are ignored."""

    path: Path
    step: int
    config: dict[str, Any]
    config_hash: str
    generator_state: dict[str, torch.Tensor]

    @property
    def style_name(self) -> str:
        return str(self.config.get("style", {}).get("name") or self.path.stem)

    @property
    def style_paths(self) -> list[str]:
        return [str(p) for p in self.config.get("style", {}).get("paths", [])]


def load_checkpoint(path: Path) -> Checkpoint:
    """Load and validate `path`; raises ExportError saying what is wrong and what to do."""
    if not path.is_file():
        raise ExportError(f"checkpoint {path} does not exist (expected a .pt file from training)")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError):
        raise ExportError(
            f"{path} is not a stream-astgan checkpoint (not a torch.save file of tensors and "
            "plain containers); pass the checkpoint.pt that training wrote"
        ) from None
    if not isinstance(raw, dict) or "format" not in raw:
        raise ExportError(f"{path} is not a stream-astgan checkpoint (no 'format' entry)")
    if raw["format"] != CHECKPOINT_FORMAT:
        raise ExportError(
            f"{path} has checkpoint format {raw['format']!r}; this exporter reads "
            f"{CHECKPOINT_FORMAT!r}; export it with the version of the project that trained it"
        )
    for key, kind in _REQUIRED.items():
        if not isinstance(raw.get(key), kind):
            raise ExportError(
                f"{path} is damaged: entry {key!r} is missing or not a {kind.__name__}"
            )
    if not isinstance(raw["config"].get("generator"), dict):
        raise ExportError(f"{path} is damaged: its config has no 'generator' section")
    if not all(isinstance(v, torch.Tensor) for v in raw["generator"].values()):
        raise ExportError(f"{path} is damaged: its 'generator' entry holds non-tensor values")
    _check_hash(path, raw["config"], raw["config_hash"])
    return Checkpoint(path, raw["step"], raw["config"], raw["config_hash"], raw["generator"])


def _check_hash(path: Path, config: dict[str, Any], stored: str) -> None:
    """A config that no longer matches its hash was edited by hand; its weights may not fit it."""
    if config_hash(config) != stored:
        raise ExportError(
            f"{path}: config_hash {stored} does not match the stored config "
            f"({config_hash(config)}); the checkpoint was edited or written by another trainer"
        )


def build_generator(ckpt: Checkpoint) -> nn.Module:
    """The generator the checkpoint describes, with its weights loaded, in eval mode."""
    try:
        cfg = GeneratorConfig(**ckpt.config["generator"])
    except TypeError as e:
        raise ExportError(
            f"{ckpt.path}: its generator config does not fit this version of training ({e})"
        ) from None
    try:
        generator = build(cfg)
    except (TrainingError, ValueError, TypeError) as e:  # values this training cannot build
        raise ExportError(f"{ckpt.path}: cannot build its generator ({e})") from None
    problem = _state_mismatch(generator.state_dict(), ckpt.generator_state)
    if problem:
        raise ExportError(
            f"{ckpt.path}: the generator weights do not fit the network this version of "
            f"training builds from its config ({problem}); the checkpoint comes from another "
            "version of training, or its config was edited"
        )
    generator.load_state_dict(ckpt.generator_state, strict=True)
    return generator.eval()


def _state_mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    """A one-line summary of how two state dicts differ, or "" when they fit."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    reshaped = [k for k in expected if k in found and found[k].shape != expected[k].shape]
    parts = []
    if reshaped:
        first = reshaped[0]
        parts.append(
            f"{len(reshaped)} tensor(s) of another shape, e.g. {first}: checkpoint "
            f"{list(found[first].shape)}, config {list(expected[first].shape)}"
        )
    for label, keys in (("missing", missing), ("unexpected", unexpected)):
        if keys:
            parts.append(f"{len(keys)} {label}, e.g. {keys[0]}")
    return "; ".join(parts)


def provenance(ckpt: Checkpoint) -> Provenance:
    """The checkpoint's side of the model metadata."""
    features = str(ckpt.config.get("loss", {}).get("feature_origin", ""))
    return Provenance(ckpt.style_name, ckpt.style_paths, ckpt.step, ckpt.config_hash, features)
