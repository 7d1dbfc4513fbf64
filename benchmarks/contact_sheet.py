"""Pictures of what the models do: a contact sheet (rows: photos; columns: the photo, then each
model) and a strip of consecutive stylized video frames (rows: the source, then each model),
so flicker or its absence can be seen next to the temporal figures.

Photos are centre-cropped to the processing size (16:9, like video) and stylized at that size
by the runtime's Engine on the CPU; cells are shown at half size.

    python -m benchmarks.contact_sheet [--models NAME|M.onnx ...] [--photos 4] [--frames 6]

Writes results/contact_sheet.jpg, results/video_strip.jpg and results/contact_sheet.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from benchmarks.models import BOX, PHOTOS, contract_models
from benchmarks.report import RESULTS, write_report
from benchmarks.usage import fail, user_errors
from export.photos import list_photos, load_photo
from stream_astgan.engine import Engine
from stream_astgan.sheet import grid, labelled
from stream_astgan.sizing import parse_size
from stream_astgan.sources import open_source


def spread(items: list[Path], count: int) -> list[Path]:
    """`count` items evenly spread over the sorted list, so the sheet shows varied photos."""
    picks = np.linspace(0, len(items) - 1, min(count, len(items))).round().astype(int)
    return [items[i] for i in dict.fromkeys(picks)]


def video_frames(path: Path, start: int, count: int) -> list[np.ndarray]:
    """`count` consecutive decoded frames from frame `start` on (the runtime's own decoder)."""
    source = open_source(path)
    try:
        frames = []
        for frame in source.frames():
            if frame.index >= start:
                frames.append(frame.rgb)
            if len(frames) == count:
                break
        return frames
    finally:
        source.close()


def save_jpeg(path: Path, rgb: np.ndarray) -> None:
    """JPEG at quality 92: the PNGs of these photos were 1.4 and 2.9 MB per rerun in git, the
    JPEGs ~10x smaller, with no artefact visible at this quality."""
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="+", help="bundled names or .onnx files (default: all bundled)"
    )
    parser.add_argument("--photo-dir", type=Path, default=PHOTOS)
    parser.add_argument("--photos", type=int, default=4, help="rows of the contact sheet")
    parser.add_argument("--size", default="640x360", help="processing size of the photos")
    parser.add_argument("--input", type=Path, default=BOX, help="video for the strip")
    parser.add_argument("--start", type=int, default=120, help="first frame of the strip")
    parser.add_argument("--frames", type=int, default=6, help="consecutive frames in the strip")
    args = parser.parse_args()
    if args.photos < 1 or args.frames < 1 or args.start < 0:
        fail("--photos and --frames must be at least 1 and --start at least 0")
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        width, height = parse_size(args.size)
        photos = spread(list_photos(args.photo_dir), args.photos)
        models, note = contract_models(args.models, Path(tmp))
        engines = {m.label: Engine(m.path, "cpu") for m in models}
        frames = video_frames(args.input, args.start, args.frames)
        if not frames:
            fail(f"{args.input} has no frame {args.start}; lower --start")
        pictures = {path: load_photo(path, height, width) for path in photos}
        sheet = [
            [labelled(rgb, f"photo: {path.stem}")]
            + [labelled(e.run(rgb[None])[0], name) for name, e in engines.items()]
            for path, rgb in pictures.items()
        ]
        strip = [[labelled(f, f"source, frame {args.start + i}") for i, f in enumerate(frames)]]
        batch = np.stack(frames)
        for name, engine in engines.items():
            strip.append(
                [
                    labelled(f, f"{name}, frame {args.start + i}")
                    for i, f in enumerate(engine.run(batch))
                ]
            )
    RESULTS.mkdir(exist_ok=True)
    save_jpeg(RESULTS / "contact_sheet.jpg", grid(sheet))
    save_jpeg(RESULTS / "video_strip.jpg", grid(strip))
    result = {
        "models": {m.label: str(m.path) for m in models},
        "note": note,
        "photos": [p.name for p in photos],
        "size": f"{width}x{height}",
        "video": f"{args.input.name}, frames {args.start}..{args.start + len(frames) - 1}",
    }
    table = [
        f"Models: {', '.join(engines)}; photos stylized at {width}x{height}, shown at half size.",
        *([f"Note: {note}."] if note else []),
        "",
        "![contact sheet: photo, then each model](contact_sheet.jpg)",
        "",
        f"Consecutive frames of {result['video']}: source, then each model.",
        "",
        "![consecutive stylized video frames](video_strip.jpg)",
    ]
    write_report("contact_sheet", result, table)


if __name__ == "__main__":
    main()
