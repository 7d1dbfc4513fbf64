"""How far each style moves a photo towards its painting, on photos no recipe trains on.

Yardsticks, all in the ImageNet VGG16 that `python -m training.weights vgg16` prepares:
- Gram-distance ratio: the relative distance of the output's Gram matrices (plain Gatys
  Grams, relu1_2 .. relu4_3, not the centred statistics training uses) to the painting's,
  over the same distance for the photo itself. 1 is no stylization, 0 the painting's texture.
- content distance: relative squared error of relu3_3 features, output against photo.
Anchors measured in the same run on the same photos: per-image Gatys optimisation from the
photo (the ceiling of these features) with the same content layer, and, where a checkpoint is
given with --transformernet, Johnson et al.'s TransformerNet trained by the same recipe
(`--set generator.arch=transformernet`), with the share of its Gram-distance reduction that ours
reaches. Also per model: GMAC (from its metadata), model-only fps at 640x360, and the
warping-error ratio on all of box.mp4.

Held-out photos: scikit-image's bundled public-domain photos (astronaut, coffee, chelsea,
rocket) when scikit-image is installed, and single frames of the shared videos box.mp4 and
cup.mp4. The recipes train on ../shared/data/content/photos only.

    python -m benchmarks.quality [--model NAME|M.onnx ...] [--max-side 384] [--gatys-steps 150]
        [--transformernet STYLE=CHECKPOINT.pt ...] [--tag TAG]

Writes results/quality.{json,md} and results/quality_sheet.jpg (photo | ours | anchors), or
results/quality_TAG.* with --tag, so an anchor run beside old files keeps the main table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.progress import track

from benchmarks.contact_sheet import grid, labelled, save_jpeg
from benchmarks.models import BOX, SHARED_DATA, TorchEngine, contract_models
from benchmarks.report import RESULTS, write_report
from benchmarks.temporal import measure
from benchmarks.timing import fps
from benchmarks.usage import fail, user_errors
from stream_astgan import contract
from stream_astgan.engine import Engine
from stream_astgan.images import read_image
from stream_astgan.sources import open_source
from stream_astgan.timing import interleaved_median_seconds
from training.features import VGGFeatures, cpu_bf16_native, load_vgg
from training.networks import count_macs
from training.weights import WeightsRecord, read_record, vgg16_path

STYLE_DIR = SHARED_DATA / "style"
VIDEOS = (BOX, SHARED_DATA / "video" / "cup.mp4")
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
CONTENT_TAP = 2  # relu3_3
TARGET_RATIO = 0.40


def held_out_photos(max_side: int) -> dict[str, np.ndarray]:
    """uint8 RGB photos no recipe trains on, resized so the long side is <= max_side."""
    photos: dict[str, np.ndarray] = {}
    try:
        from skimage import data
    except ImportError:
        data = None
    for name in SKIMAGE_PHOTOS if data is not None else ():
        photos[name] = getattr(data, name)()[..., :3]
    for video in VIDEOS:
        if video.is_file():
            source = open_source(video)
            try:
                photos[f"{video.stem} frame 60"] = next(
                    f.rgb for f in source.frames() if f.index == 60
                )
            finally:
                source.close()
    return {name: _fit(rgb, max_side) for name, rgb in photos.items()}


def _fit(rgb: np.ndarray, max_side: int) -> np.ndarray:
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


def prepared_vgg() -> tuple[VGGFeatures, WeightsRecord]:
    """The prepared VGG16 and its record; a missing or altered file is a one-line error that
    says how to prepare it, not a traceback."""
    record = read_record(vgg16_path())
    return load_vgg(vgg16_path()).eval(), record


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def grams(feats: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gatys' Gram matrices, normalised by the number of positions."""
    out = []
    for f in feats:
        flat = f.flatten(2)
        out.append(flat @ flat.transpose(1, 2) / flat.shape[2])
    return out


def gram_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    """Mean over layers of the relative squared Frobenius distance of a's Grams to b's."""
    return torch.stack(
        [(x - y).square().sum() / y.square().sum() for x, y in zip(a, b, strict=True)]
    ).mean()


