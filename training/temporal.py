"""Synthetic motion for the flow-free temporal loss (Wang et al. 2020).

A video's next frame is roughly the current one moved a little, plus sensor noise. So instead
of optical flow, the loss warps a content crop with a random smooth field W (a small affine
motion plus a coarse elastic term) and compares stylize(next) with W(stylize(x)), where the
"next frame" is x moved by W plus a small smooth error field (no estimated flow is exact:
DIS is off by a fraction of a pixel at edges) plus sensor noise, per pixel and, optionally,
in blocks (`smooth_noise`: a codec's drift in flat areas). That is how the warping-error
benchmark sees a real video, so the loss can hold the stylized residual to the source's.

The warped pair mixes three sources of change (interpolation, flow error, noise), so the
strokes the generator re-draws when the scene moves by less than its stride (its sampling
grid's aliasing, which benchmarks/shift.py measures) are a small part of what that ratio sees.
Exact moves single them out: rolling the crop by whole pixels changes nothing else in the
input (`random_moves`, `move`, `moved_mask`). What still reaches the term besides the grid:
the roll's seam, through receptive fields wider than the mask's margin, and the instance
normalization, whose statistics past the first reduction differ a little between the two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_smooth_grid(
    n: int, height: int, width: int, strength: float, gen: torch.Generator
) -> torch.Tensor:
    """A sampling grid [n, H, W, 2] in grid_sample coordinates for a random smooth motion."""

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen) * 2 - 1

    angle = u(n) * strength * 2  # radians
    scale = 1 + u(n) * strength
    shift = u(n, 2) * strength * 2  # grid units span 2 per image side
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
    elastic = u(n, 2, 4, 4) * strength
    elastic = F.interpolate(elastic, size=(height, width), mode="bicubic", align_corners=False)
    return grid + elastic.permute(0, 2, 3, 1)


def flow_error(
    n: int, height: int, width: int, pixels: float, gen: torch.Generator
) -> torch.Tensor:
    """A smooth random displacement of up to about `pixels` pixels, in grid units [n, H, W, 2]:
    the difference between a true motion and the flow an estimator would report for it."""
    field = (torch.rand(n, 2, 6, 6, generator=gen) * 2 - 1) * pixels
    field = F.interpolate(field, size=(height, width), mode="bicubic", align_corners=False)
    to_grid = torch.tensor([2 / width, 2 / height])[None, :, None, None]
    return (field * to_grid).permute(0, 2, 3, 1)


def smooth_noise(
    shape: tuple[int, int, int, int], std: float, cells: list[int], gen: torch.Generator
) -> torch.Tensor:
    """Noise [n, C, H, W] that varies over `cells`-pixel blocks (one equal-variance octave per
    cell size, bicubic between block centres): what a video codec's quantisation leaves in
    flat areas, which per-pixel noise does not model. The generator's blurs remove per-pixel
    noise before its deep levels, but pass this, and instance normalization there can turn it
    into strokes that change every frame (`benchmarks.flicker_sources`)."""
    n, c, height, width = shape
    total = torch.zeros(shape)
    for cell in cells:
        coarse = torch.randn(n, c, height // cell + 2, width // cell + 2, generator=gen)
        size = (coarse.shape[2] * cell, coarse.shape[3] * cell)
        field = F.interpolate(coarse, size=size, mode="bicubic", align_corners=False)
        field = field[..., cell : cell + height, cell : cell + width]
        total += field / field.std()
    return total * (std / len(cells) ** 0.5)


def warp(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Resample images along a grid (border pixels repeat outside)."""
    return F.grid_sample(
        images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )


def valid_mask(grid: torch.Tensor) -> torch.Tensor:
    """[n, 1, H, W] 1 where the grid samples inside the image, 0 where border pixels repeat."""
    inside = (grid.abs() <= 1).all(dim=-1, keepdim=True)
    return inside.permute(0, 3, 1, 2).to(grid.dtype)


def random_moves(n: int, stride: int, gen: torch.Generator) -> list[tuple[int, int]]:
    """One (dy, dx) per image, each in [0, stride) and not both 0: a move the generator's
    grid cannot follow by construction."""
    moves = []
    for _ in range(n):
        index = int(torch.randint(1, stride * stride, (1,), generator=gen))
        moves.append((index // stride, index % stride))
    return moves


def move(images: torch.Tensor, moves: list[tuple[int, int]]) -> torch.Tensor:
    """Roll each image [C, H, W] by its (dy, dx): exact, the same pixels in another place; the
    wrapped band is what `moved_mask` leaves out."""
    return torch.stack(
        [torch.roll(im, m, dims=(1, 2)) for im, m in zip(images, moves, strict=True)]
    )


def moved_mask(
    n: int, height: int, width: int, moves: list[tuple[int, int]], margin: int
) -> torch.Tensor:
    """[n, 1, H, W] 1 on the pixels of a rolled frame at least `margin` from its seam and its
    edges (the image's border, which zero padding sees, moves with the roll)."""
    mask = torch.zeros(n, 1, height, width)
    for i, (dy, dx) in enumerate(moves):
        mask[i, :, dy + margin : height - margin, dx + margin : width - margin] = 1
    return mask
