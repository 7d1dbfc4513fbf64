"""fp16 and int8 conversions: valid graphs, the uint8 interface kept, errors within bounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from torch import nn

from export.calibration import PhotoCalibrationReader
from export.onnx_export import check_model
from export.photos import list_photos
from export.precision import conv_weight_types, to_fp16, to_int8
from export.recommend import int8_error_is_small
from export.run import FP16_LEVELS, FP16_MAX_FRACTION
from export.verify import (
    Case,
    compare,
    onnxruntime_runner,
    parity_cases,
    reference_runner,
    small_cases,
    torch_runner,
)
from stream_astgan.contract import INPUT_NAME, OUTPUT_NAME

UINT8 = onnx.TensorProto.UINT8


def _io(model: onnx.ModelProto) -> list[tuple[str, int]]:
    values = (*model.graph.input, *model.graph.output)
    return [(v.name, v.type.tensor_type.elem_type) for v in values]


@pytest.fixture(scope="module")
def fp16_model(fp32_model: onnx.ModelProto) -> onnx.ModelProto:
    return to_fp16(fp32_model)


@pytest.fixture(scope="module")
def int8_model(fp32_model: onnx.ModelProto, photo_dir: Path) -> onnx.ModelProto:
    return to_int8(fp32_model, PhotoCalibrationReader(list_photos(photo_dir)[:6]))


def _noise(shape: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(3)
    return Case("noise", rng.integers(0, 256, shape, dtype=np.uint8))


def test_fp16_graph_is_valid_with_fp16_convs_and_uint8_io(fp16_model: onnx.ModelProto) -> None:
    check_model(fp16_model)
    kinds = conv_weight_types(fp16_model)
    assert kinds and set(kinds.values()) == {onnx.TensorProto.FLOAT16}
    assert _io(fp16_model) == [(INPUT_NAME, UINT8), (OUTPUT_NAME, UINT8)]


def test_fp16_error_is_within_its_bound(fp16_model: onnx.ModelProto, generator: nn.Module) -> None:
    reference = torch_runner(generator)
    on_cpu = compare(
        reference,
        onnxruntime_runner(fp16_model, 1),
        [_noise((1, 97, 131, 3)), _noise((3, 20, 28, 3))],
    )
    true_fp16 = compare(reference, reference_runner(fp16_model), small_cases(parity_cases([])))
    for stats in (on_cpu, true_fp16):
        assert stats[f"frac_over_{FP16_LEVELS}"] <= FP16_MAX_FRACTION
        assert stats["mean_abs"] < 1.0


def test_int8_graph_is_static_qdq_with_uint8_io(int8_model: onnx.ModelProto) -> None:
    check_model(int8_model)
    ops = [node.op_type for node in int8_model.graph.node]
    # beyond the one that turns the output into bytes (export.tidy)
    assert ops.count("QuantizeLinear") > 1 and ops.count("DequantizeLinear") > 0
    kinds = {init.name: init.data_type for init in int8_model.graph.initializer}
    producers = {out: node for node in int8_model.graph.node for out in node.output}
    convs = [node for node in int8_model.graph.node if node.op_type == "Conv"]
    quantized = [
        conv.input[1] in producers and producers[conv.input[1]].op_type == "DequantizeLinear"
        for conv in convs
    ]
    # fp32 by design: the first conv, and the head and fixed output blur (the last two).
    assert quantized == [False] + [True] * (len(convs) - 3) + [False, False]
    for conv in convs[1:-2]:
        assert kinds[producers[conv.input[1]].input[0]] == onnx.TensorProto.INT8
    assert _io(int8_model) == [(INPUT_NAME, UINT8), (OUTPUT_NAME, UINT8)]


def test_int8_error_against_fp32_is_small(
    int8_model: onnx.ModelProto, fp32_model: onnx.ModelProto, photo_dir: Path
) -> None:
    """Measured on photos (what it was calibrated for), against the fp32 export."""
    cases = parity_cases(list_photos(photo_dir)[:3])[3:]
    stats = compare(onnxruntime_runner(fp32_model, 1), onnxruntime_runner(int8_model, 1), cases)
    assert stats["max_abs"] > 0  # it really is quantized
    assert int8_error_is_small(stats)


def test_calibration_reader_feeds_batch_one_frames_at_several_sizes(photo_dir: Path) -> None:
    seen = []
    reader = PhotoCalibrationReader(list_photos(photo_dir)[:3], on_frame=lambda: seen.append(1))
    shapes = []
    while (item := reader.get_next()) is not None:
        assert item[INPUT_NAME].dtype == np.uint8
        shapes.append(item[INPUT_NAME].shape)
    assert len(set(shapes)) == 3 and all(s[0] == 1 and s[3] == 3 for s in shapes)
    assert len(seen) == 3
    reader.rewind()
    assert reader.get_next() is not None
