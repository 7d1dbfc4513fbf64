"""The training configuration: plain dataclasses with defaults, overridable from TOML and flags.

The resolved `TrainConfig` is saved in the run directory and inside every checkpoint as
`dataclasses.asdict(cfg)`, so a checkpoint alone says how its generator was built
(`config_from_dict(ckpt["config"]).generator`) and how it was trained.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from training.errors import TrainingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

LR_POLICIES = ("damped", "balance", "fixed")
# Runs from before the policies had names called the balance controller "adaptive".
LEGACY_LR_POLICIES = {"adaptive": "balance"}


@dataclass
class GeneratorConfig:
    """Shape of the lightweight generator; the defaults are the product's real-time model."""

    arch: str = "astgan"  # astgan (the fields below) | transformernet (Johnson et al.'s, an anchor)
    width: int = 16  # channels at 1/2 resolution, doubled at each further down-sampling
    max_width: int = 64  # channel cap for the deep levels
    downsamples: int = 3  # number of 2x reductions; stride = 2**downsamples
    res_blocks: int = 5  # residual blocks at the deepest level
    bottleneck: int = 2  # inner width of a residual block = deep width // bottleneck
    norm: str = "instance"  # instance | batch (folds into convs at export) | none
    padding: str = "reflect"  # reflect: no border bands (slower in ORT) | zeros
    plain_levels: int = 2  # the first N levels (1/2, 1/4 resolution) use no normalization and
    # zero padding whatever `norm` and `padding` say: at high resolution those cost the most
    # time, while the strokes are made at the deep levels (REPORT.md, "Generator candidates")
    skips: bool = True  # add encoder features to the decoder at each level
    antialias: bool = True  # binomial low-pass before every 2x reduction (Zhang 2019): strided
    # convolutions alone alias, so a sub-stride move of the scene changes the strokes (flicker)
    upsample: str = "bilinear"  # bilinear (+3x3 conv) | pixelshuffle (ICNR) | nearest
    residual: bool = False  # predict a change of the photo (sigmoid(logit(x) + net)), not the image
    smooth_output: bool = True  # fixed 3x3 binomial blur of the output (and of the photo in
    # residual mode): no 2-px checkerboard, no pixel-level detail to flicker


@dataclass
class DiscriminatorConfig:
    """Multi-scale patch discriminator with spectral norm."""

    width: int = 32  # channels of the first layer, doubled per layer
    layers: int = 3  # stride-2 layers per scale; the patch size grows with it
    scales: int = 2  # image pyramid levels, each judged by its own network


@dataclass
class DataConfig:
    """What the loader feeds each step."""

    crop: int = 192  # content and style crop size in pixels
    batch_size: int = 4  # content crops per step (per process)
    content_short_side: int = 448  # photos are resized to this short side before cropping
    scale_jitter: float = 0.3  # random extra zoom of content crops, as a fraction
    frames_per_video: int = 48  # frames sampled evenly from each content video
    style_short_side: int = 512  # painting short side at scale 1.0
    style_scales: list[float] = field(default_factory=lambda: [1.0, 0.75, 0.5])


@dataclass
class StyleConfig:
    """The painting(s) the style is learned from."""

    name: str = ""  # short style name (defaults to the painting or folder name)
    paths: list[str] = field(default_factory=list)  # painting files actually used


