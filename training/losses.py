"""The loss terms: adversarial, style statistics, content, pooled image, colour, TV, temporal,
move.

Each term is a small function of tensors; the trainer weights and sums them. Statistics-based
terms are relative errors (divided by the target's magnitude), so every layer and every term is
O(1) and the config weights mean what they say whatever the feature network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-8


def discriminator_loss(
    real: list[torch.Tensor], fake: list[torch.Tensor], mode: str
) -> torch.Tensor:
    """D's loss (real + fake terms), averaged over scales; 2 (hinge) / 0.5 (LSGAN) at balance."""
    total = real[0].new_zeros(())
    for r, f in zip(real, fake, strict=True):
        if mode == "hinge":
            total = total + F.relu(1 - r).mean() + F.relu(1 + f).mean()
        else:
            total = total + (r - 1).square().mean() + f.square().mean()
    return total / len(real)


def generator_adv_loss(fake: list[torch.Tensor], mode: str) -> torch.Tensor:
    """G's adversarial loss, averaged over scales."""
    losses = [-f.mean() if mode == "hinge" else (f - 1).square().mean() for f in fake]
    return torch.stack(losses).mean()


def centred_gram(f: torch.Tensor) -> torch.Tensor:
    """Per-sample Gram matrix [N, C, C] of the features minus their spatial mean.

    ReLU features have large means, so a plain Gram matrix is dominated by the outer product
    of the means; a relative error on it is small long before the texture (the covariance)
    matches. Centring makes the covariance carry its own weight; the means are kept apart."""
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w).float()
    flat = flat - flat.mean(dim=2, keepdim=True)
    return flat @ flat.transpose(1, 2) / (h * w)


def feature_stats(feats: list[torch.Tensor], kind: str) -> list[torch.Tensor]:
    """Per-sample texture statistics of each layer: "gram" gives the centred Gram matrix and
    the channel means as two entries; "meanstd" the channel means and standard deviations."""
    stats = []
    for f in feats:
        mean = f.float().mean((2, 3))
        second = centred_gram(f) if kind == "gram" else f.float().std((2, 3))
        stats += [mean, second]
    return stats


def style_targets(feats: list[torch.Tensor], kind: str) -> list[torch.Tensor]:
    """The painting's statistics: the per-patch statistics averaged over patches."""
    return [s.mean(0).detach() for s in feature_stats(feats, kind)]


def style_loss(
    feats: list[torch.Tensor], targets: list[torch.Tensor], kind: str, means: float = 1.0
) -> torch.Tensor:
    """Relative squared error of each sample's statistics to the painting's, averaged over
    layers and statistics.

    `means` weighs the channel means against the second statistic (their average weight stays
    1, so the style weight keeps its meaning). A plain Gram matrix, which the quality benchmark
    judges, is dominated by the means' outer product; at equal weights this loss gives the
    covariance as much pull as the means."""
    losses = torch.stack(
        [
            (s - t).square().sum(dim=tuple(range(1, s.dim()))).mean() / (t.square().sum() + EPS)
            for s, t in zip(feature_stats(feats, kind), targets, strict=True)
        ]
    )
    weights = losses.new_tensor([means, 1.0]).repeat(len(losses) // 2)
    return (losses * weights).sum() / weights.sum()


def content_loss(photo_feats: torch.Tensor, output_feats: torch.Tensor) -> torch.Tensor:
    """Feature reconstruction: the photo and its stylization share features of a pretrained
    VGG (Johnson et al. 2016) or, with random features, of the generator encoder's deepest
    level (Sanakoyeu et al. 2018). Relative error, so the encoder cannot satisfy it by
    shrinking its features."""
    target = photo_feats.detach().float()
    return (output_feats.float() - target).square().mean() / (target.square().mean() + EPS)


def pooled_loss(output: torch.Tensor, photo: torch.Tensor, factor: int) -> torch.Tensor:
    """L1 between heavily blurred output and photo: layout and rough colours survive."""
    return (F.avg_pool2d(output, factor) - F.avg_pool2d(photo, factor)).abs().mean()


LUMA = (0.299, 0.587, 0.114)


def structure_loss(output: torch.Tensor, photo: torch.Tensor, window: int = 7) -> torch.Tensor:
    """1 - local correlation of the output's luminance with the photo's, at half resolution,
    averaged over windows weighted by how much structure the photo has there.

    Correlation ignores brightness and contrast, so the palette may change freely; the weight
    is ~0 where the photo is flat, so strokes may fill the sky; where the photo has edges (eyes,
    letters, outlines) the output's luminance must follow them, or lose up to 2 (inverted).
    That keeps faces and text that the pooled L1 blurs away."""
    luma = output.new_tensor(LUMA)[:, None, None]
    a = F.avg_pool2d((output * luma).sum(1, keepdim=True), 2)
    b = F.avg_pool2d((photo * luma).sum(1, keepdim=True), 2)

    def local(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(t, window, stride=1)

    mu_a, mu_b = local(a), local(b)
    var_a = (local(a * a) - mu_a.square()).clamp_min(0)
    var_b = (local(b * b) - mu_b.square()).clamp_min(0)
    corr = (local(a * b) - mu_a * mu_b) / ((var_a * var_b).clamp_min(1e-12).sqrt() + 1e-4)
    weight = var_b / (var_b + 0.03**2)
    return ((1 - corr) * weight).sum() / (weight.sum() + EPS)


def colour_stats(images: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and std over a batch: the palette in six numbers."""
    flat = images.float().transpose(0, 1).reshape(3, -1)
    return torch.cat([flat.mean(1), flat.std(1)])


def colour_loss(output: torch.Tensor, painting_stats: torch.Tensor) -> torch.Tensor:
    """L1 between the output batch's palette and the painting's."""
    return (colour_stats(output) - painting_stats).abs().mean()


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """Total variation: mean absolute difference of neighbouring pixels."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return dx + dy


def flicker_ratio(
    stylized_next: torch.Tensor,
    warped_stylized: torch.Tensor,
    source_next: torch.Tensor,
    warped_source: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Warping error of the stylized pair over that of the source pair (Lai et al. 2018's
    measure, as benchmarks/temporal.py computes it on real video): 1 means stylization adds
    no flicker; a stylizer that amplifies local contrast or noise scores above 1."""
    stylized = ((stylized_next - warped_stylized).square() * mask).sum()
    source = ((source_next - warped_source).square() * mask).sum()
    return stylized / (source + EPS)


def move_loss(
    moved_output: torch.Tensor, output_moved: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean absolute difference of G(move(x)) and move(G(x)) where the mask is 1: 0 for a
    generator whose strokes move with the scene, whatever it paints."""
    diff = (moved_output - output_moved).abs() * mask
    return diff.sum() / (mask.sum() * moved_output.shape[1] + EPS)


def temporal_loss(ratio: torch.Tensor, target: float) -> torch.Tensor:
    """Hinge on the flicker ratio: no pull below `target`, a linear one above it."""
    return F.relu(ratio - target)
