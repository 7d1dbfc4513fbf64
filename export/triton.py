"""A Triton Inference Server model repository entry, for serving a model beyond one machine."""

from __future__ import annotations

import re
from pathlib import Path

from export.errors import ExportError
from export.files import write_dir_atomic
from stream_astgan.contract import INPUT_NAME, OUTPUT_NAME

MAX_BATCH = 16
QUEUE_DELAY_US = 5000

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_CONFIG = """\
# Triton model configuration written by `python -m export` (stream-astgan).
# Requests carry uint8 RGB frames [H, W, 3]; Triton adds the batch dimension and batches
# requests that have the same H and W (frames of one video) within the queue delay.
name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: {max_batch}
input [
  {{
    name: "{input}"
    data_type: TYPE_UINT8
    dims: [ -1, -1, 3 ]
  }}
]
output [
  {{
    name: "{output}"
    data_type: TYPE_UINT8
    dims: [ -1, -1, 3 ]
  }}
]
dynamic_batching {{
  max_queue_delay_microseconds: {delay}
}}
instance_group [
  {{
    kind: KIND_GPU
    count: 1
  }}
]
# ONNX Runtime's TensorRT execution provider in fp16; engines are cached per input shape
# range, so the first request at a new resolution is slow.
optimization {{
  execution_accelerators {{
    gpu_execution_accelerator: [
      {{
        name: "tensorrt"
        parameters {{ key: "precision_mode" value: "FP16" }}
        parameters {{ key: "max_workspace_size_bytes" value: "1073741824" }}
        parameters {{ key: "trt_engine_cache_enable" value: "1" }}
      }}
    ]
  }}
}}
"""


def default_model_name(style: str) -> str:
    """A usable model name from a free-form style name ("Starry Night" -> "Starry-Night")."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", style).strip("-.") or "style"


def check_model_name(name: str) -> str:
    """Triton names directories after models; keep the name a safe single path component."""
    if not _NAME.match(name):
        raise ExportError(
            f"model name {name!r} is not usable: use letters, digits, '.', '_' and '-' "
            "(for example --name starry-night)"
        )
    return name


def config_pbtxt(name: str) -> str:
    """The `config.pbtxt` text for model `name`."""
    return _CONFIG.format(
        name=check_model_name(name),
        max_batch=MAX_BATCH,
        input=INPUT_NAME,
        output=OUTPUT_NAME,
        delay=QUEUE_DELAY_US,
    )


def triton_model_dir(repository: Path, name: str) -> Path:
    """Where model `name` lives in `repository` (other models there are left alone)."""
    return repository / check_model_name(name)


def write_triton_model(repository: Path, name: str, model: bytes, overwrite: bool) -> Path:
    """Write `NAME/config.pbtxt` and `NAME/1/model.onnx` into `repository`, atomically."""

    def fill(directory: Path) -> None:
        (directory / "config.pbtxt").write_text(config_pbtxt(name))
        (directory / "1").mkdir()
        (directory / "1" / "model.onnx").write_bytes(model)

    target = triton_model_dir(repository, name)
    write_dir_atomic(target, fill, overwrite)
    return target
