"""Tiny checkpoints, exported models and photos shared by the export tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
import torch
from torch import nn

from export.fusion import fold_normalization
from export.onnx_export import export_fp32
from training.checkpoint import FORMAT as CHECKPOINT_FORMAT
from training.config import GeneratorConfig, StyleConfig, TrainConfig, config_hash, config_to_dict
from training.networks import build_generator

TINY = {
    "width": 4,
    "max_width": 8,
    "downsamples": 2,
    "res_blocks": 1,
    "bottleneck": 1,
    "norm": "batch",
    "padding": "reflect",
    "plain_levels": 1,
    "smooth_output": True,
}
"""A generator of ~2.5k parameters with stride 4: real architecture, milliseconds per frame.
Batch norm is chosen explicitly (below the one plain level) so that folding it is part of
what the tests export."""

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    """Other work shares this machine's two cores; one thread keeps the suite polite."""
    torch.set_num_threads(1)


def tiny_generator(seed: int = 0, **overrides: Any) -> nn.Module:
    """A tiny real generator with trained-looking weights and batch-norm statistics.

    Fresh batch norms are the identity and fresh residual blocks start as the identity, which
    would make folding and parity trivially right, so both are perturbed.
    """
    torch.manual_seed(seed)
    generator = build_generator(GeneratorConfig(**(TINY | overrides)))
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.add_(torch.randn_like(module.weight) * 0.1)
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.3, 0.3)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return generator.eval()


def write_checkpoint(path: Path, seed: int = 0, **overrides: Any) -> Path:
    """A checkpoint in the contract's format: `torch.save` of a plain dict."""
    generator_cfg = GeneratorConfig(**(TINY | overrides))
    style = StyleConfig(name="tiny-style", paths=["/paintings/starry_night.jpg"])
    config = config_to_dict(TrainConfig(generator=generator_cfg, style=style))
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "step": 321,
        "config": config,
        "config_hash": config_hash(config),
        "generator": tiny_generator(seed, **overrides).state_dict(),
        "discriminator": {},
        "opt_g": {},
        "opt_d": {},
        "lr_controller": {},
        "rng": {},
    }
    torch.save(checkpoint, path)
    return path


@pytest.fixture(scope="session")
def make_checkpoint() -> Callable[..., Path]:
    """`make_checkpoint(path, seed=0, **generator_overrides)` writes a tiny checkpoint."""
    return write_checkpoint


@pytest.fixture(scope="session")
def checkpoint_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="session")
def generator() -> nn.Module:
    return tiny_generator()


@pytest.fixture(scope="session")
def fp32_model(generator: nn.Module) -> onnx.ModelProto:
    """The tiny generator exported once for all tests that only read the fp32 graph."""
    return export_fp32(fold_normalization(generator))


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real photos when ../shared/data is present, otherwise five synthetic ones.

    The synthetic photos (smooth colour fields with shapes and edges) keep the calibration
    and parity tests runnable without the shared data.
    """
    real = SHARED_DATA / "content" / "photos"
    if real.is_dir():
        return real
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    for i in range(5):
        y, x = np.mgrid[0:180, 0:320].astype(np.float32)
        image = np.stack([x / 320 * 255, y / 180 * 255, np.full_like(x, 40.0 * i)], -1)
        center = (int(rng.integers(40, 280)), int(rng.integers(40, 140)))
        cv2.circle(image, center, 30, tuple(float(v) for v in rng.integers(0, 256, 3)), -1)
        cv2.imwrite(str(folder / f"synthetic{i}.png"), image.astype(np.uint8))
    return folder


@pytest.fixture(scope="session")
def shared_photos() -> Path:
    """The shared real photos; tests that need real media skip cleanly without them."""
    folder = SHARED_DATA / "content" / "photos"
    if not folder.is_dir():
        pytest.skip("../shared/data is not present")
    return folder
