"""`astgan-stream batch --ray`: the batch's files as Ray tasks, on a cluster or a local one.

Each file is one task running `batch.run_file`, the same function `--jobs` runs, with its own
resource request (`--threads` CPUs, `--gpus-per-file` GPUs); Ray places them. Records come back
to this process, which alone writes the manifest. Paths are handed over as they are, so every
node must see the input and output folders at the same path (a shared file system). Ray is an
optional extra: without it `--ray` stops before the run with one line saying what to install.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import manifest
from .batch import Record, Task, run_file
from .errors import UsageError
from .runner import RunOptions
from .stop_request import StopRequest

LOCAL = "local"  # `--ray` without an address: start a Ray instance on this machine
CANCEL_WAIT_S = 60.0  # how long stopped tasks get to finish their output cleanly


def import_ray() -> Any:
    """Ray, or the one-line error that says how to get it."""
    try:
        import ray
    except ImportError:
        raise UsageError(
            '--ray needs Ray, an optional extra: pip install "stream-astgan[ray]"'
        ) from None
    return ray


def run_on_ray(
    tasks: list[Task],
    opts: RunOptions,
    address: str,
    gpus_per_file: float,
    request: StopRequest,
    on_record: Callable[[Record], None],
) -> None:
    """Run every file as a task; on a stop, cancel the rest and record how they ended."""
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=None if address == LOCAL else address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,  # the manifest and the summary carry each file's outcome
        )
    try:
        remote = ray.remote(run_file).options(
            num_cpus=opts.threads or 1, num_gpus=gpus_per_file, max_retries=0
        )
        pending = {remote.remote(task, opts): task for task in tasks}
        while pending and not request.requested:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            for ref in ready:
                on_record(_outcome(ray, ref, pending.pop(ref)))
        if pending:
            for ref in pending:
                ray.cancel(ref)
            ray.wait(list(pending), num_returns=len(pending), timeout=CANCEL_WAIT_S)
            for ref, task in pending.items():
                on_record(_outcome(ray, ref, task))
    finally:
        if started_here:
            ray.shutdown()


def _outcome(ray: Any, ref: Any, task: Task) -> Record:
    """A task's record; a cancelled task is interrupted, a crashed one failed."""
    try:
        return ray.get(ref, timeout=0)
    except (ray.exceptions.TaskCancelledError, ray.exceptions.GetTimeoutError):
        return {"input": task.rel, "status": manifest.INTERRUPTED, "frames": 0}
    except ray.exceptions.RayError as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        error = f"{task.source}: the Ray task failed ({first[:300]})"
        return {"input": task.rel, "status": manifest.FAILED, "error": error}