@dataclass
class LossConfig:
    """Loss weights and variants; a weight of 0 switches the term off."""

    gan_mode: str = "hinge"  # hinge | lsgan
    adversarial: float = 1.0
    style: float = 10.0  # Gram statistics of the feature network (VGG16 relu1_2..relu4_3)
    style_stat: str = "gram"  # gram | meanstd
    style_means: float = 1.0  # the channel means' weight against the second statistic's (avg 1)
    disc_style: float = 0.0  # the same statistics on the discriminator's first-layer features
    content: float = 1.0  # perceptual content (VGG relu2_2; the encoder's space without VGG)
    pooled: float = 1.0  # blurred output vs blurred photo (structure and rough colours)
    pooled_factor: int = 8  # average-pooling factor of the pooled term
    structure: float = 2.0  # local luminance correlation with the photo (edges, faces, text)
    colour: float = 1.0  # per-channel mean/std of the output vs the painting's palette
    tv: float = 0.1  # total variation (more smooths the strokes away)
    temporal: float = 0.2  # hinge on the flicker ratio of G(next) vs warp(G(x)); 2 forbids strokes
    temporal_target: float = 1.0  # flicker ratio (stylized / source warping error) allowed free
    temporal_noise: float = 0.01  # std of the sensor noise in the synthetic next frame
    temporal_drift: float = 0.0  # std of block noise in the next frame (a codec's, in flat areas)
    temporal_drift_cells: list[int] = field(default_factory=lambda: [8, 16, 32])  # block sizes
    warp_strength: float = 0.04  # size of the random smooth warp, as a fraction of the crop
    flow_error: float = 0.5  # pixels by which the "estimated" motion misses the true one
    move: float = 0.0  # L1 of G(move(x)) vs move(G(x)) for exact moves by less than a stride
    move_margin: int = 16  # pixels next to the crop's edges the move term does not judge
    feature_seed: int = 1234  # seed of the fixed random feature network
    feature_width: int = 64  # random filters per kernel size and pyramid level
    feature_kernels: list[int] = field(default_factory=lambda: [3, 7, 11])  # filter sizes
    feature_weights: str = "auto"  # auto (prepared VGG16, else random) | random | a VGG file
    feature_origin: str = ""  # filled in by training: what the features are, their licence
    content_layer: int = 1  # VGG tap of the perceptual content term (0 relu1_2 .. 3 relu4_3);
    # with random features the content term uses the generator's own encoder instead


PHASE_KEYS = tuple(f.name for f in dataclasses.fields(LossConfig) if f.type == "float")
"""Loss weights a phase may change: each is read afresh at every step, so a change part-way acts
exactly as a `--branch-from` at that step with `--set loss.KEY=VALUE` would."""
DATA_PHASE_KEYS = ("content_short_side", "scale_jitter")
"""How the content crops are cut, which a phase may change: the photos are reloaded at a new
short side, and each step's draws depend only on (seed, rank, step), so the weights follow
exactly as after a `--branch-from` with `--set data.KEY=VALUE` (the sample previews stay cut
from the run's first photos, where a branch cuts them from its own)."""


@dataclass
class Phase:
    """New loss weights (and content crops) for the steps after `after`, kept until a later
    phase changes them.

    Recipes that paint first and then trade paint for flicker (or back) are one command and
    one TOML this way, instead of a chain of branches.
    """

    after: int = 0  # the step after which the values apply (a checkpoint's step number)
    loss: dict[str, float] = field(default_factory=dict)  # [loss] keys in PHASE_KEYS
    data: dict[str, float] = field(default_factory=dict)  # [data] keys in DATA_PHASE_KEYS, each
    # turned into its [data] field's type when the config is validated


def phase_text(phase: Phase) -> str:
    """How a run's start and its log name a phase."""
    changes = [(part, k, v) for part in ("loss", "data") for k, v in getattr(phase, part).items()]
    return f"after step {phase.after}: " + ", ".join(f"{p}.{k}={v:g}" for p, k, v in changes)


Settings = TypeVar("Settings", LossConfig, DataConfig)


def settings_at(
    base: Settings, phases: list[Phase], done: int, part: Literal["loss", "data"]
) -> Settings:
    """The loss or data settings of the step that follows `done` completed steps."""
    changes: dict[str, float] = {}
    for phase in phases:
        if done >= phase.after:
            changes |= getattr(phase, part)
    return dataclasses.replace(base, **changes)


