"""What `export.tidy` saves: the same generator exported with and without the rewrites.

Three graphs come from one trace of the generator (a checkpoint's, or the default config's
untrained one: the weights do not change the speed): as traced, with the rules that remove
passes (`export.tidy.RULES`), and with the layout rules too (what the exporter writes). The
last is compared with the first on the exporter's parity cases, and all are timed with the
runtime's Engine at batch 1, interleaved round by round.

    python -m benchmarks.tidy_speed [--checkpoint C.pt] [--sizes 640x360,1280x720] [--rounds 20]

Writes results/tidy_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import onnx

from benchmarks.models import generator_for
from benchmarks.report import write_report
from benchmarks.timing import add_speed_options, fps_by_size
from benchmarks.usage import user_errors
from export.fusion import fold_normalization
from export.onnx_export import export_fp32
from export.tidy import tidy
from export.verify import compare, parity_cases
from stream_astgan.engine import Engine
from stream_astgan.sizing import parse_sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="a training checkpoint")
    add_speed_options(parser)
    args = parser.parse_args()
    with user_errors():
        sizes = parse_sizes(args.sizes)
        generator, label = generator_for(args.checkpoint)
    traced = export_fp32(fold_normalization(generator), tidy_graph=False)
    models = {
        "as traced": traced,
        "passes removed": tidy(traced, layout=False),
        "tidied": tidy(traced),
    }
    ops = {name: Counter(n.op_type for n in m.graph.node) for name, m in models.items()}
    removed = ops["as traced"] - ops["tidied"]
    with tempfile.TemporaryDirectory() as tmp:
        engines = {}
        for name, model in models.items():
            path = Path(tmp) / f"{name.replace(' ', '_')}.onnx"
            onnx.save(model, path)
            engines[name] = Engine(path, "cpu", args.threads)
        error = compare(engines["as traced"].run, engines["tidied"].run, parity_cases([]))
        speeds = fps_by_size({n: e.run for n, e in engines.items()}, sizes, args.rounds)
    result = {
        "model": label,
        "threads": args.threads,
        "rounds": args.rounds,
        "removed_ops": dict(removed),
        "added_ops": dict(ops["tidied"] - ops["as traced"]),
        "tidied_vs_traced": error,
        "rows": {name: {"nodes": len(m.graph.node), **speeds[name]} for name, m in models.items()},
    }
    write_report("tidy_speed", result, markdown(result, sizes))


def markdown(result: dict, sizes: list[tuple[int, int]]) -> list[str]:
    """The table: one row per graph, then what changed and how far the outputs moved."""
    keys = [f"fps_{w}x{h}" for w, h in sizes]
    error = result["tidied_vs_traced"]
    removed = ", ".join(f"{n} {op}" for op, n in sorted(result["removed_ops"].items()))
    added = ", ".join(f"{n} {op}" for op, n in sorted(result["added_ops"].items()))
    lines = [
        f"Model: {result['model']}; Engine (uint8 frames in and out), batch 1, "
        f"{result['threads']} CPU threads, median of {result['rounds']} interleaved runs.",
        "",
        f"| graph | nodes | {' | '.join(k[4:] + ' fps' for k in keys)} |",
        f"| --- | ---: | {' | '.join('---:' for _ in keys)} |",
        *(
            f"| {name} | {row['nodes']} | {' | '.join(str(row[k]) for k in keys)} |"
            for name, row in result["rows"].items()
        ),
        "",
        f"Removed: {removed or 'nothing'}; added: {added or 'nothing'}. Tidied against as "
        f"traced, on the exporter's parity cases: largest difference {error['max_abs']} "
        f"level(s), {error['frac_over_1']:.4%} of pixels more than 1 off.",
    ]
    return lines


if __name__ == "__main__":
    main()