def painting_images(sources: str) -> list[np.ndarray]:
    """The model's painting(s) (metadata names looked up under shared/style), uint8 RGB at
    short side 512: the scale every yardstick compares with."""
    names = [s for s in sources.split(",") if s]
    paths = [next(iter(sorted(STYLE_DIR.rglob(n))), None) for n in names]
    missing = [n for n, p in zip(names, paths, strict=True) if p is None]
    if not names or missing:
        fail(f"painting(s) {', '.join(missing) or '(none named)'} not found under {STYLE_DIR}")
    images = []
    for path in paths:
        painting = read_image(path)
        if painting is None:
            fail(f"cannot read painting {path}")
        scale = 512 / min(painting.shape[:2])
        rgb = cv2.resize(painting, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        images.append(np.ascontiguousarray(rgb))
    return images


def painting_grams(vgg: VGGFeatures, sources: str) -> list[torch.Tensor]:
    """The Grams of the model's painting(s), averaged over paintings."""
    with torch.no_grad():
        per_painting = [grams(vgg(to_tensor(rgb))) for rgb in painting_images(sources)]
    return [torch.stack(layer).mean(0) for layer in zip(*per_painting, strict=True)]


def gatys(
    vgg: VGGFeatures, photo: torch.Tensor, target: list[torch.Tensor], steps: int, weight: float
) -> torch.Tensor:
    """Per-image optimisation from the photo: Gram distance plus relu3_3 content, Adam on the
    pixels' logits (so they stay in [0, 1])."""
    with torch.no_grad():
        content = vgg(photo, depth=CONTENT_TAP + 1)[CONTENT_TAP]
    logits = torch.logit(photo.clamp(0.01, 0.99)).requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=0.05)
    bf16 = cpu_bf16_native()  # as training does
    for _ in range(steps):
        image = torch.sigmoid(logits)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            feats = [f.float() for f in vgg(image)]
        loss = weight * gram_distance(grams(feats), target) + content_distance(
            feats[CONTENT_TAP], content
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.sigmoid(logits).detach()


def content_distance(out: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    return (out - photo).square().sum() / photo.square().sum()


def scores(
    vgg: VGGFeatures, photo: torch.Tensor, out: torch.Tensor, target: list[torch.Tensor]
) -> tuple[float, float]:
    """(Gram-distance ratio, content distance) of one output."""
    with torch.no_grad():
        fp, fo = vgg(photo), vgg(out)
        ratio = gram_distance(grams(fo), target) / gram_distance(grams(fp), target)
        return ratio.item(), content_distance(fo[CONTENT_TAP], fp[CONTENT_TAP]).item()


def to_rgb(image: torch.Tensor) -> np.ndarray:
    return (image[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


def model_fps(engine: Engine) -> float:
    frame = np.random.default_rng(0).integers(0, 256, (1, 360, 640, 3), np.uint8)
    seconds = interleaved_median_seconds({"model": lambda: engine.run(frame)}, rounds=15)
    return fps(seconds["model"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", help="bundled names or .onnx files (default: all)")
    parser.add_argument("--max-side", type=int, default=384, help="photo long side (<= 512)")
    parser.add_argument("--gatys-steps", type=int, default=150, help="0 skips the Gatys anchor")
    parser.add_argument("--gatys-weight", type=float, default=20.0, help="its style weight")
    parser.add_argument(
        "--gatys-photos", type=int, default=3, help="the anchor runs on the first N photos"
    )
    parser.add_argument("--no-temporal", action="store_true", help="skip box.mp4 warping error")
    parser.add_argument(
        "--transformernet",
        action="append",
        default=[],
        metavar="STYLE=CHECKPOINT",
        help="the TransformerNet anchor of a style: a training checkpoint (repeatable)",
    )
    parser.add_argument("--tag", help="write results/quality_TAG.* (keeps the main one)")
    args = parser.parse_args()
    anchors = dict(a.split("=", 1) for a in args.transformernet if "=" in a)
    if len(anchors) != len(args.transformernet):
        fail("--transformernet takes STYLE=CHECKPOINT, e.g. starry-night=runs/tn/checkpoint.pt")
    if args.max_side < 64 or args.gatys_steps < 0:
        fail("--max-side must be >= 64 and --gatys-steps >= 0")
    stem = "quality" + (f"_{args.tag}" if args.tag else "")
    t0 = time.perf_counter()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        vgg, record = prepared_vgg()
        photos = held_out_photos(args.max_side)
        if not photos:
            fail("no held-out photos: install scikit-image or provide ../shared/data/video")
        models, note = contract_models(args.model, Path(tmp))
        engines = {m.label: Engine(m.path, "cpu") for m in models}
        rows, sheet = {}, []
        for name, engine in engines.items():
            meta = engine.metadata
            target = painting_grams(vgg, meta.get(contract.META_SOURCE, ""))
            per: dict[str, list[float]] = {"ours": [], "ours_content": []}
            anchor_net = TorchEngine(Path(anchors[name])) if name in anchors else None
            if anchor_net is not None:
                per |= {"transformernet": [], "transformernet_content": []}
            if args.gatys_steps:
                per |= {"gatys": [], "gatys_content": []}
            # a Gatys photo takes minutes on a CPU: say where the run is
            steps = track(photos.items(), total=len(photos), description=f"{name}: photos")
            for index, (photo_name, rgb) in enumerate(steps):
                photo = to_tensor(rgb)
                out = to_tensor(engine.run(rgb[None])[0])
                ratio, content = scores(vgg, photo, out, target)
                per["ours"].append(ratio)
                per["ours_content"].append(content)
                row = [labelled(rgb, f"photo: {photo_name}")]
                row.append(labelled(to_rgb(out), f"{name}: {ratio:.2f}"))
                if anchor_net is not None:
                    tn = to_tensor(anchor_net.run(rgb[None])[0])
                    ratio, content = scores(vgg, photo, tn, target)
                    per["transformernet"].append(ratio)
                    per["transformernet_content"].append(content)
                    row.append(labelled(to_rgb(tn), f"TransformerNet: {ratio:.2f}"))
                if args.gatys_steps and index < args.gatys_photos:
                    anchor = gatys(vgg, photo, target, args.gatys_steps, args.gatys_weight)
                    ratio, content = scores(vgg, photo, anchor, target)
                    per["gatys"].append(ratio)
                    per["gatys_content"].append(content)
                    row.append(labelled(to_rgb(anchor), f"Gatys: {ratio:.2f}"))
                elif args.gatys_steps:
                    row.append(labelled(np.full_like(rgb, 255), "Gatys: not run"))
                sheet.append(_pad_row(row))
            if per.get("gatys"):
                per["ours_on_gatys_photos"] = per["ours"][: len(per["gatys"])]
            rows[name] = {k: round(statistics.fmean(v), 3) for k, v in per.items() if v}
            rows[name] |= {
                "gmac": float(meta.get(contract.META_GMAC, "nan")),
                "steps": int(meta.get(contract.META_STEPS, 0)),
                "fps_640x360_model_only": model_fps(engine),
            }
            if anchor_net is not None:
                rows[name] |= anchor_figures(anchor_net, rows[name])
        if not args.no_temporal and BOX.is_file():
            source = open_source(BOX)
            try:
                errors, _ = measure(source.frames(), engines, 0)
            finally:
                source.close()
            base = statistics.fmean(errors["source"])
            for name in engines:
                rows[name]["warping_ratio_box"] = round(statistics.fmean(errors[name]) / base, 3)
    save_jpeg(RESULTS / f"{stem}_sheet.jpg", grid(sheet))
    result = {
        "photos": list(photos),
        "max_side": args.max_side,
        "features": f"VGG16 from {record.source}",
        "gatys_steps": args.gatys_steps,
        "note": note,
        "models": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    gatys_note = (
        f"{args.gatys_steps} Adam steps from the photo, on the first {args.gatys_photos} photos"
        if args.gatys_steps
        else "not run (--gatys-steps 0)"
    )
    table = [
        f"Held-out photos ({len(photos)}): {', '.join(photos)}; long side <= {args.max_side}. "
        f"Features: VGG16 ({record.source}). Gram-distance ratio: output-to-painting over "
        "photo-to-painting, plain Gram matrices at relu1_2..relu4_3 (lower is more painterly; "
        f"target <= {TARGET_RATIO}); content: relative relu3_3 distance to the photo (lower "
        f"keeps more of it). Gatys: {gatys_note}.",
        *([f"Note: {note}."] if note else []),
        "",
        "| model | Gram ratio | content | Gram ratio, Gatys photos | Gatys Gram ratio "
        "| Gatys content | GMAC | fps (model, 640x360) | warping ratio, box.mp4 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {n} | {r['ours']} | {r['ours_content']} | {r.get('ours_on_gatys_photos', '-')} "
            f"| {r.get('gatys', '-')} | {r.get('gatys_content', '-')} | {r['gmac']} "
            f"| {r['fps_640x360_model_only']} "
            f"| {r.get('warping_ratio_box', '-')} |"
            for n, r in rows.items()
        ),
        *anchor_table(rows),
        "",
        "![held-out photos: photo, ours, TransformerNet where trained, Gatys (Gram ratio in each "
        f"label)]({stem}_sheet.jpg)",
    ]
    write_report(stem, result, table)


def anchor_figures(anchor: TorchEngine, ours: dict[str, float]) -> dict[str, float]:
    """The anchor's cost and the share of its Gram-distance reduction that ours reaches."""
    gmac = count_macs(anchor.net.generator, 360, 640) / 1e9
    return {
        "transformernet_gmac": round(gmac, 2),
        "transformernet_steps": anchor.step,
        "share_of_transformernet_reduction": round(
            (1 - ours["ours"]) / (1 - ours["transformernet"]), 3
        ),
        "transformernet_cost_over_ours": round(gmac / ours["gmac"], 1),
    }


def anchor_table(rows: dict[str, dict]) -> list[str]:
    """Quality per cost against TransformerNet (target: >= 80% of its reduction at <= 1/20 of
    its GMAC), for the styles that have an anchor."""
    anchored = {n: r for n, r in rows.items() if "transformernet" in r}
    if not anchored:
        return []
    return [
        "",
        "| model | training steps | TransformerNet Gram ratio | its content | its GMAC | its steps "
        "| share of its Gram reduction we reach (target >= 0.8) | its GMAC / ours (target >= 20) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {n} | {r['steps']} | {r['transformernet']} | {r['transformernet_content']} "
            f"| {r['transformernet_gmac']} | {r['transformernet_steps']} "
            f"| {r['share_of_transformernet_reduction']} | {r['transformernet_cost_over_ours']} |"
            for n, r in anchored.items()
        ),
    ]


def _pad_row(row: list[np.ndarray]) -> list[np.ndarray]:
    """Cells of one row resized to the first cell's size (photos differ in aspect)."""
    h, w = 200 + 28, 300
    return [cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA) for c in row]


if __name__ == "__main__":
    main()
