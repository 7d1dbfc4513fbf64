"""export.tidy: the wrapper's full-resolution passes are removed, and nothing else changes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from export.metadata import read_metadata
from export.onnx_export import OPSET
from export.tidy import app, tidy
from export.verify import onnxruntime_runner
from stream_astgan import contract


def _model(nodes: list, consts: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A contract model (uint8 `frames` NHWC in, `stylized` out) from nodes and constants."""
    frames = helper.make_tensor_value_info("frames", TensorProto.UINT8, ["N", "H", "W", 3])
    out = helper.make_tensor_value_info("stylized", TensorProto.UINT8, ["N", "H", "W", 3])
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    graph = helper.make_graph(nodes, "wrapper", [frames], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10)
    onnx.checker.check_model(model, full_check=True)
    return model


def _wrapper_like(
    pad_modes: tuple[str, str] = ("edge", "edge"),
    margin: tuple[int, int] = (2, 2),
    clip: tuple[float, float] = (0.0, 1.0),
    crop_axes: tuple[int, int] = (2, 3),
    pad_value: bool = False,
    tail_blur: bool = False,
    stem_pads: bool = False,
) -> onnx.ModelProto:
    """uint8 NHWC -> /255 -> margin pad, the stem's pad -> convs -> sigmoid -> crop H, crop W ->
    clip, *255, round -> uint8 NHWC: the shape of what the exporter traces around a generator.
    The margin is (before, after) on H and W; the crops take off what the pads and the
    unpadded 3x3 conv leave, so the output has the input's size. `tail_blur` adds the
    output's edge pad and depthwise 3x3 blur before the sigmoid; `stem_pads` lets the first
    conv pad by itself (the stem then keeps the input's size, so the crop keeps more)."""
    rng = np.random.default_rng(0)
    before, after = margin
    consts = {
        "divisor": np.float32(255.0),
        "margin": np.array([0, 0, before, before, 0, 0, after, after], np.int64),
        "one": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
        "zero": np.float32(0.0),
        "w": rng.normal(0, 0.5, (6, 3, 3, 3)).astype(np.float32),
        "b": rng.normal(0, 0.5, 6).astype(np.float32),
        "w2": rng.normal(0, 0.5, (3, 6, 1, 1)).astype(np.float32),
        "start": np.array([before], np.int64),
        "end": np.array([-after], np.int64),
        "axis_h": np.array([crop_axes[0]], np.int64),
        "axis_w": np.array([crop_axes[1]], np.int64),
        "step": np.array([1], np.int64),
        "low": np.float32(clip[0]),
        "high": np.float32(clip[1]),
        "levels": np.float32(255.0),
        "blur": np.tile(np.float32([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16, (3, 1, 1, 1)),
    }
    stem_pad = ["p1", "one", "zero"] if pad_value else ["p1", "one"]
    nodes = [
        helper.make_node("Transpose", ["frames"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Cast", ["nchw"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["f", "divisor"], ["x"]),
        helper.make_node("Pad", ["x", "margin"], ["p1"], mode=pad_modes[0]),
        helper.make_node("Pad", stem_pad, ["p2"], mode=pad_modes[1]),
        helper.make_node(
            "Conv", ["p2", "w", "b"], ["h"], kernel_shape=[3, 3], pads=[int(stem_pads)] * 4
        ),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2"], ["logits"], kernel_shape=[1, 1]),
    ]
    if tail_blur:
        nodes += [
            helper.make_node("Pad", ["logits", "one"], ["padded_logits"], mode="edge"),
            helper.make_node("Conv", ["padded_logits", "blur"], ["blurred"], group=3),
        ]
    nodes += [
        helper.make_node("Sigmoid", ["blurred" if tail_blur else "logits"], ["sig"]),
        helper.make_node("Slice", ["sig", "start", "end", "axis_h", "step"], ["crop_h"]),
        helper.make_node("Slice", ["crop_h", "start", "end", "axis_w", "step"], ["y"]),
        helper.make_node("Clip", ["y", "low", "high"], ["c"]),
        helper.make_node("Mul", ["c", "levels"], ["m"]),
        helper.make_node("Round", ["m"], ["rounded"]),
        helper.make_node("Cast", ["rounded"], ["bytes"], to=TensorProto.UINT8),
        helper.make_node("Transpose", ["bytes"], ["stylized"], perm=[0, 2, 3, 1]),
    ]
    return _model(nodes, consts)


def _crop_then_pad() -> onnx.ModelProto:
    """Edge-pads by 1 what a pad computed at run time cropped by 1: the outer ring of pixels
    becomes a copy of the next ring. Merging the two pads would return the frame unchanged."""
    consts = {
        "crop": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
        "one": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
    }
    nodes = [
        helper.make_node("Transpose", ["frames"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Neg", ["crop"], ["negative"]),  # not a constant to the rewriter
        helper.make_node("Pad", ["nchw", "negative"], ["cropped"], mode="edge"),
        helper.make_node("Pad", ["cropped", "one"], ["padded"], mode="edge"),
        helper.make_node("Transpose", ["padded"], ["stylized"], perm=[0, 2, 3, 1]),
    ]
    return _model(nodes, consts)


def _ops(model: onnx.ModelProto) -> Counter[str]:
    return Counter(node.op_type for node in model.graph.node)


@pytest.mark.parametrize("shape", [(1, 7, 9, 3), (2, 33, 20, 3)])
def test_tidy_removes_four_passes_and_keeps_the_output(shape: tuple[int, ...]) -> None:
    model = _wrapper_like()
    tidied = tidy(model)
    onnx.checker.check_model(tidied, full_check=True)
    removed = _ops(model) - _ops(tidied)
    expected = {"Div": 1, "Pad": 1, "Slice": 1, "Clip": 1, "Mul": 1, "Round": 1, "Cast": 1}
    assert removed == Counter({**expected, "Transpose": 1})  # the stem reads NHWC
    added = {"QuantizeLinear": 1, "Concat": 4, "Add": 1, "Gather": 1, "Reshape": 1}
    assert _ops(tidied) - _ops(model) == Counter({**added, "Unsqueeze": 1})
    frames = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    before = onnxruntime_runner(model, 1)(frames).astype(int)
    after = onnxruntime_runner(tidied, 1)(frames).astype(int)
    assert after.shape == before.shape
    assert np.abs(after - before).max() <= 1  # float rounding of x/255 may move a tie
    assert np.mean(after != before) < 0.01


@pytest.mark.parametrize(
    ("variant", "kept"),
    [
        ({"pad_modes": ("reflect", "reflect")}, {"Pad": 2}),  # reflecting twice is not once
        ({"margin": (-1, 3)}, {"Pad": 2}),  # a negative pad crops
        ({"pad_value": True}, {"Pad": 2, "Div": 1}),  # a constant-value pad: none apply
        ({"clip": (0.0, 2.0)}, {"Clip": 1, "Round": 1}),  # not the [0, 1] -> bytes step
        ({"crop_axes": (2, 2)}, {"Slice": 2}),  # two crops of one axis
        ({"crop_axes": (2, -2)}, {"Slice": 2}),  # the same axis, counted from the end
        ({"stem_pads": True, "margin": (1, 1)}, {"Transpose": 2}),  # the conv pads itself
        ({"tail_blur": True, "margin": (0, 2)}, {"Pad": 2}),  # the crop starts in the pad
        ({"tail_blur": True, "margin": (2, 1)}, {"Pad": 2}),  # and here it ends in it
    ],
)
def test_tidy_leaves_other_patterns_alone(variant: dict, kept: dict[str, int]) -> None:
    tidied = tidy(_wrapper_like(**variant))
    for op, count in kept.items():
        assert _ops(tidied)[op] == count


@pytest.mark.parametrize("shape", [(1, 7, 9, 3), (2, 12, 5, 3)])
def test_tidy_drops_a_pad_that_only_feeds_the_cropped_margin(shape: tuple[int, ...]) -> None:
    model = _wrapper_like(tail_blur=True)
    tidied = tidy(model)
    onnx.checker.check_model(tidied, full_check=True)
    assert _ops(tidied)["Pad"] == 1
    frames = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    before = onnxruntime_runner(model, 1)(frames).astype(int)
    after = onnxruntime_runner(tidied, 1)(frames).astype(int)
    assert after.shape == before.shape and np.abs(after - before).max() <= 1


def test_export_emits_the_tidied_graph(fp32_model: onnx.ModelProto) -> None:
    ops = _ops(fp32_model)
    assert ops["QuantizeLinear"] == 1 and not ops["Round"] and not ops["Clip"]
    assert ops["Slice"] == 1
    producers = {out: node for node in fp32_model.graph.node for out in node.output}
    chain, value = [], next(n for n in fp32_model.graph.node if n.op_type == "Conv").input[0]
    while value in producers:  # from the first convolution back to the frames
        chain.append(producers[value].op_type)
        value = producers[value].input[0]
    assert chain == ["Unsqueeze", "Reshape", "Cast", "Pad"] and value == "frames"
    assert ops["Transpose"] == 1  # the output's only


def test_tidy_copies_a_weight_that_another_conv_shares() -> None:
    """The exporter stores the two one-hot shuffle weights once when they are equal. Scaling one
    in place would change the other convolution, so each gets a scaled copy named after its
    own output, and the shared weight stays for anything else. A pad that two convolutions
    read is left alone (rewriting it for each would make it twice)."""
    model = _wrapper_like()
    conv = next(node for node in model.graph.node if node.op_type == "Conv")
    conv.output[0] = "h1"
    index = list(model.graph.node).index(conv)
    own_pad = helper.make_node("Pad", ["x", "margin"], ["p3"], mode="edge")
    model.graph.node.insert(index + 1, own_pad)
    twin = helper.make_node("Conv", ["p3", "w", "b"], ["h2"], kernel_shape=[3, 3], pads=[1] * 4)
    model.graph.node.insert(index + 2, twin)
    model.graph.node.insert(index + 3, helper.make_node("Add", ["h1", "h2"], ["h"]))
    model = _model(list(model.graph.node), _consts(model))
    frames = np.random.default_rng(2).integers(0, 256, (1, 9, 11, 3), dtype=np.uint8)
    before = onnxruntime_runner(model, 1)(frames).astype(int)
    tidied = tidy(model)
    onnx.checker.check_model(tidied, full_check=True)
    copies = [i.name for i in tidied.graph.initializer if i.name.endswith("_weight_per_level")]
    assert len(copies) == 2 and _ops(tidied)["Div"] == 0
    assert np.abs(onnxruntime_runner(tidied, 1)(frames).astype(int) - before).max() <= 1
    nodes = [n for n in model.graph.node if n.output[0] != "p3"]
    reader = next(n for n in nodes if n.output[0] == "h2")
    reader.input[0] = "p2"  # both read the stem's pad, which pads enough for both
    del reader.attribute[:]
    shared = _model(nodes, _consts(model))
    tidied = tidy(shared)
    onnx.checker.check_model(tidied, full_check=True)
    assert _ops(tidied)["Div"] == 1 and _ops(tidied)["Pad"] <= _ops(shared)["Pad"]
    after = onnxruntime_runner(tidied, 1)(frames).astype(int)
    assert np.abs(after - onnxruntime_runner(shared, 1)(frames).astype(int)).max() <= 1


def _consts(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def _saved(path: Path, model: onnx.ModelProto | None = None) -> Path:
    model = model or _wrapper_like()
    onnx.helper.set_model_props(model, {contract.META_PARITY: json.dumps({"fp32": {}})})
    onnx.save(model, path)
    return path


def test_cli_tidies_a_file_and_records_the_comparison(tmp_path: Path) -> None:
    source, target = _saved(tmp_path / "old.onnx"), tmp_path / "new.onnx"
    result = CliRunner().invoke(app, [str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    tidied = onnx.load(target)
    assert _ops(tidied)["QuantizeLinear"] == 1
    parity = json.loads(read_metadata(tidied)[contract.META_PARITY])
    assert set(parity) == {"fp32", "tidy"} and parity["tidy"]["max_abs"] <= 1
    again = tmp_path / "again.onnx"  # tidied twice: the first comparison stays on record
    assert CliRunner().invoke(app, [str(target), "-o", str(again)]).exit_code == 0
    record = json.loads(read_metadata(onnx.load(again))[contract.META_PARITY])["tidy"]
    assert record["max_abs"] == 0 and record["previous"] == parity["tidy"]


def test_cli_refuses_bad_input_and_keeps_existing_output(tmp_path: Path) -> None:
    source, target = _saved(tmp_path / "old.onnx"), tmp_path / "new.onnx"
    target.write_bytes(b"keep")
    refused = CliRunner().invoke(app, [str(source), "-o", str(target)])
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert target.read_bytes() == b"keep"
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    unreadable = CliRunner().invoke(app, [str(junk), "-o", str(tmp_path / "out.onnx")])
    assert unreadable.exit_code == 2 and "not a loadable ONNX model" in unreadable.output
    assert not (tmp_path / "out.onnx").exists()


def test_cli_writes_nothing_when_the_tidied_model_differs(tmp_path: Path) -> None:
    source, target = _saved(tmp_path / "old.onnx", _crop_then_pad()), tmp_path / "new.onnx"
    result = CliRunner().invoke(app, [str(source), "-o", str(target)])
    assert result.exit_code == 1 and "differ from old.onnx" in result.output
    assert not target.exists()
