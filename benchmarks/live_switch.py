"""How long the picture stalls when the style is switched during a live run.

A 640x360 clip (box.mp4 scaled, else synthetic) is played as a camera at its own 30 fps through
`stylize`, with every bundled style loaded the way `--model all` loads them and a recording
written, as a live user would run it. The writer thread switches to the next style every
`--every` output frames, exactly where the preview's `n` key does. Each output frame's wall-clock
time is kept; the gaps between consecutive frames around a switch (the frames up to three after
it) are compared with the camera's frame interval and with the gaps everywhere else. Then,
on the engines alone, the first inference after a switch is compared with the ones after it
(what a switch adds to a batch), and a fresh session's first inference is timed: the cost the
warm-up before the run removes.
Target: no gap around a switch longer than two frame intervals.

    python -m benchmarks.live_switch [--seconds 20] [--every 20] [--visits 20] [--models ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.pipeline_overhead import make_clip
from benchmarks.report import write_report
from benchmarks.usage import fail, user_errors
from stream_astgan.engine import Engine
from stream_astgan.runner import RunOptions, RunResult, stylize
from stream_astgan.sizing import parse_size

AFTER = 3  # output frames after a switch counted as "around" it


def first_run_ms(path: Path, size: tuple[int, int]) -> tuple[float, float]:
    """A fresh session's first and second inference at `size`, in ms."""
    engine = Engine(path, "cpu")
    frame = np.zeros((1, size[1], size[0], 3), np.uint8)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        engine.run(frame)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[0], times[1]


