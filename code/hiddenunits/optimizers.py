"""First-order optimisers in float64 numpy: GD, heavy ball, Nesterov, RMSProp, Adagrad, Adam.

Each optimiser acts on a tuple of arrays ``theta`` and asks a gradient function
``grad_fn(theta, t)`` for the gradient of the step-``t`` loss (a minibatch, a dropout
mask, or the full loss).  The code is written out so that every arithmetic operation of
an update is visible: trajectory equivariance is a statement about exactly these
operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hiddenunits.validation import check_array, check_choice, check_int, check_real

Params = tuple[np.ndarray, ...]
GradFn = Callable[[Params, int], Params]

METHODS = ("gd", "heavy_ball", "nesterov", "rmsprop", "adagrad", "adam")


@dataclass(frozen=True)
class Optimizer:
    """Settings of one first-order method (``method`` is one of ``METHODS``).

    ``gd``: theta <- theta - lr g.
    ``heavy_ball`` (Polyak): v <- momentum v + g; theta <- theta - lr v.
    ``nesterov``: v <- momentum v - lr g(theta + momentum v); theta <- theta + v.
    ``rmsprop`` (Tieleman & Hinton): s <- beta2 s + (1 - beta2) g^2;
    theta <- theta - lr g / (sqrt(s) + eps), per coordinate.
    ``adagrad`` (Duchi, Hazan & Singer): s <- s + g^2; theta <- theta - lr g / (sqrt(s) + eps).
    ``adam`` (Kingma & Ba): bias-corrected first and second moments, per coordinate.
    ``weight_decay`` adds the gradient of (weight_decay / 2) ||theta||^2 (an L2 penalty),
    ``l1`` adds the subgradient l1 sign(theta) of l1 ||theta||_1.
    """

    method: str = "gd"
    """One of ``METHODS``: ``gd``, ``heavy_ball``, ``nesterov``, ``rmsprop``, ``adagrad``,
    ``adam``."""
    lr: float = 0.1
    """Step size (> 0)."""
    momentum: float = 0.0
    """Momentum of ``heavy_ball`` and ``nesterov``, in [0, 1)."""
    weight_decay: float = 0.0
    """Coefficient of the L2 penalty (>= 0)."""
    l1: float = 0.0
    """Coefficient of the L1 penalty (>= 0)."""
    beta1: float = 0.9
    """Adam's decay of the first moment, in [0, 1)."""
    beta2: float = 0.999
    """Decay of the second moment (Adam, RMSProp), in [0, 1)."""
    eps: float = 1e-8
    """Added to the root of the second moment (> 0)."""

    def __post_init__(self):
        check_choice("method", self.method, METHODS)
        check_real("lr", self.lr, low=0.0, low_open=True)
        for name in ("momentum", "beta1", "beta2"):
            check_real(name, getattr(self, name), low=0.0, high=1.0, high_open=True)
        check_real("weight_decay", self.weight_decay, low=0.0)
        check_real("l1", self.l1, low=0.0)
        check_real("eps", self.eps, low=0.0, low_open=True)


def check_params(theta: Sequence[ArrayLike]) -> Params:
    """A parameter tuple as float64 copies: at least one finite array, each with an axis."""
    if isinstance(theta, str | bytes) or not isinstance(theta, Sequence) or len(theta) == 0:
        raise ValueError("theta must be a non-empty sequence of arrays")
    out = []
    for i, p in enumerate(theta):
        a = check_array(f"theta[{i}]", p)
        if a.ndim == 0:
            raise ValueError(f"theta[{i}] must have at least one axis")
        out.append(a.copy())
    return tuple(out)


def _penalised(opt: Optimizer, theta: Params, grads: Params) -> Params:
    """The gradient of the loss plus the L2 and L1 penalties of ``opt`` at ``theta``."""
    return tuple(g + opt.weight_decay * p + opt.l1 * np.sign(p)
                 for p, g in zip(theta, grads, strict=True))


def run(opt: Optimizer, theta0: Sequence[ArrayLike], grad_fn: GradFn,
        steps: int) -> list[Params]:
    """The trajectory theta_0, ..., theta_steps of ``opt`` started at ``theta0``.

    ``grad_fn(theta, t)`` returns the gradient of the step-``t`` loss at ``theta`` (a
    tuple shaped like ``theta``).
    """
    if not isinstance(opt, Optimizer):
        raise ValueError(f"opt must be an Optimizer, got {type(opt).__name__}")
    if not callable(grad_fn):
        raise ValueError("grad_fn must be callable as grad_fn(theta, t)")
    steps = check_int("steps", steps, minimum=0)
    theta = check_params(theta0)
    traj = [theta]
    state = tuple(np.zeros_like(p) for p in theta)  # velocity, or Adam's first moment
    second = tuple(np.zeros_like(p) for p in theta)  # second moment (RMSProp, Adagrad, Adam)
    for t in range(steps):
        if opt.method == "nesterov":
            look = tuple(p + opt.momentum * v for p, v in zip(theta, state, strict=True))
            g = _penalised(opt, look, grad_fn(look, t))
            state = tuple(opt.momentum * v - opt.lr * gi for v, gi in zip(state, g, strict=True))
            theta = tuple(p + v for p, v in zip(theta, state, strict=True))
        else:
            g = _penalised(opt, theta, grad_fn(theta, t))
            if opt.method == "gd":
                theta = tuple(p - opt.lr * gi for p, gi in zip(theta, g, strict=True))
            elif opt.method == "heavy_ball":
                state = tuple(opt.momentum * v + gi for v, gi in zip(state, g, strict=True))
                theta = tuple(p - opt.lr * v for p, v in zip(theta, state, strict=True))
            elif opt.method == "rmsprop":  # per-coordinate scaling, no momentum
                b2 = opt.beta2
                second = tuple(b2 * s + (1 - b2) * gi * gi
                               for s, gi in zip(second, g, strict=True))
                theta = tuple(p - opt.lr * gi / (np.sqrt(s) + opt.eps)
                              for p, gi, s in zip(theta, g, second, strict=True))
            elif opt.method == "adagrad":  # per-coordinate scaling by the summed squares
                second = tuple(s + gi * gi for s, gi in zip(second, g, strict=True))
                theta = tuple(p - opt.lr * gi / (np.sqrt(s) + opt.eps)
                              for p, gi, s in zip(theta, g, second, strict=True))
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
