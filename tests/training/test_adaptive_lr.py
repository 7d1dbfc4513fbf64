"""The controller's three policies on synthetic loss sequences."""

from __future__ import annotations

import itertools
import math
import random

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from training.adaptive_lr import AdaptiveLRController
from training.config import AdaptiveLRConfig


def make(mode: str = "hinge", policy: str = "balance", **settings) -> AdaptiveLRController:
    return AdaptiveLRController(mode, policy, AdaptiveLRConfig(**settings))


def feed(controller: AdaptiveLRController, loss_d: float, loss_g: float, steps: int):
    scales = None
    for _ in range(steps):
        scales = controller.update(loss_d, loss_g)
    return scales


# -- balance: the proportional controller ----------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "d_wins", "g_wins"),
    [("hinge", (0.2, 0.9), (1.9, -0.5)), ("lsgan", (0.05, 0.8), (0.6, 0.05))],
)
def test_balance_slows_the_winner_and_speeds_up_the_loser(mode, d_wins, g_wins):
    s = feed(make(mode, warmup=5), *d_wins, 200)
    assert s.g > 1 > s.d
    s = feed(make(mode, warmup=5), *g_wins, 200)
    assert s.d > 1 > s.g


def test_balance_leaves_balanced_losses_alone():
    s = feed(make(warmup=0), 2.0, 0.0, 100)
    assert s.g == pytest.approx(1) and s.d == pytest.approx(1)


def test_warmup_ramps_the_rates_in_and_fixed_policy_keeps_them():
    c = make(warmup=10, max_scale=100)
    ramp = [c.update(0.0, 1.0).g for _ in range(15)]
    assert ramp[0] == 1.0
    assert all(a < b for a, b in itertools.pairwise(ramp[:11]))  # smooth, not a jump
    assert ramp[-1] == pytest.approx(math.exp(1.5))  # full gain, a = 1 (D wins outright)
    s = feed(make(policy="fixed", warmup=0), 0.0, 1.0, 50)
    assert (s.g, s.d) == (1.0, 1.0)


def test_smoothing_follows_a_switch_of_winner_gradually():
    c = make(beta=0.9, warmup=0)
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
def test_balance_scales_stay_within_bounds(losses, max_scale, gain):
    c = make(gain=gain, max_scale=max_scale, warmup=0)
    for loss_d, loss_g in losses:
        s = c.update(loss_d, loss_g)
        assert 1 / max_scale - 1e-12 <= s.g <= max_scale + 1e-12
        assert s.g * s.d == pytest.approx(1)


# -- damped: PI on lr_D towards D's set point, plus damping of both rates ---------------------


def test_damped_integral_drives_the_d_loss_of_a_simple_game_to_the_set_point():
    """A toy game where D's loss falls as its rate rises: the proportional law alone leaves
    an offset, the integral removes it, and the rate stays inside its bounds."""
    c = make(policy="damped", warmup=20, kappa=100.0)  # damping off: only the PI law acts
    loss_d, scale_d = 0.4, 1.0
    for _ in range(3000):
        # D's loss moves towards a level that falls with log(lr_D): stronger D, lower loss.
        level = 1.0 - 0.5 * math.log(scale_d)
        loss_d += 0.05 * (level - loss_d)
        scale_d = c.update(loss_d, 0.5).d
    assert loss_d == pytest.approx(1.4, abs=0.02)  # hinge: 0 + 0.7 * (2 - 0)
    assert scale_d == pytest.approx(math.exp(-0.8), rel=0.05)
    assert not c.at_bound()


def test_damped_leaves_the_generator_rate_alone_without_bursts():
    c = make(policy="damped", warmup=10)
    rng = random.Random(0)
    scales = [c.update(0.8 + 0.1 * rng.gauss(0, 1), 0.6) for _ in range(400)]
    assert scales[-1].d < 1  # D below its set point: its rate comes down
    assert scales[0].g == pytest.approx(0.25)  # both rates start at damping_min
    assert scales[30].g > scales[10].g > scales[0].g  # and are released in calm steps
    assert sum(s.g == 1.0 for s in scales[200:]) > 150  # steady noise: mostly no damping


def test_damped_lowers_both_rates_during_a_burst_and_recovers():
    c = make(policy="damped", warmup=10)
    rng = random.Random(1)
    for _ in range(400):
        c.update(1.4 + 0.05 * rng.gauss(0, 1), 0.6)
    calm = c.scales()
    for _ in range(15):  # variability 8x its long-run level
        c.update(1.4 + 0.4 * rng.gauss(0, 1), 0.6)
    burst = c.scales()
    assert burst.g < 0.75 * calm.g and burst.d < 0.75 * calm.d
    assert burst.g >= 0.25 - 1e-12  # damping_min
    for _ in range(300):
        c.update(1.4 + 0.05 * rng.gauss(0, 1), 0.6)
    assert c.scales().g > 0.9


