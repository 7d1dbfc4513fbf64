"""One stylization run from options to summary: pick the source, model, engine and sinks.

The CLI parses flags into `RunOptions` and calls `stylize`; tests and the benchmark call it
directly, so every entry point runs the same code.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av

from . import catalog, providers
from .contract import META_STYLE
from .engine import Engine
from .errors import InputError, UsageError, reason
from .frames import Frame
from .pipeline import Pipeline, RunStats
from .preview import PreviewSink, display_problem
from .sinks import ImageSink, NullSink, Sink, VideoSink, check_output
from .sizing import parse_size
from .sources import IMAGE_SUFFIXES, ImageSource, Source, open_camera, open_source


@dataclass
class RunOptions:
    input: Path | None = None
    output: Path | None = None
    webcam: str | None = None
    preview: bool = True
    model: str | None = None
    precision: str = "auto"
    batch: int = 1
    size: str | None = None
    scale: float | None = None
    provider: str = "auto"
    threads: int | None = None
    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    overwrite: bool = False


@dataclass
class RunResult:
    stats: RunStats
    engine: Engine
    model_path: Path
    source: Source
    sinks: list[Sink]
    size: tuple[int, int]


class Interrupted(KeyboardInterrupt):
    """SIGTERM, delivered the way Ctrl-C is so both finish the output the same way."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Let `kill` stop a run as gently as Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum: int, frame: object) -> None:
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def validate(opts: RunOptions) -> tuple[int, int] | None:
    """Option errors a user can make, found before any file is opened."""
    if opts.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {opts.batch}")
    if opts.threads is not None and opts.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {opts.threads}")
    if opts.crf is not None and not 0 <= opts.crf <= 63:
        raise UsageError(f"--crf must be between 0 and 63, got {opts.crf}")
    if (opts.input is None) == (opts.webcam is None):
        raise UsageError("give an INPUT file or folder, or --webcam (not both)")
    if opts.webcam is None and opts.output is None:
        raise UsageError(
            "give an output with -o (a video, an image, or a folder for a folder input)"
        )
    if opts.webcam is not None and opts.output is None and not opts.preview:
        opts_note = "--no-preview without -o would show and save nothing"
        raise UsageError(f"{opts_note}; add -o FILE.mp4 or drop --no-preview")
    if opts.webcam is not None and opts.preview and (problem := display_problem()):
        raise UsageError(f"cannot open a preview window: {problem}; use --no-preview")
    size = parse_size(opts.size) if opts.size else None
    if size is not None and opts.scale is not None:
        raise UsageError("give either --size or --scale, not both")
    return size


def open_input(opts: RunOptions, size: tuple[int, int] | None) -> Source:
    if opts.webcam is not None:
        return open_camera(opts.webcam, size, opts.scale)
    assert opts.input is not None
    return open_source(opts.input, size, opts.scale)


def open_sinks(opts: RunOptions, source: Source) -> list[Sink]:
    sinks: list[Sink] = []
    if opts.webcam is not None and opts.preview:
        sinks.append(PreviewSink())
    out = opts.output
    if out is None:
        return sinks or [NullSink()]
    inputs = [opts.input] if opts.input is not None else []
    if isinstance(source, ImageSource):
        single = not source.root.is_dir()
        check_output(out, inputs, opts.overwrite, is_dir=not single)
        names = [str(p.relative_to(source.root)) for p in source.files] if not single else []
        sinks.append(ImageSink(out, single, names, opts.overwrite))
        return sinks
    if out.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(f"{out}: a video input needs a video output such as .mp4 or .mkv")
    if not out.suffix:
        raise UsageError(f"{out}: give the output a video extension such as .mp4 or .mkv")
    check_output(out, inputs, opts.overwrite)
    sinks.append(VideoSink(out, source.info, opts.codec, opts.crf, opts.preset))
    return sinks


def load_engine(opts: RunOptions, hint: providers.ShapeHint) -> tuple[Engine, Path]:
    chosen, _ = providers.plan(opts.provider, hint)
    gpu = any(name in providers.GPU_PROVIDERS for name, _ in chosen)
    model_path = catalog.resolve(opts.model, gpu=gpu, precision=opts.precision)
    return Engine(model_path, opts.provider, opts.threads, hint), model_path


def stylize(
    opts: RunOptions,
    on_written: Callable[[Frame, RunStats], None] | None = None,
    on_ready: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Run the whole job; the output is finished (or removed) whatever happens."""
    size = validate(opts)
    source = open_input(opts, size)
    try:
        info = source.info
        hint = providers.ShapeHint(opts.batch, info.height or 360, info.width or 640)
        engine, model_path = load_engine(opts, hint)
        try:
            sinks = open_sinks(opts, source)
        except av.error.FFmpegError as e:  # stream parameters (damaged ones too) it cannot write
            raise InputError(f"{opts.input}: its streams cannot be written ({reason(e)})") from None
        result = RunResult(RunStats(), engine, model_path, source, sinks, (info.width, info.height))
        if on_ready is not None:
            on_ready(result)
        pipeline = Pipeline(source, engine.run, sinks, opts.batch, on_written)
        result.stats = pipeline.stats
        with sigterm_as_interrupt():
            pipeline.run()
        return result
    finally:
        source.close()


def style_name(engine: Engine, model_path: Path) -> str:
    return engine.metadata.get(META_STYLE) or model_path.stem
