"""The suite's selection and the report that gathers the results tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.frontier import pareto_front
from benchmarks.suite import SUITE, report, select


def test_default_run_fits_the_fifteen_minute_budget() -> None:
    assert sum(b.budget_s for b in select("")) <= 15 * 60
    assert all(b.in_default_run for b in select(""))


def test_only_keeps_suite_order_and_rejects_unknown_names() -> None:
    assert [b.name for b in select("temporal,precision")] == ["precision", "temporal"]
    with pytest.raises(KeyError):
        select("precision,nope")


def test_report_gathers_every_table_suite_first(tmp_path: Path) -> None:
    (tmp_path / "adaptive_lr_ablation_harsh.md").write_text("harsh table\n")
    (tmp_path / "temporal.md").write_text("temporal table\n")
    (tmp_path / "precision.md").write_text("precision table\n")
    (tmp_path / "REPORT.md").write_text("old report\n")
    (tmp_path / "notes.md").write_text("someone's notes\n")
    text = report(tmp_path, {"temporal"})
    assert "old report" not in text
    tables = ("precision table", "temporal table", "harsh table", "someone's notes")
    order = [text.index(t) for t in tables]
    assert order == sorted(order)
    temporal = next(b for b in SUITE if b.name == "temporal")
    assert f"`{temporal.command()}`. This table: measured by this run." in text
    ablation = next(b for b in SUITE if b.name == "adaptive_lr_ablation")
    assert f"## {ablation.title} (harsh)" in text
    assert text.count("from an earlier run") == 3


def test_frontier_keeps_only_undominated_variants() -> None:
    points = {"fast": (0.5, 60.0), "good": (0.2, 30.0), "worse": (0.6, 50.0), "mid": (0.3, 40.0)}
    assert pareto_front(points) == ["good", "mid", "fast"]


def test_only_picks_in_its_order_and_refuses_unknown_names() -> None:
    from benchmarks.usage import chosen

    assert chosen("", ["a", "b"]) == ["a", "b"]
    assert chosen("b,a", ["a", "b"]) == ["b", "a"]
    with pytest.raises(SystemExit):
        chosen("a,c", ["a", "b"])
