"""The real-time generator and the multi-scale patch discriminator.

The generator is built for ONNX Runtime on a CPU: plain 3x3/1x1 convolutions, and a
PixelUnshuffle in and PixelShuffle out so the full-resolution work is a reshuffle of values,
not a real convolution (export turns each into a one-hot strided convolution, which ONNX
Runtime runs faster). Most of its work happens at 1/2**downsamples resolution. Instance
normalisation is the default: without it the generator stays in the photo's colour-graded
minimum and never paints strokes (batch norm, an option, is folded into the convolutions by
`fuse_for_inference()`; `none` is the fastest). It and reflect padding apply only below the
`plain_levels` high-resolution levels, where their memory passes cost the most time and the
strokes are not made. A fixed binomial blur before each 2x reduction (`antialias`) keeps a
strided sampling from folding fine detail into the strokes, which would otherwise jump when the
scene moves by less than the stride. The decoder climbs back one level at a time by
default with bilinear upsampling and a 3x3 convolution, adding the encoder's features of that
level (skips); sub-pixel convolutions (ICNR-initialised, so no checkerboard at step 0) and
nearest-neighbour upsampling are the config's other choices. `GeneratorConfig` in config.py
holds the defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import fuse_conv_bn_eval
from torch.nn.utils.parametrizations import spectral_norm

from training.config import DiscriminatorConfig, GeneratorConfig
from training.transformer_net import TransformerNet


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


class ConvNormAct(nn.Sequential):
    """conv -> norm -> ReLU (each optional), the unit `fuse_for_inference` folds in place."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        norm: str = "batch",
        act: bool = True,
        padding: str = "zeros",
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            cin, cout, kernel, stride, kernel // 2, bias=norm != "batch",
            padding_mode=padding if kernel > 1 else "zeros",
        )  # fmt: skip
        self.norm = _norm(norm, cout)
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def fuse(self) -> None:
        """Fold an eval-mode batch norm into the convolution (the graph loses a node)."""
        if isinstance(self.norm, nn.BatchNorm2d):
            self.conv = fuse_conv_bn_eval(self.conv.eval(), self.norm.eval())
            self.norm = nn.Identity()


ConvFactory = Callable[..., ConvNormAct]  # ConvNormAct with the generator's norm and padding


