"""Frozen feature networks whose activations describe a painting's texture and a photo's content.

Nothing is downloaded here. The default ("auto") is the ImageNet VGG16 that
`python -m training.weights vgg16` prepares once in the user cache (relu1_2 .. relu4_3 for
style, one of them for perceptual content): its features carry strokes and swirls. Without it,
a fixed random-weight multi-scale conv net is the fallback: random ReLU features capture
palettes and fine marks (Ustyuzhaninov et al. 2017) and are regenerated from a seed. Any other
VGG16/19 state dict in torchvision's key layout may be named with `--feature-weights`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from training.errors import TrainingError
from training.weights import installed_vgg16, read_record

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class RandomFeatures(nn.Module):
    """One layer of random zero-mean filters of several sizes (3x3 to 11x11 by default) on each
    level of an image pyramid (1/2, 1/4, 1/8), then ReLU.

    Wide single-layer random filters describe texture far better than small stacked ones
    (Ustyuzhaninov et al. 2017, "What does it take to generate natural textures?"): optimizing
    a photo against The Starry Night's statistics gave coloured speckle with two 3x3 layers and
    stroke-like dashes with 64 filters of 3, 7 and 11 pixels. Full resolution is left out on
    purpose: its statistics reward pixel-level noise, which a small generator most cheaply
    supplies as a periodic grid, not strokes."""

    def __init__(
        self,
        seed: int,
        width: int = 64,
        kernels: tuple[int, ...] = (3, 7, 11),
        scales: tuple[int, ...] = (2, 4, 8),
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.layers = [(scale, kernel) for scale in scales for kernel in kernels]
        for i, (_, k) in enumerate(self.layers):
            w = torch.randn(width, 3, k, k, generator=gen) * (2 / (3 * k * k)) ** 0.5
            # Zero-mean filters respond to texture, not to the (colour-loss-governed) mean.
            self.register_buffer(f"w{i}", w - w.mean(dim=(1, 2, 3), keepdim=True))
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - x.new_tensor(MEAN)[:, None, None]) / x.new_tensor(STD)[:, None, None]
        pyramid: dict[int, torch.Tensor] = {}
        feats = []
        for i, (scale, k) in enumerate(self.layers):
            if scale not in pyramid:
                pyramid[scale] = F.avg_pool2d(x, scale) if scale > 1 else x
            feats.append(F.relu(F.conv2d(pyramid[scale], getattr(self, f"w{i}"), padding=k // 2)))
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

    def forward(self, x: torch.Tensor, depth: int = 4) -> list[torch.Tensor]:
        """The first `depth` taps (relu1_2, relu2_2, relu3_3, relu4_3); deeper layers are not
        computed, so a content target at relu2_2 costs two blocks, not four."""
        x = (x - x.new_tensor(MEAN)[:, None, None]) / x.new_tensor(STD)[:, None, None]
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
                if len(feats) == depth:
                    break
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


RANDOM = "random"


def cpu_bf16_native() -> bool:
    """Whether oneDNN runs bf16 convolutions natively here (AMX, AVX512-BF16): there the
    frozen VGG runs about twice as fast under bf16 autocast; elsewhere bf16 would be slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN, or another architecture
        return False


def resolve_feature_weights(value: str) -> tuple[str, str]:
    """The weights a run uses and a line saying what they are and where they come from.

    "auto" takes the prepared VGG16 when the cache has it and random features otherwise; a
    prepared file is checked against its recorded checksum before it is used."""
    if value == "auto":
        found = installed_vgg16()
        if found is None:
            return RANDOM, (
                "random features (no pretrained VGG16 prepared; `python -m training.weights "
                "vgg16` fetches one, and strokes need it)"
            )
        value = str(found)
    if value in (RANDOM, ""):
        return RANDOM, "random features (chosen by loss.feature_weights)"
    path = Path(value)
    if path.with_suffix(".json").is_file():
        record = read_record(path)
        return value, f"VGG16 from {record.source}; {record.licence}"
    return value, f"VGG weights from {path} (provenance not recorded)"


def build_feature_net(
    seed: int, weights: str, width: int = 64, kernels: tuple[int, ...] = (3, 7, 11)
) -> nn.Module:
    """The feature network: VGG from a resolved weights file, else random features."""
    if weights in (RANDOM, ""):
        return RandomFeatures(seed, width, kernels)
    return load_vgg(Path(weights))
