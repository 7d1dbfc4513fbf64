"""`astgan-stream`: stylize a video file, an image, a folder of images or a webcam.

Human output and progress go to stderr; `--json` prints one JSON object on stdout. Errors a
user can cause print one line and exit 2, a library failing mid-run one line and exit 1; an
interrupted run exits 130 with its output finished.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from . import __version__, bench, catalog, demo, sheet
from .batch import EXIT_SOME_FAILED, BatchOptions, run_batch
from .batch_ray import LOCAL
from .contract import META_GMAC, META_RECOMMENDED, META_SOURCE, META_STEPS, META_STYLE
from .environment import environment_report
from .errors import EXIT_INTERRUPTED, AstganError
from .live_controls import keys_help
from .report import FrameProgress, Summary, error_line, print_json, setup_logging, stderr
from .runner import RunOptions, RunResult, stylize
from .sizing import parse_sizes
from .stop_request import sigterm_as_interrupt
from .vcam import VirtualCameraSink


class _DefaultToRun(TyperGroup):
    """`astgan-stream INPUT ...` means `astgan-stream run INPUT ...`: the main job needs no verb."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, _optional_values(args))


# Options whose value may be left out (which typer lacks): `--webcam` alone means camera 0,
# `--ray` alone a Ray instance started on this machine.
OPTIONAL_VALUES = {"--webcam": "0", "--ray": LOCAL}


def _optional_values(args: list[str]) -> list[str]:
    """Fill in the value of an optional-value option given without one."""
    out = list(args)
    for flag, value in OPTIONAL_VALUES.items():
        for i, arg in enumerate(out):
            if arg == flag and (i + 1 == len(out) or out[i + 1].startswith("-")):
                out.insert(i + 1, value)
                break
    return out


app = typer.Typer(
    cls=_DefaultToRun,
    help=(
        "Real-time painting-style video.\n\n"
        "  astgan-stream INPUT -o OUTPUT      stylize a video, an image or a folder of images\n\n"
        "  astgan-stream --webcam [0]         live preview of a webcam (q or Esc quits)\n\n"
        "  astgan-stream batch FOLDER -o OUT  every video and image in a folder, resumable\n\n"
        "  astgan-stream sheet PHOTO -o sheet.png   a photo in every style, to choose one\n\n"
        "  astgan-stream models | info | bench | demo\n\n"
        "Run `astgan-stream run --help` for every option of the main job."
    ),
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"astgan-stream {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Real-time painting-style video."""


RUN_HELP = f"""Stylize a video file, an image, a folder of images, or a webcam.

Video keeps every frame's timestamp, the audio (copied packet by packet), the rotation tag
and the colour tags. An existing output is kept unless --overwrite; Ctrl-C finishes the
output with the frames done so far and exits 130.

{keys_help()}
"""


@app.command("run", help=RUN_HELP)
def run_command(
    input: Annotated[
        Path | None,
        typer.Argument(help="A video file, an image, or a folder of images.", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Output video (.mp4, .mkv, .mov, .webm, .avi), image, or folder (for a folder "
            "input). With --webcam: also record to this file.",
            show_default=False,
        ),
    ] = None,
    webcam: Annotated[
        str | None,
        typer.Option(
            "--webcam",
            help="Read a live camera: an index (0, 1, ...), a device path (/dev/video2), or a "
            "stream URL. Without a value: camera 0.",
            show_default=False,
        ),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview/--no-preview", help="Show the live preview window (webcam).")
    ] = True,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="A bundled style name (see `astgan-stream models`) or a .onnx path. Repeat it, "
            "or give `all`, to switch styles with keys in the live preview.",
        ),
    ] = None,
    strength: Annotated[
        float,
        typer.Option(help="How much of the style: 0 is the input, 1 the full stylization."),
    ] = 1.0,
    preserve_colour: Annotated[
        bool,
        typer.Option(
            "--preserve-colour",
            help="Keep the input's colours and take only the stylized light and strokes.",
        ),
    ] = False,
    vcam: Annotated[
        bool,
        typer.Option(
            "--vcam",
            help="With --webcam: also send the result to a virtual camera (needs pip install "
            '"stream-astgan\\[vcam]" and v4l2loopback on Linux, OBS on Windows/macOS).',
        ),
    ] = False,
    precision: Annotated[
        str,
        typer.Option(help="auto | fp32 | fp16 | int8: which file of a bundled model to load."),
    ] = "auto",
    batch: Annotated[int, typer.Option(help="Frames per inference call (live runs: keep 1).")] = 1,
    size: Annotated[
        str | None,
        typer.Option(help="Processing and output size WxH, e.g. 640x360.", show_default=False),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(help="Processing size as a factor of the input size.", show_default=False),
    ] = None,
    provider: Annotated[
        str,
        typer.Option(
            help="auto (TensorRT, then CUDA, then CPU) | cpu | cuda | tensorrt. An explicit GPU "
            "provider that cannot run is an error, not a silent CPU run."
        ),
    ] = "auto",
    threads: Annotated[
        int | None,
        typer.Option(help="CPU inference threads (default: all cores on 2, else cores - 1)."),
    ] = None,
    codec: Annotated[
        str | None,
        typer.Option(
            help="Video encoder (default libx264; libvpx-vp9 for .webm).", show_default=False
        ),
    ] = None,
    crf: Annotated[
        int | None, typer.Option(help="Encoder quality, lower is better (x264 default 20).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="x264/x265 speed preset (default veryfast).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON summary on stdout (progress stays on stderr)."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")
    ] = False,
) -> None:
    setup_logging(quiet)
    opts = RunOptions(
        input=input,
        output=output,
        webcam=webcam,
        preview=preview,
        model=model,
        precision=precision,
        batch=batch,
        size=size,
        scale=scale,
        provider=provider,
        threads=threads,
        codec=codec,
        crf=crf,
        preset=preset,
        overwrite=overwrite,
        strength=strength,
        preserve_colour=preserve_colour,
        vcam=vcam,
    )
    _execute(opts, json_out, quiet)


