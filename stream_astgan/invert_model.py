"""The inverting model (stylized = 255 - frames): the one tiny contract model the project builds.

`astgan-stream info` opens it to report which provider really runs when no style is installed;
the tests and the pipeline benchmarks use it because every output pixel can be checked against
its input and it costs nothing to run. The runtime has no onnx package, so the model is kept
as its serialized bytes (made once with onnx.helper: one Sub node, opset 17, IR 9), and
metadata is appended as protobuf fields, which a reader merges into the message.
"""

from __future__ import annotations

import base64
from pathlib import Path

INVERT_MODEL = base64.b64decode(
    "CAkSADp4ChoKAWMKBmZyYW1lcxIIc3R5bGl6ZWQiA1N1YhIDaW52KgkQAioC/wFCAWNaIwoGZnJhbWVzEhkKFwgCEhMKAxIBTgoDEgFICgMSAVcKAggDYiUKCHN0eWxpemVkEhkKFwgCEhMKAxIBTgoDEgFICgMSAVcKAggDQgQKABAR"
)
_METADATA_FIELD = (
    14  # ModelProto.metadata_props: repeated StringStringEntryProto {1: key, 2: value}
)


def invert_model_bytes(metadata: dict[str, str] | None = None) -> bytes:
    """The serialized model, with `metadata` (e.g. {"style": "invert"}) in its metadata_props."""
    extra = b""
    for key, value in (metadata or {}).items():
        entry = _field(1, key.encode()) + _field(2, value.encode())
        extra += _field(_METADATA_FIELD, entry)
    return INVERT_MODEL + extra


def write_invert_model(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write the inverting model (with `metadata`) to `path`."""
    path.write_bytes(invert_model_bytes(metadata))
    return path


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field: tag, length, bytes."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)