def switch_cost_ms(styles: list[Path], size: tuple[int, int], visits: int) -> tuple[float, float]:
    """Median ms of the first inference after a style switch and of the two after it.

    The warmed-up styles are visited in turn, three frames each, as `n` pressed every three
    frames would; the comparison is inside each visit, so load from other processes affects
    both sides alike.
    """
    engines = [Engine(p, "cpu") for p in styles]
    frame = np.zeros((1, size[1], size[0], 3), np.uint8)
    for engine in engines:
        engine.run(frame)
    first, rest = [], []
    for visit in range(visits):
        engine = engines[visit % len(engines)]
        for k in range(3):
            t0 = time.perf_counter()
            engine.run(frame)
            (first if k == 0 else rest).append((time.perf_counter() - t0) * 1e3)
    return statistics.median(first), statistics.median(rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["all"], help="names or .onnx files")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the live run")
    parser.add_argument("--every", type=int, default=20, help="output frames between switches")
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--visits", type=int, default=20, help="style visits in the engine test")
    args = parser.parse_args()
    if args.every < AFTER + 2 or args.seconds <= 0:
        fail(f"--every must be at least {AFTER + 2} and --seconds positive")
    with tempfile.TemporaryDirectory() as tmp_dir, user_errors():
        tmp = Path(tmp_dir)
        size = parse_size(args.size)
        clip = make_clip(tmp / "camera.mp4", int(args.seconds * 30), size)
        times: list[float] = []
        switches: list[int] = []  # output index of the first frame written after each switch
        run: list[RunResult] = []

        def written(frame, stats) -> None:  # type: ignore[no-untyped-def]
            times.append(time.perf_counter())
            if len(times) % args.every == 0:
                run[0].styles.step(1)
                switches.append(len(times))

        opts = RunOptions(webcam=str(clip), preview=False, output=tmp / "rec.mp4",
                          model=args.models, provider="cpu")  # fmt: skip
        result = stylize(opts, on_written=written, on_ready=run.append)
        cold = {s.name: first_run_ms(s.path, size) for s in result.styles.styles}
        paths = [s.path for s in result.styles.styles]
        after_switch, same_style = switch_cost_ms(paths, size, args.visits)
    interval_ms = 1e3 / float(result.source.info.rate or 30)
    gaps = np.diff(times) * 1e3  # gaps[i] is the wait before output frame i + 1
    around = sorted({i - 1 + k for i in switches for k in range(AFTER + 1)} & set(range(len(gaps))))
    elsewhere = np.delete(gaps, around)
    worst = float(gaps[around].max()) if around else 0.0
    stats = result.stats
    res = {
        "size": args.size,
        "styles": result.styles.names,
        "camera_fps": round(1e3 / interval_ms, 2),
        "frame_interval_ms": round(interval_ms, 1),
        "frames_out": stats.frames_out,
        "dropped": stats.dropped,
        "switches": len(switches),
        "output_fps": round(stats.fps, 1),
        "median_gap_ms": round(statistics.median(gaps), 1),
        "max_gap_around_switch_ms": round(worst, 1),
        "max_gap_around_switch_intervals": round(worst / interval_ms, 2),
        "p95_gap_around_switch_ms": round(float(np.percentile(gaps[around], 95)), 1),
        "max_gap_elsewhere_ms": round(float(elsewhere.max()), 1),
        "p95_gap_elsewhere_ms": round(float(np.percentile(elsewhere, 95)), 1),
        "first_inference_cold_ms": {k: round(v[0], 1) for k, v in cold.items()},
        "second_inference_ms": {k: round(v[1], 1) for k, v in cold.items()},
        "max_gap_around_switch_over_median_gap": round(worst / statistics.median(gaps), 2),
        "max_gap_elsewhere_over_median_gap": round(
            float(elsewhere.max()) / statistics.median(gaps), 2
        ),
        "inference_after_switch_ms": round(after_switch, 1),
        "inference_same_style_ms": round(same_style, 1),
        "target_met": worst <= 2 * interval_ms,
    }
    table = [
        f"Live run at {args.size}, camera {res['camera_fps']} fps (a clip played as a camera), "
        f"styles {', '.join(res['styles'])}, all loaded and warmed up before the first frame; "
        f"a switch every {args.every} output frames ({res['switches']} switches), recording on.",
        "",
        "| measurement | ms | frame intervals |",
        "| --- | --- | --- |",
        f"| camera frame interval | {res['frame_interval_ms']} | 1 |",
        f"| median gap between output frames | {res['median_gap_ms']} | "
        f"{res['median_gap_ms'] / interval_ms:.2f} |",
        f"| longest gap around a switch (up to {AFTER} frames after) | "
        f"{res['max_gap_around_switch_ms']} | {res['max_gap_around_switch_intervals']} |",
        f"| p95 gap around a switch | {res['p95_gap_around_switch_ms']} | "
        f"{res['p95_gap_around_switch_ms'] / interval_ms:.2f} |",
        f"| longest gap elsewhere | {res['max_gap_elsewhere_ms']} | "
        f"{res['max_gap_elsewhere_ms'] / interval_ms:.2f} |",
        f"| p95 gap elsewhere | {res['p95_gap_elsewhere_ms']} | "
        f"{res['p95_gap_elsewhere_ms'] / interval_ms:.2f} |",
        "",
        f"Output {res['output_fps']} fps, {res['frames_out']} frames written, "
        f"{res['dropped']} camera frames dropped (the newest frame wins when the model is slower).",
        f"Longest gap around a switch: {res['max_gap_around_switch_over_median_gap']}x the "
        f"median gap (elsewhere: {res['max_gap_elsewhere_over_median_gap']}x).",
        f"Target (no gap around a switch longer than two camera frame intervals): "
        f"{'met' if res['target_met'] else 'NOT met'}.",
        "",
        f"The switch itself, on the engines alone ({args.visits} visits of three frames, "
        f"styles in turn): the first inference after a switch takes "
        f"{res['inference_after_switch_ms']} ms (median), the next ones "
        f"{res['inference_same_style_ms']} ms.",
        "",
        "What the warm-up avoids, per style (a fresh session at this size):",
        "",
        "| style | first inference ms | second inference ms |",
        "| --- | --- | --- |",
        *(
            f"| {k} | {res['first_inference_cold_ms'][k]} | {res['second_inference_ms'][k]} |"
            for k in cold
        ),
    ]
    write_report("live_switch", res, table)


if __name__ == "__main__":
    main()
