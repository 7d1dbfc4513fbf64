"""Frozen feature networks whose activation statistics describe a painting's texture.

No weights are downloaded. The default is a fixed random-weight multi-scale conv net: random
ReLU features already capture texture statistics well (Ulyanov et al. 2016, He et al. 2016
"random networks for texture synthesis"), and its weights are regenerated from a seed, so
checkpoints need not carry them. A VGG16/19 state dict in torchvision's key layout may be
given with `--feature-weights` (then relu1_2 .. relu4_3/4 are used).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from training.errors import TrainingError

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class RandomFeatures(nn.Module):
    """Two random 3x3 conv+ReLU layers on each level of an image pyramid (1/2, 1/4, 1/8).

    Full resolution is left out on purpose: its statistics reward any pixel-level high
    frequency, which a small generator most cheaply supplies as a periodic grid, not strokes."""

    def __init__(self, seed: int, width: int = 32, scales: tuple[int, ...] = (2, 4, 8)) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.scales = scales
        for i in range(len(scales)):
            w1 = torch.randn(width, 3, 3, 3, generator=gen) * (2 / 27) ** 0.5
            # Zero-mean filters respond to texture, not to the (colour-loss-governed) mean.
            self.register_buffer(f"w1_{i}", w1 - w1.mean(dim=(1, 2, 3), keepdim=True))
            w2 = torch.randn(width, width, 3, 3, generator=gen) * (2 / (9 * width)) ** 0.5
            self.register_buffer(f"w2_{i}", w2)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - x.new_tensor(MEAN)[:, None, None]) / x.new_tensor(STD)[:, None, None]
        feats = []
        for i, scale in enumerate(self.scales):
            xs = F.avg_pool2d(x, scale) if scale > 1 else x
            feats.append(F.relu(F.conv2d(xs, getattr(self, f"w1_{i}"), padding=1)))
            feats.append(F.relu(F.conv2d(feats[-1], getattr(self, f"w2_{i}"), padding=1)))
        return feats


VGG_BLOCKS = {13: (2, 2, 3, 3, 3), 16: (2, 2, 4, 4, 4)}  # conv layers -> convs per block
VGG_WIDTHS = (64, 128, 256, 512, 512)


class VGGFeatures(nn.Module):
    """VGG16/19 `features` trunk up to block 4, returning the last ReLU of each block."""

    def __init__(self, convs_per_block: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        self.taps = []
        cin = 3
        for block, (count, width) in enumerate(zip(convs_per_block[:4], VGG_WIDTHS, strict=False)):
            if block:
                layers.append(nn.MaxPool2d(2))
            for _ in range(count):
                layers += [nn.Conv2d(cin, width, 3, padding=1), nn.ReLU()]
                cin = width
            self.taps.append(len(layers) - 1)
        self.features = nn.Sequential(*layers)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - x.new_tensor(MEAN)[:, None, None]) / x.new_tensor(STD)[:, None, None]
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
        return feats


def load_vgg(path: Path) -> VGGFeatures:
    """Build VGG16 or VGG19 to match a torchvision-layout state dict file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as e:
        raise TrainingError(f"cannot read feature weights {path}: {e}") from None
    state = {k: v for k, v in state.items() if k.startswith("features.")}
    n_convs = sum(1 for k in state if k.endswith(".weight"))
    if n_convs not in VGG_BLOCKS:
        raise TrainingError(
            f"{path} is not a VGG16/19 state dict (found {n_convs} 'features.*' conv weights; "
            "expected torchvision's vgg16/vgg19 key layout)"
        )
    net = VGGFeatures(VGG_BLOCKS[n_convs])
    own = net.state_dict()
    net.load_state_dict({k: v for k, v in state.items() if k in own})
    return net.eval()


def build_feature_net(seed: int, weights: str) -> nn.Module:
    """The style feature network: the user's VGG weights if given, else random features."""
    return load_vgg(Path(weights)) if weights else RandomFeatures(seed)
