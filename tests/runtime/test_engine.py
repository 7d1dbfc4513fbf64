"""The ONNX Runtime engine: contract checks, IO binding on the CPU device, provider logic."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from stream_astgan import providers
from stream_astgan.engine import Engine
from stream_astgan.errors import ModelError, ProviderError


def test_io_binding_on_cpu_computes_the_model(invert_model):
    engine = Engine(invert_model, provider="cpu", threads=1)
    batch = np.random.default_rng(0).integers(0, 256, (3, 7, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(engine.run(batch), 255 - batch)
    assert engine.report.provider == "cpu" and engine.report.device == "cpu"
    assert engine.report.threads == 1
    # The binding is reused call after call; a different shape must work too.
    small = batch[:1, :3, :5]
    np.testing.assert_array_equal(engine.run(small), 255 - small)


def _model(media, tmp_path, name, in_elem=TensorProto.UINT8, in_shape=("N", "H", "W", 3),
           in_name="frames", out_name="stylized"):  # fmt: skip
    nodes = [helper.make_node("Identity", [in_name], [out_name])]
    return media.save_model(
        tmp_path / f"{name}.onnx",
        nodes,
        [media.frames_io(in_name, in_elem, in_shape)],
        [media.frames_io(out_name, in_elem, in_shape)],
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_elem": TensorProto.FLOAT}, r"tensor\(float\), the contract needs tensor\(uint8\)"),
        ({"in_shape": ("N", "H", "W")}, "has rank 3"),
        ({"in_shape": ("N", "H", "W", 4)}, "has 4 channels last"),
        ({"in_name": "images"}, "expected a tensor named 'frames'"),
    ],
)
def test_wrong_contract_models_are_rejected(media, tmp_path, kwargs, message):
    path = _model(media, tmp_path, "bad", **kwargs)
    with pytest.raises(ModelError, match=message):
        Engine(path, provider="cpu")


def test_missing_and_corrupt_models(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        Engine(tmp_path / "nope.onnx", provider="cpu")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage" * 50)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Engine(corrupt, provider="cpu")


def test_plan_cpu_only():
    chosen, notes = providers.plan("cpu")
    assert chosen == [(providers.CPU, {})] and notes == []


def test_plan_auto_orders_gpu_first_and_configures_tensorrt(monkeypatch, tmp_path):
    monkeypatch.setattr(providers, "load_problem", lambda p: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    chosen, notes = providers.plan("auto", providers.ShapeHint(4, 360, 640))
    names = [name for name, _ in chosen]
    assert names == [providers.TENSORRT, providers.CUDA, providers.CPU] and notes == []
    trt = dict(chosen)[providers.TENSORRT]
    assert trt["trt_fp16_enable"] is True
    assert trt["trt_engine_cache_path"].startswith(str(tmp_path))
    assert trt["trt_profile_opt_shapes"] == "frames:4x360x640x3"


def test_plan_auto_skips_unloadable_gpu_providers_with_a_reason(monkeypatch):
    problems = {providers.TENSORRT: "libnvinfer.so.10 not found", providers.CUDA: None}
    monkeypatch.setattr(providers, "load_problem", lambda p: problems.get(p))
    chosen, notes = providers.plan("auto")
    assert [n for n, _ in chosen] == [providers.CUDA, providers.CPU]
    assert notes == ["GPU providers unavailable (tensorrt: libnvinfer.so.10 not found)"]


@pytest.mark.parametrize("requested", ["cuda", "tensorrt"])
def test_explicit_gpu_request_that_cannot_load_is_an_error(monkeypatch, requested):
    monkeypatch.setattr(providers, "load_problem", lambda p: "libcudart.so.13 not found")
    with pytest.raises(ProviderError, match=f"--provider {requested} cannot run here"):
        providers.plan(requested)


def test_explicit_gpu_request_that_silently_fell_back_is_an_error():
    with pytest.raises(ProviderError, match="fell back to cpu"):
        providers.check_active("cuda", [providers.CPU])
    assert providers.check_active("auto", [providers.CPU]) == "cpu"
    assert providers.check_active("cuda", [providers.CUDA, providers.CPU]) == "cuda"


def test_real_gpu_request_on_this_machine(invert_model):
    """Here the GPU libraries are absent: asking for CUDA must fail loudly, auto must run on CPU."""
    if providers.load_problem(providers.CUDA) is None:
        pytest.skip("CUDA can load on this machine")
    with pytest.raises(ProviderError):
        Engine(invert_model, provider="cuda")
    engine = Engine(invert_model, provider="auto")
    assert engine.report.provider == "cpu"
    assert any("cuda: " in n for n in engine.report.notes)


def test_unknown_provider():
    with pytest.raises(ProviderError, match="unknown provider"):
        providers.plan("metal")


def test_the_inverting_model_carries_the_metadata_it_is_given(tmp_path):
    import onnx

    from stream_astgan.invert_model import write_invert_model

    meta = {"style": "ünïcode [x]", "recommended_for": "cpu", "long": "v" * 300}
    path = write_invert_model(tmp_path / "m.onnx", meta)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    assert {p.key: p.value for p in model.metadata_props} == meta
    engine = Engine(path, "cpu", threads=1)
    frames = np.arange(2 * 5 * 7 * 3, dtype=np.uint8).reshape(2, 5, 7, 3)
    np.testing.assert_array_equal(engine.run(frames), 255 - frames)
    assert engine.metadata["style"] == "ünïcode [x]"
