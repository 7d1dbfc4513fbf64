"""Which ONNX Runtime execution providers to ask for, and whether the one asked for really runs.

onnxruntime-gpu lists the CUDA and TensorRT providers even on machines without CUDA, and when
they cannot load it logs an error and silently runs on the CPU. We check first whether each GPU
provider's library can load (a missing libcudart/cuDNN is named), ask only for those, and after
the session exists compare what runs with what was requested: an explicit `--provider cuda` that
cannot run is an error, never a quiet CPU run.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import onnxruntime as ort

from .errors import ProviderError

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
CHOICES = {"cpu": CPU, "cuda": CUDA, "tensorrt": TENSORRT}
SHORT = {v: k for k, v in CHOICES.items()}
GPU_PROVIDERS = (TENSORRT, CUDA)
_LIBRARY = {CUDA: "onnxruntime_providers_cuda", TENSORRT: "onnxruntime_providers_tensorrt"}


@dataclass(frozen=True)
class ShapeHint:
    """Batch and frame size the session will mostly see; TensorRT builds its profile from it."""

    batch: int
    height: int
    width: int


def _library_path(stem: str) -> Path:
    capi = Path(ort.__file__).parent / "capi"
    return capi / (f"{stem}.dll" if sys.platform == "win32" else f"lib{stem}.so")


@cache
def load_problem(provider: str) -> str | None:
    """Why `provider` cannot run here (None if it can); CPU always can."""
    if provider == CPU:
        return None
    if provider not in ort.get_available_providers():
        return "this onnxruntime build has no such provider (install onnxruntime-gpu)"
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:  # loads CUDA/cuDNN from the nvidia-* wheels when they are installed
        # It prints its failures on stdout, which belongs to --json; the load below reports them.
        # Failures are reported by the library load below.
        sink = io.StringIO()
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            contextlib.suppress(Exception),
        ):
            preload(directory="")
    try:
        shared = _library_path("onnxruntime_providers_shared")
        if shared.exists():
            ctypes.CDLL(str(shared), mode=getattr(ctypes, "RTLD_GLOBAL", 0))
        ctypes.CDLL(str(_library_path(_LIBRARY[provider])))
    except OSError as e:
        return (
            str(e).split(": cannot open")[0] + " not found" if "cannot open" in str(e) else str(e)
        )
    return None


def user_cache_dir() -> Path:
    """Where TensorRT engines and timing caches persist between runs."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "stream-astgan"


def _options(provider: str, hint: ShapeHint | None, device_id: int) -> dict[str, object]:
    if provider == TENSORRT:
        cache_dir = user_cache_dir() / "tensorrt"
        opts: dict[str, object] = {
            "device_id": device_id,
            "trt_fp16_enable": True,
            "trt_engine_cache_enable": True,
            "trt_engine_cache_path": str(cache_dir),
            "trt_timing_cache_enable": True,
            "trt_timing_cache_path": str(cache_dir),
        }
        if hint is not None:
            b, h, w = hint.batch, hint.height, hint.width
            opts["trt_profile_min_shapes"] = "frames:1x16x16x3"
            opts["trt_profile_opt_shapes"] = f"frames:{b}x{h}x{w}x3"
            opts["trt_profile_max_shapes"] = f"frames:{max(b, 8)}x{max(h, 2160)}x{max(w, 3840)}x3"
        return opts
    if provider == CUDA:
        return {"device_id": device_id, "cudnn_conv_use_max_workspace": "1"}
    return {}


def plan(
    requested: str, hint: ShapeHint | None = None, device_id: int = 0
) -> tuple[list[tuple[str, dict[str, object]]], list[str]]:
    """The provider list for the session, and notes on GPU providers skipped (for the report)."""
    if requested not in ("auto", *CHOICES):
        raise ProviderError(f"unknown provider {requested!r}; choose auto, cpu, cuda or tensorrt")
    if requested == "cpu":
        return [(CPU, {})], []
    wanted = list(GPU_PROVIDERS) if requested == "auto" else [CHOICES[requested]]
    if requested == "tensorrt":
        wanted.append(CUDA)  # TensorRT hands unsupported nodes to CUDA
    chosen, skipped = [], []
    for provider in wanted:
        problem = load_problem(provider)
        if problem is None:
            chosen.append((provider, _options(provider, hint, device_id)))
        elif requested == "auto" or provider != CHOICES[requested]:
            skipped.append(f"{SHORT[provider]}: {problem}")
        else:
            raise ProviderError(
                f"--provider {requested} cannot run here ({problem}); use --provider cpu or auto"
            )
    notes = [f"GPU providers unavailable ({'; '.join(skipped)})"] if skipped else []
    return [*chosen, (CPU, {})], notes


def check_active(requested: str, active: list[str]) -> str:
    """The provider that really runs; an explicit request that did not load is an error."""
    if requested in ("cuda", "tensorrt") and CHOICES[requested] not in active:
        raise ProviderError(
            f"--provider {requested} was requested but ONNX Runtime fell back to "
            f"{', '.join(SHORT.get(p, p) for p in active)}; use --provider cpu or auto"
        )
    return SHORT.get(active[0], active[0])
