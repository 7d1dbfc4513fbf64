"""Every benchmark writes results/NAME.json and results/NAME.md stamped with machine, date and
versions, and prints the markdown table."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from stream_astgan.environment import cpu_model, versions

RESULTS = Path(__file__).resolve().parent / "results"


def stamp() -> str:
    v = versions()
    return (
        f"{dt.date.today().isoformat()}, {cpu_model()} ({__import__('os').cpu_count()} cores), "
        f"onnxruntime {v['onnxruntime']}, PyAV {v['av']}, OpenCV {v['opencv']}"
    )


def model_table(columns: list[str], rows: dict[str, list[str]]) -> list[str]:
    """Markdown lines of a table with a row per model: its name, then right-aligned figures."""
    return [
        "| model | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
        *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()),
    ]


def write_report(
    name: str, result: dict[str, Any], table: list[str], folder: Path = RESULTS
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result = {"measured": stamp(), **result}
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    text = "\n".join([f"Measured {result['measured']}.", "", *table]) + "\n"
    (folder / f"{name}.md").write_text(text)
    print(text)
