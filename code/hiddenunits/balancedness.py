"""What gradient training conserves: the balancedness D = A A^T - B^T B of a linear layer.

For L(A, B) = l(B A) the gradient satisfies g_A A^T = B^T g_B (it is orthogonal to the
GL(k)-orbit).  Under gradient flow this makes D constant; a gradient-descent step of size
eta changes it by exactly eta^2 (g_A g_A^T - g_B^T g_B).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from hiddenunits import linear_autoencoder as lae
from hiddenunits.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_seed,
)

Grad = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _factors(names: tuple[str, str], A: ArrayLike, B: ArrayLike
             ) -> tuple[np.ndarray, np.ndarray]:
    """A (k, n) and B (m, k), validated (the hidden size k must agree)."""
    A = check_array(names[0], A, ndim=2)
    return A, check_array(names[1], B, shape=(None, A.shape[0]))


def balancedness(A: ArrayLike, B: ArrayLike) -> np.ndarray:
    """D = A A^T - B^T B (k, k) for an encoder A (k, n) and a decoder B (m, k)."""
    A, B = _factors(("A", "B"), A, B)
    return A @ A.T - B.T @ B


def step_change(gA: ArrayLike, gB: ArrayLike, lr: float) -> np.ndarray:
    """The change of D in one gradient step of size lr: lr^2 (g_A g_A^T - g_B^T g_B)."""
    gA, gB = _factors(("gA", "gB"), gA, gB)
    lr = check_real("lr", lr, low=0.0, low_open=True)
    return lr**2 * (gA @ gA.T - gB.T @ gB)


# ---------------------------------------------------------------- integrators
@dataclass(frozen=True)
class FlowSetup:
    """The autoencoder on the digits whose gradient flow we integrate up to time ``horizon``."""

    k: int = 4
    """Hidden units (1 <= k < 64)."""
    seed: int = 0
    """Seed of the Gaussian initial factors (see
    :func:`~hiddenunits.linear_autoencoder.init_factors`)."""
    init_scale: float = 1.0
    """Multiplies PyTorch's initial scale (> 0)."""
    horizon: float = 10.0
    """The flow is integrated over [0, horizon] (> 0)."""
    weight_decay: float = 0.0
    """Adds the gradient of (weight_decay / 2) ||theta||^2 to the flow (>= 0)."""

    def __post_init__(self):
        check_int("k", self.k, minimum=1, maximum=63)
        check_seed(self.seed)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        check_real("horizon", self.horizon, low=0.0, low_open=True)
        check_real("weight_decay", self.weight_decay, low=0.0)


def _check_setup(setup: FlowSetup) -> FlowSetup:
    if not isinstance(setup, FlowSetup):
        raise ValueError(f"setup must be a FlowSetup, got {type(setup).__name__}")
    return setup


def _gradient(setup: FlowSetup) -> Grad:
    C = lae.digits_covariance()
    wd = setup.weight_decay

    def grad(A, B):
        gA, gB = lae.grads_unchecked(A, B, C)
        return gA + wd * A, gB + wd * B

    return grad


def start(setup: FlowSetup) -> tuple[np.ndarray, np.ndarray]:
    """The initial point (A_0 (k, 64), B_0 (64, k)) of the flow: Gaussian, PyTorch's variance."""
    setup = _check_setup(setup)
    n = lae.digits_covariance().shape[0]
    return lae.init_factors(setup.k, n, setup.seed, "gaussian", setup.init_scale)


def _steps(setup: FlowSetup, h: float) -> int:
    h = check_real("h", h, low=0.0, high=_check_setup(setup).horizon, low_open=True)
    steps = round(setup.horizon / h)
    if abs(steps * h - setup.horizon) > 1e-9 * setup.horizon:
        raise ValueError(f"step {h} does not divide the horizon {setup.horizon}")
    return steps