def _execute(opts: RunOptions, json_out: bool, quiet: bool) -> Summary:
    """Run with a progress bar, print the summary, and turn outcomes into exit codes."""
    progress: FrameProgress | None = None

    def ready(result: RunResult) -> None:
        nonlocal progress
        label = "live" if result.source.info.live else "stylizing"
        progress = FrameProgress(result.source.info.frames, label, enabled=not quiet)
        progress.__enter__()

    def written(frame, stats) -> None:  # type: ignore[no-untyped-def]
        if progress is not None:
            progress.advance(frame, stats)

    try:
        result = stylize(opts, on_written=written, on_ready=ready)
    except AstganError as e:
        if progress is not None:
            progress.__exit__(None, None, None)
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        if progress is not None:
            progress.__exit__(None, None, None)
        error_line("interrupted before any frame was written")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if progress is not None:
        progress.finish(result.stats)
        progress.__exit__(None, None, None)
    summary = summarize(opts, result)
    if json_out:
        print_json(summary)
    elif not quiet:
        summary.show()
    if result.stats.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    return summary


def summarize(opts: RunOptions, result: RunResult) -> Summary:
    """The end-of-run facts, from what really ran."""
    stats, rep = result.stats, result.engine.report
    notes = list(rep.notes)
    audio = next((s.audio_note for s in result.sinks if s.audio_note != "none"), "none")
    if stats.ended_early:
        notes.append("the input ended before its stated duration (truncated file?)")
    if stats.undecodable:
        notes.append(f"{stats.undecodable} undecodable packet(s) or image(s) were skipped")
    if stats.video_retimed or stats.audio_retimed:
        notes.append(
            f"broken timestamps of {stats.video_retimed} frame(s) and {stats.audio_retimed} "
            "audio packet(s) were re-timed from their neighbours"
        )
    if stats.audio_dropped:
        notes.append(
            f"{stats.audio_dropped} audio packet(s) were dropped (undecodable, or overlapping "
            "audio already written)"
        )
    if stats.interrupted:
        notes.append("interrupted: the output holds every frame written before the stop")
    styles = result.styles
    if len(styles.styles) > 1:
        notes.append(f"styles {', '.join(styles.names)}: switched {styles.switches} time(s)")
    if result.controls is not None and result.controls.saved:
        notes.append(f"snapshots: {', '.join(str(p) for p in result.controls.saved)}")
    if styles.strength < 1 or styles.preserve_colour:
        kept = ", input colours kept" if styles.preserve_colour else ""
        notes.append(f"strength {styles.strength:.2f}{kept} (the setting at the end)")
    cameras = [s for s in result.sinks if isinstance(s, VirtualCameraSink)]
    notes += [f"sent to the virtual camera {camera.device}" for camera in cameras]
    w, h = result.size
    return Summary(
        input=str(opts.input) if opts.input is not None else f"webcam {opts.webcam}",
        output=str(opts.output) if opts.output is not None else None,
        model=str(result.model_path),
        style=styles.styles[0].name,
        frames_in=stats.frames_in,
        frames_out=stats.frames_out,
        dropped=stats.dropped,
        undecodable=stats.undecodable,
        video_retimed=stats.video_retimed,
        audio_retimed=stats.audio_retimed,
        audio_dropped=stats.audio_dropped,
        fps=round(stats.fps, 2),
        elapsed_s=round(stats.elapsed_s, 3),
        model_fps=round(stats.frames_out / stats.infer_s, 2) if stats.infer_s else 0.0,
        provider=rep.provider,
        providers=rep.providers,
        precision=rep.precision,
        threads=rep.threads,
        batch=opts.batch,
        size=f"{w}x{h}" if w else "per image",
        audio=audio,
        stop_reason=stats.stop_reason,
        ended_early=stats.ended_early,
        latency_ms_p50=stats.latency_percentile(50),
        latency_ms_p95=stats.latency_percentile(95),
        notes=notes,
    )


