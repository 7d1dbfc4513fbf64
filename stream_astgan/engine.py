"""One ONNX Runtime session that turns a batch of uint8 RGB frames into stylized ones.

Inputs and outputs go through IO binding on every device, so the path tested on this CPU
("cpu" device) is the same code that runs on a GPU ("cuda" device), where the output stays in
device memory until it is copied back as uint8 bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import providers
from .contract import INPUT_NAME, META_PRECISION, OUTPUT_NAME
from .errors import ModelError


def default_threads() -> int:
    """Leave a core for decode and encode on machines with cores to spare; on two, use both.

    With spinning off, ORT threads sleep while decode and encode run, so on two cores two ORT
    threads measured faster end to end than one (benchmarks/pipeline_overhead.py).
    """
    cores = os.cpu_count() or 1
    return cores if cores <= 2 else cores - 1


def session_options(threads: int | None = None, optimize: bool = True) -> ort.SessionOptions:
    """The ONNX Runtime settings of every session the project times or runs a model with.

    Intra-op threads only (one model, one call at a time) and spinning off, so idle ORT
    threads sleep and leave the cores to decode and encode; anything measured elsewhere
    (export's int8 decision, benchmarks) uses these too, so it holds for the runtime.
    `optimize=False` skips graph optimization, for a session opened only to read metadata.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    options.log_severity_level = 3  # buffer-reuse notes on dynamic shapes are not errors
    return options


@dataclass
class EngineReport:
    """What really runs, for the summary and `info`."""

    requested: str
    provider: str
    providers: list[str]
    precision: str
    threads: int
    device: str
    notes: list[str] = field(default_factory=list)


class Engine:
    """A validated session for a contract-following model, with IO binding."""

    def __init__(
        self,
        model: Path,
        provider: str = "auto",
        threads: int | None = None,
        hint: providers.ShapeHint | None = None,
        device_id: int = 0,
    ) -> None:
        if not model.is_file():
            raise ModelError(f"{model}: model file not found")
        chosen, notes = providers.plan(provider, hint, device_id)
        n_threads = threads or default_threads()
        options = session_options(n_threads)
        try:
            self.session = ort.InferenceSession(str(model), options, providers=chosen)
        except Exception as e:  # ORT raises several unrelated types for a bad file
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"{model}: not a loadable ONNX model ({first[:200]})") from None
        check_contract(self.session, model)
        active = self.session.get_providers()
        name = providers.check_active(provider, active)
        self.device = "cuda" if name in ("cuda", "tensorrt") else "cpu"
        self.device_id = device_id
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        self.report = EngineReport(
            requested=provider,
            provider=name,
            providers=[providers.SHORT.get(p, p) for p in active],
            precision=meta.get(META_PRECISION, "fp32"),
            threads=n_threads,
            device=self.device,
            notes=notes,
        )
        self._binding = self.session.io_binding()

    def run(self, batch: np.ndarray) -> np.ndarray:
        """uint8 [N, H, W, 3] -> uint8 [N, H, W, 3], through IO binding."""
        binding = self._binding
        binding.bind_cpu_input(INPUT_NAME, np.ascontiguousarray(batch))
        binding.bind_output(OUTPUT_NAME, self.device, self.device_id)
        try:
            self.session.run_with_iobinding(binding)
            out = binding.copy_outputs_to_cpu()[0]
        finally:
            binding.clear_binding_inputs()
            binding.clear_binding_outputs()
        if out.shape != batch.shape or out.dtype != np.uint8:
            raise ModelError(
                f"model returned {out.dtype}{list(out.shape)} for input uint8{list(batch.shape)}; "
                "the contract needs the same shape and uint8"
            )
        return out


def check_contract(session: ort.InferenceSession, model: Path) -> None:
    """Reject models that do not take and give uint8 [N, H, W, 3] under the contract's names."""
    ins, outs = session.get_inputs(), session.get_outputs()
    if len(ins) != 1 or len(outs) != 1:
        raise ModelError(
            f"{model}: needs exactly one input and one output, has {len(ins)} and {len(outs)}"
        )
    for arg, name in ((ins[0], INPUT_NAME), (outs[0], OUTPUT_NAME)):
        if arg.name != name:
            raise ModelError(f"{model}: expected a tensor named {name!r}, found {arg.name!r}")
        if arg.type != "tensor(uint8)":
            raise ModelError(f"{model}: {name!r} is {arg.type}, the contract needs tensor(uint8)")
        shape = arg.shape
        if len(shape) != 4:
            raise ModelError(f"{model}: {name!r} has rank {len(shape)}, needs [N, H, W, 3]")
        if isinstance(shape[3], int) and shape[3] != 3:
            raise ModelError(f"{model}: {name!r} has {shape[3]} channels last, needs 3 (RGB)")
