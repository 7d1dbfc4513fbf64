"""The quality yardsticks on a VGG16 with random weights: their fixed points and directions."""

from __future__ import annotations

import torch

from benchmarks.quality import gatys, grams, scores
from training.features import VGG_BLOCKS, VGGFeatures


def test_gram_ratio_is_one_for_the_photo_and_falls_towards_the_painting():
    torch.manual_seed(0)
    vgg = VGGFeatures(VGG_BLOCKS[13]).eval()
    photo = torch.rand(1, 3, 32, 48)
    stripes = torch.zeros(1, 3, 32, 48)
    stripes[..., ::4] = 1.0  # a "painting" with a texture the photo lacks
    with torch.no_grad():
        target = grams(vgg(stripes))
    ratio, content = scores(vgg, photo, photo, target)
    assert abs(ratio - 1) < 1e-5 and content == 0
    ratio, content = scores(vgg, photo, stripes, target)
    assert ratio < 1e-6 and content > 0.01
    anchor = gatys(vgg, photo, target, steps=12, weight=20.0)
    ratio, _ = scores(vgg, photo, anchor, target)
    assert ratio < 0.9  # the optimisation moves the photo towards the painting's statistics
