"""fps against resolution for batch sizes 1, 4 and 8: inference alone and end to end.

    python benchmarks/resolution_batch.py [--model NAME|M.onnx]

Writes results/resolution_batch.{json,md,png}.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stream_astgan import catalog
from stream_astgan.bench import run_bench
from stream_astgan.sizing import parse_size, parse_sizes

try:
    from benchmarks.report import RESULTS, write_report
    from benchmarks.synthetic_model import build
except ImportError:  # run as a script from the benchmarks folder
    from report import RESULTS, write_report  # type: ignore[no-redef]
    from synthetic_model import build  # type: ignore[no-redef]

SIZES = parse_sizes("320x180,640x360,960x540,1280x720,1920x1080")
BATCHES = [1, 4, 8]


def plot(rows: list[dict], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, key, label in zip(
        axes, ["inference_fps", "end_to_end_fps"], ["inference only", "end to end"], strict=True
    ):
        for batch in BATCHES:
            pts = [(r["size"], r[key]) for r in rows if r["batch"] == batch]
            pixels = [w * h / 1e6 for w, h in map(parse_size, (s for s, _ in pts))]
            ax.plot(pixels, [v for _, v in pts], marker="o", label=f"batch {batch}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([0.0576, 0.2304, 0.5184, 0.9216, 2.0736])
        ax.set_xticklabels(["180p", "360p", "540p", "720p", "1080p"])
        ax.axhline(30, color="grey", lw=0.8, ls="--")
        ax.set_title(label)
        ax.set_xlabel("frame size")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("frames per second")
    axes[0].legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", help="bundled style or .onnx (default: bundled default, else synthetic)"
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None and not catalog.bundled():
            model = str(build(Path(tmp) / "synthetic.onnx")[0])
        report = run_bench(model, None, SIZES, BATCHES, "cpu", "auto", args.seconds, None)
    rows = report["rows"]
    name = args.model or (catalog.DEFAULT_MODEL if catalog.bundled() else "synthetic generator")
    RESULTS.mkdir(exist_ok=True)
    plot(rows, f"{name}, {report['environment']['cpu']}", RESULTS / "resolution_batch.png")
    table = [
        "| size | batch | inference fps | end-to-end fps |",
        "| --- | --- | --- | --- |",
        *(
            f"| {r['size']} | {r['batch']} | {r['inference_fps']} | {r['end_to_end_fps']} |"
            for r in rows
        ),
        "",
        "![fps against resolution](resolution_batch.png)",
    ]
    write_report("resolution_batch", {"model": name, **report}, table)


if __name__ == "__main__":
    main()
