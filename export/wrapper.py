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

    The frame is padded to the generator's stride by repeating its edge pixels: zero padding
    would feed black borders into the convolutions and darken the picture's edges, and reflect
    padding fails on frames smaller than the padding. Frames are also padded to at least two
    strides, so that the deepest level is 2x2 or more and the network's own reflect padding
    has something to reflect. The padding is cropped off afterwards.
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
        pad_h = self._padded(height) - height
        pad_w = self._padded(width) - width
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        y = self.generator(x)[:, :, :height, :width]
        y = torch.round(torch.clamp(y, 0.0, 1.0) * 255.0)
        return y.to(torch.uint8).permute(0, 2, 3, 1)

    def _padded(self, size: int) -> int:
        """`size` rounded up to the stride, and at least two strides (symbolic when traced)."""
        rounded = (size + self.stride - 1) // self.stride * self.stride
        return torch.sym_max(rounded, 2 * self.stride)
