"""The per-layer split of the Gram distance on a VGG16 with random weights: its parts add up to
the quality table's Gram, the photo itself scores 1 and the painting 0."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.gram_layers import distances, gram_parts, split
from benchmarks.quality import grams
from training.features import VGG_BLOCKS, VGGFeatures


def test_the_means_and_the_centred_part_add_up_to_the_quality_tables_gram():
    torch.manual_seed(0)
    feats = [torch.rand(1, 4, 6, 5), torch.rand(1, 8, 3, 3)]
    for (gram, means, centred), plain in zip(gram_parts(feats), grams(feats), strict=True):
        torch.testing.assert_close(gram, plain)
        torch.testing.assert_close(means + centred, gram)
        assert means.abs().sum() > 0 and centred.abs().sum() > 0


def test_the_photo_scores_one_the_painting_zero_and_shares_add_up():
    torch.manual_seed(0)
    vgg = VGGFeatures(VGG_BLOCKS[13]).eval()
    painting = torch.zeros(1, 3, 64, 64)
    painting[..., ::4] = 1
    photos = [torch.rand(1, 3, 64, 64) for _ in range(2)]
    with torch.no_grad():
        target = gram_parts(vgg(painting))
        refs = [distances(gram_parts(vgg(p)), target) for p in photos]
        half = [distances(gram_parts(vgg((p + painting) / 2)), target) for p in photos]
        same = [distances(gram_parts(vgg(painting)), target) for _ in photos]
    assert np.allclose(split(refs, refs)["ratio"], 1)
    assert np.allclose(split(same, refs)["ratio"], 0)
    assert (split(same, refs)["share"] == 0).all()  # nothing left to share, not 0/0
    mixed = split(half, refs)
    assert mixed["ratio"].shape == (4, 3)
    assert np.isclose(mixed["share"].sum(), 1) and (mixed["share"] > 0).all()
    assert (mixed["ratio"][:, 0] < 1).all()  # half-way to the painting is nearer than the photo
