"""kill -9 during a checkpoint write leaves the previous checkpoint loadable and resumable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from training.checkpoint import load_checkpoint
from training.cli import main

from .conftest import TINY

REPO = Path(__file__).resolve().parents[2]
TRAINING = [sys.executable, "-m", "training"]

# A writer that saves ~40 MB checkpoints back to back, each filled with its own step number,
# so a kill lands inside a write most of the time and a torn file would show mixed contents.
WRITER = """
import sys, torch
from pathlib import Path
from training.checkpoint import FORMAT, save_checkpoint
path = Path(sys.argv[1])
for step in range(1, 10_000):
    blob = torch.full((10_000_000,), float(step))
    save_checkpoint(path, {"format": FORMAT, "step": step, "blob": blob})
    print(step, flush=True)
"""


def _wait_for_steps(run: Path, steps: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Readiness: the run has logged `steps` steps (a header line, then one line a step)."""
    metrics, deadline = run / "metrics.csv", time.monotonic() + timeout
    while not (metrics.exists() and len(metrics.read_text().splitlines()) > steps):
        assert proc.poll() is None, "training ended before it could be stopped"
        assert time.monotonic() < deadline, f"training logged no {steps} steps in {timeout} s"
        time.sleep(0.02)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_sigkill_mid_write_leaves_the_last_complete_checkpoint(tmp_path, delay):
    path = tmp_path / "checkpoint.pt"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    done = [int(proc.stdout.readline())]  # the first checkpoint is complete
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    done += [int(line) for line in rest.split()]
    ckpt = load_checkpoint(path)
    assert ckpt["step"] in (done[-1], done[-1] + 1)  # the rename may land after the last print
    blob = ckpt["blob"]
    assert blob.numel() == 10_000_000 and bool((blob == float(ckpt["step"])).all())


def test_training_killed_with_sigkill_resumes(tiny_data, tmp_path):
    content, painting = tiny_data
    run = tmp_path / "run"
    args = ["--content", str(content), "--style", str(painting), "--out", str(run), *TINY,
            "--checkpoint-every", "1"]  # fmt: skip
    proc = subprocess.Popen([*TRAINING, *args, "--steps", "400"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    # Checkpoints are written every step: once a few steps are logged, a kill often lands
    # inside a checkpoint write.
    _wait_for_steps(run, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < killed_at < 400
    target = killed_at + 3
    assert main([*args, "--resume", "--steps", str(target)]) == 0  # in process: no second start-up
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == target


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_saves_the_step_in_progress(tiny_data, tmp_path, sig):
    content, painting = tiny_data
    run = tmp_path / "run"
    # Periodic checkpoints are rare here, so only the stop itself can save the steps done.
    args = ["--content", str(content), "--style", str(painting), "--out", str(run), *TINY,
            "--checkpoint-every", "10000"]  # fmt: skip
    proc = subprocess.Popen(
        [*TRAINING, *args, "--steps", "5000"], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait_for_steps(run, 2, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    step = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert f"stopped after step {step} (saved)" in err
    logged = (run / "metrics.csv").read_text().split()
    assert step > 0 and int(logged[-1].split(",")[0]) == step  # the last step logged is saved
    assert main([*args, "--resume", "--steps", str(step + 2)]) == 0
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == step + 2
