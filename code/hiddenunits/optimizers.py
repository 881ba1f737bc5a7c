"""First-order optimisers written out in float64 numpy: GD, heavy ball, Nesterov, Adam.

Each optimiser acts on a tuple of arrays ``theta`` and asks a gradient function
``grad_fn(theta, t)`` for the gradient of the step-``t`` loss (a minibatch, a dropout
mask, or the full loss).  The code is written out so that every arithmetic operation of
an update is visible: the equivariance theorem of chapter 1 is a statement about exactly
these operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Params = tuple[np.ndarray, ...]
GradFn = Callable[[Params, int], Params]

METHODS = ("gd", "heavy_ball", "nesterov", "adam")


@dataclass(frozen=True)
class Optimizer:
    """Settings of one first-order method.

    ``gd``: theta <- theta - lr g.
    ``heavy_ball`` (Polyak): v <- momentum v + g; theta <- theta - lr v.
    ``nesterov``: v <- momentum v - lr g(theta + momentum v); theta <- theta + v.
    ``adam`` (Kingma & Ba): bias-corrected first and second moments, per coordinate.
    ``weight_decay`` adds the gradient of (weight_decay / 2) ||theta||^2 (an L2 penalty),
    ``l1`` adds the subgradient l1 sign(theta) of l1 ||theta||_1.
    """

    method: str = "gd"
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0
    l1: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        values = (self.lr, self.momentum, self.weight_decay, self.l1, self.beta1, self.beta2,
                  self.eps)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError(f"optimizer settings must be finite numbers: {self}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.momentum < 1 or not 0 <= self.beta1 < 1 or not 0 <= self.beta2 < 1:
            raise ValueError(f"momentum, beta1 and beta2 must lie in [0, 1): {self}")
        if self.weight_decay < 0 or self.l1 < 0 or self.eps <= 0:
            raise ValueError(f"penalties must be >= 0 and eps > 0: {self}")


def check_params(theta: Sequence[np.ndarray]) -> Params:
    """Validate a parameter tuple: float arrays, all finite; returns float64 copies."""
    if len(theta) == 0:
        raise ValueError("theta must hold at least one array")
    out = []
    for p in theta:
        a = np.array(p, dtype=np.float64)
        if a.ndim == 0 or not np.all(np.isfinite(a)):
            raise ValueError("every parameter must be a finite array with at least one axis")
        out.append(a)
    return tuple(out)


def penalised(opt: Optimizer, theta: Params, grads: Params) -> Params:
    """The gradient of the loss plus the L2 and L1 penalties of ``opt`` at ``theta``."""
    return tuple(g + opt.weight_decay * p + opt.l1 * np.sign(p)
                 for p, g in zip(theta, grads, strict=True))


def run(opt: Optimizer, theta0: Sequence[np.ndarray], grad_fn: GradFn,
        steps: int) -> list[Params]:
    """The trajectory theta_0, ..., theta_steps of ``opt`` started at ``theta0``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    theta = check_params(theta0)
    traj = [theta]
    state = tuple(np.zeros_like(p) for p in theta)  # velocity, or Adam's first moment
    second = tuple(np.zeros_like(p) for p in theta)  # Adam's second moment
    for t in range(steps):
        if opt.method == "nesterov":
            look = tuple(p + opt.momentum * v for p, v in zip(theta, state, strict=True))
            g = penalised(opt, look, grad_fn(look, t))
            state = tuple(opt.momentum * v - opt.lr * gi for v, gi in zip(state, g, strict=True))
            theta = tuple(p + v for p, v in zip(theta, state, strict=True))
        else:
            g = penalised(opt, theta, grad_fn(theta, t))
            if opt.method == "gd":
                theta = tuple(p - opt.lr * gi for p, gi in zip(theta, g, strict=True))
            elif opt.method == "heavy_ball":
                state = tuple(opt.momentum * v + gi for v, gi in zip(state, g, strict=True))
                theta = tuple(p - opt.lr * v for p, v in zip(theta, state, strict=True))
            else:  # adam: per-coordinate scaling by the root of the second moment
                b1, b2 = opt.beta1, opt.beta2
                state = tuple(b1 * m + (1 - b1) * gi for m, gi in zip(state, g, strict=True))
                second = tuple(b2 * s + (1 - b2) * gi * gi
                               for s, gi in zip(second, g, strict=True))
                c1, c2 = 1 - b1 ** (t + 1), 1 - b2 ** (t + 1)
                theta = tuple(p - opt.lr * (m / c1) / (np.sqrt(s / c2) + opt.eps)
                              for p, m, s in zip(theta, state, second, strict=True))
        traj.append(theta)
    return traj
