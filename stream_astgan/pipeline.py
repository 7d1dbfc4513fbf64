"""Decode, inference and encode running at once, joined by bounded queues.

Three stages: a reader thread pulls frames from the source, an inference thread groups them
into batches (up to `batch` frames, or whatever has arrived one frame interval after the first)
and runs the model, and the calling thread writes results to the sinks in order. The calling
thread owns the sinks because preview windows must live there and because Ctrl-C arrives there.
Whatever ends the run (the input ending, an error in any stage, Ctrl-C, a closed preview
window) every stage stops, the sinks are finished, and the output holds every frame written.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import AstganError, RunError, reason
from .frames import Frame
from .sinks import Sink
from .sources import Source
from .stop_request import StopRequest, signals_deferred, stop_on_signal

log = logging.getLogger(__name__)

Infer = Callable[[np.ndarray], np.ndarray]
QUEUE_BYTES = 256 * 2**20  # decoded frames waiting for the model, at most (beyond one batch)


@dataclass
class _End:
    """Sent down the queues after the last frame; carries audio demuxed after the last frame."""

    trailing_packets: list[Any] = field(default_factory=list)


@dataclass
class RunStats:
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    undecodable: int = 0
    video_retimed: int = 0
    audio_retimed: int = 0
    audio_dropped: int = 0
    batches: int = 0
    elapsed_s: float = 0.0
    infer_s: float = 0.0
    interrupted: bool = False
    ended_early: bool = False
    stop_reason: str = "end of input"
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=100_000))

    @property
    def fps(self) -> float:
        return self.frames_out / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latency_percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        return float(np.percentile(np.fromiter(self.latencies_ms, float), q))


class Pipeline:
    """Runs one source through one model into one or more sinks."""

    def __init__(
        self,
        source: Source,
        infer: Infer,
        sinks: Sequence[Sink],
        batch: int = 1,
        on_written: Callable[[Frame, RunStats], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.source = source
        self.infer = infer
        self.sinks = list(sinks)
        self.batch = batch
        self.on_written = on_written
        rate = source.info.rate
        self.max_wait = float(1 / rate) if rate else 0.05
        # A live source must not queue stale frames behind the model: its queue holds one frame,
        # and a newer frame replaces it (a drop) rather than waiting behind it.
        self.live = source.info.live
        self._to_infer: queue.Queue = queue.Queue(maxsize=1 if self.live else self._depth(batch))
        huge = source.info.width * source.info.height * 3 * batch > QUEUE_BYTES
        self._to_write: queue.Queue = queue.Queue(maxsize=1 if huge else 2)
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._replaced = 0
        self._batch_head = 0  # index of the first frame of the batch the model is running
        self.stats = RunStats()

    def _depth(self, batch: int) -> int:
        """Frames the decode queue may hold: two batches ahead, or less when frames are huge.

        Memory stays bounded by QUEUE_BYTES whatever the resolution (an 8K frame is 100 MB),
        but the queue always holds at least one batch so the model never starves by design.
        """
        info = self.source.info
        frame_bytes = info.width * info.height * 3
        by_memory = QUEUE_BYTES // frame_bytes if frame_bytes else 2 * batch + 2
        return max(batch, min(2 * batch + 2, by_memory))

    # -- plumbing -------------------------------------------------------------------------
    def _put(self, q: queue.Queue, item: Any) -> bool:
        """Put unless the run is stopping; never blocks forever on a full queue."""
        while not self._stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _put_newest(self, frame: Frame) -> None:
        """Replace a frame the model has not taken yet: live output shows the newest picture."""
        while True:
            try:
                self._to_infer.put_nowait(frame)
                return
            except queue.Full:
                try:
                    self._to_infer.get_nowait()
                    self._replaced += 1
                except queue.Empty:
                    pass

    def _fail(self, error: BaseException, stage: str) -> None:
        """Record the first failure and stop every stage; a library's own exception becomes a
        RunError naming the stage (the traceback goes to the debug log, not the user)."""
        if isinstance(error, Exception) and not isinstance(error, AstganError):
            log.debug("%s stage failed", stage, exc_info=error)
            wrapped = RunError(stage, reason(error))
            wrapped.__cause__ = error
            error = wrapped
        self._errors.append(error)
        self.stop()

    def stop(self) -> None:
        """Ask every stage to end; safe from any thread (a signal handler or a preview key)."""
        self._stop.set()
        self.source.stop()

    # -- stages -----------------------------------------------------------------------------
    def _read(self) -> None:
        try:
            for frame in self.source.frames():
                self.stats.frames_in += 1
                if self.live:
                    self._put_newest(frame)
                elif not self._put(self._to_infer, frame):
                    return
            self._put(self._to_infer, _End(getattr(self.source, "trailing_audio", [])))
        except BaseException as e:
            self._fail(e, "decode")

    def _next_batch(self, pending: list[Frame | _End]) -> tuple[list[Frame], _End | None]:
        """Frames of one shape, up to `batch`, waiting at most one frame interval for more."""
        frames: list[Frame] = []
        deadline = None
        while len(frames) < self.batch and not self._stop.is_set():
            if pending:
                item = pending.pop(0)
            else:
                timeout = 0.1 if deadline is None else deadline - time.perf_counter()
                if deadline is not None and timeout <= 0:
                    break
                try:
                    item = self._to_infer.get(timeout=max(timeout, 0.001))
                except queue.Empty:
                    continue
            if isinstance(item, _End):
                return frames, item
            if frames and item.rgb.shape != frames[0].rgb.shape:
                pending.append(item)  # a new size starts the next batch
                break
            frames.append(item)
            if deadline is None:
                deadline = time.perf_counter() + self.max_wait
        return frames, None

    def _run_model(self) -> None:
        pending: list[Frame | _End] = []
        try:
            while not self._stop.is_set():
                frames, end = self._next_batch(pending)
                if frames:
                    self._batch_head = frames[0].index
                    t0 = time.perf_counter()
                    out = self.infer(np.stack([f.rgb for f in frames]))
                    self.stats.infer_s += time.perf_counter() - t0
                    self.stats.batches += 1
                    if not self._put(self._to_write, (frames, out)):
                        return
                if end is not None:
                    self._put(self._to_write, end)
                    return
        except BaseException as e:
            self._fail(e, "inference")

    # -- the calling thread ---------------------------------------------------------------------
    def run(self) -> RunStats:
        """Run to the end (or to a stop), finish the sinks, and re-raise a stage's error."""
        workers = [
            threading.Thread(target=self._read, name="decode", daemon=True),
            threading.Thread(target=self._run_model, name="inference", daemon=True),
        ]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        trailing: list[Any] = []
        try:
            # Ctrl-C/SIGTERM stop the writer between frames: an interrupt inside an encode
            # could drop packets the encoder had already handed out, leaving a gap.
            with stop_on_signal(self.stop) as request:
                trailing = self._write_until_end(request)
            self.stats.interrupted = request.requested
        except KeyboardInterrupt:  # a second signal, or one before the handlers were set
            self.stats.interrupted = True
        except BaseException as e:
            self._fail(e, "encode")
        finally:
            if self.stats.interrupted:
                self.stats.stop_reason = "interrupted"
            self.stop()
            for w in workers:
                w.join(timeout=10)
            self.stats.elapsed_s = time.perf_counter() - t0
            self.stats.dropped = self.source.dropped + self._replaced
            if self.live:  # frames the camera delivered, whether shown or dropped
                self.stats.frames_in = getattr(self.source, "captured", self.stats.frames_in)
            self.stats.undecodable = self.source.undecodable
            self.stats.video_retimed = self.source.retimed
            self.stats.ended_early = self.source.ended_early
            self._finish_sinks(trailing)
            self.stats.audio_retimed = sum(s.audio_retimed for s in self.sinks)
            self.stats.audio_dropped = sum(s.audio_dropped for s in self.sinks)
        if self._errors:
            raise self._described(self._errors[0])
        return self.stats

    def _described(self, error: BaseException) -> BaseException:
        """A RunError told which input it was, how far the run got and what the output holds."""
        if isinstance(error, RunError):
            error.where = str(getattr(self.source, "path", "") or "")
            done = {"decode": self.stats.frames_in, "inference": self._batch_head}
            error.frame = done.get(error.stage, self.stats.frames_out) + 1
            kept = [str(s.path) for s in self.sinks if s.kept and hasattr(s, "path")]
            error.output_note = (
                f"{', '.join(kept)} keeps the {self.stats.frames_out} frame(s) written before it"
                if kept
                else "no output was written"
            )
        return error

    def _write_until_end(self, request: StopRequest) -> list[Any]:
        while True:
            if self._errors or request.requested:
                return []
            try:
                item = self._to_write.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return []
                continue
            if isinstance(item, _End):
                return item.trailing_packets
            frames, out = item
            for frame, stylized in zip(frames, out, strict=True):
                for sink in self.sinks:
                    sink.write(frame, stylized)
                self.stats.frames_out += 1
                if frame.captured_at:
                    self.stats.latencies_ms.append((time.perf_counter() - frame.captured_at) * 1e3)
                if self.on_written is not None:
                    self.on_written(frame, self.stats)
                if request.requested:
                    return []
            if any(getattr(s, "closed", False) for s in self.sinks):
                self.stats.stop_reason = "preview closed"
                return []

    def _finish_sinks(self, trailing: list[Any]) -> None:
        """Flush and close every sink, shielded from Ctrl-C and SIGTERM so the file stays whole.

        After a failure upstream of the sinks (decode, inference) what was written is intact and
        is finished like an interrupted run; after the encoder or the muxer failed, the file
        would be closed by the very state that failed, so it is removed instead.
        """
        failed = self._errors[0] if self._errors else None
        sink_failed = isinstance(failed, RunError) and failed.stage in ("encode", "mux")
        with signals_deferred():
            for sink in self.sinks:
                if sink_failed:
                    sink.abort()
                    continue
                try:
                    sink.finish(trailing)
                except BaseException as e:
                    sink.abort()
                    self._fail(e, "mux")
