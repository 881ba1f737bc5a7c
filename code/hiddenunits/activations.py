"""Activation functions phi, their derivatives phi', and the measured properties of each.

The eight functions are those of :data:`hiddenunits.nets.ACTIVATIONS` with the same
parameters (leaky slope 0.01, ELU alpha = 1, exact erf-GELU, softplus beta = 1), written
here in float64 numpy so that their properties can be computed to high accuracy.  The
valid names are ``NAMES``: ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``,
``"softplus"``, ``"elu"``, ``"gelu"``, ``"silu"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.laguerre import laggauss
from numpy.typing import ArrayLike
from scipy import linalg, optimize, special

from hiddenunits.nets import ACTIVATIONS, torch_generator
from hiddenunits.threads import limited_threads
from hiddenunits.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    scalar_or_array,
)

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "gelu", "silu")
"""The activations of this module, in the book's order."""
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
          "softplus": "softplus", "elu": "ELU", "gelu": "GELU", "silu": "SiLU"}
"""Plain-text names for tables and legends."""
LEAKY_SLOPE = 0.01
"""The leaky ReLU's slope on the left, as in ``nets.ACTIVATIONS``."""

# Piecewise activations: (phi on t < 0, phi on t > 0), each an analytic function on the
# whole line.  Their only kink is at 0, which Gaussian quadrature must not straddle.
_BRANCHES: dict[str, tuple[Callable[[np.ndarray], np.ndarray],
                           Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (np.zeros_like, np.positive),
    "leaky_relu": (lambda t: LEAKY_SLOPE * t, np.positive),
    "elu": (np.expm1, np.positive),
}


def _name(name: str) -> str:
    return check_choice("name", name, NAMES)


def _values(t: ArrayLike) -> np.ndarray:
    return check_array("t", t, nonempty=False)


def _phi(name: str, t: np.ndarray) -> np.ndarray:
    if name in _BRANCHES:
        left, right = _BRANCHES[name]
        return np.where(t > 0, right(np.maximum(t, 0.0)), left(np.minimum(t, 0.0)))
    match name:
        case "sigmoid":
            return special.expit(t)
        case "tanh":
            return np.tanh(t)
        case "softplus":
            return np.logaddexp(0.0, t)  # log(1 + e^t) without overflow
        case "gelu":
            return t * special.ndtr(t)  # t * Phi(t)
        case _:  # silu
            return t * special.expit(t)


def phi(name: str, t: ArrayLike) -> float | np.ndarray:
    """The activation phi(t), elementwise, in float64 (``name`` one of ``NAMES``)."""
    return scalar_or_array(_phi(_name(name), _values(t)), t)


def dphi(name: str, t: ArrayLike) -> float | np.ndarray:
    """The derivative phi'(t) (``name`` one of ``NAMES``); at a kink, autograd's value.

    ReLU and leaky ReLU take their left derivative at 0 (0 and the slope), as PyTorch's
    autograd does.
    """
    x = _values(t)
    match _name(name):
        case "sigmoid":
            s = special.expit(x)
            d = s * (1.0 - s)
        case "tanh":
            d = 1.0 - np.tanh(x) ** 2
        case "relu":
            d = (x > 0).astype(np.float64)
        case "leaky_relu":
            d = np.where(x > 0, 1.0, LEAKY_SLOPE)
        case "softplus":
            d = special.expit(x)
        case "elu":
            d = np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))
        case "gelu":
            d = special.ndtr(x) + x * np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        case _:  # silu
            s = special.expit(x)
            d = s * (1.0 + x * (1.0 - s))
    return scalar_or_array(d, t)


def torch_activation(name: str) -> torch.nn.Module:
    """The PyTorch module of ``name`` (one of ``NAMES``) that ``nets.make_mlp`` uses."""
    return ACTIVATIONS[_name(name)]()


