"""`python -m training`: train a style generator from photos/videos and a painting (or several).

Config precedence: built-in defaults < `--config FILE.toml` < dedicated flags < `--set KEY=VALUE`.
The resolved config is written to RUN_DIR/config.json and into every checkpoint. With
`--resume` the run's saved config is used; only the options in RESUMABLE may change. With
`--branch-from CHECKPOINT` a new run starts from another run's state and config, with any change
but the networks': a recipe change part-way (a higher style weight once flicker is under control)
is then two commands, not a lost run. A recipe whose weights or content crops change at known
steps says so in its TOML's `[[phases]]` and stays one command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from stream_astgan.errors import exit_code
from training.checkpoint import CHECKPOINT_NAME, MILESTONES_DIR
from training.config import (
    LEGACY_LR_POLICIES,
    LR_POLICIES,
    TrainConfig,
    config_from_dict,
    config_to_dict,
    load_toml,
    parse_assignment,
    resolve_config,
    upgrade_config,
    validate,
)
from training.data import DataWarning, style_name
from training.errors import TrainingError, TrainingStopped
from training.metrics import CSV_NAME

CONFIG_NAME = "config.json"
RUN_ARTIFACTS = (CHECKPOINT_NAME, CONFIG_NAME, CSV_NAME, "samples", "tensorboard", MILESTONES_DIR)
RESUMABLE = {
    "steps",
    "threads",
    "device",
    "amp",
    "generator_bf16",
    "sample_every",
    "checkpoint_every",
    "keep_every",
}
# flag dest -> config key, for the options that have their own flag
FLAG_KEYS = {
    "steps": "steps",
    "batch_size": "data.batch_size",
    "crop": "data.crop",
    "lr_policy": "optim.lr_policy",
    "seed": "seed",
    "threads": "threads",
    "device": "device",
    "feature_weights": "loss.feature_weights",
    "style_name": "style.name",
    "sample_every": "sample_every",
    "checkpoint_every": "checkpoint_every",
    "keep_every": "keep_every",
}


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option is explained in --help."""
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a real-time style generator (AST-GAN: GAN training with an adaptive "
        "learning-rate controller) from content photos/videos and one or more paintings.",
        epilog="Any config value can be set with --set, e.g. --set loss.temporal=0 "
        "--set generator.width=24. Multi-process: torchrun --nproc-per-node N -m training ...",
    )
    p.add_argument(
        "--content",
        nargs="+",
        metavar="DIR_OR_VIDEO",
        help="content: folders of photos (searched recursively) and/or video files "
        "(frames are sampled evenly)",
    )
    p.add_argument(
        "--style",
        nargs="+",
        metavar="IMAGE_OR_DIR",
        help="the painting, or a folder of a painter's works",
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="RUN_DIR",
        help="run directory: checkpoint.pt, config.json, metrics.csv, samples/, tensorboard/",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="TOML file with config tables ([generator], [data], [loss], [optim], ...) and "
        "[[phases]]: loss weights or content crops that change after a given step (after = "
        "1800, loss = { style = 20.0 }, data = { content_short_side = 320 }), exactly as a "
        "--branch-from at that step would",
    )
    p.add_argument(
        "--steps", type=int, help=f"total optimizer steps to reach (default {TrainConfig.steps})"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in RUN_DIR from its checkpoint (exactly)",
    )
    mode.add_argument(
        "--overwrite", action="store_true", help="delete the run already in RUN_DIR and start again"
    )
    p.add_argument(
        "--branch-from",
        type=Path,
        metavar="CHECKPOINT",
        help="start this new run from another run's checkpoint (e.g. "
        "RUN/checkpoints/step_001800.pt): its weights, optimizer and rate-controller state, step "
        "and config, with the changes given here (loss weights, rates, data, steps; not the "
        "networks); config.json records the parent",
    )
    p.add_argument("--batch-size", type=int, help="content crops per step and process")
    p.add_argument("--crop", type=int, help="crop size in pixels (a multiple of the stride)")
    p.add_argument(
        "--lr-policy",
        choices=[*LR_POLICIES, *LEGACY_LR_POLICIES],
        help="damped (default): D starts slow and earns its rate while it is weaker than a set "
        "point (a PI law on lr_D), which keeps D from turning confident and jumpy; both rates "
        "start low and drop during bursts of oscillation. balance: lr_G and lr_D move in "
        "opposite directions to keep G and D balanced ('adaptive' is its old name); fixed: "
        "base rates throughout",
    )
    p.add_argument("--seed", type=int, help="random seed (init and every batch)")
    p.add_argument("--threads", type=int, help="torch CPU threads (0: torch's default)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    p.add_argument(
        "--feature-weights",
        metavar="FILE|auto|random",
        help="feature network of the style and content losses: auto (default) takes the "
        "ImageNet VGG16 prepared by `python -m training.weights vgg16` when present and random "
        "features otherwise; or a VGG16/19 state dict (torchvision layout); never downloaded",
    )
    p.add_argument("--style-name", help="short style name stored in checkpoints and models")
    p.add_argument("--sample-every", type=int, metavar="K", help="sample grid PNG every K steps")
    p.add_argument("--checkpoint-every", type=int, metavar="K", help="checkpoint every K steps")
    p.add_argument(
        "--keep-every",
        type=int,
        metavar="K",
        help="also keep a copy of the checkpoint every K steps in RUN_DIR/checkpoints/ "
        "(step_N.pt), to export the best one after looking at the samples (default: off)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config value (repeatable), e.g. optim.lr_g=1e-4",
    )
    return p


