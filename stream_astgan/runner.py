"""One stylization run from options to summary: pick the source, model, engine and sinks.

The CLI parses flags into `RunOptions` and calls `stylize`; tests and the benchmark call it
directly, so every entry point runs the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from . import catalog, providers, vcam
from .blend import check_strength
from .engine import Engine
from .errors import InputError, UsageError, reason
from .frames import Frame
from .images import IMAGE_SUFFIXES
from .live_controls import LiveControls, snapshot_base
from .pipeline import Pipeline, RunStats
from .preview import PreviewSink, display_problem
from .recording import PausableRecording
from .sinks import ImageSink, NullSink, Sink, VideoSink, check_output
from .sizing import parse_size
from .sources import ImageSource, Source, open_camera, open_source
from .styles import Style, Styles, model_names, style_name


@dataclass
class RunOptions:
    input: Path | None = None
    output: Path | None = None
    webcam: str | None = None
    preview: bool = True
    model: str | Sequence[str] | None = None  # several (or "all") switch live in the preview
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
    strength: float = 1.0
    preserve_colour: bool = False
    vcam: bool = False


@dataclass
class RunResult:
    stats: RunStats
    styles: Styles
    source: Source
    sinks: list[Sink]
    size: tuple[int, int]
    controls: LiveControls | None = None

    @property
    def engine(self) -> Engine:
        """The style the run started with (the summary reports its engine)."""
        return self.styles.styles[0].engine

    @property
    def model_path(self) -> Path:
        return self.styles.styles[0].path


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
    check_strength(opts.strength)
    if len(model_names(opts.model)) > 1 and opts.webcam is None:
        raise UsageError(
            "several --model styles are switched live (--webcam, keys in the preview); "
            "for a file, run once per style, or see them side by side with `astgan-stream sheet`"
        )
    if opts.vcam:
        if opts.webcam is None:
            raise UsageError("--vcam sends a live run; to play a file into it, use --webcam FILE")
        vcam.check_installed()
    if opts.webcam is not None and opts.output is None and not opts.preview and not opts.vcam:
        opts_note = "--no-preview without -o or --vcam would show and save nothing"
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
    """The file sinks of a run (the preview and the virtual camera are added by `stylize`)."""
    sinks: list[Sink] = []
    out = opts.output
    if out is None:
        return sinks
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
    video = VideoSink(out, source.info, opts.codec, opts.crf, opts.preset)
    if opts.webcam is not None and opts.preview:  # `r` pauses and resumes it
        sinks.append(PausableRecording(video, source.info.rate, source.info.time_base))
    else:
        sinks.append(video)
    return sinks


def load_engine(
    opts: RunOptions, hint: providers.ShapeHint, model: str | None = None
) -> tuple[Engine, Path]:
    """One model: `model`, else the first of `opts.model`, at the precision the device wants."""
    chosen, _ = providers.plan(opts.provider, hint)
    gpu = any(name in providers.GPU_PROVIDERS for name, _ in chosen)
    name = model if model is not None else model_names(opts.model)[0]
    model_path = catalog.resolve(name, gpu=gpu, precision=opts.precision)
    return Engine(model_path, opts.provider, opts.threads, hint), model_path


def load_styles(opts: RunOptions, hint: providers.ShapeHint) -> Styles:
    """Every model of the run, loaded before it starts, with the chosen strength and colours."""
    styles = []
    for name in model_names(opts.model):
        engine, path = load_engine(opts, hint, name)
        styles.append(Style(style_name(engine, path), engine, path))
    return Styles(styles, opts.strength, opts.preserve_colour)


def stylize(
    opts: RunOptions,
    on_written: Callable[[Frame, RunStats], None] | None = None,
    on_ready: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Run the whole job; the output is finished (or removed) whatever happens."""
    size = validate(opts)
    source = open_input(opts, size)
    sinks: list[Sink] = []
    started = False
    try:
        info = source.info
        if opts.vcam:  # before the models load: a missing device stops the run at once
            sinks.append(vcam.VirtualCameraSink(info.width, info.height, info.rate))
        hint = providers.ShapeHint(opts.batch, info.height or 360, info.width or 640)
        styles = load_styles(opts, hint)
        if info.live:
            styles.warm_up(opts.batch, info.width, info.height)
        try:
            sinks = open_sinks(opts, source) + sinks
        except av.error.FFmpegError as e:  # stream parameters (damaged ones too) it cannot write
            raise InputError(f"{opts.input}: its streams cannot be written ({reason(e)})") from None
        controls = None
        if opts.webcam is not None and opts.preview:
            recording = next((s for s in sinks if isinstance(s, PausableRecording)), None)
            controls = LiveControls(styles, recording, snapshot_base(opts.output))
            sinks.insert(0, PreviewSink(controls=controls))
        sinks = sinks or [NullSink()]
        result = RunResult(RunStats(), styles, source, sinks, (info.width, info.height), controls)
        if on_ready is not None:
            on_ready(result)
        pipeline = Pipeline(source, styles, sinks, opts.batch, on_written)
        result.stats = pipeline.stats
        started = True
        pipeline.run()  # Ctrl-C/SIGTERM stop it between frames (stop_request.py)
        return result
    finally:
        if not started:  # the pipeline finishes its sinks; before it runs, nothing may linger
            for sink in sinks:
                sink.abort()
        source.close()
