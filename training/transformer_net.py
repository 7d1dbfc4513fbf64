"""Johnson et al.'s feed-forward style network (pytorch/examples fast_neural_style), the anchor.

The quality benchmark compares the real-time generator with this architecture trained by the
same recipe: the published layout (9x9 stem, two stride-2 convolutions, five 128-channel
residual blocks, nearest-upsample convolutions, 9x9 head; reflection padding, instance norm),
with two changes so it drops into the trainer and the runtime contract: RGB in [0, 1] in and a
sigmoid out (the original works on 0-255 and leaves the output unbounded), and the
`encode`/`decode` split the trainer calls. It is ~50x the generator's cost per frame, so it is
an anchor for benchmarks, not a bundled style.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, padding_mode="reflect"),
        nn.InstanceNorm2d(cout, affine=True),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, 3), _conv(channels, channels, 3, act=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _UpConv(nn.Module):
    """Nearest 2x then a convolution (the original's UpsampleConvLayer)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _conv(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class TransformerNet(nn.Module):
    """~1.7 M parameters; stride 4, so inputs are padded to multiples of 4 like the generator's."""

    stride = 4

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Sequential(_conv(3, 32, 9), _conv(32, 64, 3, 2), _conv(64, 128, 3, 2))
        self.blocks = nn.Sequential(*(_Residual(128) for _ in range(5)))
        self.up = nn.Sequential(_UpConv(128, 64), _UpConv(64, 32))
        self.head = nn.Conv2d(32, 3, 9, 1, 4, padding_mode="reflect")

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The down-sampled features (the content space when no VGG features are present)."""
        return [self.down(x)]

    def decode(self, feats: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        del x  # direct output: the photo only enters through the encoder
        return torch.sigmoid(self.head(self.up(self.blocks(feats[-1]))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), x)