BATCH_HELP = (
    "Stylize every video and image under INPUT_DIR (recursively) into OUTPUT_DIR, with the same "
    "relative paths.\n\n"
    "Each file gets what a single run guarantees (audio copy, timestamps, atomic outputs, no "
    "overwrite without --overwrite). OUTPUT_DIR/manifest.jsonl records each file's outcome "
    "(status, frames, fps, error); a rerun skips the files it records as done for the same input "
    "and settings, so an interrupted batch continues where it stopped. A bad file is reported "
    "and the others go on. Ctrl-C stops the files in progress, removes their unfinished outputs "
    "and exits 130.\n\n"
    f"Exit codes: 0 every file done or skipped; {EXIT_SOME_FAILED} some files failed (see the "
    "manifest); 2 bad usage, found before any file ran; 130 interrupted."
)


@app.command("batch", help=BATCH_HELP, short_help="Every video and image in a folder, resumable.")
def batch_command(
    input: Annotated[
        Path, typer.Argument(help="A folder of videos and images.", metavar="INPUT_DIR")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The output folder (made if missing).")
    ],
    jobs: Annotated[
        int, typer.Option(help="Files at once on this machine, each in its own process.")
    ] = 1,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Run each file as a Ray task: alone, on a Ray started here; or a cluster "
            'address (auto, ray://HOST:10001). Needs pip install "stream-astgan\\[ray]"; every '
            "node must see both folders at the same path.",
            show_default=False,
        ),
    ] = None,
    gpus_per_file: Annotated[
        float, typer.Option(help="With --ray: GPUs each task asks for (e.g. 1 or 0.5).")
    ] = 0.0,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="A bundled style name or a .onnx path."),
    ] = None,
    strength: Annotated[float, typer.Option(help="How much of the style, 0 to 1.")] = 1.0,
    preserve_colour: Annotated[
        bool, typer.Option("--preserve-colour", help="Keep the input's colours.")
    ] = False,
    precision: Annotated[str, typer.Option(help="auto | fp32 | fp16 | int8.")] = "auto",
    size: Annotated[
        str | None, typer.Option(help="Processing and output size WxH.", show_default=False)
    ] = None,
    scale: Annotated[
        float | None, typer.Option(help="Size as a factor of each input's.", show_default=False)
    ] = None,
    provider: Annotated[str, typer.Option(help="auto | cpu | cuda | tensorrt.")] = "auto",
    threads: Annotated[
        int | None,
        typer.Option(
            help="CPU inference threads per file (default: this machine's divided between the "
            "jobs; 1 per task with --ray, which is also each task's CPU request)."
        ),
    ] = None,
    codec: Annotated[str | None, typer.Option(help="Video encoder.", show_default=False)] = None,
    crf: Annotated[int | None, typer.Option(help="Encoder quality (x264 default 20).")] = None,
    preset: Annotated[str | None, typer.Option(help="x264/x265 speed preset.")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace existing outputs the manifest does not record as done.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    setup_logging(quiet=True)  # per-file warnings would break the one progress bar
    run = RunOptions(
        model=model, strength=strength, preserve_colour=preserve_colour, precision=precision,
        size=size, scale=scale, provider=provider, threads=threads, codec=codec, crf=crf,
        preset=preset, overwrite=overwrite,
    )  # fmt: skip
    options = BatchOptions(input, output, run, jobs, ray, gpus_per_file)
    try:
        summary = run_batch(options, quiet=quiet or json_out)
    except AstganError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:  # a second Ctrl-C: unfinished outputs are already removed
        error_line("batch interrupted at once; rerun it to continue")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if json_out:
        print_json(summary.as_dict())
    elif not quiet:
        summary.show()
    raise typer.Exit(summary.exit_code)


@app.command("demo", short_help="Stylize a synthetic clip with a tone and report the speed.")
def demo_command(
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Where the stylized demo goes (never overwritten)."),
    ] = Path("astgan-demo.mp4"),
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Style name or .onnx path (default style).")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length of the synthetic clip.")] = 5.0,
    provider: Annotated[str, typer.Option(help="auto | cpu | cuda | tensorrt.")] = "auto",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary on stdout.")
    ] = False,
) -> None:
    """Make a short synthetic 640x360 clip with a tone, stylize it with the default model, and
    report the speed. Works offline on a fresh install."""
    setup_logging(quiet=False)
    if not 0 < seconds <= 600:
        error_line(f"--seconds must be in (0, 600], got {seconds}")
        raise typer.Exit(2)
    output = demo.free_name(output)
    clip = demo.free_name(output.with_name(f"{output.stem}-input.mp4"))
    try:
        demo.write_demo_clip(clip, seconds)
    except OSError as e:
        error_line(f"{clip}: cannot write the demo clip ({e.strerror or e})")
        raise typer.Exit(2) from None
    opts = RunOptions(input=clip, output=output, model=model, provider=provider)
    summary = _execute(opts, json_out, quiet=json_out)
    if not json_out:
        stderr.print(f"input {clip} -> output {output} at {summary.fps:.1f} fps end to end")


