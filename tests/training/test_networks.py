"""The generator's contract with export, and the discriminator's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmarks.shift import changes
from export.wrapper import FramesWrapper
from training.config import DiscriminatorConfig, GeneratorConfig
from training.networks import (
    Blur,
    blurred_unshuffle_conv,
    build_discriminator,
    build_generator,
    count_macs,
    pixel_shuffle_conv,
    pixel_unshuffle_conv,
)


@pytest.mark.parametrize(
    "cfg",
    [
        GeneratorConfig(),
        GeneratorConfig(norm="batch", padding="zeros", antialias=False),
        GeneratorConfig(plain_levels=0, antialias=True),
        GeneratorConfig(residual=True, smooth_output=False, upsample="pixelshuffle"),
        GeneratorConfig(width=8, max_width=16, downsamples=2, res_blocks=1, plain_levels=0),
        GeneratorConfig(norm="batch", plain_levels=1),
        GeneratorConfig(width=8, downsamples=4, bottleneck=1, upsample="nearest", skips=False),
    ],
)
def test_generator_shape_range_and_fusion(cfg):
    torch.manual_seed(0)
    g = build_generator(cfg)
    assert g.stride == 2**cfg.downsamples
    x = torch.rand(2, 3, 2 * g.stride, 3 * g.stride)
    for _ in range(3):  # a few train-mode passes give batch norm non-trivial running stats
        g(torch.rand_like(x) * 0.5 + 0.2)
    g.eval()
    with torch.no_grad():
        y = g(x)
        fused = g.fuse_for_inference()(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    torch.testing.assert_close(fused, y, atol=1e-5, rtol=1e-4)
    if cfg.norm == "batch":
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    shuffles = (torch.nn.PixelShuffle, torch.nn.PixelUnshuffle)
    assert not any(isinstance(m, shuffles) for m in [*g.stem, g.to_rgb])


def test_normalization_and_reflect_padding_only_below_the_plain_levels():
    """At the default plain_levels=2 every instance norm and reflect pad sees 1/8 resolution
    (the strokes' level); the 1/2 and 1/4 levels, where they cost the most, have neither."""
    g = build_generator(GeneratorConfig(downsamples=3, plain_levels=2))
    x = torch.rand(1, 3, 64, 96)
    sizes: dict[str, tuple[int, int]] = {}

    def record(name: str):
        def hook(module, inputs, output) -> None:
            sizes[name] = tuple(output.shape[-2:])

        return hook

    hooks = [
        m.register_forward_hook(record(n))
        for n, m in g.named_modules()
        if isinstance(m, torch.nn.InstanceNorm2d)
        or (isinstance(m, torch.nn.Conv2d) and m.padding_mode == "reflect")
    ]
    g(x)
    for hook in hooks:
        hook.remove()
    assert len(sizes) > 10 and set(sizes.values()) == {(8, 12)}, sizes
    everywhere = build_generator(GeneratorConfig(downsamples=3, plain_levels=0))
    norms = sum(isinstance(m, torch.nn.InstanceNorm2d) for m in everywhere.modules())
    assert norms == sum(n.endswith("norm") for n in sizes) + 4  # stem, down.0, two decoder


def test_the_low_pass_removes_the_frequency_a_reduction_would_alias():
    """A 2-pixel stripe pattern is what a stride-2 sampling folds onto a flat field; the blur
    cancels it and keeps a flat field as it is."""
    stripes = torch.tensor([0.0, 1.0]).repeat(8)[None, None, None].expand(1, 4, 16, 16)
    blurred = Blur(4, "reflect")(stripes)
    torch.testing.assert_close(blurred, torch.full_like(stripes, 0.5))
    assert torch.equal(Blur(4, "zeros")(torch.ones(1, 4, 5, 5))[..., 2, 2], torch.ones(1, 4))


class _Frames:
    """A generator behind the runtime's uint8 frame contract, as `benchmarks.shift` measures."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        torch.manual_seed(0)
        g = build_generator(cfg).eval()
        with torch.no_grad():
            for m in g.modules():  # untrained residual blocks are the identity; make them act
                if isinstance(m, torch.nn.Conv2d) and m.weight.requires_grad:
                    torch.nn.init.normal_(m.weight, 0, (2 / m.weight[0].numel()) ** 0.5)
        self.net = FramesWrapper(g)

    def run(self, frames: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.from_numpy(frames)).numpy()


def test_antialiasing_keeps_the_output_with_a_moving_scene():
    """Strided convolutions alone make the output depend on where the scene sits relative to
    the stride grid (flicker when it moves); the low-pass before each reduction cuts that."""
    torch.manual_seed(1)
    scene = F.interpolate(torch.rand(1, 3, 24, 32), size=(96, 136), mode="bicubic").clamp(0, 1)
    rgb = (scene[0].permute(1, 2, 0) * 255).round().byte().numpy()
    small = {"width": 8, "max_width": 32, "res_blocks": 2}

    def sub_stride(antialias: bool) -> float:
        found = changes(
            _Frames(GeneratorConfig(**small, antialias=antialias)), rgb, np.random.default_rng(0)
        )
        return float(np.mean([found[f"{k} px"] for k in (1, 2, 3)]))

    plain, low_pass = sub_stride(False), sub_stride(True)
    assert low_pass < 0.7 * plain, (low_pass, plain)


@pytest.mark.parametrize("factor", [2, 4])
def test_the_folded_stem_equals_blur_then_reshuffle(factor):
    x = torch.rand(1, 3, 4 * factor, 5 * factor)
    folded = blurred_unshuffle_conv(factor)(F.pad(x, (1, 1, 1, 1), mode="replicate"))
    expected = torch.nn.PixelUnshuffle(factor)(Blur(3, "replicate")(x))
    torch.testing.assert_close(folded, expected)


@pytest.mark.parametrize("factor", [2, 4])
def test_one_hot_convolutions_shuffle_pixels_exactly(factor):
    x = torch.randn(2, 3, 4 * factor, 5 * factor)
    unshuffled = pixel_unshuffle_conv(3, factor)(x)
    assert torch.equal(unshuffled, torch.nn.PixelUnshuffle(factor)(x))
    assert torch.equal(pixel_shuffle_conv(3, factor)(unshuffled), x)


def test_pixelshuffle_starts_without_checkerboard():
    """ICNR: at init each 2x2 block of the head's output holds one value per channel."""
    g = build_generator(GeneratorConfig(width=8, max_width=16, downsamples=2, res_blocks=1))
    y = g.to_rgb(g.head(torch.randn(1, 8, 4, 4)))
    blocks = y.unfold(2, 2, 2).unfold(3, 2, 2)
    assert torch.allclose(blocks, blocks[..., :1, :1].expand_as(blocks))


def test_count_macs_matches_a_hand_count():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    assert count_macs(conv, 10, 20) == 10 * 20 * 4 * 3 * 9


def test_default_generator_fits_the_real_time_budget():
    # ~0.75 GMAC ran at 60+ fps (model only, 2 threads): benchmarks/generator_speed.py
    assert count_macs(build_generator(GeneratorConfig()), 360, 640) <= 0.75e9


def test_discriminator_outputs_per_scale():
    d = build_discriminator(DiscriminatorConfig(width=8, layers=3, scales=2))
    logits, feats = d(torch.rand(2, 3, 64, 64))
    assert [t.shape for t in logits] == [(2, 1, 8, 8), (2, 1, 4, 4)]
    assert [t.shape[1] for t in feats] == [8, 8]


def test_smoothed_output_has_no_two_pixel_checkerboard():
    """Even with a head whose sub-pixel phases have learned different filters, the output
    logits keep (almost) no 2-pixel checkerboard: the binomial blur's response there is 0."""
    cfg = GeneratorConfig(width=8, max_width=16, downsamples=2, res_blocks=1)
    checker = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(32, 32)  # 64x64, period 2
    energy = {}
    for smooth in (True, False):
        torch.manual_seed(0)
        g = build_generator(GeneratorConfig(**{**cfg.__dict__, "smooth_output": smooth}))
        torch.nn.init.normal_(g.head.weight, std=0.3)  # break ICNR: phases now differ
        with torch.no_grad():
            y = g(torch.rand(1, 3, 64, 64)).clamp(1e-6, 1 - 1e-6)
        logits = torch.log(y / (1 - y))
        energy[smooth] = float((logits * checker).mean(dim=(2, 3)).abs().max())
    assert energy[True] < 0.05 * energy[False]


def test_residual_generator_starts_as_the_photo_with_its_pixel_detail_softened():
    small = dict(width=8, max_width=16, downsamples=2, res_blocks=1, residual=True)
    x = torch.rand(2, 3, 16, 24) * 0.9 + 0.05
    with torch.no_grad():
        sharp = build_generator(GeneratorConfig(**small, smooth_output=False))(x)
        torch.testing.assert_close(sharp, x, atol=1e-5, rtol=0)
        soft = build_generator(GeneratorConfig(**small))(x)
    blurred = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"),
        (torch.tensor([1.0, 2, 1])[:, None] * torch.tensor([1.0, 2, 1]) / 16).repeat(3, 1, 1, 1),
        groups=3,
    )
    torch.testing.assert_close(soft, blurred, atol=1e-5, rtol=0)
    assert (soft - x).abs().mean() > 0.05  # random pixels: the blur really acts
