"""Metadata round trip: what export writes is what a reader of the file gets back."""

from __future__ import annotations

import json

import onnx

from export import __version__
from export.metadata import ModelFacts, Provenance, metadata_dict, read_metadata, write_metadata
from stream_astgan import contract

FACTS = ModelFacts(
    provenance=Provenance(
        style="starry-night",
        sources=["/data/style/starry_night.jpg", "vangogh/irises.png"],
        training_steps=8000,
        config_hash="0123456789abcdef",
    ),
    precision="fp16",
    stride=8,
    gmac=0.63037,
    parity={"fp32": {"max_abs": 1, "frac_over_1": 0.0}},
    recommended_for=["gpu"],
)


def test_metadata_survives_a_save_and_load(fp32_model: onnx.ModelProto, tmp_path) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(fp32_model)
    write_metadata(model, FACTS)
    onnx.save(model, tmp_path / "m.onnx")
    meta = read_metadata(onnx.load(tmp_path / "m.onnx"))

    opset = next(o.version for o in fp32_model.opset_import if o.domain == "")
    assert meta == metadata_dict(FACTS, opset)
    assert set(contract.REQUIRED_META) <= set(meta)
    assert meta[contract.META_STYLE] == "starry-night"
    assert meta[contract.META_SOURCE] == "starry_night.jpg,irises.png"
    assert meta[contract.META_STEPS] == "8000"
    assert meta[contract.META_PRECISION] == "fp16"
    assert meta[contract.META_OPSET] == str(opset)
    assert meta[contract.META_CONFIG_HASH] == "0123456789abcdef"
    assert __version__ in meta[contract.META_EXPORTER]
    assert meta[contract.META_STRIDE] == "8" and meta[contract.META_GMAC] == "0.630"
    assert json.loads(meta[contract.META_PARITY]) == FACTS.parity
    assert meta[contract.META_RECOMMENDED] == "gpu"


def test_writing_twice_replaces_rather_than_duplicates(fp32_model: onnx.ModelProto) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(fp32_model)
    write_metadata(model, FACTS)
    write_metadata(model, FACTS)
    keys = [p.key for p in model.metadata_props]
    assert len(keys) == len(set(keys))
