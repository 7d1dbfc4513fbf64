"""The styles of a run, loaded before it starts, and the look the viewer has chosen.

A live run can hold several models and switch between them with keys. Every model is loaded
and warmed up (one inference at the run's size) before the first frame, so a switch costs no
more than an ordinary batch. The inference thread reads the chosen style, strength and colour
setting once per batch: a switch takes effect on the next batch and frames already in flight
finish with the style they started with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import catalog
from .blend import blend
from .contract import META_STYLE
from .engine import Engine
from .errors import ModelError

ALL = "all"


def model_names(model: str | Sequence[str] | None) -> list[str | None]:
    """`--model` values as names or paths: `all` is every bundled style, None the default."""
    given = [model] if isinstance(model, str) else list(model or [])
    if not given:
        return [None]
    names: list[str | None] = []
    for name in given:
        if name != ALL:
            names.append(name)
            continue
        bundled = sorted(catalog.bundled())
        if not bundled:
            raise ModelError("--model all: no bundled model is installed; name .onnx files instead")
        names.extend(bundled)
    return list(dict.fromkeys(names))


def style_name(engine: Engine, model_path: Path) -> str:
    """The name a viewer knows a style by: its metadata, else the file name."""
    return engine.metadata.get(META_STYLE) or model_path.stem


@dataclass
class Style:
    name: str
    engine: Engine
    path: Path


class Styles:
    """Several loaded styles and the current look; called by the pipeline as its model."""

    def __init__(
        self, styles: list[Style], strength: float = 1.0, preserve_colour: bool = False
    ) -> None:
        if not styles:
            raise ValueError("at least one style is needed")
        self.styles = styles
        self.current = 0
        self.strength = strength
        self.preserve_colour = preserve_colour
        self.switches = 0

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.styles]

    @property
    def name(self) -> str:
        return self.styles[self.current].name

    def select(self, index: int) -> None:
        """Make style `index` (wrapping around) the one the next batch uses."""
        index %= len(self.styles)
        if index != self.current:
            self.current = index
            self.switches += 1

    def step(self, delta: int) -> None:
        self.select(self.current + delta)

    def warm_up(self, batch: int, width: int, height: int) -> None:
        """Run every model once at the run's shape, so a switch never pays a first-run cost."""
        frames = np.zeros((batch, height, width, 3), np.uint8)
        for style in self.styles:
            style.engine.run(frames)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """uint8 [N, H, W, 3] -> the current style at the current strength."""
        style, strength, keep = self.styles[self.current], self.strength, self.preserve_colour
        return blend(frames, style.engine.run(frames), strength, keep)
