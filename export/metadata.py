"""The model's metadata_props: what the runtime's `astgan-stream models` shows about a file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import onnx
import torch

from export import __version__
from stream_astgan import contract
from training.checkpoint import Checkpoint


@dataclass(frozen=True)
class Provenance:
    """Where a model comes from: the checkpoint's side of the metadata."""

    style: str
    sources: list[str]
    training_steps: int
    config_hash: str
    features: str = ""  # what the training's feature network was, with its licence

    def renamed(self, style: str) -> Provenance:
        """The same provenance under the name the user chose with --name."""
        return dataclasses.replace(self, style=style)

    @classmethod
    def of(cls, ckpt: Checkpoint) -> Provenance:
        """The checkpoint's side of the model metadata."""
        features = str(ckpt.config.get("loss", {}).get("feature_origin", ""))
        return cls(ckpt.style_name, ckpt.style_paths, ckpt.step, ckpt.config_hash, features)


@dataclass(frozen=True)
class ModelFacts:
    """Everything the metadata says about a model: provenance plus what the export measured."""

    provenance: Provenance
    precision: str
    stride: int
    gmac: float
    parity: dict[str, Any]
    recommended_for: list[str]


def exporter_version() -> str:
    """Names the tool and the torch whose trace produced the graph, for bug reports."""
    return f"stream-astgan export {__version__} (torch {torch.__version__})"


def metadata_dict(facts: ModelFacts, opset: int) -> dict[str, str]:
    """The string key/values (ONNX stores only strings) under the contract's key names."""
    origin = facts.provenance
    return {
        contract.META_STYLE: origin.style,
        contract.META_SOURCE: ",".join(PurePath(s).name for s in origin.sources),
        contract.META_STEPS: str(origin.training_steps),
        contract.META_PRECISION: facts.precision,
        contract.META_OPSET: str(opset),
        contract.META_EXPORTER: exporter_version(),
        contract.META_CONFIG_HASH: origin.config_hash,
        contract.META_STRIDE: str(facts.stride),
        contract.META_GMAC: f"{facts.gmac:.3f}",
        contract.META_PARITY: json.dumps(facts.parity, sort_keys=True),
        contract.META_RECOMMENDED: ",".join(facts.recommended_for),
        **({contract.META_FEATURES: origin.features} if origin.features else {}),
    }


def default_opset(model: onnx.ModelProto) -> int:
    """The default-domain opset, the one the contract's `opset` key reports."""
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def write_metadata(model: onnx.ModelProto, facts: ModelFacts) -> None:
    """Replace the model's metadata_props with the facts (in place)."""
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, metadata_dict(facts, default_opset(model)))
    model.producer_name = "stream-astgan export"
    model.producer_version = __version__


def read_metadata(model: onnx.ModelProto) -> dict[str, str]:
    """The metadata_props as a dict, as the runtime reads them."""
    return {p.key: p.value for p in model.metadata_props}
