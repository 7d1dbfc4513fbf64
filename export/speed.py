"""Latency of ONNX models on this CPU, with the runtime's timing loop and session options."""

from __future__ import annotations

import numpy as np
import onnx

from export.verify import onnxruntime_runner
from stream_astgan.timing import interleaved_median_seconds

SPEED_FRAME = (1, 360, 640, 3)
"""The frame the int8 decision is measured on: 640x360, batch 1."""


def median_latency_ms(
    models: dict[str, onnx.ModelProto], threads: int, rounds: int = 20, warmup: int = 3
) -> dict[str, float]:
    """Median milliseconds per run of each model on the same 640x360 frame, interleaved."""
    frame = np.random.default_rng(0).integers(0, 256, SPEED_FRAME, dtype=np.uint8)
    runners = {name: onnxruntime_runner(model, threads) for name, model in models.items()}
    calls = {name: (lambda run=run: run(frame)) for name, run in runners.items()}
    seconds = interleaved_median_seconds(calls, rounds, warmup)
    return {name: round(s * 1000, 3) for name, s in seconds.items()}
