"""ONNX Runtime against torch eager on the same generator, the same frame and the same threads.

Both sides compute the model contract exactly: uint8 [1, H, W, 3] frames in and out, the
generator wrapped in export's FramesWrapper (torch eager runs the wrapper, ONNX Runtime runs
the graph export traced from it, through the runtime's Engine). Batch norm is folded on both
sides. Runs alternate round by round, so background load hits both alike.

ONNX Runtime runs with thread spinning off (as the runtime does); torch's OpenMP threads are
told the same (OMP_WAIT_POLICY=PASSIVE, set before torch loads): spinning torch threads on a
machine shared with other processes are many times slower than one thread.

    python -m benchmarks.ort_vs_torch [--checkpoint C.pt] [--threads 2] [--rounds 20]

Writes results/ort_vs_torch.{json,md}.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

from benchmarks.models import generator_for
from benchmarks.report import write_report
from benchmarks.timing import add_speed_options, fps
from benchmarks.usage import user_errors
from export.fusion import fold_normalization
from export.onnx_export import export_fp32
from export.verify import torch_runner
from stream_astgan.engine import Engine
from stream_astgan.sizing import parse_sizes
from stream_astgan.timing import interleaved_median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint", type=Path, help="a training checkpoint (default: untrained)"
    )
    add_speed_options(parser)
    args = parser.parse_args()
    with user_errors():
        sizes = parse_sizes(args.sizes)
        generator, label = generator_for(args.checkpoint)
    torch.set_num_threads(args.threads)
    fused = fold_normalization(generator)
    eager = torch_runner(fused)
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save(export_fp32(fused), path)
        engine = Engine(path, "cpu", args.threads)
        for width, height in sizes:
            frame = rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8)
            same = np.abs(engine.run(frame).astype(int) - eager(frame).astype(int)).max()
            seconds = interleaved_median_seconds(
                {"ort": lambda f=frame: engine.run(f), "torch": lambda f=frame: eager(f)},
                args.rounds,
            )
            rows.append({
                "size": f"{width}x{height}",
                "onnxruntime_fps": fps(seconds["ort"]),
                "torch_eager_fps": fps(seconds["torch"]),
                "speedup": round(seconds["torch"] / seconds["ort"], 2),
                "max_abs_diff_levels": int(same),
            })  # fmt: skip
    result = {
        "generator": label,
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "threads": args.threads,
        "batch": 1,
        "rounds": args.rounds,
        "torch": torch.__version__,
        "rows": rows,
    }
    table = [
        f"Generator: {label}; batch 1, {args.threads} threads on both sides, median of "
        f"{args.rounds} interleaved runs; thread spinning off on both sides "
        f"(torch: OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}); torch {torch.__version__}.",
        "",
        "| size | ONNX Runtime fps | torch eager fps | ORT / torch | max output difference |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {r['size']} | {r['onnxruntime_fps']} | {r['torch_eager_fps']} | {r['speedup']}x "
            f"| {r['max_abs_diff_levels']} levels |"
            for r in rows
        ),
    ]
    write_report("ort_vs_torch", result, table)


if __name__ == "__main__":
    main()
