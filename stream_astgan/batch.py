"""Offline batches: every video and image under a folder, stylized into a mirrored folder.

Each file goes through the single-run path (`runner.stylize`: audio copy, timestamps, atomic
`.partial` outputs, no overwrite without --overwrite), so a batch guarantees per file what a
single run does. The batch adds what a folder of 500 clips needs: one bad file is recorded and
the rest go on; a manifest (`manifest.py`) lets a rerun skip finished files; `--jobs N` runs N
files at once in worker processes that each load the model once; `--ray` hands the same
per-file function to a Ray cluster (`batch_ray.py`).

Ctrl-C (or SIGTERM) stops every file in progress between frames; their outputs are removed, so
a stopped batch leaves finished files and nothing half-written, and a rerun continues.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import catalog, manifest, providers
from .engine import default_threads
from .errors import AstganError, InputError, RunError, UsageError
from .images import IMAGE_SUFFIXES
from .report import error_line, setup_logging, stderr
from .runner import RunOptions, RunResult, stylize, validate
from .sinks import partial_path
from .sources import VIDEO_SUFFIXES
from .stop_request import StopRequest, stop_on_signal
from .styles import model_names

log = logging.getLogger(__name__)

EXIT_SOME_FAILED = 3  # the batch ran to its end, but at least one file failed
EXIT_INTERRUPTED = 130
FRAMES_EVERY_S = 0.25  # how often a worker reports frames to the progress bar
Record = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One input file and where its output goes; `rel` is the manifest's key."""

    rel: str
    source: Path
    output: Path


@dataclass
class BatchOptions:
    input: Path
    output: Path
    run: RunOptions = field(default_factory=RunOptions)  # per-file options; input/output unset
    jobs: int = 1
    ray: str | None = None  # "local" or a cluster address
    gpus_per_file: float = 0.0


@dataclass
class BatchSummary:
    """What the batch did, for the end-of-run line and `--json`; the manifest has the detail."""

    manifest: str = ""
    files: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    interrupted: int = 0
    stopped: bool = False  # Ctrl-C or SIGTERM ended the batch early
    frames: int = 0
    elapsed_s: float = 0.0
    jobs: int = 1
    threads_per_file: int = 1
    executor: str = "local"
    failures: list[Record] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return EXIT_INTERRUPTED
        return EXIT_SOME_FAILED if self.failed else 0

    @property
    def files_per_min(self) -> float:
        return 60 * self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "files_per_min": round(self.files_per_min, 2),
            "exit_code": self.exit_code,
        }

    def show(self) -> None:
        left = self.files - self.done - self.skipped - self.failed - self.interrupted
        stopped = f", {self.interrupted} interrupted, {left} not started" if self.stopped else ""
        stderr.print(
            f"{self.done} done, {self.skipped} skipped, {self.failed} failed{stopped} of "
            f"{self.files} file(s); {self.frames} frame(s) in {self.elapsed_s:.1f} s "
            f"({self.files_per_min:.1f} files/min, {self.executor}); manifest {self.manifest}",
            soft_wrap=True,
            markup=False,
        )


def discover(root: Path, out_root: Path) -> list[Task]:
    """Every video and image under `root`, recursively, each mapped to the same relative path
    under `out_root`; an output folder inside the input folder is not read as input."""
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (a batch takes a folder of videos and images)")
    out_resolved = out_root.resolve()
    if out_resolved == root.resolve():
        raise UsageError(f"{out_root}: the output folder is the input folder; choose another")
    media = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    tasks = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in media or not path.is_file():
            continue
        if out_resolved in path.resolve().parents:
            continue
        rel = path.relative_to(root)
        tasks.append(Task(rel.as_posix(), path.resolve(), out_resolved / rel))
    if not tasks:
        kinds = ", ".join(sorted(media))
        raise InputError(f"{root}: folder holds no videos or images ({kinds})")
    return tasks


