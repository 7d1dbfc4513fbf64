"""Model-only ONNX Runtime speed of generator candidates, to choose the default GeneratorConfig.

Each candidate is built from `training.networks`, batch norm folded, exported to a temporary
ONNX file (float32 NCHW, no uint8 wrapper) and timed with ONNX Runtime's CPU provider at
batch 1, 2 intra-op threads, spinning off: the setting the runtime uses beside decode and
encode. Writes results/generator_speed.{json,md}: params, GMAC per 640x360 frame and fps.

    python -m benchmarks.generator_speed [--sizes 640x360,1280x720] [--repeats 20] [--only a,b]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from benchmarks.report import write_report
from benchmarks.usage import chosen
from stream_astgan.engine import session_options
from stream_astgan.sizing import parse_sizes
from stream_astgan.timing import interleaved_median_seconds
from training.config import GeneratorConfig
from training.networks import build_generator, count_macs

CANDIDATES = {
    "default": GeneratorConfig(),
    "no-antialias": replace(GeneratorConfig(), antialias=False),
    "zero-pad": replace(GeneratorConfig(), padding="zeros"),
    "norm-all-levels": replace(GeneratorConfig(), plain_levels=0),
    "no-norm": replace(GeneratorConfig(), norm="none", plain_levels=0),
    "batch-norm": replace(GeneratorConfig(), norm="batch"),
    "no-skips": replace(GeneratorConfig(), skips=False),
    "pixelshuffle": replace(GeneratorConfig(), upsample="pixelshuffle"),
    "resize-conv": replace(GeneratorConfig(), upsample="nearest"),
    "w12": replace(GeneratorConfig(), width=12, max_width=48),
    "w16-8blocks": replace(GeneratorConfig(), res_blocks=8),
    "w16-plain3": replace(GeneratorConfig(), bottleneck=1, res_blocks=3, max_width=48),
    "w16-ds4": replace(GeneratorConfig(), downsamples=4, max_width=96, res_blocks=4),
    "ds4": replace(GeneratorConfig(), downsamples=4),
}


def time_session(session: ort.InferenceSession, shape: tuple[int, ...], repeats: int) -> float:
    """Median seconds per run, with the shared timing loop."""
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    name = session.get_inputs()[0].name
    run = {"model": lambda: session.run(None, {name: x})}
    return interleaved_median_seconds(run, repeats)["model"]


def measure(cfg: GeneratorConfig, sizes: list[tuple[int, int]], repeats: int) -> dict:
    """Export one candidate and time it at each (width, height)."""
    net = build_generator(cfg).fuse_for_inference()
    macs = count_macs(net, 360, 640)
    row = {
        "config": asdict(cfg),
        "params": sum(p.numel() for p in net.parameters()),
        "gmac_640x360": round(macs / 1e9, 3),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.onnx"
        dummy = torch.rand(1, 3, 64, 64)
        torch.onnx.export(
            net,
            (dummy,),
            str(path),
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}},
            opset_version=17,
            dynamo=False,
        )
        options = session_options(threads=2)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for w, h in sizes:
            ph, pw = -(-h // net.stride) * net.stride, -(-w // net.stride) * net.stride
            seconds = time_session(session, (1, 3, ph, pw), repeats)
            row[f"fps_{w}x{h}"] = round(1 / seconds, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="640x360,1280x720", help="comma-separated WxH list")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per size")
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    names = chosen(args.only, CANDIDATES)
    torch.set_num_threads(2)
    results = {}
    for name in names:
        results[name] = measure(CANDIDATES[name], sizes, args.repeats)
    columns = [f"fps_{w}x{h}" for w, h in sizes]
    table = [
        f"Model only: float NCHW input, ONNX Runtime CPU, batch 1, 2 threads, spinning off, "
        f"median of {args.repeats} interleaved runs.",
        "",
        "| candidate | differences from the default | params | GMAC/640x360 | "
        + " | ".join(f"fps {c[4:]}" for c in columns)
        + " |",
        "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in columns) + " |",
        *(
            f"| {n} | {describe(CANDIDATES[n])} | {r['params']} | {r['gmac_640x360']} | "
            + " | ".join(str(r[c]) for c in columns)
            + " |"
            for n, r in results.items()
        ),
    ]
    write_report("generator_speed", {"candidates": results}, table)


def describe(cfg: GeneratorConfig) -> str:
    """The fields where `cfg` differs from the default, as key=value."""
    default = asdict(GeneratorConfig())
    changed = {k: v for k, v in asdict(cfg).items() if default[k] != v}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "-"


if __name__ == "__main__":
    main()