def autograd_derivative(name: str, t: ArrayLike) -> float | np.ndarray:
    """phi'(t) computed by PyTorch's autograd in float64 (an independent reference)."""
    module = torch_activation(name)
    x = torch.tensor(_values(t), dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(module(x).sum(), x)
    return scalar_or_array(g.numpy(), t)


# ---------------------------------------------------------------------------------------
# Gaussian expectations.
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _hermite_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = hermegauss(n)  # probabilists' Gauss-Hermite: exact for degree < 2n
    w = w / math.sqrt(2 * math.pi)  # weights of the N(0, 1) law
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


@lru_cache(maxsize=4)
def _laguerre_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    u, w = laggauss(n)
    u.setflags(write=False)
    w.setflags(write=False)
    return u, w


# Two rule sizes: the answer is the finer one, accepted when the coarser agrees to
# CONVERGED.  The error of a Gauss rule on an analytic integrand falls like exp(-c sqrt(n)),
# so agreement to 1e-10 between n and 2n nodes puts the finer rule's error near 1e-14.
HERMITE_NODES = (150, 300)
LAGUERRE_NODES = (24, 32)  # more nodes do not help: the weights become tiny
CONVERGED = 1e-10


def _converged(values: list[float], what: str) -> float:
    coarse, fine = values
    if not abs(fine - coarse) <= CONVERGED * max(1.0, abs(fine)):
        raise ValueError(f"{what} did not converge ({coarse!r} with the coarse rule, "
                         f"{fine!r} with the fine one): the integrand is too far from "
                         "analytic at this scale")
    return fine


def gaussian_expectation(fn: Callable[[np.ndarray], np.ndarray],
                         scale: float = 1.0) -> float:
    """E[f(scale Z)], Z ~ N(0, 1), for a smooth (analytic) ``f``, by Gauss-Hermite.

    ``fn`` maps an array of points to an array of values.  Raises ``ValueError`` when
    rules of 128 and 256 nodes disagree by more than 1e-10 (relative above 1): a function
    with a kink, or a saturating one at a large ``scale`` (tanh at scale 5, say).  For an
    activation with a kink use :func:`gaussian_moment`, which splits the integral there.
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {type(fn).__name__}")
    scale = check_real("scale", scale, low=0.0, low_open=True)
    values = []
    for n in HERMITE_NODES:
        x, w = _hermite_rule(n)
        values.append(float(w @ np.asarray(fn(scale * x), dtype=np.float64)))
    return _converged(values, "Gauss-Hermite quadrature")


def _half_line_odd(d: Callable[[np.ndarray], np.ndarray], scale: float) -> float:
    """E[d_odd(scale |Z|)] with d_odd(y) = (d(y) - d(-y))/2, by Gauss-Laguerre.

    E f(|Z|) = sqrt(2/pi) int_0^inf f(sqrt(2u)) / sqrt(2u) e^{-u} du, and for an odd
    analytic f the ratio f(sqrt(2u)) / sqrt(2u) is analytic in u.
    """
    values = []
    for n in LAGUERRE_NODES:
        u, w = _laguerre_rule(n)
        z = np.sqrt(2.0 * u)
        odd = 0.5 * (d(scale * z) - d(-scale * z))
        values.append(float(math.sqrt(2.0 / math.pi) * (w @ (odd / z))))
    return _converged(values, "Gauss-Laguerre quadrature")


def _split_expectation(left: Callable[[np.ndarray], np.ndarray],
                       right: Callable[[np.ndarray], np.ndarray], scale: float,
                       what: str) -> float:
    """E[g(scale Z)] for g = left on t < 0 and right on t > 0, each analytic on the line.

    With d = right - left, E g(sZ) = E[(right + left)(sZ)] / 2 + E[d_odd(s|Z|)] / 2:
    Gauss-Hermite for the first term and Gauss-Laguerre for the second.
    """
    def mean_branch(t: np.ndarray) -> np.ndarray:
        return 0.5 * (right(t) + left(t))

    def jump(t: np.ndarray) -> np.ndarray:
        return right(t) - left(t)

    even, odd = gaussian_expectation(mean_branch, scale), 0.5 * _half_line_odd(jump, scale)
    result = even + odd
    # the continued branches can be far larger than phi (ELU's e^t continued to t > 0):
    # each part is good to ~1e-14 of its size, so refuse to lose more than one digit
    if abs(even) + abs(odd) > 10 * max(1.0, abs(result)):
        raise ValueError(f"{what} cancels two large terms at scale {scale}: the quadrature "
                         "is not accurate there")
    return result


def gaussian_moment(name: str, power: int = 1, scale: float = 1.0) -> float:
    """E[phi(scale Z)^power], Z ~ N(0, 1), by Gauss quadrature (``name`` one of ``NAMES``).

    Smooth activations: Gauss-Hermite.  ReLU, leaky ReLU and ELU have a kink at 0; with
    ``g_-`` and ``g_+`` their branches (analytic on the whole line) and ``d = g_+ - g_-``,
    ``E g(sZ) = E[(g_+ + g_-)(sZ)] / 2 + E[d_odd(s|Z|)] / 2``: Gauss-Hermite for the first
    term and Gauss-Laguerre for the second.  Accurate to about 1e-13 (tested against
    closed forms and adaptive quadrature); raises ``ValueError`` where the rules have not
    converged or the two terms cancel, which happens at scales from about 1.2 (ELU
    squared, then tanh squared) to 4 (all): use adaptive quadrature there.
    """
    name = _name(name)
    power = check_int("power", power, minimum=1)
    scale = check_real("scale", scale, low=0.0, low_open=True)
    if name not in _BRANCHES:
        return gaussian_expectation(lambda t: _phi(name, t) ** power, scale)
    left, right = _BRANCHES[name]
    return _split_expectation(lambda t: left(t) ** power, lambda t: right(t) ** power, scale,
                              f"E[phi(scale Z)^{power}] for {name}")


# Derivatives of the piecewise activations on each side of their kink at 0.
_SLOPE_BRANCHES: dict[str, tuple[Callable[[np.ndarray], np.ndarray],
                                 Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (np.zeros_like, np.ones_like),
    "leaky_relu": (lambda t: np.full_like(t, LEAKY_SLOPE), np.ones_like),
    "elu": (np.exp, np.ones_like),
}


def gaussian_slope_moment(name: str, power: int = 2, scale: float = 1.0) -> float:
    """E[phi'(scale Z)^power], Z ~ N(0, 1), by Gauss quadrature (``name`` one of ``NAMES``).

    The kinks of ReLU, leaky ReLU and ELU are handled as in :func:`gaussian_moment`
    (a kink is a single point, of probability 0).  With ``power = 2`` and the weight
    variance sigma_w^2 / n, sigma_w^2 E[phi'(z)^2] is the mean-field gain of a layer.
    """
    name = _name(name)
    power = check_int("power", power, minimum=1)
    scale = check_real("scale", scale, low=0.0, low_open=True)
    if name not in _SLOPE_BRANCHES:
        return gaussian_expectation(lambda t: dphi(name, t) ** power, scale)
    left, right = _SLOPE_BRANCHES[name]
    return _split_expectation(lambda t: left(t) ** power, lambda t: right(t) ** power, scale,
                              f"E[phi'(scale Z)^{power}] for {name}")


SATURATED = 0.01
"""A unit is saturated where |phi'| is below this fraction of sup |phi'|."""
SATURATION_SCALES = (1.0, 2.0, 4.0)
"""Standard deviations s of the pre-activation sZ at which the property table measures
the saturated region."""
_GRID = np.linspace(-40.0, 40.0, 80_001)  # step 1e-3; every phi' is monotone beyond +-40


def saturated_set(name: str, threshold: float = SATURATED) -> tuple[tuple[float, float], ...]:
    """The intervals where |phi'(t)| < threshold * sup |phi'| (``name`` one of ``NAMES``).

    Found on a grid of [-40, 40] with spacing 1e-3, every end refined by Brent's method;
    an interval that reaches the end of the grid extends to infinity (phi' is monotone
    beyond 40 for the eight activations).  A side where |phi'| equals the threshold
    exactly (leaky ReLU's slope 0.01 at threshold 0.01) is not included.
    """
    name = _name(name)
    threshold = check_real("threshold", threshold, low=0.0, high=1.0, low_open=True,
                           high_open=True)
    level = threshold * _sup_abs_slope(name)

    def excess(t: float) -> float:
        return abs(float(dphi(name, t))) - level

    below = np.abs(dphi(name, _GRID)) < level
    if not below.any():
        return ()
    edges = np.flatnonzero(np.diff(below.astype(np.int8)))  # below changes after these
    ends = [optimize.brentq(excess, _GRID[k], _GRID[k + 1], xtol=1e-14)
            if excess(_GRID[k]) * excess(_GRID[k + 1]) < 0 else 0.5 * (_GRID[k] + _GRID[k + 1])
            for k in edges]
    points = ([-math.inf] if below[0] else []) + ends + ([math.inf] if below[-1] else [])
    return tuple((points[i], points[i + 1]) for i in range(0, len(points), 2))


def saturated_probability(name: str, scale: float = 1.0,
                          threshold: float = SATURATED) -> float:
    """P[|phi'(scale Z)| < threshold * sup |phi'|], Z ~ N(0, 1): the size of the saturated
    region under a Gaussian pre-activation of standard deviation ``scale``."""
    scale = check_real("scale", scale, low=0.0, low_open=True)
    return float(sum(special.ndtr(b / scale) - special.ndtr(a / scale)
                     for a, b in saturated_set(name, threshold)))


# ---------------------------------------------------------------------------------------
# The property table.
# ---------------------------------------------------------------------------------------

def derivative_extremes(name: str, lo: float = -40.0, hi: float = 40.0,
                        num: int = 80_001) -> tuple[float, float, float, float]:
    """(max phi', its argmax, min phi', its argmin) over [lo, hi] (``name`` in ``NAMES``).

    A grid of ``num`` points, then a bounded local refinement around the best grid point.
    """
    name = _name(name)
    lo = check_real("lo", lo)
    hi = check_real("hi", hi, low=lo, low_open=True)
    num = check_int("num", num, minimum=3)
    grid = np.linspace(lo, hi, num)
    d = dphi(name, grid)
    out = []
    for sign in (1.0, -1.0):
        k = int(np.argmax(sign * d))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, num - 1)]
        res = optimize.minimize_scalar(lambda u, sign=sign: -sign * dphi(name, u),
                                       bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-12})
        best = (float(d[k]), float(grid[k]))
        value = -sign * float(res.fun)  # phi' at the refined point
        if sign * value > sign * best[0]:
            best = (value, float(res.x))
        out.extend(best)
    return out[0], out[1], out[2], out[3]


@lru_cache(maxsize=16)
def _sup_abs_slope(name: str) -> float:
    dmax, _, dmin, _ = derivative_extremes(name)
    return max(dmax, -dmin)


@lru_cache(maxsize=32)
def _cost(name: str, num: int, repeats: int, seed: int) -> float:
    module = torch_activation(name)
    x = torch.randn(num, generator=torch_generator(seed)).requires_grad_(True)  # (num,)
    ones = torch.ones(num)
    best = math.inf
    with limited_threads():
        for k in range(repeats + 1):
            start = time.perf_counter()
            torch.autograd.grad(module(x), x, grad_outputs=ones)
            elapsed = time.perf_counter() - start
            if k > 0:  # k = 0 warms up the allocator and caches
                best = min(best, elapsed)
    return 1e9 * best / num


COST_NUM = 1 << 20
"""Length of the vector on which :func:`forward_backward_cost` times an activation."""
COST_REPEATS = 7
"""Timings of which :func:`forward_backward_cost` keeps the best."""


def forward_backward_cost(name: str, num: int = COST_NUM, repeats: int = COST_REPEATS,
                          rng: int = 0) -> float:
    """Nanoseconds per element of y = phi(x) plus its backward pass, float32, one thread.

    The best of ``repeats`` timings (after a warm-up) of autograd on a vector of ``num``
    standard normal entries drawn with seed ``rng``; the minimum is the least disturbed by
    other processes.  Cached per arguments (a seed only, so that the cache is sound).
    """
    return _cost(_name(name), check_int("num", num, minimum=1),
                 check_int("repeats", repeats, minimum=1), check_int("rng", rng, minimum=0))


@dataclass(frozen=True)
class ActivationProperties:
    """Computed properties of one activation (derivatives as PyTorch's autograd gives them)."""

    name: str
    """One of ``NAMES``."""
    mean_gauss: float
    """E[phi(Z)], Z ~ N(0, 1)."""
    max_derivative: float
    """sup phi' over [-40, 40]."""
    argmax_derivative: float
    """Where phi' is largest."""
    derivative_at_0: float
    """phi'(0) as autograd returns it (the left derivative at a kink)."""
    derivative_left: float
    """phi'(-40): the limit at -infinity to within 1e-17."""
    derivative_right: float
    """phi'(+40): the limit at +infinity to within 1e-17."""
    min_derivative: float
    """inf phi' over [-40, 40]; negative means phi is not monotone."""
    argmin_derivative: float
    """Where phi' is smallest."""
    min_value: float
    """min phi over [-40, 40]."""
    value_at_0: float
    """phi(0)."""
    second_moment: float
    """E[phi(Z)^2], Z ~ N(0, 1)."""
    slope_second_moment: float
    """E[phi'(Z)^2], Z ~ N(0, 1)."""
    saturated_fractions: tuple[float, ...]
    """P[|phi'(sZ)| < 0.01 sup |phi'|] for each s of ``SATURATION_SCALES``."""
    cost_ns: float
    """Forward plus backward pass, ns per element, float32, one thread (NaN if not timed)."""

    @property
    def monotone(self) -> bool:
        """phi' >= 0 everywhere."""
        return self.min_derivative >= 0.0

    @property
    def saturation(self) -> str:
        """Where phi' tends to 0: ``"both sides"``, ``"left"``, ``"right"`` or ``"none"``."""
        left, right = self.derivative_left < 1e-6, self.derivative_right < 1e-6
        return {(True, True): "both sides", (True, False): "left",
                (False, True): "right", (False, False): "none"}[(left, right)]


@lru_cache(maxsize=16)
def _properties(name: str, with_cost: bool) -> ActivationProperties:
    dmax, amax, dmin, amin = derivative_extremes(name)
    grid = np.linspace(-40.0, 40.0, 80_001)
    values = _phi(name, grid)
    k = int(np.argmin(values))
    minval = float(values[k])
    if 0 < k < grid.size - 1:  # an interior minimum: refine it
        res = optimize.minimize_scalar(lambda u: phi(name, u),
                                       bounds=(grid[k - 1], grid[k + 1]), method="bounded",
                                       options={"xatol": 1e-12})
        minval = min(minval, float(res.fun))
    return ActivationProperties(
        name=name,
        mean_gauss=gaussian_moment(name),
        max_derivative=dmax, argmax_derivative=amax,
        derivative_at_0=autograd_derivative(name, 0.0),
        derivative_left=dphi(name, -40.0), derivative_right=dphi(name, 40.0),
        min_derivative=dmin, argmin_derivative=amin, min_value=minval,
        value_at_0=float(_phi(name, np.zeros(1))[0]),
        second_moment=gaussian_moment(name, 2),
        slope_second_moment=gaussian_slope_moment(name, 2),
        saturated_fractions=tuple(saturated_probability(name, s) for s in SATURATION_SCALES),
        cost_ns=forward_backward_cost(name) if with_cost else math.nan)


def activation_properties(name: str, with_cost: bool = True) -> ActivationProperties:
    """The :class:`ActivationProperties` of ``name`` (one of ``NAMES``), cached.

    Computed by quadrature, grids with local refinement, and autograd; ``with_cost=False``
    skips the timing (``cost_ns`` is then NaN).
    """
    return _properties(_name(name), check_bool("with_cost", with_cost))


# ---------------------------------------------------------------------------------------
# Universal approximation, measured.
# ---------------------------------------------------------------------------------------

def random_feature_error(activation: Callable[[np.ndarray], np.ndarray],
                         target: Callable[[np.ndarray], np.ndarray], num_units: int,
                         bias: bool = True, weight_scale: float = 10.0, rng: int = 0,
                         num_fit: int = 1001, num_eval: int = 3001) -> float:
    """sup |f - f_N| on [-1, 1] for a least-squares fit f_N of ``target`` by one hidden layer.

    f_N(x) = c + sum_j a_j activation(w_j x + b_j) with N = ``num_units`` random units:
    w_j ~ N(0, weight_scale^2) and b_j = -w_j c_j, c_j ~ U(-1, 1) (each unit's kink or
    step inside the interval), or b_j = 0 when ``bias`` is False.  The output weights a_j
    and c solve the least-squares problem on ``num_fit`` equally spaced points (normal
    equations with a ridge of 1e-12 of their mean diagonal, so that rank-deficient
    features, such as those of a polynomial activation, are handled), and the error is
    measured on ``num_eval`` equally spaced points.  ``activation`` and ``target`` map
    arrays to arrays; ``rng`` is a seed.
    """
    if not callable(activation) or not callable(target):
        raise ValueError("activation and target must be callable")
    num_units = check_int("num_units", num_units, minimum=1)
    bias = check_bool("bias", bias)
    weight_scale = check_real("weight_scale", weight_scale, low=0.0, low_open=True)
    num_fit = check_int("num_fit", num_fit, minimum=2)
    num_eval = check_int("num_eval", num_eval, minimum=2)
    gen = np.random.default_rng(check_int("rng", rng, minimum=0))
    w = gen.normal(0.0, weight_scale, num_units)
    b = -w * gen.uniform(-1.0, 1.0, num_units) if bias else np.zeros(num_units)

    def features(x: np.ndarray) -> np.ndarray:  # (len(x), N + 1)
        f = np.asarray(activation(np.outer(x, w) + b), dtype=np.float64)
        return np.hstack([f, np.ones((x.size, 1))])

    x_fit, x_eval = np.linspace(-1.0, 1.0, num_fit), np.linspace(-1.0, 1.0, num_eval)
    with limited_threads():
        f = features(x_fit)
        gram = f.T @ f
        gram[np.diag_indices_from(gram)] += 1e-12 * np.trace(gram) / len(gram)
        coef = linalg.cho_solve(linalg.cho_factor(gram), f.T @ target(x_fit))
        return float(np.max(np.abs(features(x_eval) @ coef - target(x_eval))))
