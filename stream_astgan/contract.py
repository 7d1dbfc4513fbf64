"""The ONNX model contract shared by the exporter (writer) and the runtime (reader).

Both sides import these names so that a model written by `python -m export` is one the
runtime accepts, and a model the runtime rejects is rejected for a reason this module names.
"""

from __future__ import annotations

INPUT_NAME = "frames"
"""uint8 [N, H, W, 3] RGB; N, H and W are dynamic."""

OUTPUT_NAME = "stylized"
"""uint8 [N, H, W, 3] RGB, the same shape as the input."""

# Keys of the model's metadata_props. Values are strings (ONNX stores only strings).
META_STYLE = "style"  # short style name, e.g. "starry-night"
META_SOURCE = "source"  # painting file name(s) the style was learned from, comma-separated
META_STEPS = "training_steps"  # optimizer steps of the checkpoint
META_PRECISION = "precision"  # "fp32" | "fp16" | "int8"
META_OPSET = "opset"  # default-domain opset of the graph
META_EXPORTER = "exporter"  # e.g. "stream-astgan export 0.1.0 (torch 2.13.0)"
META_CONFIG_HASH = "config_hash"  # sha256 of the resolved training config, first 16 hex digits
META_STRIDE = "stride"  # the generator's spatial stride (the graph pads to it itself)
META_GMAC = "gmac_640x360"  # multiply-accumulates per 640x360 frame, in GMAC
META_PARITY = "parity"  # JSON: the export's measured error against the checkpoint
META_RECOMMENDED = "recommended_for"  # comma-separated devices this file is the best pick for
META_FEATURES = "training_features"  # the loss network training used: its source and licence

REQUIRED_META = (
    META_STYLE,
    META_SOURCE,
    META_STEPS,
    META_PRECISION,
    META_OPSET,
    META_EXPORTER,
    META_CONFIG_HASH,
)

PRECISIONS = ("fp32", "fp16", "int8")