def settings(opts: RunOptions, model: Path) -> dict[str, Any]:
    """The options that shape an output: a finished file counts only under the same ones."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    keys = ("size", "scale", "strength", "preserve_colour", "codec", "crf", "preset")
    return {"model": f"{model.name}:{digest}", **{key: getattr(opts, key) for key in keys}}


def _model_file(opts: RunOptions, on_ray: bool) -> Path:
    """The model file the files will load, found before any file runs (a bad name: exit 2)."""
    if on_ray:  # the cluster's devices are not this machine's: trust the request
        gpu = opts.provider in ("cuda", "tensorrt")
    else:
        chosen, _ = providers.plan(opts.provider)
        gpu = any(name in providers.GPU_PROVIDERS for name, _ in chosen)
    return catalog.resolve(model_names(opts.model)[0], gpu=gpu, precision=opts.precision)


def run_file(
    task: Task,
    opts: RunOptions,
    should_stop: Callable[[], bool] | None = None,
    on_frames: Callable[[int], None] | None = None,
) -> Record:
    """One file through the single-run path; whatever goes wrong becomes its record, so one bad
    file never stops a batch. An interrupted file's output is removed: it is not finished."""
    last = {"frames": 0, "at": time.perf_counter()}

    def ready(result: RunResult) -> None:
        if should_stop is not None and should_stop():
            raise KeyboardInterrupt  # stopped before the first frame: nothing was written

    def written(frame: object, stats: Any) -> None:
        now = time.perf_counter()
        if on_frames is not None and now - last["at"] >= FRAMES_EVERY_S:
            on_frames(stats.frames_out - last["frames"])
            last.update(frames=stats.frames_out, at=now)

    base: Record = {"input": task.rel}
    before = _identity(task.output)
    try:
        task.output.parent.mkdir(parents=True, exist_ok=True)
        result = stylize(
            replace(opts, input=task.source, output=task.output), written, on_ready=ready
        )
    except KeyboardInterrupt:
        return {**base, "status": manifest.INTERRUPTED, "frames": 0}
    except AstganError as e:
        if remove_if_new(task.output, before) and isinstance(e, RunError):
            e.output_note = "the batch removed its incomplete output"
        return {**base, "status": manifest.FAILED, "error": str(e), "exit_code": e.exit_code}
    except Exception as e:  # a failure no check foresaw: still one line, still one file
        log.debug("%s failed", task.source, exc_info=e)
        return {**base, "status": manifest.FAILED, "error": f"{task.source}: {e!r}"[:500]}
    stats = result.stats
    if on_frames is not None:
        on_frames(stats.frames_out - last["frames"])
    if stats.interrupted:
        remove_if_new(task.output, before)
        return {**base, "status": manifest.INTERRUPTED, "frames": stats.frames_out}
    return {
        **base,
        "status": manifest.DONE,
        "frames": stats.frames_out,
        "fps": round(stats.fps, 2),
        "elapsed_s": round(stats.elapsed_s, 3),
        **manifest.output_stamp(task.output),
    }


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at `path` now (None: none), to tell a file a run wrote from an older one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def remove_if_new(output: Path, before: tuple[int, int] | None) -> bool:
    """Remove what a stopped or failed run left at `output` (and its `.partial` file), but
    never a file that was there before it started; True if an output was removed."""
    partial_path(output).unlink(missing_ok=True)
    now = _identity(output)
    if now is None or now == before:
        return False
    output.unlink(missing_ok=True)
    return True


