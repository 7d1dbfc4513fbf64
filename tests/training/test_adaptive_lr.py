"""The controller on synthetic loss sequences."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from training.adaptive_lr import AdaptiveLRController


def feed(controller: AdaptiveLRController, loss_d: float, loss_g: float, steps: int):
    scales = None
    for _ in range(steps):
        scales = controller.update(loss_d, loss_g)
    return scales


@pytest.mark.parametrize(
    ("mode", "d_wins", "g_wins"),
    [("hinge", (0.2, 0.9), (1.9, -0.5)), ("lsgan", (0.05, 0.8), (0.6, 0.05))],
)
def test_winner_is_slowed_and_loser_sped_up(mode, d_wins, g_wins):
    c = AdaptiveLRController(mode, warmup=5)
    s = feed(c, *d_wins, 200)
    assert s.g > 1 > s.d
    c = AdaptiveLRController(mode, warmup=5)
    s = feed(c, *g_wins, 200)
    assert s.d > 1 > s.g


def test_balanced_losses_leave_rates_alone():
    c = AdaptiveLRController("hinge", warmup=0)
    s = feed(c, 2.0, 0.0, 100)
    assert s.g == pytest.approx(1) and s.d == pytest.approx(1)


def test_warmup_ramps_the_rates_in_and_fixed_policy_keeps_them():
    c = AdaptiveLRController("hinge", warmup=10, max_scale=100)
    ramp = [c.update(0.0, 1.0).g for _ in range(15)]
    assert ramp[0] == 1.0
    assert all(a < b for a, b in itertools.pairwise(ramp[:11]))  # smooth, not a jump
    assert ramp[-1] == pytest.approx(math.exp(1.5))  # full gain, a = 1 (D wins outright)
    fixed = AdaptiveLRController("hinge", warmup=0, policy="fixed")
    s = feed(fixed, 0.0, 1.0, 50)
    assert (s.g, s.d) == (1.0, 1.0)


def test_smoothing_follows_a_switch_of_winner_gradually():
    c = AdaptiveLRController("hinge", beta=0.9, warmup=0)
    feed(c, 0.1, 1.0, 100)
    before = c.scales().g
    after_one = c.update(1.9, -0.9).g
    assert 1 < after_one < before  # one opposite step moves the rates, but not all the way
    assert feed(c, 1.9, -0.9, 100).g < 1


@given(
    st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=1, max_size=60),
    st.floats(1.0, 10.0),
    st.floats(0.0, 20.0),
)
def test_scales_stay_within_bounds(losses, max_scale, gain):
    c = AdaptiveLRController("hinge", gain=gain, max_scale=max_scale, warmup=0)
    for loss_d, loss_g in losses:
        s = c.update(loss_d, loss_g)
        assert 1 / max_scale - 1e-12 <= s.g <= max_scale + 1e-12
        assert s.g * s.d == pytest.approx(1)


def test_deterministic():
    seq = [(math.sin(i) + 1, math.cos(i)) for i in range(100)]
    a, b = AdaptiveLRController(warmup=3), AdaptiveLRController(warmup=3)
    assert [a.update(*x) for x in seq] == [b.update(*x) for x in seq]


def test_back_off_lowers_both_rates():
    c = AdaptiveLRController("hinge", warmup=0)
    feed(c, 0.5, 0.5, 20)
    before = c.scales()
    c.back_off(0.5)
    after = c.scales()
    assert after.g == pytest.approx(before.g / 2) and after.d == pytest.approx(before.d / 2)


def test_state_round_trips_through_a_checkpoint_file(tmp_path):
    c = AdaptiveLRController("lsgan", beta=0.95, gain=2.0, warmup=4)
    feed(c, 0.1, 0.9, 30)
    c.back_off(0.5)
    torch.save({"lr_controller": c.state_dict()}, tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)["lr_controller"]
    d = AdaptiveLRController()
    d.load_state_dict(state)
    assert d.state_dict() == c.state_dict()
    seq = [(0.3 + 0.01 * i, 0.7) for i in range(20)]
    assert [c.update(*x) for x in seq] == [d.update(*x) for x in seq]


def test_rejects_non_finite_losses():
    with pytest.raises(ValueError, match="finite"):
        AdaptiveLRController().update(float("nan"), 0.0)
