"""Config resolution: defaults < TOML < flags < --set, with errors that name the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from training.cli import build_parser, flag_overrides, fresh_config
from training.config import (
    GeneratorConfig,
    TrainConfig,
    config_from_dict,
    config_hash,
    config_to_dict,
    load_toml,
    resolve_config,
)
from training.errors import TrainingError

RECIPES = Path(__file__).resolve().parents[2] / "training" / "configs"


def resolve(tmp_path, toml: str, *argv: str) -> TrainConfig:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    args = build_parser().parse_args(["--out", str(tmp_path / "run"), "--config", str(path), *argv])
    return fresh_config(args, flag_overrides(args))


def test_precedence_defaults_toml_flags_set(tmp_path):
    toml = (
        'content = ["a"]\nsteps = 10\n[style]\npaths = ["b/the_scream.jpg"]\n[loss]\nstyle = 3.0\n'
    )
    cfg = resolve(tmp_path, toml, "--steps", "20", "--set", "loss.tv=0.25", "--set", "steps=30")
    assert cfg.steps == 30  # --set wins over the flag, the flag over TOML
    assert cfg.loss.style == 3.0 and cfg.loss.tv == 0.25
    assert cfg.loss.content == TrainConfig().loss.content  # untouched keys keep defaults
    assert cfg.style.name == "the-scream"  # derived from the painting's file name


def test_list_and_bool_values_from_set(tmp_path):
    cfg = resolve(
        tmp_path, 'content = ["a"]\n[style]\npaths = ["b.png"]\n',
        "--set", "data.style_scales=1.0,0.5", "--set", "generator.skips=false",
    )  # fmt: skip
    assert cfg.data.style_scales == [1.0, 0.5] and cfg.generator.skips is False


def test_a_list_from_set_may_be_written_as_in_toml(tmp_path):
    base = 'content = ["a"]\n[style]\npaths = ["b.png"]\n'
    cfg = resolve(tmp_path, base, "--set", "data.style_scales=[1.0, 0.5]")
    assert cfg.data.style_scales == [1.0, 0.5]
    cfg = resolve(tmp_path, base, "--set", 'content=["a.mp4", "b dir"]')
    assert cfg.content == ["a.mp4", "b dir"]
    with pytest.raises(TrainingError, match=r"data.style_scales\[1\] must be float, got 'x'"):
        resolve(tmp_path, base, "--set", "data.style_scales=[1.0,x]")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[loss]\nstyl = 1.0\n", "loss.styl"),
        ("[generator]\nwidth = 'wide'\n", "generator.width must be int"),
        ("[optim]\nlr_policy = 'cosine'\n", "optim.lr_policy must be one of"),
        ("[data]\ncrop = 100\n", "multiple of the generator stride"),
        ("[loss]\nmove = 1.0\nmove_margin = 95\n", "loss.move_margin"),
        ("[loss]\nmove = -1.0\n", "loss.move must be >= 0"),
        ("[loss]\nstyle_means = -1.0\n", "loss.style_means must be >= 0"),
        ("[loss]\nmove = 1.0\nmove_margin = -2\n", "loss.move_margin must be >= 0"),
        ("[[phases]]\nafter = 0\nloss = { style = 1.0 }\n", "phase 1: after = 0 must be a step"),
        ("[[phases]]\nafter = 9\n[[phases]]\nafter = 9\n", "phase 2: after = 9 must be a step"),
        ("[[phases]]\nafter = 9\nloss = { tv = -1.0 }\n", "phase 1: loss.tv must be >= 0"),
        ("[[phases]]\nafter = 9\nloss = { feature_seed = 1 }\n", "cannot change part-way"),
        ("[[phases]]\nafter = 9\ndata = { crop = 64 }\n", "data.crop cannot change part-way"),
        ("[[phases]]\nafter = 9\ndata = { content_short_side = 100 }\n", "data.crop \\(192\\)"),
        ("[[phases]]\nafter = 9\ndata = { scale_jitter = -1 }\n", "scale_jitter must be >= 0"),
        ("[[phases]]\nafter = 9\ndata = { content_short_side = 320.5 }\n", "must be int"),
        ("[data]\ncontent_short_side = 100\n", "data.content_short_side must be >= data.crop"),
        ("[data]\nscale_jitter = -1\n", "data.scale_jitter must be >= 0"),
        (
            "[loss]\nmove_margin = 95\n[[phases]]\nafter = 9\nloss = { move = 1.0 }\n",
            "loss.move_margin",
        ),
        ("steps = [\n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, toml, message):
    with pytest.raises(TrainingError, match=message):
        resolve(tmp_path, 'content = ["a"]\n[style]\npaths = ["b.png"]\n' + toml)


def test_generator_bf16_refuses_the_residual_generator_whose_logit_would_overflow(tmp_path):
    toml = 'content = ["a"]\ngenerator_bf16 = true\n[style]\npaths = ["b.png"]\n'
    with pytest.raises(TrainingError, match=r"generator_bf16 cannot train generator\.residual"):
        resolve(tmp_path, toml + "[generator]\nresidual = true\n")
    assert resolve(tmp_path, toml + "[generator]\nresidual = true\nsmooth_output = false\n")


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(TrainingError, match="--content"):
        resolve(tmp_path, "")


def test_dict_round_trip_and_hash():
    cfg = resolve_config({"generator": {"width": 24}, "content": ["x"]})
    d = config_to_dict(cfg)
    assert config_from_dict(d) == cfg
    assert GeneratorConfig(**d["generator"]) == cfg.generator
    assert len(config_hash(d)) == 16
    assert config_hash(d) != config_hash(config_to_dict(dataclasses.replace(cfg, seed=1)))


@pytest.mark.parametrize("recipe", sorted(RECIPES.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_recipes_load_and_validate(recipe):
    args = build_parser().parse_args(["--out", "unused", "--config", str(recipe)])
    cfg = fresh_config(args, flag_overrides(args))
    assert cfg.style.name == recipe.stem and cfg.style.paths and cfg.content
    # A recipe holds only what differs from the defaults, which are the shipped recipe.
    assert set(load_toml(recipe)) <= {"content", "style", "loss", "data", "steps", "phases"}
