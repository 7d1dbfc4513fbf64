"""Temporal stability: the warping error of each model's stylized video against the source's.

The source is decoded by the runtime's own source (`stream_astgan.sources`) and stylized by
its Engine on the CPU, frame by frame; flows and masks come from the source frames only (see
warping.py). The stylized/source ratio is the figure the bundled-models issue sets a target
for: <= 1.2 on box.mp4 for every bundled model (the painterly-styles target; stronger texture
must not flicker).

    python -m benchmarks.temporal [--model NAME|M.onnx ...] [--input clip.mp4] [--frames N]

Writes results/temporal.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from benchmarks.models import BOX, contract_models
from benchmarks.report import write_report
from benchmarks.usage import fail, user_errors
from benchmarks.warping import FlowPair, flow_estimator
from stream_astgan.engine import Engine
from stream_astgan.frames import Frame
from stream_astgan.sizing import parse_size
from stream_astgan.sources import open_source

TARGET_RATIO = 1.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", nargs="+", help="bundled names or .onnx files (default: all bundled)"
    )
    parser.add_argument("--input", type=Path, default=BOX, help="a video (default: box.mp4)")
    parser.add_argument("--frames", type=int, default=0, help="first N frames only (0: all)")
    parser.add_argument("--size", help="process at WxH (default: the video's own size)")
    args = parser.parse_args()
    if args.frames < 0:
        fail(f"--frames must be 0 (all) or more, got {args.frames}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, user_errors():
        models, note = contract_models(args.model, Path(tmp))
        engines = {m.label: Engine(m.path, "cpu") for m in models}
        source = open_source(args.input, parse_size(args.size) if args.size else None)
        try:
            errors, size = measure(source.frames(), engines, args.frames)
        finally:
            source.close()
    if not errors["source"]:
        fail(f"{args.input} has fewer than two frames")
    means = {name: statistics.fmean(e) for name, e in errors.items()}
    rows = {
        name: {
            "warping_error": means[name],
            "source_warping_error": means["source"],
            "ratio": round(means[name] / means["source"], 3),
            "meets_target": means[name] / means["source"] <= TARGET_RATIO,
        }
        for name in engines
    }
    pairs = len(errors["source"])
    result = {
        "input": str(args.input),
        "frames": pairs + 1,
        "size": size,
        "note": note,
        "target_ratio": TARGET_RATIO,
        "models": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    table = [
        f"Input: {args.input.name}, first {pairs + 1} frames at {size}; flow: OpenCV DIS (medium) "
        "between source frames, occlusion and motion-boundary mask as in Lai et al. 2018. "
        "Warping error: mean squared RGB distance (0..1 scale) over unmasked pixels.",
        *([f"Note: {note}."] if note else []),
        "",
        "| model | warping error, stylized | warping error, source | stylized / source "
        f"| target <= {TARGET_RATIO} |",
        "| --- | ---: | ---: | ---: | --- |",
        *(
            f"| {name} | {r['warping_error']:.3g} | {r['source_warping_error']:.3g} "
            f"| {r['ratio']} | {'met' if r['meets_target'] else 'MISSED'} |"
            for name, r in rows.items()
        ),
    ]
    write_report("temporal", result, table)


def measure(
    frames: Iterable[Frame], engines: dict[str, Engine], limit: int
) -> tuple[dict[str, list[float]], str]:
    """Per frame pair, the warping error of the source and of each model's output."""
    estimator = flow_estimator()
    errors: dict[str, list[float]] = {"source": [], **{name: [] for name in engines}}
    previous = None
    size = ""
    for index, frame in enumerate(frames):
        if limit and index == limit:
            break
        outputs = {"source": frame.rgb} | {n: e.run(frame.rgb[None])[0] for n, e in engines.items()}
        if previous is not None:
            motion = FlowPair(estimator, previous["source"], frame.rgb)
            for name, out in outputs.items():
                errors[name].append(motion.error(previous[name], out))
        previous = outputs
        size = f"{frame.rgb.shape[1]}x{frame.rgb.shape[0]}"
    return errors, size


if __name__ == "__main__":
    main()
