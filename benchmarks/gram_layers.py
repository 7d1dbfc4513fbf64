"""Where each style's remaining distance to its painting sits: the held-out Gram ratio of
`benchmarks.quality` split by VGG16 layer, and each layer's Gram split into its two parts.

A plain Gram matrix of ReLU features is the outer product of the channel means plus the centred
covariance (G = m m^T + C). Training matches the two apart (centred statistics and means); the
quality table judges their sum. Which layer and which part hold the distance says which lever is
worth a run: fine marks (relu1_2) against strokes and shapes (relu3_3, relu4_3), and how much
of each feature (the means) against how the features vary together (the covariance).

    python -m benchmarks.gram_layers [--model NAME|M.onnx ...]

Writes results/gram_layers.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.models import contract_models
from benchmarks.quality import (
    grams,
    held_out_photos,
    painting_images,
    prepared_vgg,
    to_tensor,
)
from benchmarks.report import write_report
from benchmarks.usage import fail, user_errors
from stream_astgan import contract
from stream_astgan.engine import Engine
from training.features import VGGFeatures

LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
PARTS = ("gram", "means", "centred")


def gram_parts(feats: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Per layer: the plain Gram (`benchmarks.quality.grams`), the outer product of the channel
    means and the centred covariance, which add up to the Gram."""
    out = []
    for f, gram in zip(feats, grams(feats), strict=True):
        flat = f.flatten(2)
        mean = flat.mean(2, keepdim=True)
        centred = flat - mean
        out.append(
            [gram, mean @ mean.transpose(1, 2), centred @ centred.transpose(1, 2) / flat.shape[2]]
        )
    return out


def distances(a: list[list[torch.Tensor]], b: list[list[torch.Tensor]]) -> np.ndarray:
    """[layer, part] relative squared Frobenius distance of a's statistics to b's."""
    return np.array(
        [
            [float((x - y).square().sum() / y.square().sum()) for x, y in zip(la, lb, strict=True)]
            for la, lb in zip(a, b, strict=True)
        ]
    )


def split(outputs: list[np.ndarray], photos: list[np.ndarray]) -> dict[str, np.ndarray]:
    """From per-photo [layer, part] distances of the outputs and of the photos themselves: each
    layer's and part's ratio of summed distances, and each layer's share of the output's total
    Gram distance (the sum over layers the quality table's ratio is made of)."""
    out, photo = np.sum(outputs, axis=0), np.sum(photos, axis=0)
    total = out[:, 0].sum()  # 0 for outputs that match the painting: no distance to share
    return {"ratio": out / photo, "share": out[:, 0] / total if total else np.zeros(len(out))}


def stats(vgg: VGGFeatures, rgb: np.ndarray) -> list[list[torch.Tensor]]:
    with torch.no_grad():
        return gram_parts(vgg(to_tensor(rgb)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", help="bundled names or .onnx files (default: all)")
    args = parser.parse_args()
    rows: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        vgg, _ = prepared_vgg()
        photos = held_out_photos(384)
        if not photos:
            fail("no held-out photos: install scikit-image or provide ../shared/data/video")
        photo_stats = {name: stats(vgg, rgb) for name, rgb in photos.items()}
        models, _ = contract_models(args.model, Path(tmp))
        for model in models:
            engine = Engine(model.path, "cpu")
            per_painting = [
                stats(vgg, rgb)
                for rgb in painting_images(engine.metadata.get(contract.META_SOURCE, ""))
            ]
            target = [
                [torch.stack(part).mean(0) for part in zip(*layer, strict=True)]
                for layer in zip(*per_painting, strict=True)
            ]
            outs, refs = [], []
            for name, rgb in photos.items():
                outs.append(distances(stats(vgg, engine.run(rgb[None])[0]), target))
                refs.append(distances(photo_stats[name], target))
            found = split(outs, refs)
            rows[model.label] = {k: v.round(4).tolist() for k, v in found.items()}
            print(model.label, rows[model.label], flush=True)
    table = [
        f"Held-out photos: {len(photos)} (those of benchmarks.quality, long side 384). Per VGG16 "
        "layer: the ratio of the outputs' summed Gram distance to the painting over the photos' "
        "(1 is no stylization, 0 the painting), the layer's share of the outputs' distance, and "
        "the same ratio for the Gram's two parts: the channel means' outer product and the "
        "centred covariance.",
        "",
        "| style | layer | Gram ratio | share of the distance | means' part | centred part |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {name} | {layer} | {row['ratio'][i][0]:.3f} | {row['share'][i]:.0%} | "
            f"{row['ratio'][i][1]:.3f} | {row['ratio'][i][2]:.3f} |"
            for name, row in rows.items()
            for i, layer in enumerate(LAYERS)
        ),
    ]
    write_report("gram_layers", {"layers": LAYERS, "parts": PARTS, "styles": rows}, table)


if __name__ == "__main__":
    main()