@dataclass
class AdaptiveLRConfig:
    """Parameters of the learning-rate controller (the formulas: training/adaptive_lr.py)."""

    beta: float = 0.95  # EMA factor of the smoothed losses
    gain: float = 1.5  # balance: gain k (in log space)
    max_scale: float = 4.0  # m: balance keeps each scale in [1/m, m]; damped lowers lr_D <= m^2
    warmup: int = 100  # steps over which the (proportional) gain ramps in from 0
    target: float = 0.7  # damped: D's set point, as the way from winning (0) to equilibrium (1)
    pi_gain: float = 4.0  # damped: proportional gain k_p
    integral: float = 0.1  # damped: integral gain k_i per step
    earn: float = 0.25  # damped: the integral falls this fraction as fast as it rises
    start: float = 0.125  # damped: lr_D starts at start * lr_D0 (the integral's initial value)
    fast: float = 0.9  # damped: EMA factor of the short-horizon variability
    slow: float = 0.99  # damped: EMA factor of the long-horizon variability
    kappa: float = 2.0  # damped: tolerated ratio of short- to long-horizon variability
    damping_min: float = 0.25  # damped: the lowest factor c on both rates, and where c starts
    release: int = 50  # damped: calm steps that take c from damping_min to 1
    spike: float = 4.0  # damped: G's gradient norm is clipped at spike x its typical level


@dataclass
class OptimConfig:
    """Optimizers and the learning-rate policy."""

    lr_g: float = 1e-3  # a run of ~1500 steps needs Johnson et al.'s rate, not DCGAN's
    lr_d: float = 2e-4  # lr_d / lr_g is the TTUR base ratio
    betas: list[float] = field(default_factory=lambda: [0.5, 0.99])
    lr_policy: str = "damped"  # damped | balance | fixed (training/adaptive_lr.py, README)
    adaptive: AdaptiveLRConfig = field(default_factory=AdaptiveLRConfig)
    init_steps: int = 100  # reconstruction-only warm start of G before the adversarial game
    ema: float = 0.999  # EMA of the generator weights used for samples and export; 0 = off
    nan_backoff: float = 0.5  # both rates are multiplied by this after a NaN/inf recovery


@dataclass
class TrainConfig:
    """Everything a run needs; `dataclasses.asdict` of it goes into every checkpoint."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    data: DataConfig = field(default_factory=DataConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    content: list[str] = field(default_factory=list)  # content folders and videos
    phases: list[Phase] = field(default_factory=list)  # settings changed part-way ([[phases]])
    branched_from: str = ""  # filled in by training: the checkpoint a --branch-from run started at
    steps: int = 1500
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = leave torch's default
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True  # mixed precision: fp16 on CUDA; bf16 feature network on bf16-native CPUs
    # also G under bf16 autocast on bf16-native CPUs (off: the recipes were trained in fp32)
    generator_bf16: bool = False
    sample_every: int = 250
    checkpoint_every: int = 250
    keep_every: int = 250  # also keep checkpoints/step_N.pt every K steps (0: only the latest)


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The plain-dict form stored in checkpoints and `config.json`."""
    return dataclasses.asdict(cfg)