def euler(setup: FlowSetup, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent with step h up to the horizon (the explicit Euler method)."""
    steps = _steps(setup, h)
    grad, (A, B) = _gradient(setup), start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(steps):
            gA, gB = grad(A, B)
            A, B = A - h * gA, B - h * gB
    return A, B


def rk4(setup: FlowSetup, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The classical fourth-order Runge-Kutta method for d theta/dt = -grad L(theta)."""
    steps = _steps(setup, h)
    grad, (A, B) = _gradient(setup), start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(steps):
            k1 = grad(A, B)
            k2 = grad(A - h / 2 * k1[0], B - h / 2 * k1[1])
            k3 = grad(A - h / 2 * k2[0], B - h / 2 * k2[1])
            k4 = grad(A - h * k3[0], B - h * k3[1])
            A = A - h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            B = B - h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return A, B


def midpoint(setup: FlowSetup, h: float, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The implicit midpoint rule theta' = theta - h grad L((theta + theta') / 2).

    Each step is solved by fixed-point iteration to round-off (a contraction for small h);
    ``RuntimeError`` if ``max_iter`` iterations do not get there.
    """
    steps = _steps(setup, h)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    grad, (A, B) = _gradient(setup), start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(steps):
            A1, B1 = A, B
            last = math.inf
            for _ in range(max_iter):
                gA, gB = grad((A + A1) / 2, (B + B1) / 2)
                A2, B2 = A - h * gA, B - h * gB
                change = max(np.abs(A2 - A1).max(), np.abs(B2 - B1).max())
                A1, B1 = A2, B2
                scale = max(np.abs(A1).max(), np.abs(B1).max())
                # stop at round-off: tiny, or no longer shrinking once near round-off
                if change <= 1e-16 * scale or (change >= last and change <= 1e-13 * scale):
                    break
                last = change
            else:
                raise RuntimeError("the implicit midpoint iteration did not converge")
            A, B = A1, B1
    return A, B


INTEGRATORS: dict[str, Callable[[FlowSetup, float], tuple[np.ndarray, np.ndarray]]] = {
    "gradient descent (Euler)": euler, "Runge-Kutta 4": rk4, "implicit midpoint": midpoint}
"""The integrators of the gradient flow, by name."""


def drift(setup: FlowSetup, integrator: str, h: float) -> float:
    """||D(T) - D(0)||_F / ||D(0)||_F for one integrator and step h.

    ``integrator`` is one of ``"gradient descent (Euler)"``, ``"Runge-Kutta 4"``,
    ``"implicit midpoint"``.
    """
    check_choice("integrator", integrator, INTEGRATORS)
    _steps(setup, h)
    return _drift(setup, integrator, float(h))


@lru_cache(maxsize=64)
def _drift(setup: FlowSetup, integrator: str, h: float) -> float:
    D0 = balancedness(*start(setup))
    DT = balancedness(*INTEGRATORS[integrator](setup, h))
    return float(np.linalg.norm(DT - D0) / np.linalg.norm(D0))


STEPS = (0.4, 0.2, 0.1, 0.05, 0.025)
"""The step sizes of :func:`drift_table`."""


def drift_table(setup: FlowSetup = FlowSetup()) -> dict[str, tuple[float, ...]]:
    """Relative drift of D at the horizon for every integrator and every step in STEPS.

    The midpoint rule is not run above h = 0.2, where its fixed-point iteration stops
    contracting (NaN entries).
    """
    return dict(_drift_table(_check_setup(setup)))


@lru_cache(maxsize=2)
def _drift_table(setup: FlowSetup) -> dict[str, tuple[float, ...]]:
    return {m: tuple(math.nan if (m == "implicit midpoint" and h > 0.2) else drift(setup, m, h)
                     for h in STEPS) for m in INTEGRATORS}


def order(hs: ArrayLike, errors: ArrayLike) -> float:
    """Least-squares slope of log(error) against log(step): the observed order."""
    hs = check_array("hs", hs, ndim=1)
    errors = check_array("errors", errors, shape=hs.shape)
    if len(hs) < 2 or np.any(hs <= 0) or np.any(errors <= 0):
        raise ValueError("need at least two positive steps and positive errors")
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def step_identity_error(setup: FlowSetup = FlowSetup(), h: float = 0.1) -> float:
    """max over GD steps of ||D_{t+1} - D_t - h^2 (g_A g_A^T - g_B^T g_B)|| / ||D_t||."""
    _steps(setup, h)
    return _step_identity_error(setup, float(h))


@lru_cache(maxsize=1)
def _step_identity_error(setup: FlowSetup, h: float) -> float:
    grad, (A, B) = _gradient(setup), start(setup)
    worst = 0.0
    for _ in range(_steps(setup, h)):
        gA, gB = grad(A, B)
        A1, B1 = A - h * gA, B - h * gB
        dD = (A1 @ A1.T - B1.T @ B1) - (A @ A.T - B.T @ B)
        pred = h**2 * (gA @ gA.T - gB.T @ gB)
        scale = np.linalg.norm(A @ A.T - B.T @ B)  # round-off is relative to D itself
        worst = max(worst, float(np.linalg.norm(dD - pred) / scale))
        A, B = A1, B1
    return worst
