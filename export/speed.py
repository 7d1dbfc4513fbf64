"""Latency of ONNX models on this CPU, measured side by side so background load hits all alike."""

from __future__ import annotations

import statistics
import time

import numpy as np
import onnx

from export.verify import onnxruntime_runner

SPEED_FRAME = (1, 360, 640, 3)
"""The frame the int8 decision is measured on: 640x360, batch 1."""


def median_latency_ms(
    models: dict[str, onnx.ModelProto], threads: int, rounds: int = 20, warmup: int = 3
) -> dict[str, float]:
    """Median milliseconds per run of each model on the same 640x360 frame.

    Runs are interleaved model by model within each round, so a burst of load from another
    process slows every model in that round, not just one; the median drops the outliers.
    """
    frame = np.random.default_rng(0).integers(0, 256, SPEED_FRAME, dtype=np.uint8)
    runners = {name: onnxruntime_runner(model, threads) for name, model in models.items()}
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(warmup):
        for run in runners.values():
            run(frame)
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(frame)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: round(statistics.median(ts), 3) for name, ts in times.items()}
