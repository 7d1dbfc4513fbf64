"""One export from start to finish: trace, verify, convert, verify again, then write.

Nothing is written until every check has passed, so a failed export leaves no model behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from torch import nn

from export import precision as precisions
from export.calibration import PhotoCalibrationReader
from export.errors import ExportError, ParityError
from export.files import check_file_target, refuse_existing, write_model_file
from export.fusion import fold_normalization
from export.metadata import ModelFacts, Provenance, read_metadata, write_metadata
from export.onnx_export import check_model, export_fp32
from export.recommend import recommended_for
from export.speed import median_latency_ms
from export.triton import (
    check_model_name,
    default_model_name,
    triton_model_dir,
    write_triton_model,
)
from export.verify import (
    FP32_LEVELS,
    FP32_MAX_FRACTION,
    PARITY_PHOTOS,
    Case,
    Runner,
    compare,
    natural_cases,
    onnxruntime_runner,
    parity_cases,
    reference_runner,
    require,
    small_cases,
    torch_runner,
)
from stream_astgan.contract import PRECISIONS
from training.networks import count_macs

FP16_LEVELS = 2
FP16_MAX_FRACTION = 0.01
"""fp16 fails the export if more than 1% of pixels differ by more than 2 levels: beyond that,
something overflowed or was converted wrongly, not merely rounded."""

Progress = Callable[[str, int, int], None]
"""Called as (what is happening now, stages done, stages in total)."""


@dataclass(frozen=True)
class ExportOptions:
    """What the user asked for on the command line."""

    output: Path
    precision: str = "fp32"
    photos: list[Path] = field(default_factory=list)
    name: str = ""
    triton: Path | None = None
    overwrite: bool = False
    threads: int = 2


@dataclass
class ExportResult:
    """What the summary shows and `--json` prints."""

    output: Path
    precision: str
    metadata: dict[str, str]
    parity: dict[str, Any]
    size_bytes: int
    triton: Path | None = None


def check_outputs(options: ExportOptions, provenance: Provenance) -> None:
    """Fail before the slow work if an output exists or the options cannot work together."""
    if options.precision not in PRECISIONS:
        raise ExportError(f"--precision must be one of {', '.join(PRECISIONS)}")
    if options.precision == "int8" and not options.photos:
        raise ExportError("--precision int8 needs --calib DIR: a folder of photos to calibrate on")
    check_file_target(options.output, options.overwrite)
    if options.name:
        check_model_name(options.name)
    if options.triton is not None:
        name = _triton_name(options, provenance)
        refuse_existing(triton_model_dir(options.triton, name), options.overwrite)


def run_export(
    generator: nn.Module,
    provenance: Provenance,
    options: ExportOptions,
    progress: Progress = lambda *_: None,
) -> ExportResult:
    """Export `generator` as the contract's model at `options.precision` and write it."""
    check_outputs(options, provenance)
    stages = _stage_names(options)
    done = 0

    def stage(name: str) -> None:
        nonlocal done
        progress(name, done, len(stages))
        done += 1

    stage(stages[0])
    fused = fold_normalization(generator)
    fp32 = export_fp32(fused, layout=options.precision != "fp16")
    check_model(fp32)
    reference = torch_runner(generator)  # as trained: the check covers the folding too
    # The last photos check parity; calibration takes the first ones (calibration.py), so int8
    # is judged on photos it was not calibrated on whenever the folder has enough of them.
    cases = parity_cases(options.photos[-PARITY_PHOTOS:])

    stage(stages[1])
    parity: dict[str, Any] = {"reference": "torch fp32 (the checkpoint)"}
    parity["fp32"] = {"runner": "onnxruntime CPU"} | compare(
        reference, onnxruntime_runner(fp32, options.threads), cases
    )
    require(parity["fp32"], "fp32", FP32_LEVELS, FP32_MAX_FRACTION)

    model, recommended = fp32, recommended_for("fp32")
    if options.precision == "fp16":
        stage(stages[2])
        model = _fp16_checked(fp32, reference, cases, parity, options.threads)
        recommended = recommended_for("fp16")
    elif options.precision == "int8":
        model, parity["int8"] = _int8_measured(fp32, reference, cases, options, stage, stages)
        recommended = recommended_for("int8", parity["int8"], parity["int8"]["speedup_vs_fp32"])

    stage(stages[-1])
    facts = ModelFacts(
        provenance=provenance if not options.name else provenance.renamed(options.name),
        precision=options.precision,
        stride=fused.stride,
        gmac=count_macs(fused) / 1e9,
        parity=parity,
        recommended_for=recommended,
    )
    write_metadata(model, facts)
    data = model.SerializeToString()
    write_model_file(options.output, data, options.overwrite)
    triton = None
    if options.triton is not None:
        name = _triton_name(options, provenance)
        triton = write_triton_model(options.triton, name, data, options.overwrite)
    progress("done", len(stages), len(stages))
    return ExportResult(
        options.output, options.precision, read_metadata(model), parity, len(data), triton
    )


