"""Scalar logs of a run: one CSV row per logged step, the same scalars in TensorBoard.

The CSV is the format scripts read (the ablation benchmark, tests); TensorBoard is for people.
On resume or a NaN recovery the CSV is cut back to the checkpoint's step, so no step repeats.
"""

from __future__ import annotations

import csv
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

CSV_NAME = "metrics.csv"


class MetricsLog:
    """Append-only CSV + TensorBoard writer with a fixed column set."""

    def __init__(self, run_dir: Path, columns: list[str], resume_step: int) -> None:
        self.path = run_dir / CSV_NAME
        self.columns = ["step", *columns]
        self.rewind(resume_step)
        self.tensorboard = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_step + 1)

    def rewind(self, step: int) -> None:
        """Drop the rows after `step` (a resume or a NaN recovery continues from there)."""
        rows = read_metrics(self.path) if step and self.path.exists() else []
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, self.columns)
            writer.writeheader()
            writer.writerows(r for r in rows if int(r["step"]) <= step)

    def write(self, step: int, values: dict[str, float]) -> None:
        """Log one step's scalars."""
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.columns).writerow({"step": step, **values})
        for name, value in values.items():
            self.tensorboard.add_scalar(name, value, step)

    def text(self, tag: str, message: str, step: int) -> None:
        """An event worth a note (e.g. a NaN recovery) in TensorBoard's text tab."""
        self.tensorboard.add_text(tag, message, step)

    def close(self) -> None:
        self.tensorboard.close()


def read_metrics(path: Path) -> list[dict[str, str]]:
    """Rows of a run's metrics.csv."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
