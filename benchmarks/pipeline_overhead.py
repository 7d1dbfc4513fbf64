"""How much the threaded pipeline gains over a naive loop, and how close it gets to the model.

On one clip and one model, with the same ONNX Runtime settings, prints:
- model-only fps: the engine on already-decoded frames (the ceiling);
- end-to-end fps of `astgan-stream` (decode, inference and encode running concurrently);
- a naive loop's fps: decode one frame, infer, encode, repeat, in one thread.
Target on a 2-core CPU: end-to-end >= 0.85x model-only and >= 1.15x the naive loop.

    python -m benchmarks.pipeline_overhead [--model NAME|M.onnx | --synthetic] [--frames 300]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from stream_astgan import catalog
from stream_astgan.clips import gradient, write_clip
from stream_astgan.color import frame_to_rgb, read_color_spec
from stream_astgan.engine import Engine
from stream_astgan.environment import environment_report
from stream_astgan.runner import RunOptions, stylize
from stream_astgan.sinks import DEFAULT_CRF, DEFAULT_PRESET
from stream_astgan.timing import calls_per_second

try:
    from benchmarks.models import contract_models
    from benchmarks.report import write_report
    from benchmarks.synthetic_model import build
except ImportError:  # run as a script from the benchmarks folder
    from models import contract_models  # type: ignore[no-redef]
    from report import write_report  # type: ignore[no-redef]
    from synthetic_model import build  # type: ignore[no-redef]

SHARED_BOX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video" / "box.mp4"


def make_clip(path: Path, frames: int, size: tuple[int, int]) -> Path:
    """A clip of `frames` frames: box.mp4 scaled (real camera content) when available, looped
    as needed, else the synthetic gradient; written by the project's clip writer."""
    return write_clip(path, itertools.islice(_box_frames(size), frames), size)


def _box_frames(size: tuple[int, int]) -> Iterator[np.ndarray]:
    w, h = size
    if not SHARED_BOX.exists():
        yield from (gradient(i, size) for i in itertools.count())
        return
    while True:
        with av.open(str(SHARED_BOX)) as src:
            for frame in src.decode(video=0):
                yield frame.reformat(width=w, height=h).to_ndarray(format="rgb24")


def decode_all(clip: Path) -> list[np.ndarray]:
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(s))
    spec = read_color_spec(2, 0, "yuv420p", frames[0].height)
    return [frame_to_rgb(f, spec) for f in frames]


def model_only(engine: Engine, frames: list[np.ndarray], batch: int) -> float:
    batches = [np.stack(frames[i : i + batch]) for i in range(0, len(frames), batch)]
    return calls_per_second(batches, engine.run, warmup=10) * batch


def naive_loop(engine: Engine, clip: Path, out_path: Path) -> float:
    """Decode, infer, encode one frame at a time in one thread, as a first script does it.

    PyAV's own RGB conversions and default threading; the same encoder, preset and CRF as the
    pipeline, so both write comparable files.
    """
    t0 = time.perf_counter()
    n = 0
    with av.open(str(clip)) as src, av.open(str(out_path), "w") as out:
        vin = src.streams.video[0]
        vs = out.add_stream("libx264", rate=vin.average_rate)
        vs.width, vs.height, vs.pix_fmt = vin.width, vin.height, "yuv420p"
        vs.codec_context.options = {"crf": str(DEFAULT_CRF), "preset": DEFAULT_PRESET}
        for frame in src.decode(vin):
            styled = engine.run(frame.to_ndarray(format="rgb24")[None])[0]
            g = av.VideoFrame.from_ndarray(styled, format="rgb24")
            g.pts = n
            out.mux(vs.encode(g))
            n += 1
        out.mux(vs.encode())
    return n / (time.perf_counter() - t0)


def end_to_end(model: Path, clip: Path, out_path: Path, threads: int | None, batch: int) -> float:
    opts = RunOptions(
        input=clip, output=out_path, model=str(model), provider="cpu",
        threads=threads, batch=batch, overwrite=True,
    )  # fmt: skip
    result = stylize(opts)
    return result.stats.fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", help="bundled style or .onnx (default: the bundled default style, else an "
        "untrained default generator exported by the project's exporter)",
    )  # fmt: skip
    parser.add_argument(
        "--synthetic", action="store_true",
        help="use a small onnx.helper network instead (no torch needed)",
    )  # fmt: skip
    parser.add_argument("--input", type=Path, help="a clip (default: 640x360 from box.mp4)")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; best is kept")
    parser.add_argument("--tag", help="write results/pipeline_overhead_TAG.* (keeps the main one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.synthetic:
            model, gmac = build(tmp / "synthetic.onnx")
            model_name = f"synthetic onnx.helper net ({gmac:.2f} GMAC/640x360)"
        else:
            default = catalog.DEFAULT_MODEL if catalog.DEFAULT_MODEL in catalog.bundled() else None
            given = args.model or default
            chosen, note = contract_models([given] if given else None, tmp)
            model = chosen[0].path
            model_name = chosen[0].label + (f" ({note})" if note else "")
        clip = args.input or make_clip(tmp / "clip.mp4", args.frames, (640, 360))
        frames = decode_all(clip)
        engine = Engine(model, "cpu", args.threads)
        rows = {"model_only": [], "end_to_end": [], "naive_loop": []}
        for _ in range(args.repeats):
            rows["model_only"].append(model_only(engine, frames, args.batch))
            rows["end_to_end"].append(
                end_to_end(model, clip, tmp / "e2e.mp4", args.threads, args.batch)
            )
            rows["naive_loop"].append(naive_loop(engine, clip, tmp / "naive.mp4"))
        best = {k: max(v) for k, v in rows.items()}
        result = {
            "model": model_name,
            "clip": f"{len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}",
            "threads": engine.report.threads,
            "batch": args.batch,
            "fps_best": {k: round(v, 1) for k, v in best.items()},
            "fps_all": {k: [round(x, 1) for x in v] for k, v in rows.items()},
            "end_to_end_vs_model": round(best["end_to_end"] / best["model_only"], 3),
            "end_to_end_vs_naive": round(best["end_to_end"] / best["naive_loop"], 3),
            "environment": environment_report(str(model), "cpu"),
        }
    table = [
        f"Model: {result['model']}; clip: {result['clip']}; batch {result['batch']}, "
        f"{result['threads']} ONNX Runtime threads; H.264 encode included.",
        "",
        "| measurement | fps (best of runs) | all runs |",
        "| --- | --- | --- |",
        *(
            f"| {k.replace('_', ' ')} | {result['fps_best'][k]} | {result['fps_all'][k]} |"
            for k in rows
        ),
        f"| end-to-end / model-only | {result['end_to_end_vs_model']} | target >= 0.85 |",
        f"| end-to-end / naive loop | {result['end_to_end_vs_naive']} | target >= 1.15 |",
    ]
    write_report("pipeline_overhead" + (f"_{args.tag}" if args.tag else ""), result, table)


if __name__ == "__main__":
    main()
