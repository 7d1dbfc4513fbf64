"""The adaptive learning-rate controller: it damps the adversarial game and keeps it balanced.

Adversarial training oscillates: the discriminator's loss jumps from batch to batch, and the
jumps grow as D becomes confident (`benchmarks/results/adaptive_lr_ablation.md`). The damped
policy therefore holds D's strength at a set point inside the balanced band, with a
proportional-integral (PI) law on the TTUR ratio that starts D slow and lets it earn its rate,
and lowers both rates for as long as a burst of variability lasts. Three policies
(`optim.lr_policy`), compared by `python -m benchmarks.adaptive_lr_ablation`:

fixed: lr_G = lr_G0 * b, lr_D = lr_D0 * b.

balance (the default until the ablation showed it does not damp; proportional, both rates in
opposite directions):

    Dbar(t), Gbar(t): EMAs (factor beta) of L_D and L_G, divided by (1 - beta^t) (no start bias)
    a(t) = 0.5 * [ (Gbar - G_eq) / (G_win - G_eq) + (D_eq - Dbar) / (D_eq - D_win) ]
    s(t) = clip(exp(k * r(t) * a(t)), 1/m, m)           r(t) = min(1, (t - 1) / warmup)
    lr_G(t+1) = lr_G0 * b * s(t)        lr_D(t+1) = lr_D0 * b / s(t)

damped (the default):

    D_set = D_win + target * (D_eq - D_win)              the set point of D's loss
    e(t) = (D_set - Dbar(t)) / (D_eq - D_win)            > 0: D is stronger than the set point
    I(t) = max(0, I(t-1) + k_i * w(t) * e(t)),  I(0) = -ln(start)
    w(t) = 1 if e(t) > 0 else earn                      (D earns its rate back slowly)
    u(t) = clip(r(t) * k_p * max(e(t), 0) + I(t), 0, 2 ln m)   (I held where u reaches 2 ln m)
    v_f(t), v_s(t): EMAs (factors fast, slow) of (L(t) - L(t-1))^2, for L_D and for L_G
    n(t): G's gradient norm this step, clipped to N(t) = spike * exp(h(t-1)) before G's step
    h(t) = fast * h(t-1) + (1 - fast) * ln min(n(t), N(t)),   h(1) = ln n(1),   N(1) = inf
    burst(t) = v_f > kappa^2 * v_s for L_D or L_G, or n(t) > N(t)     q = c_min^(-1 / release)
    c(t) = max(c_min, c(t-1) / q^5) on a burst, else min(1, c(t-1) * q);   c(0) = c_min
    lr_G(t+1) = lr_G0 * b * c(t)        lr_D(t+1) = lr_D0 * b * c(t) * exp(-u(t))

L_D is the discriminator's adversarial loss (real + fake terms) and L_G the generator's.
(D_eq, G_eq) are their values at equilibrium, where D scores real and fake alike (hinge: 2 and 0;
LSGAN: 0.5 and 0.25); (D_win, G_win) their values when D wins outright (hinge: 0 and 1; LSGAN: 0
and 1). With `target` 0.7 the hinge set point is L_D = 1.4: D ahead of G but far from winning,
inside the middle half of the band between winning and equilibrium. The integral (which, unlike
balance's proportional law, does not settle with a leftover imbalance or pin at a bound) starts
at -ln(start), so D's rate starts at `start` times its base and rises only while D is weaker
than the set point; it stores D's lead only and never winds up past the bound. D earns its rate
back `earn` times as fast as it loses it, and the proportional term acts on D's lead only:
what D has learnt stays learnt, so a low rate stops D from improving but does not weaken it,
and a rate released quickly lets D overshoot into a confident, jumpy discriminator that no
later cut undoes. D's rate stays within [lr_D0 / m^2, lr_D0] (balance's whole range of the
ratio, on D's side). The generator's rate, which sets how fast the style is learned, stays at
its base except while c < 1: both rates start at c_min times their base when the game begins
(the first adversarial steps are where a too-fast generator dies) and are released over
`release` calm steps; a burst, where the short-horizon variability of either loss exceeds
kappa^2 times its long-horizon level (in squared jumps), pulls c down five times as fast, and
it recovers as the burst passes. The losses give no warning of a generator rate that is too
high: at 10x the base rates G's weights blow up a few steps after one batch's gradient norm
jumps 100x its typical level, with the losses calm until the NaN. So damped also reads G's
gradient norm, clips a spike to `spike` times its typical level (the geometric mean of the
recent clipped norms) before G's step, and counts the spike as a burst. b is a back-off
factor, 1 until a NaN/inf recovery multiplies it by `nan_backoff`. The controller is pure
arithmetic on floats, deterministic, and its whole state round-trips through `state_dict()`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from training.config import LEGACY_LR_POLICIES, LR_POLICIES, AdaptiveLRConfig

# (D_eq, G_eq, D_win, G_win): equilibrium and discriminator-wins values of each GAN loss.
REFERENCE_LOSSES = {
    "hinge": (2.0, 0.0, 0.0, 1.0),
    "lsgan": (0.5, 0.25, 0.0, 1.0),
}


@dataclass
class LRScales:
    """Multipliers of the base learning rates for the next step."""

    g: float
    d: float


@dataclass
class _State:
    steps: int = 0
    ema_d: float = 0.0
    ema_g: float = 0.0
    backoff: float = 1.0
    advantage: float = 0.0  # a(t) for balance, e(t) for damped
    integral: float = 0.0
    control: float = 0.0  # u(t), clipped
    prev_d: float = 0.0
    prev_g: float = 0.0
    var_fast_d: float = 0.0
    var_slow_d: float = 0.0
    var_fast_g: float = 0.0
    var_slow_g: float = 0.0
    damping: float = 1.0  # c(t)
    grad_level: float = 0.0  # h(t): log of G's typical gradient norm


class AdaptiveLRController:
    """The rates' multipliers from the adversarial losses, under one of `LR_POLICIES`."""

    def __init__(
        self,
        gan_mode: str = "hinge",
        policy: str = "damped",
        settings: AdaptiveLRConfig | None = None,
    ) -> None:
        if gan_mode not in REFERENCE_LOSSES:
            raise ValueError(f"gan_mode must be one of {', '.join(REFERENCE_LOSSES)}")
        policy = LEGACY_LR_POLICIES.get(policy, policy)
        if policy not in LR_POLICIES:
            raise ValueError(f"policy must be one of {', '.join(LR_POLICIES)}")
        self.gan_mode = gan_mode
        self.policy = policy
        self.settings = settings or AdaptiveLRConfig()
        self.state = _State()

    def smoothed(self) -> tuple[float, float]:
        """Bias-corrected EMA of (L_D, L_G); the raw losses before any update."""
        s = self.state
        if s.steps == 0:
            return 0.0, 0.0
        correction = 1 - self.settings.beta**s.steps
        return s.ema_d / correction, s.ema_g / correction

    def gradient_limit(self) -> float:
        """N(t): the norm G's gradient is clipped to this step (inf: no clipping)."""
        if self.policy != "damped" or self.state.steps == 0:
            return math.inf
        return self.settings.spike * math.exp(self.state.grad_level)

    def update(self, loss_d: float, loss_g: float, grad_norm_g: float = math.nan) -> LRScales:
        """Feed one step's adversarial losses and G's gradient norm before clipping (nan:
        unknown, e.g. an AMP step skipped on overflow); returns the scales for the next step."""
        if not (math.isfinite(loss_d) and math.isfinite(loss_g)):
            raise ValueError("the controller only accepts finite losses")
        s, p = self.state, self.settings
        first = s.steps == 0
        spike = self._track_gradient(grad_norm_g)
        s.steps += 1
        s.ema_d = p.beta * s.ema_d + (1 - p.beta) * loss_d
        s.ema_g = p.beta * s.ema_g + (1 - p.beta) * loss_g
        d_mean, g_mean = self.smoothed()
        d_eq, g_eq, d_win, g_win = REFERENCE_LOSSES[self.gan_mode]
        if self.policy == "damped":
            d_set = d_win + p.target * (d_eq - d_win)
            s.advantage = (d_set - d_mean) / (d_eq - d_win)
            self._integrate()
            if first:
                s.damping = p.damping_min
            else:
                self._track_variability(loss_d - s.prev_d, loss_g - s.prev_g, spike)
        else:
            s.advantage = 0.5 * (
                (g_mean - g_eq) / (g_win - g_eq) + (d_eq - d_mean) / (d_eq - d_win)
            )
        s.prev_d, s.prev_g = loss_d, loss_g
        return self.scales()

    def _ramp(self) -> float:
        warmup = self.settings.warmup
        return min(1.0, (self.state.steps - 1) / warmup) if warmup > 0 else 1.0

    def _integrate(self) -> None:
        """PI law. The integral starts at -ln(start) (D's rate starts low and D earns it), only
        stores D's lead (it stays >= 0) and is held where u just reaches its bound while D keeps
        leading, so it never winds up and lets go as soon as D falls back."""
        s, p = self.state, self.settings
        upper = 2 * math.log(p.max_scale)
        if s.steps == 1:
            s.integral = -math.log(p.start)
        rate = p.integral if s.advantage > 0 else p.integral * p.earn
        s.integral = max(0.0, s.integral + rate * s.advantage)
        proportional = self._ramp() * p.pi_gain * max(s.advantage, 0.0)
        raw = proportional + s.integral
        if raw > upper and s.advantage > 0:
            raw = upper
            s.integral = max(0.0, upper - proportional)
        s.control = min(max(raw, 0.0), upper)

    def _track_gradient(self, norm: float) -> bool:
        """Update h(t) with G's clipped gradient norm; whether the norm was a spike."""
        s, p = self.state, self.settings
        if self.policy != "damped" or not math.isfinite(norm) or norm <= 0:
            return False
        limit = self.gradient_limit()
        if s.steps == 0:
            s.grad_level = math.log(norm)
        else:
            s.grad_level += (1 - p.fast) * (math.log(min(norm, limit)) - s.grad_level)
        return norm > limit

    def _track_variability(self, jump_d: float, jump_g: float, spike: bool) -> None:
        """c starts at c_min and is released towards 1 while both losses vary no more than
        kappa times their long-horizon level and G's gradient norm shows no spike; a burst
        pulls it down five times as fast."""
        s, p = self.state, self.settings
        s.var_fast_d += (1 - p.fast) * (jump_d**2 - s.var_fast_d)
        s.var_slow_d += (1 - p.slow) * (jump_d**2 - s.var_slow_d)
        s.var_fast_g += (1 - p.fast) * (jump_g**2 - s.var_fast_g)
        s.var_slow_g += (1 - p.slow) * (jump_g**2 - s.var_slow_g)
        jumps = s.steps - 1  # both EMAs start at 0: divide by 1 - factor^jumps (no start bias)
        unbias = (1 - p.slow**jumps) / (1 - p.fast**jumps)
        burst = spike or any(
            unbias * fast > p.kappa**2 * slow
            for fast, slow in ((s.var_fast_d, s.var_slow_d), (s.var_fast_g, s.var_slow_g))
        )
        grow = (1 / p.damping_min) ** (1 / p.release)
        s.damping = max(s.damping / grow**5, p.damping_min) if burst else min(s.damping * grow, 1.0)

    def scales(self) -> LRScales:
        """Current multipliers of lr_G0 and lr_D0 (back-off included)."""
        s, p = self.state, self.settings
        if self.policy == "fixed" or s.steps == 0:
            return LRScales(s.backoff, s.backoff)
        if self.policy == "damped":
            return LRScales(s.backoff * s.damping, s.backoff * s.damping * math.exp(-s.control))
        log_bound = math.log(p.max_scale)
        ratio = math.exp(min(max(p.gain * self._ramp() * s.advantage, -log_bound), log_bound))
        return LRScales(s.backoff * ratio, s.backoff / ratio)

    def at_bound(self) -> bool:
        """Whether a correction sits at its limit (the ablation counts these steps): for damped,
        the set-point control at 2 ln m or the damping factor at its floor."""
        s, p = self.state, self.settings
        if self.policy == "fixed" or s.steps == 0:
            return False
        if self.policy == "damped":
            pinned = s.control >= 2 * math.log(p.max_scale) - 1e-9
            return pinned or s.damping <= p.damping_min + 1e-12
        return abs(p.gain * self._ramp() * s.advantage) >= math.log(p.max_scale)

    def back_off(self, factor: float) -> None:
        """Lower both rates for good, e.g. after a NaN/inf loss forced a restore."""
        self.state.backoff *= factor

    def state_dict(self) -> dict[str, float | int | str]:
        """Everything needed to continue exactly (plain scalars, checkpoint-safe)."""
        settings = {f"settings.{k}": v for k, v in dataclasses.asdict(self.settings).items()}
        return {
            "gan_mode": self.gan_mode,
            "policy": self.policy,
            **settings,
            **dataclasses.asdict(self.state),
        }

    def load_state_dict(self, state: dict[str, float | int | str]) -> None:
        """Restore from `state_dict()`; unknown keys are an error, not silently dropped.

        A checkpoint of the balance-only controller (before the policies had names) stored its
        settings at the top level and called its policy "adaptive"; it loads as `balance`."""
        state = dict(state)
        legacy = {k: state.pop(k) for k in ("beta", "gain", "max_scale", "warmup") if k in state}
        if legacy:
            state.update({f"settings.{k}": v for k, v in legacy.items()})
            state["policy"] = LEGACY_LR_POLICIES.get(str(state["policy"]), state["policy"])
        unknown = set(state) - set(self.state_dict())
        if unknown:
            raise KeyError(f"unexpected controller state keys: {sorted(unknown)}")
        settings = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("settings.")}
        self.settings = dataclasses.replace(self.settings, **settings)
        self.gan_mode = str(state.get("gan_mode", self.gan_mode))
        self.policy = str(state.get("policy", self.policy))
        fields = {f.name for f in dataclasses.fields(_State)}
        for key, value in state.items():
            if key in fields:
                setattr(self.state, key, value)
