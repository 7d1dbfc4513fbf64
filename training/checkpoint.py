"""Checkpoint files: the contract between training (writer), resume and export (readers).

A checkpoint is `torch.save` of a plain dict loadable with `torch.load(weights_only=True)`:
"format", "step", "config" (asdict of TrainConfig), "config_hash", "generator" (the weights to
export: the EMA copy when one is kept), "discriminator", "opt_g", "opt_d", "lr_controller",
"rng", and what exact resume needs besides ("generator_train", "scaler_g", "scaler_d").
Writes are atomic (the runtime's `atomic_file`), so a crash never leaves half a checkpoint.
Every reader goes through `load_checkpoint`, so a wrong file fails here with one clear message,
not deep in a trace.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stream_astgan.atomic import atomic_file, commit, partial_path
from training.config import GeneratorConfig, config_hash, upgrade_config
from training.errors import CheckpointError, TrainingError
from training.networks import build_generator as build

FORMAT = "stream-astgan-checkpoint/1"
CHECKPOINT_NAME = "checkpoint.pt"
MILESTONES_DIR = "checkpoints"  # step_N.pt copies kept every `keep_every` steps
_FOR_GENERATOR = {"step": int, "config": dict, "config_hash": str, "generator": dict}


def rng_state() -> dict[str, Any]:
    """torch's CPU (and CUDA) RNG states, stored so a resumed run draws the same numbers."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `rng_state`."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    """Write a checkpoint dict (checked against the contract) atomically."""
    if checkpoint.get("format") != FORMAT:
        raise ValueError(f"checkpoint dict must have format {FORMAT!r}")
    save_atomic(path, checkpoint)


def save_atomic(path: Path, obj: Any) -> None:
    """`torch.save` that leaves the old file or the new one under `path`, never half of one."""
    with atomic_file(path) as f:
        torch.save(obj, f)


def milestone_name(step: int) -> str:
    """The kept copy of step N, relative to the run dir."""
    return f"{MILESTONES_DIR}/step_{step:06d}.pt"


def keep_milestone(checkpoint: Path, step: int) -> Path:
    """Hard-link (or copy) the latest checkpoint to checkpoints/step_N.pt: GAN quality is not
    monotonic in the step, so the best state is picked by eye after the run, not assumed last."""
    target = checkpoint.parent / milestone_name(step)
    target.parent.mkdir(exist_ok=True)
    tmp = partial_path(target)
    tmp.unlink(missing_ok=True)
    try:
        os.link(checkpoint, tmp)
    except OSError:
        shutil.copyfile(checkpoint, tmp)
    commit(tmp, target)
    return target


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read and check a checkpoint (safe loading: tensors and plain containers only)."""
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {path} does not exist (expected a .pt file from training)"
        )
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises several unrelated types for a file it cannot read
        raise CheckpointError(
            f"{path} is not a stream-astgan checkpoint (not a torch.save file of tensors and "
            "plain containers); pass the checkpoint.pt that training wrote"
        ) from None
    if not isinstance(raw, dict) or "format" not in raw:
        raise CheckpointError(f"{path} is not a stream-astgan checkpoint (no 'format' entry)")
    if raw["format"] != FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {raw['format']!r}; this version reads {FORMAT!r}; "
            "use the version of the project that trained it"
        )
    return raw


@dataclass(frozen=True)
class Checkpoint:
    """The parts of a checkpoint that make its generator; optimizer and discriminator aside."""

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


def load_generator_checkpoint(path: Path) -> Checkpoint:
    """`load_checkpoint` plus every check building the generator relies on (export's reader)."""
    raw = load_checkpoint(path)
    for key, kind in _FOR_GENERATOR.items():
        if not isinstance(raw.get(key), kind):
            raise CheckpointError(
                f"{path} is damaged: entry {key!r} is missing or not a {kind.__name__}"
            )
    if not isinstance(raw["config"].get("generator"), dict):
        raise CheckpointError(f"{path} is damaged: its config has no 'generator' section")
    if not all(isinstance(v, torch.Tensor) for v in raw["generator"].values()):
        raise CheckpointError(f"{path} is damaged: its 'generator' entry holds non-tensor values")
    if config_hash(raw["config"]) != raw["config_hash"]:  # edited by hand: weights may not fit
        raise CheckpointError(
            f"{path}: config_hash {raw['config_hash']} does not match the stored config "
            f"({config_hash(raw['config'])}); the checkpoint was edited or written by another "
            "trainer"
        )
    return Checkpoint(path, raw["step"], raw["config"], raw["config_hash"], raw["generator"])


def build_generator(ckpt: Checkpoint) -> nn.Module:
    """The generator the checkpoint describes, with its weights loaded, in eval mode."""
    try:
        cfg = GeneratorConfig(**upgrade_config(ckpt.config)["generator"])
    except TypeError as e:
        raise CheckpointError(
            f"{ckpt.path}: its generator config does not fit this version of training ({e})"
        ) from None
    try:
        generator = build(cfg)
    except (TrainingError, ValueError, TypeError) as e:  # values this training cannot build
        raise CheckpointError(f"{ckpt.path}: cannot build its generator ({e})") from None
    problem = _state_mismatch(generator.state_dict(), ckpt.generator_state)
    if problem:
        raise CheckpointError(
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
