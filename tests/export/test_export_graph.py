"""The exported fp32 graph: contract names and types, dynamic shapes, folded norms, parity."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from export.errors import ExportError
from export.onnx_export import check_model, export_fp32
from export.verify import Case, Runner, compare, onnxruntime_runner, torch_runner
from stream_astgan.contract import INPUT_NAME, OUTPUT_NAME


def _dims(value: onnx.ValueInfoProto) -> list[str | int]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_graph_follows_the_contract(fp32_model: onnx.ModelProto) -> None:
    check_model(fp32_model)
    (inp,), (out,) = fp32_model.graph.input, fp32_model.graph.output
    assert (inp.name, out.name) == (INPUT_NAME, OUTPUT_NAME)
    for value in (inp, out):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.UINT8
        assert _dims(value) == ["N", "H", "W", 3]
    opset = {o.domain: o.version for o in fp32_model.opset_import}
    assert opset.get("", opset.get("ai.onnx", 0)) >= 17


def test_graph_is_folded_and_simplified(fp32_model: onnx.ModelProto) -> None:
    graph = fp32_model.graph
    ops = {node.op_type for node in graph.node}
    assert "BatchNormalization" not in ops
    assert "Conv" in ops and "Pad" in ops
    assert not ops & {"Identity", "Constant", "Dropout"}  # folded into initializers or gone
    used = {name for node in graph.node for name in node.input}
    assert all(init.name in used for init in graph.initializer)
    assert not any(node.metadata_props for node in graph.node)


@pytest.mark.parametrize("shape", [(1, 97, 131, 3), (3, 64, 80, 3), (2, 1, 1, 3), (1, 8, 8, 3)])
def test_onnxruntime_accepts_any_batch_and_size(
    fp32_model: onnx.ModelProto, shape: tuple[int, ...]
) -> None:
    run = onnxruntime_runner(fp32_model, threads=1)
    frames = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = run(frames)
    assert out.shape == shape and out.dtype == np.uint8


@pytest.fixture(scope="module")
def runners(fp32_model: onnx.ModelProto, generator: nn.Module) -> tuple[Runner, Runner]:
    """One torch reference and one ONNX Runtime session for all the sizes tried below."""
    return torch_runner(generator), onnxruntime_runner(fp32_model, 1)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.integers(1, 3), st.integers(1, 60), st.integers(1, 60))
def test_any_frame_size_matches_torch(
    runners: tuple[Runner, Runner], batch: int, height: int, width: int
) -> None:
    frames = np.random.default_rng(height * width).integers(
        0, 256, (batch, height, width, 3), dtype=np.uint8
    )
    stats = compare(*runners, [Case("x", frames)])
    assert stats["max_abs"] <= 2 and stats["frac_over_1"] <= 0.01


@pytest.mark.parametrize("shape", [(1, 97, 131, 3), (3, 40, 56, 3)])
def test_parity_with_the_unfused_checkpoint_generator(
    fp32_model: onnx.ModelProto, generator: nn.Module, shape: tuple[int, ...]
) -> None:
    """The reference is the generator as trained (batch norm unfolded), so folding is covered."""
    frames = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    stats = compare(torch_runner(generator), onnxruntime_runner(fp32_model, 1), [Case("x", frames)])
    assert stats["frac_over_1"] <= 0.001
    assert stats["max_abs"] <= 2


def test_the_stylization_is_not_trivial(fp32_model: onnx.ModelProto) -> None:
    """Parity would be empty if the model ignored its input; it must not."""
    frames = np.random.default_rng(2).integers(0, 256, (2, 24, 24, 3), dtype=np.uint8)
    out = onnxruntime_runner(fp32_model, 1)(frames)
    assert not np.array_equal(out[0], out[1])
    assert not np.array_equal(out, frames)


def test_a_folder_named_triton_on_the_path_is_reported(
    tmp_path, monkeypatch: pytest.MonkeyPatch, generator: nn.Module
) -> None:
    """`--triton triton` in the working directory would otherwise break every later export."""
    if importlib.util.find_spec("triton") is not None:
        pytest.skip("the real triton package is installed")
    (tmp_path / "triton").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ExportError, match="shadows the 'triton' package"):
        export_fp32(generator)
