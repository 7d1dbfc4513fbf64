"""`python -m export`: the command line around `export.run`, human output on stderr."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import torch
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from export.metadata import Provenance
from export.photos import list_photos
from export.recommend import INT8_MAX_FRAC_OVER_8, INT8_MAX_MEAN_ABS, INT8_MIN_SPEEDUP
from export.run import ExportOptions, ExportResult, check_outputs, run_export
from export.triton import MAX_BATCH
from export.verify import FP32_MAX_FRACTION
from stream_astgan.errors import AstganError
from training.checkpoint import build_generator, load_generator_checkpoint


class Precision(str, Enum):
    """The --precision choices (typer shows them in --help and rejects others)."""

    fp32 = "fp32"
    fp16 = "fp16"
    int8 = "int8"


_HELP = f"""Turn a training checkpoint into the ONNX model the runtime reads.

The model takes uint8 RGB frames [N, H, W, 3] of any batch and size and returns stylized
frames of the same shape; scaling, layout, padding to the network's stride and the crop back
are inside the graph.

Every export checks parity: the checkpoint in torch and the model in ONNX Runtime stylize
noise, a synthetic gradient and (with --calib) real photos, at odd sizes and batch 3. fp32
fails, writing nothing (exit 1), if more than {FP32_MAX_FRACTION:.1%} of pixels differ by more
than 1 level. The figures are printed and stored in the model's "parity" metadata.

int8 is marked recommended for CPUs ("recommended_for": "cpu") only if it ran at least
{INT8_MIN_SPEEDUP}x as fast as fp32 here (640x360, batch 1) and its error is small: a mean
channel error of at most {INT8_MAX_MEAN_ABS} levels and at most {INT8_MAX_FRAC_OVER_8:.0%} of
pixels more than 8 levels off the checkpoint.

Exit codes: 0 written, 1 parity failed (nothing written), 2 bad input (checkpoint, options,
existing output).
"""

app = typer.Typer(add_completion=False, help=_HELP, rich_markup_mode=None)


@app.command(help=_HELP)
def main(
    checkpoint: Path = typer.Argument(
        ..., help="Training checkpoint (.pt) to export, e.g. runs/starry/checkpoint.pt."
    ),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Where to write the ONNX model, e.g. starry-night.onnx."
    ),
    precision: Precision = typer.Option(
        Precision.fp32,
        "--precision",
        help="fp32: CPU default. fp16: fp16 weights and compute for GPUs (uint8 in and out "
        "unchanged). int8: static QDQ quantization for CPUs; needs --calib.",
    ),
    calib: Path | None = typer.Option(
        None,
        "--calib",
        help="Folder of ordinary photos (jpg, png, webp, ...; subfolders too). int8 calibrates "
        "its activation ranges on the first 32 (by path); every precision checks parity on the "
        "last three.",
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Model name stored as the metadata 'style' and used as the Triton model name "
        "(default: the checkpoint's style name). Letters, digits, '.', '_' and '-'.",
    ),
    triton: Path | None = typer.Option(
        None,
        "--triton",
        help="Also write a Triton Inference Server model repository entry here: "
        f"NAME/config.pbtxt (dynamic batching up to {MAX_BATCH}, TensorRT fp16 accelerator) "
        "and NAME/1/model.onnx.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing model file or Triton model directory."
    ),
    threads: int = typer.Option(
        2, "--threads", min=1, help="CPU threads for torch and ONNX Runtime during the checks."
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print the result (metadata, parity figures) as JSON on stdout."
    ),
) -> None:
    console = Console(stderr=True)
    try:
        result = _export(
            checkpoint, output, precision.value, calib, name, triton, overwrite, threads, console
        )
    except AstganError as e:  # export's, and the checkpoint's own (training's)
        console.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(e.exit_code) from None
    _print_summary(result, console)
    if json_output:
        typer.echo(json.dumps(_as_json(result), sort_keys=True))


def _export(
    checkpoint: Path,
    output: Path,
    precision: str,
    calib: Path | None,
    name: str | None,
    triton: Path | None,
    overwrite: bool,
    threads: int,
    console: Console,
) -> ExportResult:
    torch.set_num_threads(threads)
    ckpt = load_generator_checkpoint(checkpoint)
    origin = Provenance.of(ckpt)
    options = ExportOptions(
        output=output,
        precision=precision,
        photos=list_photos(calib) if calib is not None else [],
        name=name or "",
        triton=triton,
        overwrite=overwrite,
        threads=threads,
    )
    check_outputs(options, origin)
    generator = build_generator(ckpt)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("starting", total=None)

        def show(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return run_export(generator, origin, options, show)


def _print_summary(result: ExportResult, console: Console) -> None:
    meta = result.metadata
    lines = [
        f"wrote {result.output} ({result.size_bytes / 1e6:.2f} MB, {result.precision}, "
        f"style {meta['style']!r}, {meta['training_steps']} steps, "
        f"{meta['gmac_640x360']} GMAC per 640x360 frame)"
    ]
    lines += [f"  {k:9s} {_describe(v)}" for k, v in result.parity.items() if isinstance(v, dict)]
    lines.append(f"  recommended for: {meta['recommended_for'] or 'nothing (see --help)'}")
    if result.triton is not None:
        lines.append(f"  Triton model: {result.triton}")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _describe(stats: dict) -> str:
    text = (
        f"max {stats['max_abs']} levels, mean {stats['mean_abs']:.3f}, "
        f">1 level {stats['frac_over_1']:.4%}, >8 levels {stats['frac_over_8']:.4%} "
        f"of {stats['pixels']} pixels [{stats['runner']}]"
    )
    if "speedup_vs_fp32" in stats:
        latency = stats["latency_ms_640x360"]
        text += (
            f"; 640x360: int8 {latency['int8']:.1f} ms, fp32 {latency['fp32']:.1f} ms "
            f"({stats['speedup_vs_fp32']:.2f}x)"
        )
    return text


def _as_json(result: ExportResult) -> dict:
    return {
        "output": str(result.output),
        "precision": result.precision,
        "size_bytes": result.size_bytes,
        "metadata": result.metadata,
        "parity": result.parity,
        "triton": str(result.triton) if result.triton is not None else None,
    }
