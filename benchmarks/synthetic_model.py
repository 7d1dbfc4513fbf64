"""A contract-following ONNX generator built with onnx.helper, for benchmarks that must not need
torch or a trained model. Random weights; the shape of the work (space-to-depth, 3x3 convs at
1/2 and 1/4 resolution, depth-to-space) resembles the real generator's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper


def _conv(nodes, inits, rng, name, x, cin, cout, k=3, stride=1, relu=True):
    w = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k))).astype(np.float32)
    inits.append(helper.make_tensor(f"{name}_w", TensorProto.FLOAT, w.shape, w.ravel()))
    inits.append(helper.make_tensor(f"{name}_b", TensorProto.FLOAT, [cout], np.zeros(cout)))
    p = k // 2
    out = f"{name}_y"
    nodes.append(
        helper.make_node(
            "Conv", [x, f"{name}_w", f"{name}_b"], [out], pads=[p] * 4, strides=[stride] * 2
        )
    )
    if relu:
        nodes.append(helper.make_node("Relu", [out], [f"{name}_r"]))
        return f"{name}_r"
    return out


def build(path: Path, width: int = 24, seed: int = 0) -> tuple[Path, float]:
    """Write the model; returns its path and its GMAC per 640x360 frame."""
    rng = np.random.default_rng(seed)
    nodes: list = [
        helper.make_node("Cast", ["frames"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["f"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("SpaceToDepth", ["nchw"], ["s2d"], blocksize=2),
    ]
    inits: list = []
    w2 = width * 2
    x = _conv(nodes, inits, rng, "enc1", "s2d", 12, width)
    x = _conv(nodes, inits, rng, "enc2", x, width, w2, stride=2)
    x = _conv(nodes, inits, rng, "mid", x, w2, w2)
    x = _conv(nodes, inits, rng, "up1", x, w2, width * 4, k=1)
    nodes.append(helper.make_node("DepthToSpace", [x], ["d2s1"], blocksize=2))
    x = _conv(nodes, inits, rng, "dec", "d2s1", width, 12, relu=False)
    nodes += [
        helper.make_node("DepthToSpace", [x], ["d2s2"], blocksize=2),
        helper.make_node("Sigmoid", ["d2s2"], ["sig"]),
        helper.make_node("Mul", ["sig", "c255"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Cast", ["nhwc"], ["stylized"], to=TensorProto.UINT8),
    ]
    inits.append(helper.make_tensor("c255", TensorProto.FLOAT, [], [255.0]))
    io = ["N", "H", "W", 3]
    graph = helper.make_graph(
        nodes,
        "synthetic_generator",
        [helper.make_tensor_value_info("frames", TensorProto.UINT8, io)],
        [helper.make_tensor_value_info("stylized", TensorProto.UINT8, io)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, path)
    half, quarter = 320 * 180, 160 * 90
    macs = (
        half * 12 * width * 9
        + quarter * width * w2 * 9
        + quarter * w2 * w2 * 9
        + quarter * w2 * width * 4
        + half * width * 12 * 9
    )
    return path, macs / 1e9
