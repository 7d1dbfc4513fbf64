"""Checkpoint files: the contract between training (writer) and export (reader).

A checkpoint is `torch.save` of a plain dict loadable with `torch.load(weights_only=True)`:
"format", "step", "config" (asdict of TrainConfig), "config_hash", "generator" (the weights to
export: the EMA copy when one is kept), "discriminator", "opt_g", "opt_d", "lr_controller",
"rng", and what exact resume needs besides ("generator_train", "scaler_g", "scaler_d").
Writes go to a temporary file that is then renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch

from training.errors import TrainingError

FORMAT = "stream-astgan-checkpoint/1"
CHECKPOINT_NAME = "checkpoint.pt"
MILESTONES_DIR = "checkpoints"  # step_N.pt copies kept every `keep_every` steps


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
    """`torch.save` to a temp file in the same folder, fsync, then rename over the old one, so
    a crash never leaves half a file under the real name."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def keep_milestone(checkpoint: Path, step: int) -> Path:
    """Hard-link (or copy) the latest checkpoint to checkpoints/step_N.pt: GAN quality is not
    monotonic in the step, so the best state is picked by eye after the run, not assumed last."""
    folder = checkpoint.parent / MILESTONES_DIR
    folder.mkdir(exist_ok=True)
    target = folder / f"step_{step:06d}.pt"
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        os.link(checkpoint, tmp)
    except OSError:
        shutil.copyfile(checkpoint, tmp)
    os.replace(tmp, target)
    return target


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read and check a checkpoint (safe loading: tensors and plain containers only)."""
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}; start without --resume")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a damaged file
        raise TrainingError(f"cannot read checkpoint {path}: {e}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise TrainingError(f"{path} is not a {FORMAT} checkpoint")
    return checkpoint
