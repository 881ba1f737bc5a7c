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


IDENTITY_STEP = 0.1
"""Step of the book's test of the one-step identity (:func:`step_identity_error`)."""


def step_identity_error(setup: FlowSetup = FlowSetup(), h: float = IDENTITY_STEP) -> float:
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


# ---------------------------------------------------------------- what D = 0 makes meaningful
def hidden_spectrum(A: ArrayLike, C: ArrayLike) -> np.ndarray:
    """Eigenvalues of the hidden units' covariance A C A^T (k, k), descending.

    They change under a change of hidden basis G (to those of G A C A^T G^T), unless G is
    orthogonal.
    """
    A = check_array("A", A, ndim=2)
    C = check_array("C", C, shape=(A.shape[1], A.shape[1]))
    return np.linalg.eigvalsh(A @ C @ A.T)[::-1].copy()


def output_spectrum(A: ArrayLike, B: ArrayLike, C: ArrayLike) -> np.ndarray:
    """The k largest eigenvalues of the reconstructions' covariance (BA) C (BA)^T, descending.

    They depend on (A, B) only through B A, so no change of hidden basis changes them.
    """
    A, B = _factors(("A", "B"), A, B)
    W = B @ A
    C = check_array("C", C, shape=(W.shape[1], W.shape[1]))
    return np.linalg.eigvalsh(W @ C @ W.T)[::-1][:len(A)].copy()


@dataclass(frozen=True)
class SpectrumRun:
    """Balancedness and spectra at the end of one training run of the digits autoencoder."""

    spec: lae.TrainSpec
    """The run."""
    balancedness: float
    """||D||_F / ||A A^T||_F at the end."""
    hidden_error: float
    """max_i |mu_i / (lambda_i - gamma_i) - 1| for the hidden spectrum mu (gamma: decays)."""
    output_error: float
    """max_i |nu_i / ((1 - gamma_i / lambda_i)^2 lambda_i) - 1| for the output spectrum nu
    (at the minimiser with penalties gamma_i, B A shrinks u_i by 1 - gamma_i / lambda_i)."""
    loss_gap: float
    """L - min L at the end."""


SPECTRUM_RUNS = {
    "small initialisation": lae.TrainSpec(),
    "PyTorch's scale": lae.TrainSpec(init_scale=1.0),
    "PyTorch's scale, weight decay": lae.TrainSpec(init_scale=1.0, weight_decay=0.05),
}
"""The runs of :func:`spectrum_run` that the book reports, by name."""


def spectrum_run(spec: lae.TrainSpec) -> SpectrumRun:
    """Train ``spec`` on the digits and compare its hidden and output spectra with PCA."""
    if not isinstance(spec, lae.TrainSpec):
        raise ValueError(f"spec must be a TrainSpec, got {type(spec).__name__}")
    return _spectrum_run(spec)


@lru_cache(maxsize=8)
def _spectrum_run(spec: lae.TrainSpec) -> SpectrumRun:
    C = lae.digits_covariance()
    lam, _ = lae.pca(C)
    A, B, losses = lae.train(spec)
    k = spec.k
    hidden = hidden_spectrum(A, C)
    output = output_spectrum(A, B, C)
    gamma = np.sort(spec.decays)  # the smallest penalty goes with the largest eigenvalue
    shrink = 1 - gamma / lam[:k]
    return SpectrumRun(
        spec, float(np.linalg.norm(balancedness(A, B)) / np.linalg.norm(A @ A.T)),
        float(np.abs(hidden / (lam[:k] - gamma) - 1).max()),
        float(np.abs(output / (shrink**2 * lam[:k]) - 1).max()),
        float(losses[-1] - lae.optimal_loss(C, k)))


# ---------------------------------------------------------------- weight decay
@dataclass(frozen=True)
class DecayRun:
    """What an L2 penalty leaves of the symmetry, at the end of one run (k = 4, digits)."""

    spec: lae.TrainSpec
    """The run."""
    transpose_gap: float
    """||A - B^T||_F / ||A||_F."""
    singular_error: float
    """max_i |s_i / sqrt(1 - gamma_i / lambda_i) - 1| for the singular values s of B."""
    direction_error: float
    """max_i (1 - |<u^_i, u_i>|) for the left singular vectors u^_i of B (decreasing s_i)."""
    unit_pc: float
    """best_match of the hidden units against the principal component scores."""


DECAY_RUNS = {
    "uniform decay": lae.TrainSpec(init_scale=1.0, weight_decay=0.05),
    "per-unit decay": lae.TrainSpec(init_scale=1.0, weight_decay=(0.02, 0.04, 0.06, 0.08)),
    "per-unit decay, longer": lae.TrainSpec(init_scale=1.0, steps=10000,
                                            weight_decay=(0.02, 0.04, 0.06, 0.08)),
}
"""The weight-decay runs that the book reports, by name: the same penalty gamma on every
unit (Kunin et al.), and increasing penalties per unit (Bao et al.), for 1500 and 10000
steps."""


def decay_run(spec: lae.TrainSpec) -> DecayRun:
    """Train ``spec`` and measure A = B^T, the SVD of B against PCA, and the units against PCA.

    The singular values are compared with sqrt(1 - gamma_i / lambda_i), the decoder's
    singular values at the minimiser (P W^1/2 U_k^T, U_k W^1/2 P^T), W = I - Gamma Lambda_k^-1,
    of the uniform penalty (sorted, for per-unit penalties in increasing order).
    """
    if not isinstance(spec, lae.TrainSpec):
        raise ValueError(f"spec must be a TrainSpec, got {type(spec).__name__}")
    return _decay_run(spec)


@lru_cache(maxsize=8)
def _decay_run(spec: lae.TrainSpec) -> DecayRun:
    C = lae.digits_covariance()
    lam, U = lae.pca(C)
    A, B, _ = lae.train(spec)
    k = spec.k
    V, s, _ = np.linalg.svd(B, full_matrices=False)
    expected = np.sort(np.sqrt(1 - np.sort(spec.decays) / lam[:k]))[::-1]
    return DecayRun(
        spec, float(np.linalg.norm(A - B.T) / np.linalg.norm(A)),
        float(np.abs(s / expected - 1).max()),
        float((1 - np.abs(np.sum(V * U[:, :k], axis=0))).max()),
        lae.best_match(lae.unit_component_correlations(A, C, k)))