def _fp16_checked(
    fp32: onnx.ModelProto,
    reference: Runner,
    cases: list[Case],
    parity: dict[str, Any],
    threads: int,
) -> onnx.ModelProto:
    """Convert to fp16 and prove it: graph valid, every conv weight fp16, outputs close.

    ONNX Runtime's CPU provider runs fp16 convolutions by casting them back to fp32, so it
    checks the conversion on every parity case; onnx's reference evaluator keeps every tensor
    between ops in fp16, as a GPU would, but slowly, so it runs the smaller cases.
    """
    model = precisions.to_fp16(fp32)
    check_model(model)
    weights = precisions.conv_weight_types(model)
    not_fp16 = sorted(k for k, kind in weights.items() if kind != onnx.TensorProto.FLOAT16)
    if not_fp16:
        raise ParityError(f"fp16 conversion left conv weights in another type: {not_fp16}")
    parity["fp16"] = {"runner": "onnxruntime CPU (fp16 weights, fp32 conv compute)"} | compare(
        reference, onnxruntime_runner(model, threads), cases
    )
    parity["fp16_true"] = {"runner": "onnx.reference (fp16 compute)"} | compare(
        reference, reference_runner(model), small_cases(cases)
    )
    for key in ("fp16", "fp16_true"):
        require(parity[key], key, FP16_LEVELS, FP16_MAX_FRACTION)
    return model


def _int8_measured(
    fp32: onnx.ModelProto,
    reference: Runner,
    cases: list[Case],
    options: ExportOptions,
    stage: Callable[[str], None],
    stages: list[str],
) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """Quantize, then measure what the recommendation needs: error on natural images, speed."""
    stage(stages[2])
    model = precisions.to_int8(fp32, PhotoCalibrationReader(options.photos))
    check_model(model)
    stage(stages[3])
    stats = {"runner": "onnxruntime CPU, photos and gradient"} | compare(
        reference, onnxruntime_runner(model, options.threads), natural_cases(cases)
    )
    stage(stages[4])
    latency = median_latency_ms({"fp32": fp32, "int8": model}, options.threads)
    speedup = round(latency["fp32"] / latency["int8"], 3)
    return model, stats | {"latency_ms_640x360": latency, "speedup_vs_fp32": speedup}


def _stage_names(options: ExportOptions) -> list[str]:
    extra = {
        "fp32": [],
        "fp16": ["fp16: convert and check"],
        "int8": ["int8: calibrate on photos", "int8: parity", "int8: speed vs fp32"],
    }[options.precision]
    return ["trace to ONNX", "fp32 parity", *extra, "write model"]


def _triton_name(options: ExportOptions, provenance: Provenance) -> str:
    return options.name or default_model_name(provenance.style)