def test_damped_d_earns_its_rate_back_four_times_slower_than_it_loses_it():
    c = make(policy="damped", warmup=0, damping_min=1.0, start=1.0, beta=0.0)  # PI alone
    feed(c, 0.8, 0.5, 20)  # D leads: e = (1.4 - 0.8) / 2 = 0.3, integral + 0.1 * 0.3 a step
    assert c.state.integral == pytest.approx(0.6)
    assert c.scales().d == pytest.approx(math.exp(-(4.0 * 0.3 + 0.6)))  # P acts on the lead
    lag = feed(c, 2.0, 0.5, 20)  # then lags as far: the integral falls at earn (1/4) the pace
    assert c.state.integral == pytest.approx(0.6 - 20 * 0.1 * 0.25 * 0.3)
    assert lag.d == pytest.approx(math.exp(-c.state.integral))  # and P does not push D up
    assert feed(c, 2.0, 0.5, 59).d < 1 == feed(c, 2.0, 0.5, 2).d  # base rate after 80 steps


def test_damped_clips_a_generator_gradient_spike_and_treats_it_as_a_burst():
    c = make(policy="damped", warmup=10)
    assert c.gradient_limit() == math.inf  # no history yet
    rng = random.Random(2)
    for _ in range(300):  # calm losses, G's gradient norm 5 +- 20%
        c.update(1.4, 0.6, 5.0 * math.exp(0.2 * rng.gauss(0, 1)))
    limit, calm = c.gradient_limit(), c.scales()
    assert 4.0 * 4.0 < limit < 4.0 * 6.5  # spike x the typical norm
    c.update(1.4, 0.6, 100 * limit)  # one batch's gradient jumps far past it
    assert c.gradient_limit() == pytest.approx(limit * 4.0**0.1)  # clipped: h moves ln 4 / 10
    assert c.scales().g < calm.g / 1.1  # and the rates come down as on a loss burst
    for policy in ("balance", "fixed"):
        other = make(policy=policy)
        feed(other, 1.4, 0.6, 50)
        assert other.gradient_limit() == math.inf


def test_damped_integral_does_not_wind_up_at_the_bound():
    c = make(policy="damped", warmup=0, max_scale=2.0, kappa=100.0)
    feed(c, 0.0, 1.0, 2000)  # D wins for a long time: lr_D pinned at base / m^2
    assert c.scales().d == pytest.approx(0.25) and c.at_bound()
    steps = 0
    while c.scales().d < 1.0 and steps < 1000:  # then D is far weaker than the set point
        c.update(2.0, 0.0)
        steps += 1
    assert steps < 100  # a wound-up integral would need ~thousands of steps to unwind


# -- all policies -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["damped", "balance"])
def test_deterministic(policy):
    seq = [(math.sin(i) + 1, math.cos(i)) for i in range(300)]
    a, b = make(policy=policy, warmup=3), make(policy=policy, warmup=3)
    assert [a.update(*x) for x in seq] == [b.update(*x) for x in seq]


@pytest.mark.parametrize("policy", ["damped", "balance", "fixed"])
def test_back_off_lowers_both_rates(policy):
    c = make(policy=policy, warmup=0)
    feed(c, 0.5, 0.5, 20)
    before = c.scales()
    c.back_off(0.5)
    after = c.scales()
    assert after.g == pytest.approx(before.g / 2) and after.d == pytest.approx(before.d / 2)


@pytest.mark.parametrize("policy", ["damped", "balance"])
def test_state_round_trips_through_a_checkpoint_file(tmp_path, policy):
    c = make("lsgan", policy, beta=0.9, gain=2.0, warmup=4)
    seq = [(0.1 + 0.05 * math.sin(i), 0.9) for i in range(150)]
    for x in seq:
        c.update(*x)
    c.back_off(0.5)
    torch.save({"lr_controller": c.state_dict()}, tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)["lr_controller"]
    d = AdaptiveLRController()
    d.load_state_dict(state)
    assert d.state_dict() == c.state_dict()
    assert [c.update(*x) for x in seq] == [d.update(*x) for x in seq]


def test_a_checkpoint_of_the_unnamed_balance_controller_loads_as_balance():
    legacy = {
        "gan_mode": "hinge", "beta": 0.9, "gain": 1.5, "max_scale": 4.0, "warmup": 10,
        "policy": "adaptive", "steps": 50, "ema_d": 0.4, "ema_g": 0.3, "backoff": 1.0,
        "advantage": 0.2,
    }  # fmt: skip
    c = AdaptiveLRController()
    c.load_state_dict(legacy)
    assert c.policy == "balance" and c.settings.beta == 0.9 and c.state.steps == 50
    reference = make(beta=0.9, warmup=10)
    reference.load_state_dict(c.state_dict())
    assert c.update(0.5, 0.5) == reference.update(0.5, 0.5)
    with pytest.raises(KeyError, match="unexpected"):
        c.load_state_dict({**legacy, "surprise": 1})


def test_rejects_non_finite_losses_and_unknown_policies():
    with pytest.raises(ValueError, match="finite"):
        AdaptiveLRController().update(float("nan"), 0.0)
    with pytest.raises(ValueError, match="policy"):
        AdaptiveLRController("hinge", "cosine")
