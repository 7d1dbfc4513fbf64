"""The adaptive learning-rate controller: it keeps the generator and discriminator in balance.

Adversarial training oscillates when one player gets ahead: a discriminator that wins sends
the generator vanishing or erratic gradients, a generator that wins makes the discriminator
chase it. The controller reads both adversarial losses every step and moves the two learning
rates in opposite directions, slowing whichever player leads.

Formula (step t, after both optimizers stepped with the current rates):

    Dbar(t) = beta * Dbar(t-1) + (1 - beta) * L_D(t)      EMA of the D loss, divided by
    Gbar(t) = beta * Gbar(t-1) + (1 - beta) * L_G(t)      (1 - beta^t) to remove the start bias

    a(t) = 0.5 * [ (Gbar - G_eq) / (G_win - G_eq) + (D_eq - Dbar) / (D_eq - D_win) ]

    s(t) = clip(exp(k * r(t) * a(t)), 1/m, m)             r(t) = min(1, (t - 1) / warmup)

    lr_G(t+1) = lr_G0 * b * s(t)        lr_D(t+1) = lr_D0 * b / s(t)

L_D is the discriminator's adversarial loss (real + fake terms) and L_G the generator's
adversarial loss. (D_eq, G_eq) are their values at equilibrium, where D scores real and fake
alike (hinge: 2 and 0; LSGAN: 0.5 and 0.25); (D_win, G_win) their values when D wins outright
(hinge: 0 and 1; LSGAN: 0 and 1). So the discriminator advantage a is 0 at equilibrium, about 1
when D wins and negative when G fools D. k is `gain`, m is `max_scale`, beta is `beta`; r
ramps the gain in over the first `warmup` steps, so the rates move smoothly instead of jumping
when the controller starts; lr_D0 / lr_G0 is the TTUR base ratio; b is a back-off factor, 1
until a NaN/inf recovery multiplies it by `nan_backoff`.

When the discriminator is winning (a > 0): s > 1, so lr_G rises and lr_D falls; the reverse
when the generator is winning. Both rates stay within [base/m, base*m] * b. The controller is pure
arithmetic on floats, deterministic, and its whole state round-trips through `state_dict()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


class AdaptiveLRController:
    """Balance controller; `policy="fixed"` keeps both scales at the back-off factor."""

    def __init__(
        self,
        gan_mode: str = "hinge",
        beta: float = 0.98,
        gain: float = 1.5,
        max_scale: float = 4.0,
        warmup: int = 50,
        policy: str = "adaptive",
    ) -> None:
        if gan_mode not in REFERENCE_LOSSES:
            raise ValueError(f"gan_mode must be one of {', '.join(REFERENCE_LOSSES)}")
        self.gan_mode = gan_mode
        self.beta = beta
        self.gain = gain
        self.max_scale = max_scale
        self.warmup = warmup
        self.policy = policy
        self.steps = 0
        self.ema_d = 0.0
        self.ema_g = 0.0
        self.backoff = 1.0
        self.advantage = 0.0

    def smoothed(self) -> tuple[float, float]:
        """Bias-corrected EMA of (L_D, L_G); the raw losses before any update."""
        if self.steps == 0:
            return 0.0, 0.0
        correction = 1 - self.beta**self.steps
        return self.ema_d / correction, self.ema_g / correction

    def update(self, loss_d: float, loss_g: float) -> LRScales:
        """Feed one step's adversarial losses; returns the scales for the next step."""
        if not (math.isfinite(loss_d) and math.isfinite(loss_g)):
            raise ValueError("the controller only accepts finite losses")
        self.steps += 1
        self.ema_d = self.beta * self.ema_d + (1 - self.beta) * loss_d
        self.ema_g = self.beta * self.ema_g + (1 - self.beta) * loss_g
        d_mean, g_mean = self.smoothed()
        d_eq, g_eq, d_win, g_win = REFERENCE_LOSSES[self.gan_mode]
        self.advantage = 0.5 * ((g_mean - g_eq) / (g_win - g_eq) + (d_eq - d_mean) / (d_eq - d_win))
        return self.scales()

    def scales(self) -> LRScales:
        """Current multipliers of lr_G0 and lr_D0 (back-off included)."""
        if self.policy == "fixed" or self.steps == 0:
            return LRScales(self.backoff, self.backoff)
        ramp = min(1.0, (self.steps - 1) / self.warmup) if self.warmup > 0 else 1.0
        log_bound = math.log(self.max_scale)
        s = math.exp(min(max(self.gain * ramp * self.advantage, -log_bound), log_bound))
        return LRScales(self.backoff * s, self.backoff / s)

    def back_off(self, factor: float) -> None:
        """Lower both rates for good, e.g. after a NaN/inf loss forced a restore."""
        self.backoff *= factor

    def state_dict(self) -> dict[str, float | int | str]:
        """Everything needed to continue exactly (plain scalars, checkpoint-safe)."""
        return {
            "gan_mode": self.gan_mode,
            "beta": self.beta,
            "gain": self.gain,
            "max_scale": self.max_scale,
            "warmup": self.warmup,
            "policy": self.policy,
            "steps": self.steps,
            "ema_d": self.ema_d,
            "ema_g": self.ema_g,
            "backoff": self.backoff,
            "advantage": self.advantage,
        }

    def load_state_dict(self, state: dict[str, float | int | str]) -> None:
        """Restore from `state_dict()`; unknown keys are an error, not silently dropped."""
        unknown = set(state) - set(self.state_dict())
        if unknown:
            raise KeyError(f"unexpected controller state keys: {sorted(unknown)}")
        for key, value in state.items():
            setattr(self, key, value)
