"""The bundled style models and how a `--model NAME|PATH` becomes one ONNX file.

Bundled files live in `stream_astgan/models/` as `NAME.onnx` (fp32), `NAME.fp16.onnx` and
`NAME.int8.onnx`. A GPU run prefers fp16; a CPU run takes int8 only where the export measured
it faster at small error and said so in the model's `recommended_for` metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime as ort

from .contract import META_RECOMMENDED, PRECISIONS
from .engine import session_options
from .errors import ModelError, UsageError

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL = "starry-night"


@dataclass
class BundledModel:
    name: str
    files: dict[str, Path] = field(default_factory=dict)  # precision -> file


def bundled(models_dir: Path | None = None) -> dict[str, BundledModel]:
    """Every bundled style, by name, with the precisions shipped for it."""
    found: dict[str, BundledModel] = {}
    for path in sorted((models_dir or MODELS_DIR).glob("*.onnx")):
        stem = path.name[: -len(".onnx")]
        name, _, precision = stem.rpartition(".")
        if precision not in PRECISIONS or not name:
            name, precision = stem, "fp32"
        found.setdefault(name, BundledModel(name)).files[precision] = path
    return found


def read_metadata(path: Path) -> dict[str, str]:
    """The model's metadata_props, read through ONNX Runtime (the runtime has no onnx package)."""
    options = session_options(threads=1, optimize=False)
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise ModelError(
            f"{path}: not a loadable ONNX model ({str(e).splitlines()[0][:200]})"
        ) from None
    return dict(session.get_modelmeta().custom_metadata_map)


def looks_like_path(model: str) -> bool:
    return model.endswith(".onnx") or "/" in model or "\\" in model


def resolve(
    model: str | None,
    gpu: bool,
    precision: str = "auto",
    models_dir: Path | None = None,
) -> Path:
    """The ONNX file to load for a name or path, choosing the precision for the device."""
    if model is not None and looks_like_path(model):
        if precision != "auto":
            raise UsageError(
                f"--precision {precision} picks a file of a bundled model; {model} is one file "
                "with its own precision (drop --precision)"
            )
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelError(f"{model}: model file not found")
        return path
    models = bundled(models_dir)
    name = model or DEFAULT_MODEL
    if name not in models:
        if not models:
            raise ModelError(
                f"no bundled model named {name!r} is installed; pass --model PATH/TO/MODEL.onnx"
            )
        raise ModelError(
            f"unknown model {name!r}; bundled: {', '.join(sorted(models))} "
            "(or give a path to a .onnx file)"
        )
    files = models[name].files
    if precision not in ("auto", *PRECISIONS):
        raise UsageError(f"--precision must be auto, {', '.join(PRECISIONS)}; got {precision!r}")
    if precision != "auto":
        if precision not in files:
            raise ModelError(
                f"{name} has no {precision} file; available: {', '.join(sorted(files))}"
            )
        return files[precision]
    if gpu and "fp16" in files:
        return files["fp16"]
    if not gpu and "int8" in files:
        recommended = read_metadata(files["int8"]).get(META_RECOMMENDED, "")
        if "cpu" in recommended.split(","):
            return files["int8"]
    return files.get("fp32") or next(iter(files.values()))
