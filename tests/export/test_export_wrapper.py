"""The uint8 frames wrapper: shapes, padding by edge replication, exact crop back."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from export.wrapper import FramesWrapper


class RecordingIdentity(nn.Module):
    """Returns its input and keeps it, and insists on the stride like the real generator."""

    stride = 8

    def __init__(self) -> None:
        super().__init__()
        self.seen: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[2] % self.stride == 0 and x.shape[3] % self.stride == 0
        self.seen = x
        return x


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(1, 3),
    st.integers(1, 70),
    st.integers(1, 70),
    st.sampled_from([(1, 97, 131, 3), None]),
)
def test_identity_generator_returns_the_frames_unchanged(
    batch: int, height: int, width: int, fixed: tuple[int, ...] | None
) -> None:
    shape = fixed or (batch, height, width, 3)
    frames = torch.randint(0, 256, shape, dtype=torch.uint8)
    out = FramesWrapper(RecordingIdentity())(frames)
    assert out.dtype == torch.uint8
    assert torch.equal(out, frames)


def test_padding_repeats_the_edge_pixels_so_borders_do_not_darken() -> None:
    generator = RecordingIdentity()
    frames = torch.randint(0, 256, (1, 13, 21, 3), dtype=torch.uint8)
    FramesWrapper(generator)(frames)
    seen = generator.seen
    # a margin of one stride (8) on every side, then up to the stride: 13+16 -> 32, 21+16 -> 40
    assert seen is not None and seen.shape == (1, 3, 32, 40)
    picture = frames.permute(0, 3, 1, 2).float() / 255
    assert torch.equal(seen[:, :, 8:21, 8:29], picture)
    first_row, last_row = seen[:, :, 8:9, :], seen[:, :, 20:21, :]
    first_col, last_col = seen[:, :, :, 8:9], seen[:, :, :, 28:29]
    assert torch.equal(seen[:, :, :8, :], first_row.expand(-1, -1, 8, -1))
    assert torch.equal(seen[:, :, 21:, :], last_row.expand(-1, -1, 11, -1))
    assert torch.equal(seen[:, :, :, :8], first_col.expand(-1, -1, -1, 8))
    assert torch.equal(seen[:, :, :, 29:], last_col.expand(-1, -1, -1, 11))


def test_the_margin_keeps_a_zero_padded_generator_s_border_out_of_the_picture() -> None:
    """A 3x3 box filter with zero padding darkens the outermost pixels of a flat grey frame
    (to 4/9 in the corners); with the margin those pixels are computed from the repeated edge."""

    class ZeroPaddedBlur(nn.Module):
        stride = 8

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            box = torch.full((3, 1, 3, 3), 1 / 9)
            return torch.nn.functional.conv2d(x, box, padding=1, groups=3)

    frames = torch.full((1, 24, 40, 3), 200, dtype=torch.uint8)
    out = FramesWrapper(ZeroPaddedBlur())(frames)
    assert torch.equal(out, frames)


def test_output_is_clamped_and_rounded() -> None:
    class Overshoot(nn.Module):
        stride = 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 3 - 1  # pushes dark pixels below 0 and bright ones above 1

    frames = torch.tensor([[[[0, 100, 255]]]], dtype=torch.uint8)
    out = FramesWrapper(Overshoot())(frames)
    assert out.tolist() == [[[[0, 45, 255]]]]  # 100 -> 300/255 - 1 = 0.176 -> 45


def test_a_generator_without_stride_is_refused() -> None:
    with pytest.raises(TypeError, match="stride"):
        FramesWrapper(nn.Identity())


def test_tiny_frames_reach_three_strides() -> None:
    """The network's own reflect padding needs a deepest level of at least 2x2."""
    generator = RecordingIdentity()
    FramesWrapper(generator)(torch.zeros(1, 1, 1, 3, dtype=torch.uint8))
    assert generator.seen is not None and generator.seen.shape == (1, 3, 24, 24)  # 1 + 16 -> 24
    FramesWrapper(generator)(torch.zeros(1, 1, 9, 3, dtype=torch.uint8))
    assert generator.seen is not None and generator.seen.shape == (1, 3, 24, 32)
