"""The style-target diagnostic on a VGG16 with random weights: the painting's own scale scores
near 0, another scale of a painting whose texture changes with scale does not."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.quality import gram_distance, grams, to_tensor
from benchmarks.style_target import cell, target_ratio
from training.data import StyleSampler
from training.features import VGG_BLOCKS, VGGFeatures


def test_the_target_at_the_paintings_own_scale_scores_near_zero():
    torch.manual_seed(0)
    vgg = VGGFeatures(VGG_BLOCKS[13]).eval()
    painting = np.zeros((64, 64, 3), np.uint8)
    painting[:, ::4] = 255  # thin stripes: at half size they blur into a grey wash
    photo = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        whole = grams(vgg(to_tensor(painting)))
        photo_distances = [gram_distance(grams(vgg(photo)), whole).item()]
    ratios = {
        scale: target_ratio(
            vgg, StyleSampler([painting], 32, 64, [scale]), 0, whole, photo_distances
        )
        for scale in (1.0, 0.5)
    }
    assert ratios[1.0] < 0.2 and ratios[0.5] > 1.0  # the crops' borders keep 1.0 above 0


def test_a_cell_shows_the_recipes_draw_then_the_range():
    assert cell([0.25, 0.42, 0.2]) == "0.250 (0.200-0.420)"
    assert cell([0.25]) == "0.250"
