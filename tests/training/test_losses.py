"""Loss terms and feature networks: they measure what their names say."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from training import losses, temporal
from training.errors import TrainingError
from training.features import VGG_BLOCKS, RandomFeatures, VGGFeatures, build_feature_net, load_vgg
from training.temporal import flow_error, random_smooth_grid, smooth_noise, valid_mask, warp


def stripes(period: int, n: int = 2, size: int = 64) -> torch.Tensor:
    x = torch.arange(size).float()
    wave = (torch.sin(2 * torch.pi * x / period) + 1) / 2
    return wave.expand(n, 3, size, size).clone()


def test_style_loss_tells_textures_apart():
    net = RandomFeatures(seed=1)
    for kind in ("gram", "meanstd"):
        targets = losses.style_targets(net(stripes(8)), kind)
        same = losses.style_loss(net(stripes(8)), targets, kind)
        other = losses.style_loss(net(stripes(32)), targets, kind)
        assert same < 1e-6 < other


def test_style_means_weighs_the_means_against_the_covariance():
    torch.manual_seed(0)
    painting = torch.rand(1, 4, 8, 8)
    targets = losses.style_targets([painting], "gram")
    shifted = painting + torch.tensor([0.5, 0.0, 0.0, 0.0])[:, None, None]  # same covariance
    mean_error = 0.25 / targets[0].square().sum()
    for means, share in ((1.0, 1 / 2), (3.0, 3 / 4), (0.0, 0.0)):
        loss = losses.style_loss([shifted], targets, "gram", means)
        assert loss.item() == pytest.approx(share * mean_error.item(), rel=1e-5)
    scaled = painting * 2  # other covariance, other means: both statistics count
    assert losses.style_loss([scaled], targets, "gram", 0.0) > 0
    assert losses.style_loss([scaled], targets, "gram", 3.0) != losses.style_loss(
        [scaled], targets, "gram", 1.0
    )


def test_random_features_are_fixed_by_the_seed():
    a, b, c = RandomFeatures(1), RandomFeatures(1), RandomFeatures(2)
    x = torch.rand(1, 3, 32, 32)
    assert all(torch.equal(u, v) for u, v in zip(a(x), b(x), strict=True))
    assert not torch.equal(a(x)[0], c(x)[0])


def test_gan_losses_sit_at_their_reference_values():
    zero = [torch.zeros(2, 1, 4, 4)]
    assert losses.discriminator_loss(zero, zero, "hinge") == pytest.approx(2.0)
    half = [torch.full((2, 1, 4, 4), 0.5)]
    assert losses.discriminator_loss(half, half, "lsgan") == pytest.approx(0.5)
    assert losses.generator_adv_loss(half, "lsgan") == pytest.approx(0.25)
    confident = [torch.ones(1, 1, 2, 2)], [-torch.ones(1, 1, 2, 2)]
    assert losses.discriminator_loss(*confident, "hinge") == 0


def test_content_and_pooled_losses_ignore_what_they_should():
    feats = torch.randn(2, 8, 4, 4)
    assert losses.content_loss(feats, feats * 1.0) == 0
    assert losses.content_loss(feats, 0.5 * feats) == losses.content_loss(2 * feats, feats)
    photo = torch.rand(1, 3, 32, 32)
    jitter = photo + 0.05 * (torch.arange(32) % 2 * 2 - 1).float()  # fine texture only
    assert losses.pooled_loss(jitter, photo, 8) < 1e-6 < losses.pooled_loss(1 - photo, photo, 8)


def test_flicker_ratio_measures_added_flicker_like_the_benchmark():
    gen = torch.Generator().manual_seed(0)
    x = F.avg_pool2d(torch.rand(2, 3, 64, 64, generator=gen), 3, 1, 1)
    grid = random_smooth_grid(2, 64, 64, 0.05, gen)
    x_next = warp(x, grid + flow_error(2, 64, 64, 0.5, gen))  # the estimated motion is off
    mask = valid_mask(grid)
    assert 0.5 < mask.mean() <= 1

    def ratio(stylize):
        return losses.flicker_ratio(stylize(x_next), warp(stylize(x), grid), x_next,
                                    warp(x, grid), mask)  # fmt: skip

    assert ratio(lambda t: 1 - t) == pytest.approx(1.0, abs=1e-4)  # pixel-wise, unit gain
    assert ratio(lambda t: 0.2 + 0.5 * t) == pytest.approx(0.25, abs=1e-4)  # half the contrast

    def soften(t):
        return F.avg_pool2d(F.pad(t, (1, 1, 1, 1), mode="replicate"), 3, 1)

    def sharpen(t):
        return 2 * t - soften(t)

    assert ratio(sharpen) > 1.5 and ratio(soften) < 0.8
    assert losses.temporal_loss(ratio(soften), 1.0) == 0
    assert losses.temporal_loss(ratio(sharpen), 1.0) == pytest.approx(ratio(sharpen) - 1)


def test_move_term_sees_a_fixed_sampling_grid_and_nothing_else():
    gen = torch.Generator().manual_seed(0)
    moves = temporal.random_moves(64, 8, gen)
    assert (0, 0) not in moves and all(0 <= d < 8 for m in moves for d in m)
    assert len(set(moves)) > 30  # all sub-stride moves are drawn, not a few
    x = torch.rand(3, 3, 48, 64, generator=gen)
    moves = [(3, 5), (0, 1), (7, 0)]
    mask = temporal.moved_mask(3, 48, 64, moves, 4)
    assert [int(m.sum()) for m in mask] == [(48 - 3 - 8) * (64 - 5 - 8), 40 * 55, 33 * 56]
    moved = temporal.move(x, moves)
    assert torch.equal(moved[0, :, 3:, 5:], x[0, :, :-3, :-5])  # exact, no resampling

    def loss(stylize):
        return losses.move_loss(stylize(moved), temporal.move(stylize(x), moves), mask)

    def blocky(t):  # samples an 8-pixel grid, as a strided network does
        return F.interpolate(F.avg_pool2d(t, 8), scale_factor=8, mode="nearest")

    def soften(t):  # local, zero padded: differs from its moved self only at the seam
        return F.avg_pool2d(t, 3, 1, 1)

    assert loss(torch.sigmoid) == 0 and loss(soften) < 1e-6
    assert loss(blocky) > 0.01  # block means of uniform noise differ by about 0.02
    assert losses.move_loss(blocky(moved), blocky(moved), mask) == 0


def test_flow_error_is_a_smooth_subpixel_displacement():
    field = flow_error(3, 40, 80, 0.5, torch.Generator().manual_seed(1))
    pixels = field * torch.tensor([80 / 2, 40 / 2])
    assert field.shape == (3, 40, 80, 2)
    assert 0.1 < pixels.abs().max() < 0.75  # bicubic may overshoot the corner values a bit
    assert (pixels[:, 1:] - pixels[:, :-1]).abs().max() < 0.25  # smooth: neighbours move alike


def test_block_noise_has_the_asked_std_and_survives_the_generators_blurs():
    gen = torch.Generator().manual_seed(2)
    noise = smooth_noise((4, 3, 96, 128), 0.01, [8, 16, 32], gen)
    pixel = torch.randn(noise.shape, generator=gen) * 0.01
    assert noise.shape == (4, 3, 96, 128)
    assert abs(float(noise.std()) - 0.01) < 0.001 and abs(float(noise.mean())) < 0.002
    # a 2x2 average before each of three reductions: per-pixel noise mostly goes, block noise stays
    assert F.avg_pool2d(noise, 8).std() > 0.6 * noise.std()
    assert F.avg_pool2d(pixel, 8).std() < 0.2 * pixel.std()
    assert (noise[..., 1:] - noise[..., :-1]).abs().mean() < 0.2 * noise.abs().mean()
    again = smooth_noise((4, 3, 96, 128), 0.01, [8, 16, 32], torch.Generator().manual_seed(2))
    assert torch.equal(noise, again)


def test_user_vgg_weights_load_in_torchvision_layout(tmp_path):
    net = VGGFeatures(VGG_BLOCKS[13])
    state = {k: torch.randn_like(v) for k, v in net.state_dict().items()}
    state |= {f"features.{i}.weight": torch.randn(512, 512, 3, 3) for i in (24, 26, 28)}
    state |= {"classifier.0.weight": torch.randn(4, 4)}
    torch.save(state, tmp_path / "vgg16.pth")
    loaded = build_feature_net(0, str(tmp_path / "vgg16.pth"))
    assert torch.equal(loaded.features[0].weight, state["features.0.weight"])
    assert [f.shape[1] for f in loaded(torch.rand(1, 3, 32, 32))] == [64, 128, 256, 512]
    torch.save({"features.0.weight": torch.randn(64, 3, 3, 3)}, tmp_path / "other.pth")
    with pytest.raises(TrainingError, match="not a VGG16/19"):
        load_vgg(tmp_path / "other.pth")


def test_structure_loss_keeps_edges_but_frees_palette_and_flat_areas():
    gen = torch.Generator().manual_seed(0)
    edges = torch.zeros(1, 3, 64, 64)
    edges[..., 16:48, 16:48] = 1.0  # a bright square: edges where the photo has structure
    regraded = 0.2 + 0.5 * edges * edges.new_tensor([0.3, 1.0, 0.6])[:, None, None]
    assert losses.structure_loss(edges, edges) < 2e-3
    assert losses.structure_loss(regraded, edges) < 5e-3  # new palette and contrast
    flat = torch.full((1, 3, 64, 64), 0.5)
    strokes = flat + 0.1 * torch.rand(1, 3, 64, 64, generator=gen)
    assert losses.structure_loss(strokes, flat) < 0.01  # texture where the photo is flat
    inverted = 1 - edges
    assert losses.structure_loss(inverted, edges) > 1.9  # edges turned around
    blurred = F.avg_pool2d(edges, 9, stride=1, padding=4)
    assert losses.structure_loss(flat, edges) > 0.9  # edges painted over
    assert losses.structure_loss(blurred, edges) < 0.2
