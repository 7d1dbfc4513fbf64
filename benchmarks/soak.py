"""Long-run memory: 10,000 synthetic 640x360 frames through the whole pipeline into an H.264
file, with RSS printed as it goes. Target: growth after warm-up < 50 MB. Then a few 8K frames,
to show the bounded queues keep memory bounded whatever the frame size.

    python benchmarks/soak.py [--frames 10000] [--model M.onnx]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from stream_astgan.engine import Engine
from stream_astgan.frames import Frame, StreamInfo
from stream_astgan.invert_model import write_invert_model
from stream_astgan.pipeline import Pipeline
from stream_astgan.sinks import VideoSink
from stream_astgan.sources import Source

try:
    from benchmarks.report import write_report
    from benchmarks.synthetic_model import build
except ImportError:  # run as a script from the benchmarks folder
    from report import write_report  # type: ignore[no-redef]
    from synthetic_model import build  # type: ignore[no-redef]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class SyntheticSource(Source):
    """Moving gradients, generated on the fly: the input itself costs no memory."""

    def __init__(self, n: int, size: tuple[int, int], every: int, log: list) -> None:
        self.n, self.size, self.every, self.log = n, size, every, log
        w, h = size
        self.info = StreamInfo(w, h, Fraction(30), Fraction(1, 30), n)
        yy, xx = np.mgrid[0:h, 0:w]
        self._base = ((xx + yy) % 256).astype(np.uint8)
        self._stop = False

    def frames(self):
        t0 = time.perf_counter()
        for i in range(self.n):
            if self._stop:
                return
            if i % self.every == 0:
                self.log.append((i, round(time.perf_counter() - t0, 1), round(rss_mb(), 1)))
                print(*self.log[-1], flush=True)
            k = i % 256
            rgb = np.stack([self._base + np.uint8(k), self._base, np.full_like(self._base, k)], -1)
            yield Frame(rgb, i, self.info.time_base, i)

    def stop(self) -> None:
        self._stop = True


def run(model: Path, n: int, size: tuple[int, int], batch: int, out: Path, every: int) -> list:
    log: list = []
    source = SyntheticSource(n, size, every, log)
    engine = Engine(model, "cpu")
    sink = VideoSink(out, source.info)
    Pipeline(source, engine.run, [sink], batch=batch).run()
    log.append((n, None, round(rss_mb(), 1)))
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--model", type=Path, help="default: a synthetic 0.7 GMAC generator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        model = args.model or build(tmp / "synthetic.onnx")[0]
        long_run = run(model, args.frames, (640, 360), 1, tmp / "soak.mp4", 500)
        # 8K through a model with no activations: what the pipeline's queues hold, not the
        # model's working memory (a real generator at 8K needs GBs of activations: use --size).
        big = run(write_invert_model(tmp / "invert.onnx"), 24, (7680, 4320), 4, tmp / "8k.mp4", 4)
    warm = next((r for f, _, r in long_run if f >= 1000), long_run[0][2])
    peak_after = max(r for f, _, r in long_run if f >= 1000) if len(long_run) > 2 else warm
    result = {
        "model": str(args.model or "synthetic"),
        "frames": args.frames,
        "rss_mb_by_frame": long_run,
        "rss_after_warmup_mb": warm,
        "growth_after_warmup_mb": round(peak_after - warm, 1),
        "rss_8k_mb": big,
        "peak_rss_8k_mb": max(r for _, _, r in big),
    }
    table = [
        "| frame | seconds | RSS MB |",
        "| --- | --- | --- |",
        *(f"| {f} | {t if t is not None else 'end'} | {r} |" for f, t, r in long_run),
        "",
        f"Growth after warm-up (frame 1000 on): {result['growth_after_warmup_mb']} MB "
        "(target < 50 MB).",
        f"8K (7680x4320) frames, batch 4, pass-through model: peak RSS "
        f"{result['peak_rss_8k_mb']} MB.",
    ]
    write_report("soak", result, table)


if __name__ == "__main__":
    main()
