"""The ablation's yardsticks on synthetic loss series whose answers are known."""

from __future__ import annotations

import json
import math
import random

import pytest

from benchmarks.adaptive_lr_ablation import high_frequency_share, summarize, verdict
from benchmarks.trained_runs import train


def test_high_frequency_share_separates_slow_swings_from_step_noise() -> None:
    slow = [math.sin(2 * math.pi * i / 50) for i in range(200)]  # period 50 steps
    fast = [(-1) ** i for i in range(200)]  # period 2 steps
    assert high_frequency_share(slow) < 0.01
    assert high_frequency_share(fast) > 0.99
    rng = random.Random(0)
    white = [rng.gauss(0, 1) for _ in range(4000)]
    assert high_frequency_share(white) == pytest.approx(0.8, abs=0.03)  # (0.5 - 0.1) / 0.5


def _rows(loss_d: list[float], at_bound: list[int]) -> list[dict[str, str]]:
    warm = [{"loss_d": "", "step": str(i)} for i in range(10)]
    return warm + [
        {
            "step": str(10 + i), "loss_d": str(d), "loss_g_adv": str(1 - d / 2),
            "at_bound": str(b), "style": "0.5", "content": str(0.1 * (i % 2)),
            "seconds_per_step": "1.0",
        }
        for i, (d, b) in enumerate(zip(loss_d, at_bound, strict=True))
    ]  # fmt: skip


def test_summarize_measures_the_second_half_and_the_tail() -> None:
    # First half calm at 1.5, second half alternating 1.0 / 1.4: every jump is 0.4 in size.
    loss_d = [1.5] * 50 + [1.0 if i % 2 else 1.4 for i in range(50)]
    r = summarize(_rows(loss_d, [1] * 25 + [0] * 75), "hinge", recoveries=0)
    assert r["d_oscillation"] == pytest.approx(0.4, abs=1e-3)
    assert r["g_oscillation"] == pytest.approx(0.2, abs=1e-3)
    assert r["d_loss_mean_last20pct"] == pytest.approx(1.2)
    assert r["at_bound_share"] == pytest.approx(0.25)
    assert r["content_final"] == pytest.approx(0.05)
    assert not r["collapsed"]
    damped = _rows(loss_d, [0] * 100)
    for i, row in enumerate(damped[10:]):  # the damping factor sits at its floor 0.25 in 40
        row["damping"] = "0.25" if i % 5 < 2 else "0.6"
    assert summarize(damped, "hinge", 0, damping_min=0.25)["at_bound_share"] == pytest.approx(0.4)
    assert summarize(_rows([0.05] * 100, [0] * 100), "hinge", 0)["collapsed"]  # D won outright
    assert summarize(_rows(loss_d, [0] * 100), "hinge", recoveries=1)["collapsed"]


def test_verdict_checks_every_seed_against_fixed() -> None:
    def run(osc: float, mean_d: float = 1.2, bound: float = 0.0, collapsed: bool = False):
        return {
            "d_oscillation": osc, "d_loss_mean_last20pct": mean_d,
            "at_bound_share": bound, "collapsed": collapsed,
        }  # fmt: skip

    results = {
        "fixed": {"0": run(0.40), "1": run(0.30)},
        "damped": {"0": run(0.28), "1": run(0.22)},  # -30% and -27%
        "balance": {"0": run(0.30), "1": run(0.27, mean_d=1.7, bound=0.6)},  # -25%, -10%
    }
    damped, balance = verdict(results, harsh=False)
    assert "target >= 20% in every seed: met" in damped and "[0.5, 1.5]) met" in damped
    assert "not met" in balance and "at most 60%" in balance
    results["fixed"]["1"]["collapsed"] = True
    harsh = verdict(results, harsh=True)
    assert "collapsed in 0 of 2 seeds; fixed collapsed in 1 of 2" in harsh[0]


def test_a_kept_run_trained_with_other_settings_is_refused(tmp_path, capsys) -> None:
    run = tmp_path / "damped-seed0"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"")
    (run / "ablation_args.json").write_text(json.dumps(["--crop", "128", "--seed", "0"]))
    args = ["--crop", "96", "--threads", "1", "--seed", "0"]
    with pytest.raises(SystemExit) as stop:
        train(run, args, 400)
    assert stop.value.code == 2
    assert "trained with other settings" in capsys.readouterr().err


def test_a_finished_run_with_the_same_settings_is_reused_whatever_the_threads(tmp_path) -> None:
    run = tmp_path / "fixed-seed0"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"")
    (run / "ablation_args.json").write_text(json.dumps(["--crop", "128", "--seed", "0"]))
    (run / "metrics.csv").write_text("step,loss_d\n399,1.0\n400,1.0\n")
    train(run, ["--crop", "128", "--threads", "2", "--seed", "0"], 400)  # no training started
    assert sorted(p.name for p in run.iterdir()) == [
        "ablation_args.json", "checkpoint.pt", "metrics.csv",
    ]  # fmt: skip
