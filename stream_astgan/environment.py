"""What this machine offers the runtime: versions, providers, and what a session really uses."""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import onnxruntime as ort

from . import __version__, catalog, providers
from .engine import Engine, default_threads
from .errors import AstganError
from .invert_model import write_invert_model


def cpu_model() -> str:
    """The CPU's marketing name (benchmarks are meaningless without it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    return {
        "stream-astgan": __version__,
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "av": av.__version__,
        "libavcodec": ".".join(str(x) for x in av.library_versions.get("libavcodec", ())),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


def environment_report(model: str | None = None, provider: str = "auto") -> dict[str, Any]:
    """A dict for `info` and for benchmark reports."""
    report: dict[str, Any] = {
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "default_threads": default_threads(),
        "providers_built_in": [providers.SHORT.get(p, p) for p in ort.get_available_providers()],
        "providers_loadable": {
            providers.SHORT[p]: (providers.load_problem(p) or "yes")
            for p in (providers.TENSORRT, providers.CUDA, providers.CPU)
        },
        "tensorrt_cache": str(providers.user_cache_dir() / "tensorrt"),
        "bundled_models": sorted(catalog.bundled()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            chosen, _ = providers.plan(provider)
            gpu = any(name in providers.GPU_PROVIDERS for name, _ in chosen)
            if model is None and not catalog.bundled():
                path = Path(tmp) / "probe.onnx"
                write_invert_model(path)
            else:
                path = catalog.resolve(model, gpu=gpu)
            engine = Engine(path, provider)
            report["session"] = {
                "model": str(path) if path.parent != Path(tmp) else "built-in probe model",
                "requested": provider,
                "really_used": engine.report.provider,
                "providers": engine.report.providers,
                "precision": engine.report.precision,
            }
        except AstganError as e:
            report["session"] = {"requested": provider, "error": str(e)}
    return report