def flag_overrides(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Config layers from the dedicated flags, then from --set, in precedence order."""
    flags: dict[str, Any] = {}
    for dest, key in FLAG_KEYS.items():
        value = getattr(args, dest)
        if value is not None:
            flags = _merge_assignment(flags, key, value)
    if args.content:
        flags["content"] = [str(p) for p in args.content]
    if args.style:
        flags = _merge_assignment(flags, "style.paths", [str(p) for p in args.style])
    return [flags, *(parse_assignment(text) for text in args.set)]


def _merge_assignment(layer: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    node = layer
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return layer


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out |= _flatten(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def _differing(new: dict[str, Any], saved: dict[str, Any]) -> set[str]:
    """Dotted config keys whose value in `new` is not the saved one."""
    flat_new, flat_saved = _flatten(new), _flatten(saved)
    return {k for k, v in flat_new.items() if v != flat_saved.get(k)}


def resume_config(run_dir: Path, layers: list[dict[str, Any]]) -> TrainConfig:
    """The run's saved config with the few changes a resume may make."""
    path = run_dir / CONFIG_NAME
    if not (run_dir / CHECKPOINT_NAME).is_file() or not path.is_file():
        raise TrainingError(f"{run_dir} holds no run to resume; start it without --resume")
    saved = upgrade_config(json.loads(path.read_text()))
    changed = {}
    for layer in layers:
        changed |= _flatten(layer)
    cfg = config_from_dict(saved)
    new = config_to_dict(resolve_config(saved, *layers))
    fixed = sorted(k for k in _differing(new, saved) & set(changed) if k not in RESUMABLE)
    if fixed:
        raise TrainingError(
            f"cannot change {', '.join(fixed)} when resuming (only {', '.join(sorted(RESUMABLE))})"
        )
    for key in RESUMABLE:
        setattr(cfg, key, new[key])
    validate(cfg)
    return cfg


def branch_config(checkpoint: Path, layers: list[dict[str, Any]]) -> TrainConfig:
    """The parent's config with this run's changes; its networks' shapes must stay as saved."""
    from training.checkpoint import load_checkpoint  # imports torch

    ckpt = load_checkpoint(checkpoint)
    saved = upgrade_config(ckpt["config"])
    new = config_to_dict(resolve_config(saved, *layers))
    networks = ("generator.", "discriminator.")
    fixed = sorted(k for k in _differing(new, saved) if k.startswith(networks))
    if fixed:
        raise TrainingError(
            f"cannot change {', '.join(fixed)} in a branch: the checkpoint's weights fit its "
            "networks as saved; start a new run instead"
        )
    cfg = config_from_dict(new)
    if cfg.steps <= ckpt["step"]:
        raise TrainingError(
            f"--steps ({cfg.steps}) must be above the checkpoint's step ({ckpt['step']})"
        )
    cfg.branched_from = f"{checkpoint} (step {ckpt['step']})"
    validate(cfg)
    return cfg


def fresh_config(args: argparse.Namespace, layers: list[dict[str, Any]]) -> TrainConfig:
    """Defaults < TOML < flags, checked for the inputs a new run needs."""
    toml = [load_toml(args.config)] if args.config else []
    cfg = resolve_config(*toml, *layers)
    if not cfg.content:
        raise TrainingError("no content given: pass --content DIR_OR_VIDEO (or content = [...])")
    if not cfg.style.paths:
        raise TrainingError("no style given: pass --style IMAGE_OR_DIR (or [style] paths = [...])")
    if not cfg.style.name:
        cfg.style.name = style_name(cfg.style.paths)
    return cfg


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to mix a new run into an existing one unless told what to do."""
    if resume or not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file; give a directory")
    is_run = any((run_dir / name).exists() for name in RUN_ARTIFACTS)
    if is_run and not overwrite:
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or --overwrite to "
            "start again"
        )
    if not is_run and any(run_dir.iterdir()):
        raise TrainingError(f"{run_dir} is not empty and holds no run; choose another --out")


def clear_run_dir(run_dir: Path) -> None:
    """Delete only the files a run writes (what --overwrite promises)."""
    for name in RUN_ARTIFACTS:
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@contextlib.contextmanager
def plain_data_warnings(console: Console) -> Iterator[None]:
    """Show data warnings as one plain line each, like the CLI's other messages."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, DataWarning):
            console.print(f"warning: {message}", markup=False, highlight=False)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = default


def run(argv: list[str] | None = None) -> None:
    """Parse the command line and train."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    if args.lr_policy in LEGACY_LR_POLICIES:
        args.lr_policy = LEGACY_LR_POLICIES[args.lr_policy]
        console.print(f"note: --lr-policy adaptive is now called {args.lr_policy}", markup=False)
    with plain_data_warnings(console):
        train(args, console)


def train(args: argparse.Namespace, console: Console) -> None:
    """Resolve the config, prepare the run directory (rank 0) and train."""
    layers = flag_overrides(args)
    if args.resume and args.branch_from:
        raise TrainingError("--branch-from starts a new run; it cannot be combined with --resume")
    if args.branch_from:
        toml = [load_toml(args.config)] if args.config else []
        cfg = branch_config(args.branch_from, [*toml, *layers])
    elif args.resume:
        cfg = resume_config(args.out, layers)
    else:
        cfg = fresh_config(args, layers)
    check_run_dir(args.out, args.resume, args.overwrite)

    from training.parallel import init_parallel, pick_device  # torch imports are slow
    from training.trainer import Trainer

    parallel = init_parallel(pick_device(cfg.device))
    if parallel.main:
        if args.overwrite:
            clear_run_dir(args.out)
        args.out.mkdir(parents=True, exist_ok=True)
    try:
        parallel.barrier()
        trainer = Trainer(cfg, args.out, args.resume, console, parallel, args.branch_from)
        if parallel.main:
            (args.out / CONFIG_NAME).write_text(json.dumps(trainer.config_dict, indent=2) + "\n")
            console.print(trainer.describe(), highlight=False)
        trainer.run()
    finally:
        parallel.close()
    if parallel.main:
        console.print(f"done: step {trainer.step}, checkpoint {args.out / CHECKPOINT_NAME}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit code 2."""

    def interrupted(e: KeyboardInterrupt) -> str:
        if isinstance(e, TrainingStopped):
            return f"stopped after step {e.step} (saved); resume with --resume"
        return "interrupted; continue from the last checkpoint with --resume"

    return exit_code(lambda: run(argv), interrupted)
