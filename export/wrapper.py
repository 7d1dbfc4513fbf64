"""The uint8 frames-in, frames-out module that is traced into the ONNX graph around a generator.

Everything per-pixel that is not the network itself lives here, so the runtime hands the model
the decoder's RGB bytes and gets bytes back: no Python loops, and a GPU moves 1 byte per
channel instead of 4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FramesWrapper(nn.Module):
    """uint8 [N, H, W, 3] RGB -> generator -> uint8 [N, H, W, 3], for any H and W.

    The frame gets a margin of one stride on every side, and is padded to the generator's
    stride, by repeating its edge pixels: zero padding would feed black borders into the
    convolutions and darken the picture's edges, and reflect padding fails on frames smaller
    than the padding. The margin keeps the generator's own border effects (its zero-padded
    high-resolution levels draw a line along the edges) out of the picture, for a few percent
    more pixels; it also makes the deepest level 3x3 or more even for a 1-pixel frame, so the
    network's own reflect padding has something to reflect. The padding is cropped off
    afterwards.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        stride = getattr(generator, "stride", None)
        if not isinstance(stride, int) or stride < 1:
            raise TypeError("the generator must have a positive int attribute `stride`")
        self.generator = generator
        self.stride = stride

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        height, width = frames.shape[1], frames.shape[2]
        x = frames.permute(0, 3, 1, 2).to(torch.float32) / 255.0
        m = self.stride  # the margin
        pad_h = self._padded(height + 2 * m) - height - m
        pad_w = self._padded(width + 2 * m) - width - m
        x = F.pad(x, (m, pad_w, m, pad_h), mode="replicate")
        y = self.generator(x)[:, :, m : m + height, m : m + width]
        y = torch.round(torch.clamp(y, 0.0, 1.0) * 255.0)
        return y.to(torch.uint8).permute(0, 2, 3, 1)

    def _padded(self, size: int) -> int:
        """`size` rounded up to the stride (symbolic when traced)."""
        return (size + self.stride - 1) // self.stride * self.stride
