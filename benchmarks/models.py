"""Which models a benchmark runs: those named on the command line, else every bundled style,
else a freshly built untrained generator, so every script runs before any style is trained
(and says which case it is in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stream_astgan import catalog

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

UNTRAINED_NOTE = (
    "no bundled model is installed: an untrained default generator (random weights) stands in; "
    "its figures measure the network, not a style"
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PHOTOS = SHARED_DATA / "content" / "photos"
BOX = SHARED_DATA / "video" / "box.mp4"


@dataclass(frozen=True)
class ContractModel:
    """A contract-following ONNX file and the name the tables show for it."""

    label: str
    path: Path


def contract_models(given: list[str] | None, tmp: Path) -> tuple[list[ContractModel], str]:
    """The models to run (names or .onnx paths, as `--model` takes them) and a note for the table.

    A bundled name resolves to the file a CPU run would load (int8 only where recommended).
    """
    if given:
        return [ContractModel(label(m), catalog.resolve(m, gpu=False)) for m in given], ""
    styles = sorted(catalog.bundled())
    if styles:
        return [ContractModel(s, catalog.resolve(s, gpu=False)) for s in styles], ""
    return [ContractModel("untrained", untrained_onnx(tmp / "untrained.onnx"))], UNTRAINED_NOTE


def label(model: str) -> str:
    """A bundled name as it is, a path by its file name (tables and pictures stay narrow)."""
    return Path(model).name if catalog.looks_like_path(model) else model


def untrained_onnx(path: Path) -> Path:
    """The default GeneratorConfig, seeded random weights, exported as the runtime's fp32 model."""
    import onnx

    from export.fusion import fold_normalization
    from export.onnx_export import export_fp32

    onnx.save(export_fp32(fold_normalization(generator_for(None)[0])), path)
    return path


def generator_for(checkpoint: Path | None) -> tuple[nn.Module, str]:
    """The checkpoint's generator in eval mode, or the default config's with seed-0 weights."""
    import torch

    from training.checkpoint import build_generator, load_generator_checkpoint
    from training.config import GeneratorConfig
    from training.networks import build_generator as build

    if checkpoint is not None:
        ckpt = load_generator_checkpoint(checkpoint)
        return build_generator(ckpt), f"{ckpt.style_name} (step {ckpt.step}, {checkpoint})"
    torch.manual_seed(0)
    return build(GeneratorConfig()).eval(), "default GeneratorConfig, untrained (seed 0)"


class TorchEngine:
    """A training checkpoint behind the runtime's frame contract (uint8 NHWC in and out), in
    torch: benchmarks compare checkpoints (ablation runs, anchors) without exporting each."""

    def __init__(self, checkpoint: Path) -> None:
        import torch

        from export.wrapper import FramesWrapper
        from training.checkpoint import build_generator, load_generator_checkpoint

        ckpt = load_generator_checkpoint(checkpoint)
        self.step = ckpt.step
        self.net = FramesWrapper(build_generator(ckpt)).eval()
        self.torch = torch  # the module imports torch only when a checkpoint is used

    def run(self, frames: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.net(self.torch.from_numpy(frames)).numpy()
