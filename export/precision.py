"""fp32 -> fp16 and fp32 -> int8 as small functions from model to model, each checkable alone."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import onnx
from onnxconverter_common import float16
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

_FLOAT, _FLOAT16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
_NONLINEAR_OR_MERGE = {"Relu", "LeakyRelu", "PRelu", "Add", "Concat"}
_FP32_ONLY = [*float16.DEFAULT_OP_BLOCK_LIST, "QuantizeLinear"]
"""The converter's own list, and the output's QuantizeLinear (`export.tidy`), which takes
float16 only from opset 19."""


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 weights and activations between the uint8 input and output, for GPUs.

    The converter keeps ops it cannot run in fp16 (Resize, among others) in fp32 behind casts,
    but it leaves the `to` of the graph's own uint8 -> float Cast at fp32 while declaring the
    output fp16; those casts are retargeted so the graph type-checks. Its warnings about
    weights below fp16's range being clamped (to 1e-7) are muted: parity measures the effect.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        converted = float16.convert_float_to_float16(
            model, keep_io_types=True, op_block_list=_FP32_ONLY
        )
    declared = {v.name: v.type.tensor_type.elem_type for v in converted.graph.value_info}
    for node in converted.graph.node:
        if node.op_type != "Cast" or declared.get(node.output[0]) != _FLOAT16:
            continue
        for attr in node.attribute:
            if attr.name == "to" and attr.i == _FLOAT:
                attr.i = _FLOAT16
    return converted


def conv_weight_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element type of every Conv weight initializer, for the structural fp16 check."""
    types = {init.name: init.data_type for init in model.graph.initializer}
    return {n.input[1]: types.get(n.input[1], -1) for n in model.graph.node if n.op_type == "Conv"}


def to_int8(model: onnx.ModelProto, calibration: CalibrationDataReader) -> onnx.ModelProto:
    """Static QDQ quantization: int8 per-channel conv weights, uint8 activations.

    Activation ranges are the min/max over `calibration`'s frames run through the fp32 graph.
    Only convolutions are quantized, and not those in `fp32_convs`: the first sees the exact
    input, and the output ones set the colours directly. Of the choices tried (also quantizing
    the additions, all layers, moving-average ranges, which clip highlights) this one gave the
    smallest error against fp32, and none of them changed the speed.
    """
    with tempfile.TemporaryDirectory(prefix="astgan-int8-") as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, source)
        with _quiet_quantizer():
            quantize_static(
                source,
                target,
                calibration,
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=["Conv"],
                nodes_to_exclude=fp32_convs(model),
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
            )
        quantized = onnx.load(target)
    del quantized.graph.value_info[:]  # stale shapes from calibration; ORT infers its own
    return quantized


def fp32_convs(model: onnx.ModelProto) -> list[str]:
    """The convolutions int8 leaves in fp32: the first one, and the output projection.

    The output projection is every conv on the path from the graph output back to the last
    ReLU or addition (the head and any fixed smoothing after it): those map features straight
    to colour logits, where an int8 step becomes several output levels after the sigmoid.
    """
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    producers = {out: node for node in model.graph.node for out in node.output}
    keep = [convs[0].name] if convs else []
    node = producers.get(model.graph.output[0].name)
    while node is not None:
        if node.op_type == "Conv":
            keep.append(node.name)
        elif node.op_type in _NONLINEAR_OR_MERGE and len(keep) > 1:
            break
        node = next((producers[i] for i in node.input if i in producers), None)
    return list(dict.fromkeys(keep))


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """The quantizer logs advice ("consider pre-processing") on the root logger; mute it.

    Pre-processing (symbolic shape inference) mislabels the padded sizes of this graph, and
    the graph is already folded and simplified, so the advice does not apply.
    """
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
