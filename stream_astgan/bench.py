"""`astgan-stream bench`: decode, inference, encode and end-to-end speed, and live latency.

Each configuration (size x batch) runs on the same clip: the given video, or the demo scene
(with its audio track, so end-to-end includes the audio copy). The first frames of every
measurement are a warm-up and are not counted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import demo
from .engine import Engine
from .environment import environment_report
from .errors import UsageError
from .frames import Frame
from .pipeline import Pipeline, RunStats
from .providers import ShapeHint
from .runner import RunOptions, load_engine, stylize
from .sinks import NullSink, VideoSink
from .sources import LiveSource, VideoFileSource
from .timing import calls_per_second, rate

WARMUP = 5


@dataclass
class BenchRow:
    size: str
    batch: int
    provider: str
    precision: str
    decode_fps: float
    inference_fps: float
    encode_fps: float
    end_to_end_fps: float
    live_fps: float | None
    live_latency_ms_p50: float | None
    live_latency_ms_p95: float | None
    live_dropped: int | None


def decode_frames(clip: Path, size: tuple[int, int]) -> tuple[list[Frame], float]:
    source = VideoFileSource(clip, size)
    t0 = time.perf_counter()
    frames = list(source.frames())
    elapsed = time.perf_counter() - t0
    source.close()
    return frames, rate(len(frames), elapsed)


def inference_fps(engine: Engine, frames: list[Frame], batch: int) -> float:
    batches = [
        np.stack([f.rgb for f in frames[i : i + batch]]) for i in range(0, len(frames), batch)
    ]
    return round(calls_per_second(batches, engine.run, WARMUP) * batch, 1)


def encode_fps(clip: Path, frames: list[Frame], tmp: Path) -> float:
    """Encoding alone, flush included (x264 queues frames in its lookahead)."""
    source = VideoFileSource(clip, frames[0].rgb.shape[1::-1])
    sink = VideoSink(tmp / "encode.mp4", source.info)
    source.close()
    for frame in frames[:WARMUP]:
        sink.write(frame, frame.rgb)
    t0 = time.perf_counter()
    for frame in frames[WARMUP:]:
        sink.write(frame, frame.rgb)
    sink.finish()
    return rate(max(len(frames) - WARMUP, 1), time.perf_counter() - t0)


def end_to_end_fps(opts: RunOptions) -> float:
    """The whole run (decode, inference, encode, audio copy) from the frame after the warm-up."""
    times: list[float] = []
    result = stylize(opts, on_written=lambda frame, stats: times.append(time.perf_counter()))
    if len(times) <= WARMUP + 1:
        return round(result.stats.fps, 1)
    return rate(len(times) - 1 - WARMUP, times[-1] - times[WARMUP])


def live_latency(engine: Engine, frames: list[Frame], rate: float, seconds: float) -> RunStats:
    """Replay decoded frames as a camera at the clip's rate; measure capture-to-output latency."""
    period = 1 / rate
    state = {"i": 0, "next": time.perf_counter(), "end": time.perf_counter() + seconds}

    def grab() -> np.ndarray | None:
        now = time.perf_counter()
        if now >= state["end"]:
            return None
        if state["next"] > now:
            time.sleep(state["next"] - now)
        state["next"] += period
        state["i"] += 1
        return frames[state["i"] % len(frames)].rgb

    h, w = frames[0].rgb.shape[:2]
    source = LiveSource(grab, w, h, rate)
    stats = Pipeline(source, engine.run, [NullSink()], batch=1).run()
    source.close()
    return stats


def run_bench(
    model: str | None,
    clip: Path | None,
    sizes: list[tuple[int, int]],
    batches: list[int],
    provider: str,
    precision: str,
    seconds: float,
    threads: int | None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Every configuration's figures, plus the environment they were measured in."""
    if any(b < 1 for b in batches):
        raise UsageError("--batch values must be at least 1")
    if not 0 < seconds <= 600:
        raise UsageError(f"--seconds must be in (0, 600], got {seconds}")
    rows: list[BenchRow] = []
    engine_report: dict[str, Any] = {}
    clip_label = str(clip) if clip is not None else "demo scene (synthetic, with audio)"
    with tempfile.TemporaryDirectory(prefix="astgan-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        if clip is None:
            progress("writing the demo clip")
            clip = demo.write_demo_clip(tmp / "demo.mp4", seconds, max(sizes))
        elif not clip.is_file():
            raise UsageError(f"{clip}: no such file")
        for w, h in sizes:
            size_text = f"{w}x{h}"
            progress(f"{size_text}: decode")
            frames, dec = decode_frames(clip, (w, h))
            if not frames:
                raise UsageError(f"{clip}: no decodable frames")
            probe = VideoFileSource(clip)
            rate = float(probe.info.rate or 30)
            probe.close()
            enc = encode_fps(clip, frames, tmp)
            for batch in batches:
                opts = RunOptions(
                    input=clip, output=tmp / f"e2e-{w}x{h}-{batch}.mp4", model=model,
                    precision=precision, batch=batch, size=f"{w}x{h}", provider=provider,
                    threads=threads,
                )  # fmt: skip
                engine, _ = load_engine(opts, ShapeHint(batch, h, w))
                engine_report = asdict(engine.report)
                progress(f"{size_text} batch {batch}: inference")
                inf = inference_fps(engine, frames, batch)
                progress(f"{size_text} batch {batch}: end to end")
                e2e = end_to_end_fps(opts)
                live = None
                if batch == batches[0]:
                    progress(f"{size_text}: live latency")
                    live = live_latency(engine, frames, rate, min(seconds, 5.0))
                rows.append(
                    BenchRow(
                        size=f"{w}x{h}", batch=batch, provider=engine.report.provider,
                        precision=engine.report.precision, decode_fps=dec, inference_fps=inf,
                        encode_fps=enc, end_to_end_fps=e2e,
                        live_fps=round(live.fps, 1) if live else None,
                        live_latency_ms_p50=_round(live.latency_percentile(50)) if live else None,
                        live_latency_ms_p95=_round(live.latency_percentile(95)) if live else None,
                        live_dropped=live.dropped if live else None,
                    )
                )  # fmt: skip
    return {
        "clip": clip_label,
        "seconds": seconds,
        "provider_requested": provider,
        "engine": engine_report,
        "rows": [asdict(r) for r in rows],
        "environment": environment_report(model, provider),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
