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
from threadpoolctl import threadpool_limits

from hiddenunits import linear_autoencoder as lae
from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure
from hiddenunits.symmetry import chain_rule_residual, matrix_symbols, symbolic_zero

Grad = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def balancedness(A, B) -> np.ndarray:
    """D = A A^T - B^T B (k, k) for an encoder A (k, n) and a decoder B (n, k)."""
    A, B, _ = lae.check_factors(A, B)
    return A @ A.T - B.T @ B


def step_change(gA, gB, lr: float) -> np.ndarray:
    """The change of D in one gradient step of size lr: lr^2 (g_A g_A^T - g_B^T g_B)."""
    gA, gB, _ = lae.check_factors(gA, gB)
    return lr**2 * (gA @ gA.T - gB.T @ gB)


@claim("prop-gradient-orthogonal", chapter="basis",
       statement="grad L is orthogonal to the GL(k)-orbit: g_A A^T = B^T g_B",
       method="symbolic", tolerance=0.0)
def check_gradient_orthogonal() -> float:
    """Symbolic: chain rule (k = n = m = 2), then g_A A^T - B^T g_B = 0 for all sizes."""
    A, B, _, _, E = matrix_symbols()
    gA, gB = B.T * E, E * A.T
    return chain_rule_residual() + float(not symbolic_zero(gA * A.T - B.T * gB))


@claim("lem-balancedness-step", chapter="basis",
       statement="one GD step changes A A^T - B^T B by exactly eta^2 (g_A g_A^T - g_B^T g_B)",
       method="symbolic", tolerance=0.0)
def check_balancedness_step() -> float:
    """Symbolic for all sizes: D(A - eta g_A, B - eta g_B) - D(A, B) - eta^2 (...) = 0."""
    import sympy as sp

    A, B, _, _, E = matrix_symbols()
    eta = sp.symbols("eta")
    gA, gB = B.T * E, E * A.T
    A1, B1 = A - eta * gA, B - eta * gB
    residual = (A1 * A1.T - B1.T * B1) - (A * A.T - B.T * B) - eta**2 * (gA * gA.T - gB.T * gB)
    return chain_rule_residual() + float(not symbolic_zero(residual))


# ---------------------------------------------------------------- integrators
@dataclass(frozen=True)
class FlowSetup:
    """The autoencoder on the digits whose gradient flow we integrate up to time ``horizon``."""

    k: int = 4
    seed: int = 0
    init_scale: float = 1.0
    horizon: float = 10.0
    weight_decay: float = 0.0  # adds the gradient of (weight_decay / 2) ||theta||^2


def _gradient(setup: FlowSetup) -> Grad:
    C = lae.digits_covariance()
    wd = setup.weight_decay

    def grad(A, B):
        gA, gB = lae.grads_unchecked(A, B, C)
        return gA + wd * A, gB + wd * B

    return grad


def _start(setup: FlowSetup) -> tuple[np.ndarray, np.ndarray]:
    n = lae.digits_covariance().shape[0]
    return lae.init_factors(setup.k, n, setup.seed, "gaussian", setup.init_scale)


def _steps(setup: FlowSetup, h: float) -> int:
    if not (math.isfinite(h) and 0 < h <= setup.horizon):
        raise ValueError(f"step must lie in (0, horizon], got {h!r}")
    steps = round(setup.horizon / h)
    if abs(steps * h - setup.horizon) > 1e-9 * setup.horizon:
        raise ValueError(f"step {h} does not divide the horizon {setup.horizon}")
    return steps


def euler(setup: FlowSetup, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent with step h up to the horizon (the explicit Euler method)."""
    grad, (A, B) = _gradient(setup), _start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(_steps(setup, h)):
            gA, gB = grad(A, B)
            A, B = A - h * gA, B - h * gB
    return A, B


def rk4(setup: FlowSetup, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The classical fourth-order Runge-Kutta method for d theta/dt = -grad L(theta)."""
    grad, (A, B) = _gradient(setup), _start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(_steps(setup, h)):
            k1 = grad(A, B)
            k2 = grad(A - h / 2 * k1[0], B - h / 2 * k1[1])
            k3 = grad(A - h / 2 * k2[0], B - h / 2 * k2[1])
            k4 = grad(A - h * k3[0], B - h * k3[1])
            A = A - h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            B = B - h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return A, B


def midpoint(setup: FlowSetup, h: float, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The implicit midpoint rule theta' = theta - h grad L((theta + theta') / 2).

    Each step is solved by fixed-point iteration to round-off (a contraction for small h).
    """
    grad, (A, B) = _gradient(setup), _start(setup)
    with threadpool_limits(1, "blas"):
        for _ in range(_steps(setup, h)):
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


METHODS = {"gradient descent (Euler)": euler, "Runge-Kutta 4": rk4, "implicit midpoint": midpoint}


def drift(setup: FlowSetup, method: str, h: float) -> float:
    """||D(T) - D(0)||_F / ||D(0)||_F for one integrator and step h."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    return _drift(setup, method, float(h))