class ResidualBlock(nn.Module):
    """Bottleneck residual block: 1x1 reduce, 3x3, 1x1 expand (plain 3x3+3x3 if bottleneck 1)."""

    def __init__(self, channels: int, bottleneck: int, conv: ConvFactory) -> None:
        super().__init__()
        inner = max(channels // bottleneck, 8)
        if bottleneck == 1:
            layers = [conv(channels, channels, 3)]
        else:
            layers = [
                conv(channels, inner, 1),
                conv(inner, inner, 3),
            ]
        last_in = channels if bottleneck == 1 else inner
        layers.append(conv(last_in, channels, 3 if bottleneck == 1 else 1, act=False))
        self.body = nn.Sequential(*layers)
        nn.init.zeros_(layers[-1].conv.weight)  # each block starts as the identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Blur(nn.Module):
    """Fixed [1,2,1]x[1,2,1]/16 blur per channel, the low-pass before a 2x reduction."""

    def __init__(self, channels: int, padding: str) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer(
            "weight", (taps[:, None] * taps[None, :] / 16).repeat(channels, 1, 1, 1), False
        )
        self.padding = padding
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == "zeros":
            return F.conv2d(x, self.weight, padding=1, groups=self.channels)
        return F.conv2d(
            F.pad(x, (1, 1, 1, 1), mode=self.padding), self.weight, groups=self.channels
        )


def icnr_(conv: nn.Conv2d, factor: int) -> None:
    """ICNR init: every sub-pixel of a PixelShuffle output starts with the same filter."""
    out_channels = conv.out_channels // factor**2
    base = torch.empty(out_channels, *conv.weight.shape[1:])
    nn.init.kaiming_normal_(base, nonlinearity="relu")
    with torch.no_grad():
        conv.weight.copy_(base.repeat_interleave(factor**2, dim=0))
        if conv.bias is not None:
            conv.bias.zero_()


class Upsample(nn.Module):
    """One 2x decoder step, then the skip from the encoder is added.

    bilinear: 1x1 conv at low resolution, bilinear 2x, add skip, 3x3 conv unless the head's
    3x3 conv follows directly (smooth by construction: no sub-pixel phases, so no checkerboard,
    at a fraction of resize-conv's cost);
    pixelshuffle: 1x1 conv to 4x channels + PixelShuffle (ICNR init), add skip;
    nearest: nearest 2x + 3x3 conv (resize-conv, Odena et al. 2016), add skip."""

    def __init__(
        self, cin: int, cout: int, mode: str, low: ConvFactory, high: ConvFactory, last: bool
    ) -> None:
        """`low` makes the convolutions at the input's resolution, `high` those at twice it."""
        super().__init__()
        self.refine: nn.Module = nn.Identity()
        if mode == "bilinear":
            self.pre, self.post = low(cin, cout, 1), nn.Identity()
            self.resample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            if not last:
                self.refine = high(cout, cout, 3)
        elif mode == "pixelshuffle":
            self.pre, self.post = low(cin, cout * 4, 1), nn.Identity()
            icnr_(self.pre.conv, 2)
            self.resample = nn.PixelShuffle(2)
        else:
            self.pre, self.post = nn.Identity(), high(cin, cout, 3)
            self.resample = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        y = self.post(self.resample(self.pre(x)))
        return self.refine(y if skip is None else y + skip)


class Generator(nn.Module):
    """Encoder -> residual blocks -> decoder with additive skips; RGB [0,1] in and out."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.stride = 2**cfg.downsamples
        widths = [min(cfg.width * 2**i, cfg.max_width) for i in range(cfg.downsamples)]

        def conv(level: int) -> ConvFactory:  # the convolutions whose output is at `level`
            plain = level < cfg.plain_levels
            return partial(
                ConvNormAct,
                norm="none" if plain else cfg.norm,
                padding="zeros" if plain else cfg.padding,
            )

        # Level 0 is 1/2 resolution: a space-to-depth reshuffle replaces a full-res conv.
        # With antialias each 2x reduction sees a low-passed input (the photo's at full
        # resolution is folded into the reshuffle at export), so the strokes move with the scene.
        low_pass = [Blur(3, "replicate")] if cfg.antialias else []
        self.stem = nn.Sequential(*low_pass, nn.PixelUnshuffle(2), conv(0)(12, widths[0], 3))
        self.down = nn.ModuleList()
        for i in range(cfg.downsamples - 1):
            reduce = conv(i + 1)(widths[i], widths[i + 1], 3, stride=2)
            if cfg.antialias:  # (without, the module keeps the names older checkpoints have)
                padding = "zeros" if i < cfg.plain_levels else cfg.padding
                reduce = nn.Sequential(Blur(widths[i], padding), reduce)
            self.down.append(reduce)
        deep = cfg.downsamples - 1
        self.blocks = nn.Sequential(
            *(ResidualBlock(widths[-1], cfg.bottleneck, conv(deep)) for _ in range(cfg.res_blocks))
        )
        self.up = nn.ModuleList(
            Upsample(widths[i + 1], widths[i], cfg.upsample, conv(i + 1), conv(i), last=i == 0)
            for i in reversed(range(cfg.downsamples - 1))
        )
        self.skips = cfg.skips
        head_padding = "zeros" if cfg.plain_levels > 0 else cfg.padding
        self.head = nn.Conv2d(widths[0], 12, 3, padding=1, padding_mode=head_padding)
        icnr_(self.head, 2)
        self.residual = cfg.residual
        if self.residual:  # start as the identity: the photo passes through unchanged
            nn.init.zeros_(self.head.weight)
        self.to_rgb = nn.PixelShuffle(2)
        # The binomial blur has zero response at the Nyquist frequency, so the PixelShuffle
        # head cannot produce a 2-pixel checkerboard, whatever the loss.
        self.smooth = Blur(3, "replicate") if cfg.smooth_output else None

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of every level, deepest last (also the space of the content loss)."""
        feats = [self.stem(x)]
        for down in self.down:
            feats.append(down(feats[-1]))
        return feats

    def decode(self, feats: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Output image from the encoder features (x, the input, for the residual mode)."""
        y = self.blocks(feats[-1])
        for up, skip in zip(self.up, reversed(feats[:-1]), strict=True):
            y = up(y, skip if self.skips else None)
        logits = self.to_rgb(self.head(y))
        if self.smooth is not None:
            logits = self.smooth(logits)
        if self.residual:  # the network predicts a change of the photo's logits
            # The photo itself is blurred too: its pixel-level detail is what flickers (a
            # sigma-0.7 blur cut the warping-error ratio of a trained model on box.mp4 from 1.89
            # to 0.51), while strokes live at coarser scales.
            x = (self.smooth(x) if self.smooth is not None else x).clamp(1 / 512, 1 - 1 / 512)
            logits = logits + torch.logit(x)  # one Log in the graph, not log(x) - log1p(-x)
        return torch.sigmoid(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), x)

    def fuse_for_inference(self) -> Generator:
        """Switch to eval mode, fold batch norms into convolutions and turn the full-resolution
        pixel (un)shuffles into convolutions (for export).

        ONNX has PixelUnshuffle only as a 6-D Transpose of the full-resolution frame, and its
        DepthToSpace for PixelShuffle is slower than the equivalent transposed convolution in
        ONNX Runtime. With one-hot weights the strided (transposed) convolutions move the same
        values exactly, faster (the figures are in the README).
        """
        self.eval()
        for module in self.modules():
            if isinstance(module, ConvNormAct):
                module.fuse()
        unshuffle = self.stem[-2]
        if isinstance(unshuffle, nn.PixelUnshuffle):
            factor = unshuffle.downscale_factor
            if isinstance(self.stem[0], Blur):  # one strided convolution does both
                pad = nn.ReplicationPad2d(1)
                self.stem = nn.Sequential(pad, blurred_unshuffle_conv(factor), self.stem[-1])
            else:
                self.stem[-2] = pixel_unshuffle_conv(3, factor)
        if isinstance(self.to_rgb, nn.PixelShuffle):
            self.to_rgb = pixel_shuffle_conv(3, self.to_rgb.upscale_factor)
        return self


def _one_hot_shuffle(conv: nn.Conv2d | nn.ConvTranspose2d, channels: int, factor: int) -> None:
    """Weights that move sub-pixel (i, j) of channel c to/from channel (c * factor + i) * factor
    + j, PixelShuffle's order. Products with 1 and sums with 0 are exact in any float type.
    The many-channel side is dim 0 of both weights (Conv: [out, in, ...]; transposed: [in,
    out, ...]), so one indexing serves both."""
    weight = torch.zeros_like(conv.weight)
    for c in range(channels):
        for i in range(factor):
            for j in range(factor):
                weight[(c * factor + i) * factor + j, c, i, j] = 1.0
    conv.weight.data.copy_(weight)
    conv.weight.requires_grad_(False)


def pixel_unshuffle_conv(channels: int, factor: int) -> nn.Conv2d:
    """A strided convolution equal to nn.PixelUnshuffle(factor) on `channels` channels."""
    conv = nn.Conv2d(channels, channels * factor * factor, factor, factor, bias=False)
    _one_hot_shuffle(conv, channels, factor)
    return conv


def blurred_unshuffle_conv(factor: int) -> nn.Conv2d:
    """A strided convolution equal to the stem's RGB Blur then PixelUnshuffle(factor), on an
    input padded by one pixel: each one-hot tap of `pixel_unshuffle_conv` spreads into the
    blur's 3x3 taps."""
    shuffle = pixel_unshuffle_conv(3, factor)
    conv = nn.Conv2d(3, 3 * factor * factor, factor + 2, factor, bias=False)
    taps = Blur(1, "zeros").weight[0, 0]
    weight = torch.zeros_like(conv.weight)
    for i in range(factor):
        for j in range(factor):
            weight[:, :, i : i + 3, j : j + 3] += shuffle.weight[:, :, i : i + 1, j : j + 1] * taps
    conv.weight.data.copy_(weight)
    conv.weight.requires_grad_(False)
    return conv


def pixel_shuffle_conv(channels: int, factor: int) -> nn.ConvTranspose2d:
    """A strided transposed convolution equal to nn.PixelShuffle(factor) to `channels`."""
    conv = nn.ConvTranspose2d(channels * factor * factor, channels, factor, factor, bias=False)
    _one_hot_shuffle(conv, channels, factor)
    return conv


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """The generator the checkpoint contract names: export rebuilds it from the config."""
    if cfg.arch == "transformernet":
        return TransformerNet()
    return Generator(cfg)


class PatchDiscriminator(nn.Module):
    """One scale: strided 4x4 spectral-norm convs ending in a map of real/fake logits."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        convs, cin = [], 3
        for i in range(layers):
            cout = width * 2**i
            convs.append(spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)))
            cin = cout
        self.convs = nn.ModuleList(convs)
        self.out = spectral_norm(nn.Conv2d(cin, 1, 3, 1, 1))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the first layer's activations (texture features for the style loss)."""
        first = self.act(self.convs[0](x * 2 - 1))
        y = first
        for conv in self.convs[1:]:
            y = self.act(conv(y))
        return self.out(y), first


class Discriminator(nn.Module):
    """Multi-scale patch discriminator: the same design on an image pyramid."""

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.nets = nn.ModuleList(
            PatchDiscriminator(cfg.width, cfg.layers) for _ in range(cfg.scales)
        )

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per scale: logits and first-layer features."""
        logits, feats = [], []
        for i, net in enumerate(self.nets):
            if i:
                x = nn.functional.avg_pool2d(x, 2)
            out, first = net(x)
            logits.append(out)
            feats.append(first)
        return logits, feats


def build_discriminator(cfg: DiscriminatorConfig) -> Discriminator:
    """Mirror of `build_generator` for the discriminator."""
    return Discriminator(cfg)


def count_macs(module: nn.Module, height: int = 360, width: int = 640) -> int:
    """Multiply-accumulates of one forward pass on one RGB frame (convolutions and fixed blurs)."""
    total = 0

    def hook(conv: nn.Conv2d | Blur, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(conv, Blur):
            total += output.numel() * 9
            return
        k = conv.kernel_size[0] * conv.kernel_size[1] * conv.in_channels // conv.groups
        total += output.numel() * k

    stride = module.stride if isinstance(module, (Generator, TransformerNet)) else 1
    h, w = -(-height // stride) * stride, -(-width // stride) * stride
    handles = [
        m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, Blur))
    ]
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(1, 3, h, w))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    return total
