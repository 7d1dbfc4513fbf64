"""Batch-norm folding: same outputs, no normalization layers left, the original untouched."""

from __future__ import annotations

import torch
from torch import nn

from export.fusion import fold_normalization


def _batchnorms(module: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def test_generator_folds_with_its_own_method_and_keeps_its_outputs(generator: nn.Module) -> None:
    x = torch.rand(2, 3, 16, 20)
    fused = fold_normalization(generator)
    assert _batchnorms(generator) > 0 and _batchnorms(fused) == 0
    with torch.no_grad():
        torch.testing.assert_close(fused(x), generator(x), atol=1e-5, rtol=1e-4)


def test_plain_sequential_conv_bn_pairs_are_folded() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.ConvTranspose2d(6, 4, 2, stride=2),
        nn.BatchNorm2d(4),
    )
    with torch.no_grad():
        for bn in (net[1], net[4]):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
    net.eval()
    fused = fold_normalization(net)
    x = torch.rand(1, 3, 8, 8)
    assert _batchnorms(fused) == 0 and _batchnorms(net) == 2
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-5, rtol=1e-4)