@lru_cache(maxsize=64)
def _drift(setup: FlowSetup, method: str, h: float) -> float:
    D0 = balancedness(*_start(setup))
    DT = balancedness(*METHODS[method](setup, h))
    return float(np.linalg.norm(DT - D0) / np.linalg.norm(D0))


STEPS = (0.4, 0.2, 0.1, 0.05, 0.025)


@lru_cache(maxsize=2)
def drift_table(setup: FlowSetup = FlowSetup()) -> dict[str, tuple[float, ...]]:
    """Relative drift of D at the horizon for every integrator and every step in STEPS."""
    # the fixed-point iteration of the midpoint rule stops contracting above h = 0.2
    return {m: tuple(math.nan if (m == "implicit midpoint" and h > 0.2) else drift(setup, m, h)
                     for h in STEPS) for m in METHODS}


def order(hs, errors) -> float:
    """Least-squares slope of log(error) against log(step): the observed order."""
    hs, errors = np.log(np.asarray(hs, float)), np.log(np.asarray(errors, float))
    if hs.shape != errors.shape or len(hs) < 2 or not np.all(np.isfinite(errors)):
        raise ValueError("need matching finite positive steps and errors")
    return float(np.polyfit(hs, errors, 1)[0])


@lru_cache(maxsize=1)
def step_identity_error(setup: FlowSetup = FlowSetup(), h: float = 0.1) -> float:
    """max over GD steps of ||D_{t+1} - D_t - h^2 (g_A g_A^T - g_B^T g_B)|| / ||D_t||."""
    grad, (A, B) = _gradient(setup), _start(setup)
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


@claim("thm-balancedness-flow", chapter="basis",
       statement="under gradient flow D = A A^T - B^T B is constant",
       method="numeric", tolerance=1e-11)
def check_balancedness_flow() -> float:
    """Relative change of D over t in [0, 10] by the implicit midpoint rule, h = 0.2."""
    # The midpoint rule changes a quadratic quantity by h times its flow derivative at the
    # midpoint, so it measures dD/dt directly, with no truncation error.  What remains is
    # round-off, about 1e-16 relative per step and per fixed-point solve, over 50 steps:
    # ~1e-14.  1e-11 leaves room for that; a flow with dD/dt != 0 (e.g. weight decay 0.01)
    # changes D by about 0.2.
    return drift(FlowSetup(), "implicit midpoint", 0.2)


@figure("basis")
def fig_balancedness_drift():
    """Drift of D at a fixed horizon against the step size, for three integrators."""
    table = drift_table()
    fig, ax = new_figure(height=3.4)
    styles = {"gradient descent (Euler)": ("vermillion", "o"), "Runge-Kutta 4": ("blue", "s"),
              "implicit midpoint": ("green", "^")}
    for method, values in table.items():
        color, marker = styles[method]
        ax.loglog(STEPS, np.maximum(values, 1e-17), color=COLORS[color], marker=marker,
                  label=method)  # NaN entries (not computed) are left out of the line
    hs = np.array(STEPS)
    e0 = table["gradient descent (Euler)"][-1]
    ax.loglog(hs, e0 * hs / hs[-1], color=COLORS["grey"], ls=":", lw=1, label="slope 1")
    r0 = table["Runge-Kutta 4"][0]
    ax.loglog(hs, r0 * (hs / hs[0]) ** 4, color=COLORS["grey"], ls="--", lw=1,
              label="slope 4")
    ax.set_xlabel(r"step size $\eta$ (or $h$)")
    ax.set_ylabel(r"$\|D(T) - D(0)\|_F \,/\, \|D(0)\|_F$")
    ax.legend(fontsize=8)
    return fig
