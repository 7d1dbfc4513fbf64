"""Rewrites of the traced frames wrapper that ONNX Runtime's own graph optimizer does not make.

The wrapper's per-pixel steps trace into one full-resolution pass each: the uint8 -> float
conversion divides every pixel by 255, the frame's margin and the generator's first padding
are two edge pads in a row, and the output goes through Clip, Mul, Round and Cast. Each pass
reads and writes the whole frame, which at 1280x720 costs as much as a small convolution.
The crop of the margin is two Slices, one per axis. The rules below (onnxscript's pattern
rewriter) remove up to six of these passes: the division moves into the first convolution's
weights, the two pads become one, the two crops one, and the float -> uint8 steps become one
QuantizeLinear, which rounds half to even and saturates as they do. The output stays within
1 level: QuantizeLinear divides by float32(1/255) where the traced graph multiplied by 255,
so a value at an exact half may round the other way. Graphs that do not hold a pattern pass
through unchanged.

Two more rules then change where work happens, exactly: the first convolution reads the uint8
frame in its own NHWC pixel order (the full-size transpose goes, and the margin pad runs on
bytes, not floats), and the output blur's edge pad goes, because the crop of the margin throws
away every pixel it reaches.

The exporter applies them to every new model. For a model file exported before them,
`python -m export.tidy MODEL.onnx -o FAST.onnx` rewrites it without its checkpoint, checks
the new file against the old one on the exporter's parity cases, and adds that comparison to
its "parity" metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir
import typer
from onnxscript import rewriter
from onnxscript.rewriter import pattern

from export.errors import ParityError
from export.files import check_file_target, write_model_file
from export.metadata import read_metadata
from export.photos import list_photos
from export.verify import (
    FP32_LEVELS,
    FP32_MAX_FRACTION,
    compare,
    onnxruntime_runner,
    parity_cases,
    require,
)
from stream_astgan import contract
from stream_astgan.engine import Engine
from stream_astgan.errors import AstganError

_EDGE_LIKE = ("edge", "reflect")
"""Pad modes that only copy pixels, so scaling before or after the pad is the same."""


def _constant(value: ir.Value | None) -> np.ndarray | None:
    if value is None or value.const_value is None:
        return None
    return value.const_value.numpy()


def _mode(node: ir.Node) -> str:
    attr = node.attributes.get("mode")
    return attr.as_string() if attr is not None else "constant"


def _has_inputs(node: ir.Node, count: int) -> bool:
    """True when the node uses exactly its first `count` inputs (Pad's optional ones unused)."""
    return all(v is not None for v in node.inputs[:count]) and all(
        v is None for v in node.inputs[count:]
    )


class BytesOut(pattern.RewriteRuleClassBase):
    """Cast(Round(Mul(Clip(x, 0, 1), 255)), to=uint8) -> QuantizeLinear(x, 1/255, uint8 0)."""

    def pattern(self, op, x, low, high, scale):
        return op.Cast(op.Round(op.Mul(op.Clip(x, low, high), scale)), _outputs=["out"])

    def check(self, context, x, low, high, scale, out) -> pattern.MatchResult:
        result = pattern.MatchResult()
        to = out.producer().attributes.get("to")
        if to is None or to.as_int() != onnx.TensorProto.UINT8:
            return result.fail("the Cast is not to uint8")
        if x.dtype != ir.DataType.FLOAT:  # QuantizeLinear takes float16 only from opset 19
            return result.fail("QuantizeLinear needs float32 input at opset 18")
        bounds = _constant(low), _constant(high), _constant(scale)
        if any(b is None or b.size != 1 for b in bounds):
            return result.fail("clip bounds and scale must be scalar constants")
        if (bounds[0].item(), bounds[1].item(), bounds[2].item()) != (0.0, 1.0, 255.0):
            return result.fail("not the [0, 1] -> [0, 255] conversion")
        return result

    def rewrite(self, op, x, low, high, scale, out):
        step = op.initializer(ir.tensor(np.float32(1 / 255)), name=f"{out.name}_scale")
        zero = op.initializer(ir.tensor(np.uint8(0)), name=f"{out.name}_zero_point")
        return op.QuantizeLinear(x, step, zero)


class OnePad(pattern.RewriteRuleClassBase):
    """Pad(Pad(x, a, edge), b, edge) -> Pad(x, a + b, edge), for a >= 0 (a negative pad crops,
    and repeating the new edge is not repeating the old one). The wrapper's margin is computed
    from the frame size, so it is not a constant: the rule takes it as the non-negative margin
    it is by construction, and every graph it rewrites is then checked against its reference
    (the export against the checkpoint, `python -m export.tidy` against the old file)."""

    def pattern(self, op, x, inner_pads, outer_pads):
        inner = op.Pad(x, inner_pads, _allow_other_inputs=True, _outputs=["inner"])
        return op.Pad(inner, outer_pads, _allow_other_inputs=True, _outputs=["outer"])

    def check(self, context, x, inner_pads, outer_pads, inner, outer) -> pattern.MatchResult:
        result = pattern.MatchResult()
        first, second = inner.producer(), outer.producer()
        if not (_has_inputs(first, 2) and _has_inputs(second, 2)):
            return result.fail("pads with a constant value or axes")
        if _mode(first) != "edge" or _mode(second) != "edge":
            return result.fail("only edge pads add up (reflecting twice is not reflecting once)")
        for pads in (_constant(inner_pads), _constant(outer_pads)):
            if pads is not None and (pads < 0).any():
                return result.fail("a negative pad crops")
        if inner_pads.dtype != outer_pads.dtype:
            return result.fail("the pads have different types")
        return result

    def rewrite(self, op, x, inner_pads, outer_pads, inner, outer):
        return op.Pad(x, op.Add(inner_pads, outer_pads), mode="edge")


class ScaleIntoConv(pattern.RewriteRuleClassBase):
    """Conv(Pad(Div(x, c)), W, ...) -> Conv(Pad(x), W / c, ...) for a scalar constant c."""

    def __init__(self) -> None:
        super().__init__(remove_nodes=False)  # the old weight goes with the unused-node pass

    def pattern(self, op, x, divisor, pads, weight):
        padded = op.Pad(op.Div(x, divisor), pads, _allow_other_inputs=True, _outputs=["pad"])
        return op.Conv(padded, weight, _allow_other_inputs=True, _outputs=["conv"])

    def check(self, context, x, divisor, pads, weight, pad, conv) -> pattern.MatchResult:
        result = pattern.MatchResult()
        c, w = _constant(divisor), _constant(weight)
        if c is None or c.size != 1 or w is None:
            return result.fail("the divisor and the weight must be constants")
        if not _has_inputs(pad.producer(), 2) or _mode(pad.producer()) not in _EDGE_LIKE:
            return result.fail("the pad does not copy pixels")
        if len(pad.uses()) > 1:
            return result.fail("other nodes read the pad too (it would be made twice)")
        if weight.is_graph_input():
            return result.fail("the weight is a graph input")
        return result

    def rewrite(self, op, x, divisor, pads, weight, pad, conv):
        node = conv.producer()
        scaled = (_constant(weight) / _constant(divisor)).astype(_constant(weight).dtype)
        # Named after this conv's output: a weight the exporter shares between two one-hot
        # convolutions (the shuffles) gets a scaled copy here, the other keeps the original.
        new_weight = op.initializer(ir.tensor(scaled), name=f"{conv.name}_weight_per_level")
        padded = op.Pad(x, pads, mode=_mode(pad.producer()))
        return op.op(
            node.op_type, padded, new_weight, *node.inputs[2:], _name=node.name, **node.attributes
        )


class OneSlice(pattern.RewriteRuleClassBase):
    """Slice(Slice(x, ..., axes a), ..., axes b) on different axes -> one Slice on both."""

    def pattern(self, op, x, starts1, ends1, axes1, steps1, starts2, ends2, axes2, steps2):
        inner = op.Slice(x, starts1, ends1, axes1, steps1, _outputs=["inner"])
        return op.Slice(inner, starts2, ends2, axes2, steps2)

    def check(self, context, x, axes1, axes2, **indices) -> pattern.MatchResult:
        result = pattern.MatchResult()
        first, second = _constant(axes1), _constant(axes2)
        if first is None or second is None or x.shape is None:
            return result.fail("the axes must be constants")
        rank = len(x.shape)
        if set(first % rank) & set(second % rank):
            return result.fail("the slices share an axis")
        values = [axes1, axes2, *(v for k, v in indices.items() if k != "inner")]
        if len({v.dtype for v in values}) != 1:
            return result.fail("the index inputs have different types")
        return result

    def rewrite(self, op, x, starts1, ends1, axes1, steps1, starts2, ends2, axes2, steps2, **_):
        def both(a: ir.Value, b: ir.Value) -> ir.Value:
            return op.Concat(a, b, axis=0)

        return op.Slice(
            x, both(starts1, starts2), both(ends1, ends2), both(axes1, axes2), both(steps1, steps2)
        )


def _static(value: ir.Value | None) -> np.ndarray | None:
    """A constant, or a Concat (axis 0) of constants, as the traced crop's starts are."""
    array = _constant(value)
    if array is not None or value is None:
        return array
    node = value.producer()
    if node is None or node.op_type != "Concat" or node.attributes.get_int("axis", 0) != 0:
        return None
    parts = [_constant(v) for v in node.inputs]
    return None if any(p is None for p in parts) else np.concatenate(parts)


def _ints(node: ir.Node, name: str, default: list[int]) -> list[int]:
    """An ints attribute, or what ONNX means when it is absent."""
    attr = node.attributes.get(name)
    return list(attr.as_ints()) if attr is not None else default


def _plain_conv(node: ir.Node) -> bool:
    """A convolution that pads nothing itself and samples every pixel (stride aside)."""
    return (
        node.attributes.get_string("auto_pad", "NOTSET") == "NOTSET"
        and not any(_ints(node, "pads", [0]))
        and set(_ints(node, "dilations", [1])) == {1}
    )


class InterleavedStem(pattern.RewriteRuleClassBase):
    """Conv(Pad(Cast(Transpose(x, NHWC -> NCHW))), W) -> Conv(view(Cast(Pad(x))), W'): the
    first convolution reads the frame in its own pixel order.

    A frame [N, H, W, C] is also an [N, 1, H, W*C] plane in which pixel (y, x) channel c sits
    at (y, x*C + c), so a kh x kw convolution with stride (sh, sw) over C channels equals a
    kh x kw*C one with stride (sh, sw*C) over the plane, its weight reordered. The full-size
    transpose goes, and the pad runs on the uint8 frame instead of the float one."""

    def __init__(self) -> None:
        super().__init__(remove_nodes=False)  # the old weight goes with the unused-node pass

    def pattern(self, op, x, pads, weight):
        planar = op.Cast(op.Transpose(x, _outputs=["planar"]), _outputs=["cast"])
        padded = op.Pad(planar, pads, _allow_other_inputs=True, _outputs=["pad"])
        return op.Conv(padded, weight, _allow_other_inputs=True, _outputs=["conv"])

    def check(self, context, x, pads, weight, planar, cast, pad, conv) -> pattern.MatchResult:
        result = pattern.MatchResult()
        node, w = conv.producer(), _constant(weight)
        if _ints(planar.producer(), "perm", []) != [0, 3, 1, 2]:
            return result.fail("not the NHWC -> NCHW transpose")
        if w is None or w.ndim != 4:
            return result.fail("the weight must be a 4-D constant")
        if x.shape is None or len(x.shape) != 4 or x.shape[3] != w.shape[1]:
            return result.fail("the frame's channel count must be static and the weight's")
        if not _has_inputs(pad.producer(), 2):
            return result.fail("a pad with a constant value or axes")
        if any(len(v.uses()) > 1 for v in (planar, cast, pad)):
            return result.fail("other nodes read the frame on the way (it would be made twice)")
        if node.attributes.get_int("group", 1) != 1 or not _plain_conv(node):
            return result.fail("a grouped, self-padding or dilated convolution")
        return result

    def rewrite(self, op, x, pads, weight, planar, cast, pad, conv):
        node, w = conv.producer(), _constant(weight)
        out, channels, kh, kw = w.shape
        plane = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(out, 1, kh, kw * channels))
        new_weight = op.initializer(ir.tensor(plane), name=f"{conv.name}_weight_interleaved")

        def constant(name: str, values: list[int]) -> ir.Value:
            return op.initializer(ir.tensor(np.array(values, np.int64)), name=f"{conv.name}_{name}")

        order = constant("pads_in_pixel_order", [0, 2, 3, 1, 4, 6, 7, 5])
        rows, axis = constant("rows", [0, 0, -1]), constant("plane_axis", [1])
        padded = op.Pad(x, op.Gather(pads, order, axis=0), mode=_mode(pad.producer()))
        floats = op.Cast(padded, to=cast.producer().attributes.get_int("to"))
        sh, sw = _ints(node, "strides", [1, 1])
        return op.Conv(
            op.Unsqueeze(op.Reshape(floats, rows), axis),
            new_weight,
            *node.inputs[2:],
            kernel_shape=[kh, kw * channels],
            strides=[sh, sw * channels],
            _name=node.name,
        )


