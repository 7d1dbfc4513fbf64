"""Fold BatchNorm into the convolution before it, so the exported graph has no normalization ops.

In eval mode a BatchNorm is a per-channel affine map; folding it into the preceding conv's
weights removes a full pass over every activation map at no cost in accuracy.
"""

from __future__ import annotations

import copy
import itertools

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

_CONVS = (nn.Conv2d, nn.ConvTranspose2d)


def fold_normalization(generator: nn.Module) -> nn.Module:
    """An eval-mode copy of `generator` with every foldable BatchNorm folded into its conv.

    The generator's own `fuse_for_inference()` is used when it has one (it knows its layout);
    otherwise a conv directly followed by a BatchNorm2d inside an `nn.Sequential` is folded,
    the one place where module order is guaranteed to be call order. Instance normalization
    depends on the frame itself and cannot be folded; it stays in the graph.
    """
    fused = copy.deepcopy(generator).eval()
    own = getattr(fused, "fuse_for_inference", None)
    if callable(own):
        result = own()
        return (result if isinstance(result, nn.Module) else fused).eval()
    for module in fused.modules():
        if isinstance(module, nn.Sequential):
            _fold_in_sequential(module)
    return fused


def _fold_in_sequential(seq: nn.Sequential) -> None:
    for first, second in itertools.pairwise(list(seq._modules)):
        conv, norm = seq._modules[first], seq._modules[second]
        if not (isinstance(conv, _CONVS) and isinstance(norm, nn.BatchNorm2d)):
            continue
        if norm.track_running_stats:
            transpose = isinstance(conv, nn.ConvTranspose2d)
            seq._modules[first] = fuse_conv_bn_eval(conv, norm, transpose=transpose)
            seq._modules[second] = nn.Identity()