def _pool_worker(inbox: Any, results: Any, opts: RunOptions) -> None:
    """A `--jobs` worker: files from its inbox, records and frame counts back, until told to
    stop. In its own process group, so a terminal's Ctrl-C reaches only the batch's process,
    which passes on exactly one stop (a second one would cut a file short mid-frame)."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    setup_logging(quiet=True)  # per-file warnings would break the parent's one progress bar
    with stop_on_signal() as request:
        while not request.requested:
            try:
                task = inbox.get(timeout=0.5)
            except queue.Empty:
                parent = mp.parent_process()
                if parent is not None and not parent.is_alive():
                    return
                continue
            if task is None:
                return
            record = run_file(
                task,
                opts,
                should_stop=lambda: request.requested,
                on_frames=lambda n: results.put(("frames", n)),
            )
            results.put(("record", record))
            if record["status"] == manifest.INTERRUPTED:
                return


def run_in_pool(
    tasks: Iterable[Task],
    opts: RunOptions,
    jobs: int,
    request: StopRequest,
    on_record: Callable[[Record], None],
    on_frames: Callable[[int], None],
) -> None:
    """Run the tasks in `jobs` worker processes until all are recorded or a stop is requested."""
    ctx = mp.get_context("spawn")  # the same on every OS, and no fork of a threaded parent
    todo = deque(tasks)
    results = ctx.Queue()
    slots: list[tuple[Any, Any]] = []  # (process, inbox)
    running: dict[int, Task] = {}  # slot -> its file

    def start(slot: int) -> None:
        inbox = ctx.Queue()
        worker = ctx.Process(target=_pool_worker, args=(inbox, results, opts), daemon=True)
        worker.start()
        if slot == len(slots):
            slots.append((worker, inbox))
        else:
            slots[slot] = (worker, inbox)

    def dispatch(slot: int) -> None:
        if todo and not request.requested:
            running[slot] = todo.popleft()
            slots[slot][1].put(running[slot])

    for slot in range(min(jobs, len(todo))):
        start(slot)
        dispatch(slot)
    stopping = False
    try:
        while running:
            if request.requested and not stopping:
                stopping = True
                for worker, _ in slots:
                    if worker.is_alive():
                        os.kill(worker.pid, signal.SIGINT)
            try:
                kind, value = results.get(timeout=0.2)
            except queue.Empty:
                for slot, (worker, _) in enumerate(slots):
                    if slot in running and not worker.is_alive() and results.empty():
                        _died(running.pop(slot), worker.exitcode, stopping, on_record)
                        if not stopping:
                            start(slot)
                            dispatch(slot)
                continue
            if kind == "frames":
                on_frames(value)
                continue
            slot = next(s for s, t in running.items() if t.rel == value["input"])
            running.pop(slot)
            on_record(value)
            if value["status"] == manifest.INTERRUPTED:  # a worker was stopped: stop them all
                request.requested = True
            dispatch(slot)
    finally:
        for _, inbox in slots:
            inbox.put(None)
        for worker, _ in slots:
            worker.join(timeout=15)
            if worker.is_alive():
                worker.kill()


def _died(task: Task, exitcode: int | None, stopping: bool, on_record: Callable) -> None:
    """A worker that ended without a record: stopped before it began the file, or gone
    mid-file (a crash in a library, the OOM killer)."""
    if stopping:
        on_record({"input": task.rel, "status": manifest.INTERRUPTED, "frames": 0})
        return
    error = f"{task.source}: the worker process died (exit code {exitcode}); no output was kept"
    on_record({"input": task.rel, "status": manifest.FAILED, "error": error})


class BatchProgress:
    """One bar for the whole batch: files finished of those to do, and frames written."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.frames = 0
        self._t0 = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files, {task.fields[frames]} frames, {task.fields[fps]} fps"),
            TimeElapsedColumn(),
            console=stderr,
            disable=not enabled,
        )
        self._task = self._progress.add_task("batch", total=total, frames=0, fps="--")

    def __enter__(self) -> BatchProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def add_frames(self, n: int) -> None:
        self.frames += n
        fps = self.frames / max(time.perf_counter() - self._t0, 1e-9)
        self._progress.update(self._task, frames=self.frames, fps=f"{fps:.1f}")

    def file_done(self) -> None:
        self._progress.advance(self._task)