class CropAbsorbsPad(pattern.RewriteRuleClassBase):
    """Slice(Sigmoid(Conv(Pad(y, p), W)), s, e) -> Slice(Sigmoid(Conv(y, W)), s - p0, e - p0)
    for an unstrided convolution, when the crop starts at or past the pad (and a negative end
    stops before it): the pixels the pad adds only ever reach outputs the crop throws away.
    At the output that is the frame's margin, so the smoothing blur's own edge pad, a
    full-resolution pass, goes. The crop's end is computed from the frame size; like
    OnePad, the rule takes it for what the wrapper makes it, inside the unpadded output, and
    a rewrite that were not would change the output's shape, which the parity check refuses."""

    def pattern(self, op, y, pads, weight, starts, ends, axes, steps):
        padded = op.Pad(y, pads, _allow_other_inputs=True, _outputs=["pad"])
        conv = op.Conv(padded, weight, _allow_other_inputs=True, _outputs=["conv"])
        return op.Slice(op.Sigmoid(conv), starts, ends, axes, steps, _outputs=["crop"])

    def check(
        self, context, y, pads, weight, starts, ends, axes, steps, pad, conv, crop
    ) -> pattern.MatchResult:
        result = pattern.MatchResult()
        p, s, a = _constant(pads), _static(starts), _static(axes)
        if p is None or s is None or a is None or y.shape is None:
            return result.fail("the pads, the crop's starts and its axes must be constants")
        rank = len(y.shape)
        if p.size != 2 * rank or (p < 0).any() or not _has_inputs(pad.producer(), 2):
            return result.fail("not a plain non-negative pad")
        begin, end = p[:rank], p[rank:]
        axes_padded = {i for i in range(rank) if begin[i] or end[i]}
        if not axes_padded <= set(a % rank) or axes_padded & {0, 1}:
            return result.fail("the pad reaches an axis the crop keeps, or batch or channels")
        e = _static(ends)
        if len(s) != len(a) or (e is not None and len(e) != len(a)):
            return result.fail("the crop's starts, ends and axes differ in length")
        if any(s[k] < begin[axis] for k, axis in enumerate(a % rank)) or (s < 0).any():
            return result.fail("the crop starts inside the pad")
        if e is not None and any(
            (v >= 0 or v + end[axis] >= 0) and end[axis]
            for v, axis in zip(e, a % rank, strict=True)
        ):  # a constant end from the start (or past it) cannot be shown to stop before it
            return result.fail("the crop may end inside the pad")
        if not _plain_conv(conv.producer()) or set(_ints(conv.producer(), "strides", [1])) != {1}:
            return result.fail("a self-padding, dilated or strided convolution")
        if _static(steps) is None or set(_static(steps)) != {1}:
            return result.fail("a crop with steps")
        return result

    def rewrite(self, op, y, pads, weight, starts, ends, axes, steps, pad, conv, crop):
        node, rank, axis = conv.producer(), len(y.shape), _static(axes) % len(y.shape)
        p, s, e = _constant(pads), _static(starts), _static(ends)
        begin, end = p[:rank][axis], p[rank:][axis]

        def constant(name: str, values: np.ndarray) -> ir.Value:
            return op.initializer(ir.tensor(values.astype(s.dtype)), name=f"{crop.name}_{name}")

        if e is None:  # computed from the frame size: a position from the start
            new_ends = op.Sub(ends, constant("pad_before", begin))
        else:  # from the end, a negative end is that much nearer the unpadded end
            new_ends = constant("unpadded_ends", np.where(e < 0, e + end, e - begin))
        convolved = op.op(
            node.op_type, y, weight, *node.inputs[2:], _name=node.name, **node.attributes
        )
        return op.Slice(
            op.Sigmoid(convolved), constant("unpadded_starts", s - begin), new_ends, axes, steps
        )