def config_hash(config: dict[str, Any]) -> str:
    """First 16 hex digits of sha256 over the sorted JSON, as the checkpoint contract defines."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate a (nested) dataclass from a dict, rejecting unknown keys with their path."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TrainingError(
            f"unknown config key(s) {', '.join(where + k for k in unknown)}; "
            f"valid keys in [{where.rstrip('.') or 'top level'}]: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _coerce(value, hints[name], f"{where}{name}")
    return cls(**kwargs)


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """Check a TOML/flag value against the field type, converting strings from `--set`."""
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise TrainingError(f"config key {key} must be a table, got {value!r}")
        return _build(kind, value, f"{key}.")
    if origin is dict:
        _, item = typing.get_args(kind)
        if not isinstance(value, dict):
            raise TrainingError(f"config key {key} must be a table, got {value!r}")
        return {k: _coerce(v, item, f"{key}.{k}") for k, v in value.items()}
    if origin in (list, types.GenericAlias) or kind is list:
        (item,) = typing.get_args(kind) or (str,)
        if isinstance(value, str):  # `--set k=1.0,0.5`, or as TOML writes it: `k=[1.0, 0.5]`
            text = value.strip()
            bracketed = text.startswith("[") and text.endswith("]")
            items = [v.strip() for v in (text[1:-1] if bracketed else text).split(",") if v.strip()]
            value = [v.strip("\"'") for v in items] if bracketed else items
        if not isinstance(value, list):
            raise TrainingError(f"config key {key} must be a list, got {value!r}")
        return [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes")
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise TrainingError(f"config key {key} must be {kind.__name__}, got {value!r}") from None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict update: TOML tables only replace the keys they name."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_assignment(text: str) -> dict[str, Any]:
    """Turn `--set loss.style=2.5` into the nested dict {"loss": {"style": "2.5"}}."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise TrainingError(f"--set expects KEY=VALUE (e.g. loss.style=2.0), got {text!r}")
    nested: dict[str, Any] = {}
    node = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value.strip()
    return nested


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config file, turning syntax errors into a message that names the file."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise TrainingError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise TrainingError(f"config file {path} is not valid TOML: {e}") from None


def resolve_config(*layers: dict[str, Any]) -> TrainConfig:
    """Defaults, then each layer in order (TOML file, flags), validated into a TrainConfig."""
    merged = config_to_dict(TrainConfig())
    for layer in layers:
        merged = _merge(merged, layer)
    cfg = _build(TrainConfig, merged, "")
    validate(cfg)
    return cfg


ADDED_GENERATOR_KEYS = {"plain_levels": 0, "antialias": False}
"""Generator keys added after runs were saved, with the value that rebuilds those runs' networks."""


