"""Read a training checkpoint and rebuild its generator, with one clear message per way it can fail.

The format is the contract in ../shared/DESIGN.md: a `torch.save`d plain dict, loadable with
`weights_only=True`, whose "format" is CHECKPOINT_FORMAT.
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
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(
            f"{path} is not a stream-astgan checkpoint (torch.load failed: {first_line[:200]})"
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
    _check_hash(path, raw["config"], raw["config_hash"])
    return Checkpoint(path, raw["step"], raw["config"], raw["config_hash"], raw["generator"])


def _check_hash(path: Path, config: dict[str, Any], stored: str) -> None:
    """A config that no longer matches its hash was edited by hand; its weights may not fit it."""
    from training.config import config_hash

    if config_hash(config) != stored:
        raise ExportError(
            f"{path}: config_hash {stored} does not match the stored config "
            f"({config_hash(config)}); the checkpoint was edited or written by another trainer"
        )


def build_generator(ckpt: Checkpoint) -> nn.Module:
    """The generator the checkpoint describes, with its weights loaded, in eval mode."""
    from training.config import GeneratorConfig
    from training.networks import build_generator as build

    try:
        cfg = GeneratorConfig(**ckpt.config["generator"])
    except TypeError as e:
        raise ExportError(
            f"{ckpt.path}: its generator config does not fit this version of training ({e})"
        ) from None
    try:
        generator = build(cfg)
    except Exception as e:  # the training package rejects values it cannot build
        raise ExportError(f"{ckpt.path}: cannot build its generator ({e})") from None
    try:
        generator.load_state_dict(ckpt.generator_state, strict=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split())
        raise ExportError(
            f"{ckpt.path}: the generator weights do not match its config ({detail[:300]})"
        ) from None
    return generator.eval()


def provenance(ckpt: Checkpoint) -> Provenance:
    """The checkpoint's side of the model metadata."""
    return Provenance(ckpt.style_name, ckpt.style_paths, ckpt.step, ckpt.config_hash)