RULES = pattern.RewriteRuleSet(
    [OnePad.rule(), ScaleIntoConv.rule(), OneSlice.rule(), BytesOut.rule()]
)
LAYOUT_RULES = pattern.RewriteRuleSet([InterleavedStem.rule(), CropAbsorbsPad.rule()])
"""Applied after RULES, which first merge the pads and crops these rules look through."""


def tidy(model: onnx.ModelProto, layout: bool = True) -> onnx.ModelProto:
    """`model` with the rules applied (a new proto; metadata and opsets kept). Shapes and types
    are inferred first: the output rule applies to float32 values only. `layout=False` stops
    after RULES: the fp16 (GPU) export does, since the layout rules were measured on this CPU
    only and put a Pad on uint8, which not every GPU provider may run (benchmarks.tidy_speed
    also times each step)."""
    merged = rewriter.rewrite(onnx.shape_inference.infer_shapes(model), pattern_rewrite_rules=RULES)
    return rewriter.rewrite(merged, pattern_rewrite_rules=LAYOUT_RULES) if layout else merged


def tidy_file(source: Path, target: Path, photos: Path | None, overwrite: bool) -> dict:
    """Tidy a model file; write it only if it matches the original (the export's fp32 bound)."""
    check_file_target(target, overwrite)
    before = Engine(source, "cpu", 1)  # a missing, damaged or non-contract file: one-line error
    tidied = tidy(onnx.load(source))
    try:
        onnx.checker.check_model(tidied, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        first = str(err).strip().splitlines()[0]
        message = f"the tidied graph is not valid ONNX ({first}); nothing was written"
        raise ParityError(message) from None
    cases = parity_cases(list_photos(photos) if photos else [])
    stats = compare(before.run, onnxruntime_runner(tidied, 1), cases)
    require(stats, "tidy", FP32_LEVELS, FP32_MAX_FRACTION, reference=source.name)
    props = read_metadata(tidied)
    parity = json.loads(props.get(contract.META_PARITY, "{}"))
    record = {**stats, "reference": f"{source.name} before export.tidy"}
    if "tidy" in parity:  # tidied again by newer rules: the first comparison stays on record
        record |= {"reference": f"{source.name} (tidied earlier)", "previous": parity["tidy"]}
    parity["tidy"] = record
    props[contract.META_PARITY] = json.dumps(parity, sort_keys=True)
    del tidied.metadata_props[:]
    onnx.helper.set_model_props(tidied, props)
    write_model_file(target, tidied.SerializeToString(), overwrite)
    return stats


def main(
    model: Path = typer.Argument(..., help="A model written by an earlier `python -m export`."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the tidied model."),
    calib: Path | None = typer.Option(
        None, "--calib", help="Folder of photos: the parity check also compares three of them."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
) -> None:
    """Rewrite a model exported before `export.tidy` into the faster graph new exports have.

    The new file must match the old one on the exporter's parity cases (fp32's bound: at most
    0.1% of pixels more than 1 level off), or nothing is written (exit 1). The comparison is
    added to the model's "parity" metadata. Bad input exits 2.
    """
    try:
        stats = tidy_file(model, output, calib, overwrite)
    except AstganError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1 if isinstance(err, ParityError) else 2) from None
    typer.echo(
        f"wrote {output}: against {model.name}, largest difference {stats['max_abs']} "
        f"level(s) over {stats['pixels']} pixels",
        err=True,
    )


app = typer.Typer(add_completion=False, rich_markup_mode=None)
app.command()(main)

if __name__ == "__main__":
    app(prog_name="python -m export.tidy")