def upgrade_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved config with the keys added since it was written, set to what it was trained with."""
    generator = config.get("generator")
    if not isinstance(generator, dict):
        return config
    return {**config, "generator": {**ADDED_GENERATOR_KEYS, **generator}}


def config_from_dict(config: dict[str, Any]) -> TrainConfig:
    """Rebuild a TrainConfig from a checkpoint's or run dir's plain dict (older ones upgraded)."""
    return _build(TrainConfig, upgrade_config(config), "")


def validate(cfg: TrainConfig) -> None:
    """Reject values that would fail later with an obscure torch error."""
    choices = {
        "generator.arch": (cfg.generator.arch, ("astgan", "transformernet")),
        "generator.norm": (cfg.generator.norm, ("batch", "instance", "none")),
        "generator.padding": (cfg.generator.padding, ("reflect", "zeros")),
        "generator.upsample": (cfg.generator.upsample, ("bilinear", "pixelshuffle", "nearest")),
        "loss.gan_mode": (cfg.loss.gan_mode, ("hinge", "lsgan")),
        "loss.style_stat": (cfg.loss.style_stat, ("gram", "meanstd")),
        "optim.lr_policy": (cfg.optim.lr_policy, (*LR_POLICIES, *LEGACY_LR_POLICIES)),
    }
    for key, (value, allowed) in choices.items():
        if value not in allowed:
            raise TrainingError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    stride = 2**cfg.generator.downsamples
    if cfg.generator.downsamples < 1 or cfg.data.crop % stride:
        raise TrainingError(
            f"data.crop ({cfg.data.crop}) must be a multiple of the generator stride ({stride}) "
            "and generator.downsamples must be >= 1"
        )
    if not 0 <= cfg.generator.plain_levels <= cfg.generator.downsamples:
        raise TrainingError("generator.plain_levels must be between 0 and generator.downsamples")
    if cfg.data.crop < 2 * cfg.loss.pooled_factor or cfg.data.batch_size < 1:
        raise TrainingError("data.crop must be >= 2 * loss.pooled_factor and data.batch_size >= 1")
    _validate_crops(cfg.data, DATA_PHASE_KEYS, "")
    if cfg.optim.adaptive.max_scale < 1:
        raise TrainingError("optim.adaptive.max_scale must be >= 1 (it bounds the lr scales)")
    if cfg.steps < 1:
        raise TrainingError("steps must be >= 1")
    if cfg.loss.feature_width < 1 or any(k < 1 or k % 2 == 0 for k in cfg.loss.feature_kernels):
        raise TrainingError("loss.feature_width must be >= 1 and loss.feature_kernels odd sizes")
    _validate_phases(cfg)
    if cfg.generator_bf16 and cfg.generator.residual and cfg.generator.smooth_output:
        raise TrainingError(
            "generator_bf16 cannot train generator.residual with generator.smooth_output: the "
            "blurred photo rounds to 1 in bf16 and its logit overflows; turn one of them off"
        )
    if cfg.loss.move < 0:
        raise TrainingError("loss.move must be >= 0")
    if cfg.loss.style_means < 0:
        raise TrainingError("loss.style_means must be >= 0")
    margin = cfg.loss.move_margin
    moves = [cfg.loss.move, *(phase.loss.get("move", 0.0) for phase in cfg.phases)]
    if any(moves) and not (margin >= 0 and 2 * margin + stride < cfg.data.crop):
        raise TrainingError(
            f"loss.move_margin must be >= 0 with 2 * loss.move_margin + the generator stride "
            f"({stride}) under data.crop ({cfg.data.crop})"
        )
    if not cfg.loss.temporal_drift_cells or min(cfg.loss.temporal_drift_cells) < 1:
        raise TrainingError("loss.temporal_drift_cells must list block sizes of 1 pixel or more")
    if not 0 <= cfg.loss.content_layer <= 3:
        raise TrainingError("loss.content_layer must be 0..3 (relu1_2, relu2_2, relu3_3, relu4_3)")
    if cfg.keep_every < 0:
        raise TrainingError("keep_every must be 0 (off) or a step count")


def _validate_crops(data: DataConfig, keys: Iterable[str], where: str) -> None:
    """The content-crop values among `keys` (the base's, or those a phase sets)."""
    if "content_short_side" in keys and data.content_short_side < data.crop:
        raise TrainingError(f"{where}data.content_short_side must be >= data.crop ({data.crop})")
    if "scale_jitter" in keys and data.scale_jitter < 0:
        raise TrainingError(f"{where}data.scale_jitter must be >= 0")


def _validate_phases(cfg: TrainConfig) -> None:
    after = 0
    for i, phase in enumerate(cfg.phases, 1):
        if phase.after <= after:
            raise TrainingError(
                f"phase {i}: after = {phase.after} must be a step above {after} "
                "(phases run in order, after the base weights' first steps)"
            )
        after = phase.after
        wrong = sorted(set(phase.loss) - set(PHASE_KEYS))
        if wrong:
            raise TrainingError(
                f"phase {i}: loss.{', loss.'.join(wrong)} cannot change part-way; "
                f"a phase may set {', '.join(PHASE_KEYS)}"
            )
        negative = sorted(k for k, v in phase.loss.items() if v < 0)
        if negative:
            raise TrainingError(f"phase {i}: loss.{', loss.'.join(negative)} must be >= 0")
        wrong = sorted(set(phase.data) - set(DATA_PHASE_KEYS))
        if wrong:
            raise TrainingError(
                f"phase {i}: data.{', data.'.join(wrong)} cannot change part-way; "
                f"a phase may set data.{', data.'.join(DATA_PHASE_KEYS)}"
            )
        kinds = typing.get_type_hints(DataConfig)
        phase.data = {
            k: _coerce(v, kinds[k], f"phases[{i}].data.{k}") for k, v in phase.data.items()
        }
        _validate_crops(dataclasses.replace(cfg.data, **phase.data), phase.data, f"phase {i}: ")
