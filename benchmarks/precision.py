"""fp32 against int8 on the CPU (speed and error), and fp16 / TensorRT where a GPU can run them.

int8 is made by export's own quantizer (`export.precision.to_int8`, calibrated on the first 32
shared photos) and judged as export judges it: error against fp32 on photos it was not
calibrated on (`export.verify`), in 0..255 levels. Speed is the runtime's Engine at batch 1,
all variants interleaved round by round. fp16 (CUDA) and TensorRT rows are measured only when
ONNX Runtime can really load those providers (`stream_astgan.providers.load_problem`);
otherwise the row says why it was skipped.

    python -m benchmarks.precision [--checkpoint C.pt | --model NAME|M.onnx] [--rounds 20]

Writes results/precision.{json,md}.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import onnx

from benchmarks.models import PHOTOS, UNTRAINED_NOTE, generator_for
from benchmarks.report import write_report
from benchmarks.timing import add_speed_options, fps_by_size
from benchmarks.usage import user_errors
from export.calibration import PhotoCalibrationReader
from export.fusion import fold_normalization
from export.onnx_export import export_fp32
from export.photos import list_photos
from export.precision import to_fp16, to_int8
from export.verify import PARITY_PHOTOS, compare, natural_cases, parity_cases
from stream_astgan import catalog, providers
from stream_astgan.engine import Engine
from stream_astgan.sizing import parse_sizes

GPU_ROWS = {"fp16": providers.CUDA, "TensorRT (fp16)": providers.TENSORRT}


def fp32_model(checkpoint: Path | None, model: str | None) -> tuple[onnx.ModelProto, str, str]:
    """The fp32 graph to start from, its label, and a note when it is the untrained stand-in."""
    if model is not None:
        precision = "auto" if catalog.looks_like_path(model) else "fp32"
        return onnx.load(catalog.resolve(model, gpu=False, precision=precision)), model, ""
    if checkpoint is None and catalog.bundled():
        return (
            onnx.load(catalog.resolve(None, gpu=False, precision="fp32")),
            catalog.DEFAULT_MODEL,
            "",
        )
    generator, label = generator_for(checkpoint)
    note = UNTRAINED_NOTE if checkpoint is None else ""
    return export_fp32(fold_normalization(generator)), label, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=Path, help="a training checkpoint")
    source.add_argument("--model", help="a bundled style (its fp32 file) or an fp32 .onnx")
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="calibration/parity photos")
    add_speed_options(parser)
    args = parser.parse_args()
    with user_errors():
        sizes = parse_sizes(args.sizes)
        photos = list_photos(args.photos)
        fp32, label, note = fp32_model(args.checkpoint, args.model)
    cases = natural_cases(parity_cases(photos[-PARITY_PHOTOS:]))
    models = {
        "fp32": (fp32, providers.CPU),
        "int8": (to_int8(fp32, PhotoCalibrationReader(photos)), providers.CPU),
    }
    skipped = {}
    for name, provider in GPU_ROWS.items():
        problem = providers.load_problem(provider)
        if problem is None:
            models[name] = (to_fp16(fp32) if provider == providers.CUDA else fp32, provider)
        else:
            skipped[name] = f"skipped: no GPU ({providers.SHORT[provider]}: {problem})"
    rows: dict[str, dict] = {
        name: {"provider": providers.SHORT[p]} for name, (_, p) in models.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        engines = {}
        for name, (model, provider) in models.items():
            path = Path(tmp) / f"{name.split()[0]}.onnx"
            onnx.save(model, path)
            engines[name] = Engine(path, providers.SHORT[provider], args.threads)
        for name, engine in engines.items():
            rows[name]["error_vs_fp32"] = compare(engines["fp32"].run, engine.run, cases)
        speeds = fps_by_size({n: e.run for n, e in engines.items()}, sizes, args.rounds)
        for name, speed in speeds.items():
            rows[name].update(speed)
    result = {
        "model": label,
        "note": note,
        "threads": args.threads,
        "rounds": args.rounds,
        "photos": str(args.photos),
        "rows": rows,
        "skipped": skipped,
    }
    write_report("precision", result, markdown(result, sizes))


def markdown(result: dict, sizes: list[tuple[int, int]]) -> list[str]:
    """The table: one row per precision, skipped ones with their reason."""
    keys = [f"fps_{w}x{h}" for w, h in sizes]
    lines = [
        f"Model: {result['model']}; batch 1, {result['threads']} CPU threads, median of "
        f"{result['rounds']} interleaved runs. Error: against fp32 on "
        f"{PARITY_PHOTOS} photos and a gradient not used for int8 calibration, in 0..255 levels.",
        *([f"Note: {result['note']}."] if result["note"] else []),
        "",
        f"| precision | provider | {' | '.join(k[4:] + ' fps' for k in keys)} "
        "| mean abs error | pixels > 8 levels off | PSNR dB |",
        f"| --- | --- | {' | '.join('---:' for _ in keys)} | ---: | ---: | ---: |",
    ]
    for name, row in result["rows"].items():
        err = row["error_vs_fp32"]
        lines.append(
            f"| {name} | {row['provider']} | {' | '.join(str(row[k]) for k in keys)} "
            f"| {err['mean_abs']} | {err['frac_over_8']:.2%} | {err['psnr_db'] or 'identical'} |"
        )
    for name, why in result["skipped"].items():
        lines.append(f"| {name} | - | {' | '.join('-' for _ in keys)} | - | - | {why} |")
    return lines


if __name__ == "__main__":
    main()