class _Ledger:
    """The batch's bookkeeping: each outcome counted, shown, appended to the manifest, and what
    a file that did not finish left behind removed (never a file that was there before)."""

    def __init__(
        self,
        todo: list[Task],
        summary: BatchSummary,
        wanted: dict[str, Any],
        path: Path,
        progress: BatchProgress,
    ) -> None:
        self.summary, self.wanted, self.progress = summary, wanted, progress
        self.pending = {t.rel: t for t in todo}
        self.stamps = {t.rel: manifest.input_stamp(t.source) for t in todo}
        self.before = {t.rel: _identity(t.output) for t in todo}
        self.writer = manifest.Writer(path)

    def record(self, record: Record) -> None:
        task = self.pending.pop(record["input"])
        record = {**record, **self.stamps[task.rel]}
        status = record["status"]
        if status == manifest.DONE:
            record["settings"] = self.wanted
            self.summary.done += 1
            self.summary.frames += record["frames"]
        else:  # a worker lost mid-file cleaned up nothing; a finished run left nothing
            remove_if_new(task.output, self.before[task.rel])
        if status == manifest.FAILED:
            self.summary.failed += 1
            self.summary.failures.append(record)
            error_line(record["error"])
        elif status == manifest.INTERRUPTED:
            self.summary.interrupted += 1
        self.writer.append(record)
        self.progress.file_done()

    def close(self) -> None:
        """After the run, however it ended: files never recorded leave nothing behind."""
        for task in self.pending.values():
            remove_if_new(task.output, self.before[task.rel])
        self.writer.close()


def run_batch(options: BatchOptions, quiet: bool = False) -> BatchSummary:
    """The whole batch: find the files, skip the finished ones, run the rest, keep the record."""
    if options.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {options.jobs}")
    on_ray = options.ray is not None
    threads = options.run.threads or (1 if on_ray else max(1, default_threads() // options.jobs))
    opts = replace(options.run, threads=threads)
    if isinstance(opts.model, str) and catalog.looks_like_path(opts.model):
        opts.model = str(Path(opts.model).expanduser().resolve())  # workers may start elsewhere
    validate(replace(opts, input=options.input, output=options.output))
    if on_ray:
        from .batch_ray import import_ray

        import_ray()  # without the extra: one line before anything runs
    if len(model_names(opts.model)) > 1:
        raise UsageError("a batch runs one style; give one --model")
    tasks = discover(options.input, options.output)
    wanted = settings(opts, _model_file(opts, on_ray))
    options.output.mkdir(parents=True, exist_ok=True)
    path = options.output / manifest.NAME
    done = manifest.read_done(path)
    todo = [t for t in tasks if not manifest.is_complete(done.get(t.rel), t.source, t.output,
                                                          wanted)]  # fmt: skip
    summary = BatchSummary(
        files=len(tasks),
        skipped=len(tasks) - len(todo),
        jobs=options.jobs,
        threads_per_file=threads,
        executor=f"ray {options.ray}" if on_ray else f"{options.jobs} job(s)",
        manifest=str(path),
    )
    ledger = _Ledger(todo, summary, wanted, path, BatchProgress(len(todo), enabled=not quiet))
    t0 = time.perf_counter()
    try:
        with ledger.progress, stop_on_signal() as request:
            _execute(todo, opts, options, request, ledger)
    finally:
        ledger.close()
    summary.stopped = request.requested
    summary.elapsed_s = round(time.perf_counter() - t0, 3)
    return summary


def _execute(
    todo: list[Task], opts: RunOptions, options: BatchOptions, request: StopRequest, ledger: _Ledger
) -> None:
    """Hand the files to Ray, to worker processes, or (one job) run them here in turn."""
    progress = ledger.progress
    if options.ray is not None:
        from .batch_ray import run_on_ray

        def counted(record: Record) -> None:  # tasks report their frames when they end
            progress.add_frames(record.get("frames", 0))
            ledger.record(record)

        run_on_ray(todo, opts, options.ray, options.gpus_per_file, request, counted)
    elif options.jobs > 1:
        run_in_pool(todo, opts, options.jobs, request, ledger.record, progress.add_frames)
    else:
        for task in todo:
            if request.requested:
                return
            record = run_file(task, opts, lambda: request.requested, progress.add_frames)
            ledger.record(record)
            if record["status"] == manifest.INTERRUPTED:
                request.requested = True
                return
