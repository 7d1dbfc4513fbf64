"""Benchmarks that train: bring a kept run to a step count (reused when finished, resumed
when not, refused when trained with other settings) and score its checkpoint on the held-out
photos of `benchmarks.quality`. The learning-rate ablation and the recipe A/B share these."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.models import BOX, TorchEngine
from benchmarks.quality import held_out_photos, painting_grams, prepared_vgg, scores, to_tensor
from benchmarks.temporal import measure
from benchmarks.usage import fail
from stream_astgan.sources import open_source
from training.checkpoint import CHECKPOINT_NAME
from training.cli import main as train_main
from training.features import VGGFeatures
from training.metrics import read_metrics


def quality(
    checkpoint: Path,
    photos: dict[str, np.ndarray],
    vgg: VGGFeatures,
    target: list[torch.Tensor],
    flicker: bool = True,
) -> dict[str, float]:
    """Held-out Gram ratio and content distance, and (`flicker`) the warping ratio on all of
    box.mp4, which for a large generator run in torch takes most of the time."""
    engine = TorchEngine(checkpoint)
    ratios, contents = [], []
    for rgb in photos.values():
        ratio, content = scores(vgg, to_tensor(rgb), to_tensor(engine.run(rgb[None])[0]), target)
        ratios.append(ratio)
        contents.append(content)
    out = {"gram_ratio": statistics.fmean(ratios), "content": statistics.fmean(contents)}
    if flicker and BOX.is_file():
        source = open_source(BOX)
        try:
            errors, _ = measure(source.frames(), {"model": engine}, 0)
        finally:
            source.close()
        out["warping_ratio_box"] = statistics.fmean(errors["model"]) / statistics.fmean(
            errors["source"]
        )
    return out


class HeldOut:
    """The held-out photos and, loaded once on first use, the VGG and the painting's Grams."""

    def __init__(self) -> None:
        self.photos = held_out_photos(384)
        self.loaded: tuple[VGGFeatures, dict[str, list[torch.Tensor]]] | None = None

    def figures(
        self,
        run: Path,
        config: dict[str, Any],
        step: int,
        checkpoint: str = CHECKPOINT_NAME,
        flicker: bool = True,
    ) -> dict[str, float]:
        """`quality` of one of the run's checkpoints (the final one by default), kept in the run
        dir for the next call (which measures the flicker if it was skipped and is now asked)."""
        cache = run / "held_out_quality.json"
        kept = json.loads(cache.read_text()) if cache.is_file() else {}
        key = f"{checkpoint}@{step}"
        if key in kept and not (flicker and BOX.is_file() and "warping_ratio_box" not in kept[key]):
            return kept[key]
        if self.loaded is None:
            self.loaded = prepared_vgg()[0], {}
        vgg, targets = self.loaded
        painting = ",".join(Path(p).name for p in config["style"]["paths"])
        if painting not in targets:
            targets[painting] = painting_grams(vgg, painting)
        kept[key] = quality(run / checkpoint, self.photos, vgg, targets[painting], flicker)
        cache.write_text(json.dumps(kept))
        return kept[key]


def train(run: Path, args: list[str], steps: int) -> None:
    """Train to `steps`, reusing a finished run and resuming an interrupted one; a run dir
    trained with other arguments is refused, so a changed setting never reuses stale runs."""
    every = ["--sample-every", str(steps), "--checkpoint-every", "50"]
    record = run / "ablation_args.json"
    at = args.index("--threads")
    setting = args[:at] + args[at + 2 :]  # threads change the speed, not the run
    if (run / CHECKPOINT_NAME).is_file():
        if record.is_file() and json.loads(record.read_text()) != setting:
            fail(f"{run} was trained with other settings; use another --runs or remove it")
        done = max((int(r["step"]) for r in read_metrics(run / "metrics.csv")), default=0)
        if done >= steps:
            return
        command = ["--out", str(run), "--resume", "--steps", str(steps), *every]
    else:
        command = [*args, "--out", str(run), "--overwrite", "--steps", str(steps), *every]
    code = train_main(command)
    if code:
        raise SystemExit(code)
    record.write_text(json.dumps(setting))
