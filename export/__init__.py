"""Checkpoint to ONNX: `python -m export CHECKPOINT -o MODEL.onnx` (see `--help`)."""

__version__ = "0.1.0"
