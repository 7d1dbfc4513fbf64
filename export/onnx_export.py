"""Trace the frames wrapper into an fp32 ONNX graph with dynamic batch, height and width."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings

import onnx
import torch
from torch import nn

from export.errors import ExportError
from export.tidy import tidy
from export.wrapper import FramesWrapper
from stream_astgan.contract import INPUT_NAME, OUTPUT_NAME

OPSET = 18
"""Supported by ONNX Runtime >= 1.14 and TensorRT >= 8.6; the dynamo exporter's native opset."""

DYNAMIC_DIMS = ("N", "H", "W")


def export_fp32(
    generator: nn.Module, opset: int = OPSET, tidy_graph: bool = True, layout: bool = True
) -> onnx.ModelProto:
    """The contract's fp32 model: uint8 NHWC `frames` in, uint8 NHWC `stylized` out.

    `generator` should already have its normalization folded (`export.fusion`). The torch.export
    based exporter records the padding arithmetic symbolically, so one trace serves every frame
    size; its optimizer folds constants and removes dead nodes. `export.tidy` then removes up
    to six full-resolution passes of the wrapper's own (`tidy_graph=False` keeps them, for
    the benchmark that measures what that saves; `layout=False` skips its layout rules, see
    `export.tidy.tidy`).
    """
    _refuse_shadowing_triton_folder()
    wrapper = FramesWrapper(generator).eval()
    # Sizes off the stride and a batch above 1, so that no dimension is specialised by the trace.
    example = torch.zeros(2, 2 * wrapper.stride + 3, 3 * wrapper.stride + 5, 3, dtype=torch.uint8)
    dims = {0: torch.export.Dim("N"), 1: torch.export.Dim("H"), 2: torch.export.Dim("W")}
    with _quiet(), torch.no_grad():
        program = torch.onnx.export(
            wrapper,
            (example,),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"frames": dims},
            opset_version=opset,
            dynamo=True,
            optimize=True,
            verbose=False,
        )
    model = tidy(program.model_proto, layout) if tidy_graph else program.model_proto
    _name_output_dims(model)
    _strip_trace_metadata(model)
    return model


def _refuse_shadowing_triton_folder() -> None:
    """A plain folder named `triton` on the import path breaks torch's tracer; say so plainly.

    torch imports the `triton` compiler when it can find it, and Python takes any folder of
    that name in the current directory (say, a Triton model repository written there by
    `--triton triton`) for the package. The trace then fails deep inside torch.
    """
    spec = importlib.util.find_spec("triton")
    if spec is not None and spec.origin is None and spec.submodule_search_locations:
        folders = ", ".join(spec.submodule_search_locations)
        raise ExportError(
            f"the folder {folders} shadows the 'triton' package torch looks for; run from "
            "another directory or rename it (e.g. write Triton repositories to model_repository)"
        )


def _name_output_dims(model: onnx.ModelProto) -> None:
    """Give the output the input's dimension names instead of the trace's padding formula.

    The crop makes the output exactly the input's size; saying so lets ONNX Runtime reuse
    buffers and lets a reader of the model see that the shapes match.
    """
    (output,) = model.graph.output
    for dim, name in zip(output.type.tensor_type.shape.dim, DYNAMIC_DIMS, strict=False):
        dim.ClearField("dim_value")
        dim.dim_param = name


def _strip_trace_metadata(model: onnx.ModelProto) -> None:
    """Drop the exporter's per-node and per-value notes; the model carries only our metadata."""
    graph = model.graph
    for item in (*graph.node, *graph.input, *graph.output, *graph.value_info, *graph.initializer):
        del item.metadata_props[:]
    del model.metadata_props[:]


@contextlib.contextmanager
def _quiet():
    """Keep the exporter's progress prints and optional-dependency warnings off the console."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def check_model(model: onnx.ModelProto) -> None:
    """onnx.checker with full shape and type inference; raises if the graph is malformed."""
    onnx.checker.check_model(model, full_check=True)
