"""What `--strength` and `--preserve-colour` cost, and where the blend is cheapest.

Two places can mix the stylization with the frame: OpenCV on the uint8 batch after the model
(what the runtime does), or float nodes appended inside the graph, run by ONNX Runtime with
the model in one call (built here with onnx, strength as a constant). At each size,
interleaved with the plain model so load from other processes hits all candidates alike, this
prints the median ms per frame of: the model alone, the OpenCV blends alone, the model
followed by each OpenCV blend, and the model with the same blend in its graph. Then the
end-to-end fps of a 640x360 file run (decode, model, blend, H.264 encode) with and without
strength 0.5 + colour preservation.
Target: under 5% of end-to-end fps at 640x360.

    python -m benchmarks.blend_cost [--model NAME|M.onnx] [--rounds 20] [--frames 300]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from benchmarks.models import contract_models
from benchmarks.pipeline_overhead import decode_all, make_clip
from benchmarks.report import write_report
from benchmarks.timing import add_speed_options
from benchmarks.usage import user_errors
from stream_astgan.blend import blend
from stream_astgan.contract import OUTPUT_NAME
from stream_astgan.engine import Engine
from stream_astgan.runner import RunOptions, stylize
from stream_astgan.sizing import parse_sizes
from stream_astgan.timing import interleaved_median_seconds

STRENGTH = 0.5
# BT.601 luma weights: the Y that OpenCV's RGB2GRAY and RGB2YCrCb compute.
LUMA = [0.299, 0.587, 0.114]


def with_blend_in_graph(
    model: onnx.ModelProto, strength: float | None, keep: bool
) -> onnx.ModelProto:
    """The model with the blend as float nodes after its output, cast back to uint8 at the end.

    Colour preservation adds the luminance change to every channel (which leaves Cr and Cb as
    they were); strength mixes the result with the frame. Both round and clip like OpenCV.
    """
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    for node in graph.node:
        node.output[:] = ["raw" if o == OUTPUT_NAME else o for o in node.output]
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("Cast", ["frames"], ["x"], to=f),
        helper.make_node("Cast", ["raw"], ["y"], to=f),
    ]
    inits = [
        helper.make_tensor("zero", f, [], [0.0]),
        helper.make_tensor("top", f, [], [255.0]),
    ]
    styled = "y"
    if keep:
        inits.append(helper.make_tensor("luma", f, [3, 1], LUMA))
        nodes += [
            helper.make_node("MatMul", ["x", "luma"], ["lx"]),
            helper.make_node("MatMul", ["y", "luma"], ["ly"]),
            helper.make_node("Sub", ["ly", "lx"], ["dl"]),
            helper.make_node("Add", ["x", "dl"], ["shifted"]),
            helper.make_node("Clip", ["shifted", "zero", "top"], ["kept"]),  # as OpenCV's uint8
        ]
        styled = "kept"
    if strength is not None:
        inits.append(helper.make_tensor("s", f, [], [strength]))
        nodes += [
            helper.make_node("Sub", [styled, "x"], ["d"]),
            helper.make_node("Mul", ["d", "s"], ["ds"]),
            helper.make_node("Add", ["x", "ds"], ["mixed"]),
        ]
        styled = "mixed"
    nodes += [
        helper.make_node("Clip", [styled, "zero", "top"], ["clipped"]),
        helper.make_node("Round", ["clipped"], ["rounded"]),
        helper.make_node("Cast", ["rounded"], [OUTPUT_NAME], to=TensorProto.UINT8),
    ]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    return model


def variants(path: Path, tmp: Path) -> dict[str, Path]:
    """The model with each blend built into its graph, saved beside the temporary clip."""
    model = onnx.load(str(path))
    out = {}
    for name, strength, keep in (
        ("strength", STRENGTH, False),
        ("colour", None, True),
        ("both", STRENGTH, True),
    ):
        out[name] = tmp / f"in-graph-{name}.onnx"
        onnx.save(with_blend_in_graph(model, strength, keep), out[name])
    return out


def per_frame_ms(model: Path, tmp: Path, size: tuple[int, int], threads: int, rounds: int):  # type: ignore[no-untyped-def]
    """Median ms per frame of every candidate at one size (one real frame, batch 1)."""
    w, h = size
    frame = decode_all(make_clip(tmp / f"frame-{w}x{h}.mp4", 1, size))[0][None]
    engine = Engine(model, "cpu", threads)
    graphs = {k: Engine(p, "cpu", threads) for k, p in variants(model, tmp).items()}
    styled = engine.run(frame)
    looks = {"strength": (STRENGTH, False), "colour": (1.0, True), "both": (STRENGTH, True)}
    calls = {"model": lambda: engine.run(frame)}
    for name, (s, keep) in looks.items():
        calls[f"opencv {name} alone"] = lambda s=s, keep=keep: blend(frame, styled, s, keep)
        calls[f"model + opencv {name}"] = lambda s=s, keep=keep: blend(
            frame, engine.run(frame), s, keep
        )
        calls[f"model with {name} in graph"] = lambda g=graphs[name]: g.run(frame)
    medians = interleaved_median_seconds(calls, rounds)
    # The two ways must give the same pictures (up to rounding, and clipping where a new
    # luminance leaves the RGB cube) for the comparison to be fair.
    for name, (s, keep) in looks.items():
        gap = np.abs(graphs[name].run(frame).astype(int) - blend(frame, styled, s, keep)).mean()
        assert gap < 0.5, f"in-graph {name} differs from OpenCV by {gap:.2f} on average"
    return {k: round(v * 1e3, 3) for k, v in medians.items()}


def end_to_end(model: Path, tmp: Path, threads: int, repeats: int, frames: int) -> dict[str, float]:
    """Best fps of a 640x360 file run, plain and with strength 0.5 + colours kept, alternated."""
    clip = make_clip(tmp / "e2e.mp4", frames, (640, 360))
    looks = {"plain": (1.0, False), "strength 0.5 + colour": (STRENGTH, True)}
    best = dict.fromkeys(looks, 0.0)
    for _ in range(repeats):
        for name, (s, keep) in looks.items():
            opts = RunOptions(input=clip, output=tmp / "e2e-out.mp4", model=str(model),
                              provider="cpu", threads=threads, overwrite=True, strength=s,
                              preserve_colour=keep)  # fmt: skip
            best[name] = max(best[name], round(stylize(opts).stats.fps, 1))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="bundled name or .onnx (default: the first bundled)")
    parser.add_argument("--repeats", type=int, default=3, help="end-to-end runs per look")
    parser.add_argument("--frames", type=int, default=300, help="frames of the end-to-end clip")
    add_speed_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir, user_errors():
        tmp = Path(tmp_dir)
        models, note = contract_models([args.model] if args.model else None, tmp)
        model = models[0]
        sizes = {f"{w}x{h}": (w, h) for w, h in parse_sizes(args.sizes)}
        ms = {
            k: per_frame_ms(model.path, tmp, s, args.threads, args.rounds) for k, s in sizes.items()
        }
        e2e = end_to_end(model.path, tmp, args.threads, args.repeats, args.frames)
    cost = 1 - e2e["strength 0.5 + colour"] / e2e["plain"]
    res = {"model": model.label, "note": note, "threads": args.threads, "rounds": args.rounds,
           "frames": args.frames, "repeats": args.repeats,
           "ms_per_frame": ms, "end_to_end_fps_640x360": e2e,
           "end_to_end_cost_640x360": round(cost, 4)}  # fmt: skip
    names = list(next(iter(ms.values())))
    table = [
        f"Model {model.label}, batch 1, {args.threads} threads, medians of {args.rounds} "
        f"interleaved rounds; strength {STRENGTH}.",
        *([f"Note: {note}."] if note else []),
        "",
        "| ms per frame | " + " | ".join(ms) + " |",
        "| --- |" + " --- |" * len(ms),
        *(f"| {n} | " + " | ".join(str(ms[s][n]) for s in ms) + " |" for n in names),
        "",
        f"End to end, 640x360, {args.frames} frames, best of "
        f"{args.repeats}: plain {e2e['plain']} fps, strength {STRENGTH} + colour preservation "
        f"{e2e['strength 0.5 + colour']} fps: {100 * cost:.1f}% of end-to-end fps "
        "(target < 5%).",
    ]
    write_report("blend_cost", res, table)


if __name__ == "__main__":
    main()