@app.command("sheet", short_help="A photo in every style, named, on one picture.")
def sheet_command(
    photo: Annotated[Path, typer.Argument(help="The photo to show in each style.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The sheet to write (.png, .jpg, ...).")
    ],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Styles to show (repeatable; default: every bundled)."),
    ] = None,
    width: Annotated[int, typer.Option(help="Width each style is rendered at, in pixels.")] = 480,
    columns: Annotated[
        int | None, typer.Option(help="Cells per row (default: a near-square grid).")
    ] = None,
    provider: Annotated[str, typer.Option(help="auto | cpu | cuda | tensorrt.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto | fp32 | fp16 | int8.")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing sheet.")] = False,
) -> None:
    """Render PHOTO in every bundled style (or each --model) with the style's name: the quickest
    way to choose a style."""
    setup_logging(quiet=False)
    try:
        names = sheet.make_sheet(
            photo, output, model, width, columns, provider, precision, overwrite
        )
    except AstganError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    stderr.print(Text(f"{output}: {photo.name} in {len(names)} styles ({', '.join(names)})"))


@app.command("bench", short_help="Decode, inference, encode and end-to-end fps; live latency.")
def bench_command(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Style name or .onnx path (default style).")
    ] = None,
    input: Annotated[
        Path | None,
        typer.Option(
            "--input", help="A video to measure on (default: the demo scene, with audio)."
        ),
    ] = None,
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated sizes WxH.")
    ] = "640x360,1280x720",
    old_sizes: Annotated[
        str | None,
        typer.Option("--size", hidden=True, help="Deprecated spelling of --sizes."),
    ] = None,
    batch: Annotated[str, typer.Option(help="Comma-separated batch sizes.")] = "1",
    provider: Annotated[str, typer.Option(help="auto | cpu | cuda | tensorrt.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto | fp32 | fp16 | int8.")] = "auto",
    seconds: Annotated[float, typer.Option(help="Length of the demo clip and live test.")] = 4.0,
    threads: Annotated[int | None, typer.Option(help="CPU inference threads.")] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Measure decode-only, inference-only, encode-only and end-to-end fps per size and batch,
    and live capture-to-output latency (p50/p95). Warm-up frames are not counted."""
    setup_logging(quiet=False)
    try:
        batches = [int(b) for b in batch.split(",") if b.strip()]
    except ValueError:
        error_line(f"--batch must be comma-separated integers, got {batch!r}")
        raise typer.Exit(2) from None
    if old_sizes is not None:
        stderr.print("note: `bench --size` is now spelled --sizes; --size goes in the next release")
        sizes = old_sizes
    try:
        parsed = parse_sizes(sizes)
        with stderr.status("benchmarking") as status:
            report = bench.run_bench(
                model, input, parsed, batches, provider, precision, seconds, threads,
                progress=lambda message: status.update(f"benchmarking: {message}"),
            )  # fmt: skip
    except AstganError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    if json_out:
        print_json(report)
        return
    table = Table(
        "size", "batch", "provider", "precision", "decode", "inference", "encode", "end to end",
        "live fps", "latency p50/p95 ms", title="fps (higher is better)",
    )  # fmt: skip
    for r in report["rows"]:
        live = "" if r["live_fps"] is None else str(r["live_fps"])
        latency = (
            ""
            if r["live_latency_ms_p50"] is None
            else f"{r['live_latency_ms_p50']:.0f} / {r['live_latency_ms_p95']:.0f}"
        )
        table.add_row(
            r["size"], str(r["batch"]), r["provider"], r["precision"], str(r["decode_fps"]),
            str(r["inference_fps"]), str(r["encode_fps"]), str(r["end_to_end_fps"]), live, latency,
        )  # fmt: skip
    stderr.print(table)
    env = report["environment"]
    stderr.print(f"{env['cpu']}, {env['cores']} cores, {report['engine'].get('threads')} threads")


@app.command("models", short_help="List the bundled styles and their metadata.")
def models_command(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List the bundled style models with their metadata (style, paintings, training, precision)."""
    rows = []
    for name, entry in sorted(catalog.bundled().items()):
        for precision, path in sorted(entry.files.items()):
            meta = catalog.read_metadata(path)
            rows.append(
                {
                    "name": name,
                    "default": name == catalog.DEFAULT_MODEL,
                    "precision": precision,
                    "file": str(path),
                    "size_mb": round(path.stat().st_size / 1e6, 2),
                    "metadata": meta,
                }
            )
    if json_out:
        print_json({"models": rows})
        return
    if not rows:
        stderr.print("no bundled models are installed; pass --model PATH/TO/MODEL.onnx")
        return
    table = Table("name", "precision", "style / source", "training", "GMAC 640x360", "size")
    for row in rows:
        meta = row["metadata"]
        name = row["name"] + (" (default)" if row["default"] else "")
        cells = [
            name,
            row["precision"] + (" *cpu" if "cpu" in meta.get(META_RECOMMENDED, "") else ""),
            f"{meta.get(META_STYLE, '?')} / {meta.get(META_SOURCE, '?')}",
            f"{meta.get(META_STEPS, '?')} steps",
            meta.get(META_GMAC, "?"),
            f"{row['size_mb']} MB",
        ]
        table.add_row(*(Text(c) for c in cells))  # metadata is data: never rich markup
    stderr.print(table)


@app.command("info", short_help="Versions, providers, and which one really runs here.")
def info_command(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to open a test session with.")
    ] = None,
    provider: Annotated[
        str, typer.Option(help="Provider request to test (auto|cpu|cuda|tensorrt).")
    ] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Versions, the providers this onnxruntime offers, which can load here, and which one a
    session really uses (a real session is opened on the model)."""
    info = environment_report(model, provider)
    if json_out:
        print_json(info)
        return
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        table.add_row(key, Text(value if isinstance(value, str) else json.dumps(value)))
    stderr.print(table)


def main() -> None:
    """Console-script entry point; SIGTERM stops a run as gently as Ctrl-C from here on."""
    try:
        with sigterm_as_interrupt():
            app()
    except AstganError as e:  # errors raised outside a command body (option callbacks)
        error_line(str(e))
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
