"""Stepped sigmoid units, softplus and noisy rectified linear units (Nair & Hinton 2010).

A stepped sigmoid unit (SSU) is an infinite set of binary logistic units with one shared
input ``x`` and biases offset by ``-1/2, -3/2, -5/2, ...``.  Its expected total output is
``S(x) = sum_{n>=1} sigma(x - n + 1/2)`` and, the copies being independent given ``x``, its
variance is ``V(x) = sum_{n>=1} sigma'(x - n + 1/2)``.  Both sums are midpoint rules, for
``softplus(x) = int_0^inf sigma(x - u) du`` and ``sigma(x) = int_0^inf sigma'(x - u) du``;
the book bounds their errors.  A noisy ReLU replaces the SSU by ``max(0, x + N(0, sigma(x)))``.
Summing out the copies of an SSU in an RBM leaves ``Psi(x) = sum_{n>=1} softplus(x - n + 1/2)``
in minus the free energy; it grows like ``max(0, x)^2 / 2``.

Elementwise functions take a scalar or an array and return a ``float`` or an array
(:func:`hiddenunits.validation.scalar_or_array`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, ndtr

from hiddenunits.validation import check_array, check_int, check_rng, scalar_or_array

# Constants of the error bounds (proved in the book):
#   max |P| of the periodised midpoint Peano kernel's primitive      = 1 / (72 sqrt 3)
#   int |sigma'''| = 2 / (3 sqrt 3),  int |sigma''''| = 5 / 12
#   sup |sigma'| = 1/4,               sup |sigma''| = 1 / (6 sqrt 3)
PEANO_MAX = 1.0 / (72.0 * math.sqrt(3.0))
SOFTPLUS_REMAINDER = PEANO_MAX * 2.0 / (3.0 * math.sqrt(3.0))  # = 1/324
VARIANCE_REMAINDER = PEANO_MAX * 5.0 / 12.0  # = 5 / (864 sqrt 3)
SOFTPLUS_BOUND = 1.0 / 96.0 + SOFTPLUS_REMAINDER  # sup|sigma'|/24 + remainder
VARIANCE_BOUND = 1.0 / (144.0 * math.sqrt(3.0)) + VARIANCE_REMAINDER  # = 11/(864 sqrt 3)
TAIL_RATIO = math.exp(0.5) / (math.e - 1.0)  # lim_{x -> -inf} S/softplus = V/sigma
PSI_GAP = math.pi**2 / 6.0  # 0 < Psi(x) - max(0, x)^2 / 2 < pi^2 / 6


def sigmoid(x: ArrayLike) -> float | np.ndarray:
    """sigma(x) = 1 / (1 + e^{-x})."""
    return scalar_or_array(expit(check_array("x", x)), x)


def softplus(x: ArrayLike) -> float | np.ndarray:
    """softplus(x) = log(1 + e^x), computed without overflow."""
    return scalar_or_array(np.logaddexp(0.0, check_array("x", x)), x)


def sigmoid_derivatives(x: ArrayLike) -> tuple[float | np.ndarray, ...]:
    """(sigma', sigma'', sigma''') at ``x``: s(1-s), s'(1-2s), s'(1-6s+6s^2)."""
    s = expit(check_array("x", x))
    d1 = s * (1.0 - s)
    return tuple(scalar_or_array(d, x) for d in
                 (d1, d1 * (1.0 - 2.0 * s), d1 * (1.0 - 6.0 * s + 6.0 * s * s)))


def _n_terms(x: np.ndarray) -> int:
    # Terms with n > x + 40 add less than e^{-39} / (1 - 1/e) < 1e-16 in total.
    return int(math.ceil(max(float(np.max(x, initial=0.0)), 0.0))) + 41


def _shifted(x: np.ndarray, chunk: int = 4096) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (slice, sigma(x_k - n + 1/2) for n = 1..N) in row chunks: (chunk, N)."""
    x = x.ravel()
    n = np.arange(1, _n_terms(x) + 1, dtype=np.float64)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        yield sl, expit(x[sl, None] - n + 0.5)


def stepped_sigmoid_mean(x: ArrayLike) -> float | np.ndarray:
    """S(x) = sum_{n>=1} sigma(x - n + 1/2), the expected output of a stepped sigmoid unit."""
    arr = check_array("x", x)
    out = np.empty(arr.size)
    for sl, s in _shifted(arr):
        out[sl] = s.sum(axis=1)
    return scalar_or_array(out.reshape(arr.shape), x)


def stepped_sigmoid_variance(x: ArrayLike) -> float | np.ndarray:
    """V(x) = sum_{n>=1} sigma(x-n+1/2)(1 - sigma(x-n+1/2)): variance of the SSU's output."""
    arr = check_array("x", x)
    out = np.empty(arr.size)
    for sl, s in _shifted(arr):
        out[sl] = (s * (1.0 - s)).sum(axis=1)
    return scalar_or_array(out.reshape(arr.shape), x)


def stepped_softplus(x: ArrayLike) -> float | np.ndarray:
    """Psi(x) = sum_{n>=1} softplus(x - n + 1/2): the copies of an SSU with input x summed out.

    In an RBM whose hidden unit is an SSU, summing its copies out of exp(-E) contributes
    the factor prod_n (1 + e^{x - n + 1/2}) = e^{Psi(x)}, so Psi(x) enters -F(v).
    """
    arr = check_array("x", x)
    out = np.empty(arr.size)
    flat = arr.ravel()
    n = np.arange(1, _n_terms(flat) + 1, dtype=np.float64)
    for start in range(0, flat.size, 4096):
        sl = slice(start, start + 4096)
        out[sl] = np.logaddexp(0.0, flat[sl, None] - n + 0.5).sum(axis=1)
    return scalar_or_array(out.reshape(arr.shape), x)


def sample_stepped_sigmoid(x: ArrayLike, rng: int | np.random.Generator,
                           n_terms: int = 64) -> float | np.ndarray:
    """One sample of the SSU: the number of its first ``n_terms`` binary copies that fire."""
    arr = check_array("x", x)
    n_terms = check_int("n_terms", n_terms, minimum=1)
    gen = check_rng(rng)
    n = np.arange(1, n_terms + 1, dtype=np.float64)
    p = expit(arr[..., None] - n + 0.5)  # (..., n_terms)
    return scalar_or_array((gen.random(p.shape) < p).sum(axis=-1), x)


def noisy_relu(x: ArrayLike, rng: int | np.random.Generator) -> float | np.ndarray:
    """A noisy ReLU sample max(0, x + eps), eps ~ N(0, sigma(x)) (variance sigma(x))."""
    arr = check_array("x", x)
    gen = check_rng(rng)
    return scalar_or_array(
        np.maximum(0.0, arr + np.sqrt(expit(arr)) * gen.standard_normal(arr.shape)), x)


def noisy_relu_moments(x: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Mean and variance of max(0, Y), Y ~ N(x, s^2) with s^2 = sigma(x) (rectified Gaussian).

    E = x Phi(x/s) + s phi(x/s);  E[max(0,Y)^2] = (x^2 + s^2) Phi(x/s) + x s phi(x/s).
    """
    arr = check_array("x", x)
    s = np.sqrt(expit(arr))
    z = arr / s
    cdf, pdf = ndtr(z), np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    mean = arr * cdf + s * pdf
    second = (arr * arr + s * s) * cdf + arr * s * pdf
    return scalar_or_array(mean, x), scalar_or_array(np.maximum(second - mean * mean, 0.0), x)


def relu(x: ArrayLike) -> float | np.ndarray:
    """max(0, x)."""
    return scalar_or_array(np.maximum(0.0, check_array("x", x)), x)


def relu_net(x: ArrayLike, weights: Sequence[ArrayLike],
             biases: Sequence[ArrayLike] | None = None) -> np.ndarray:
    """f(x) = W_L relu(... relu(W_1 x + beta_1) ...) + beta_L for the rows of ``x``.

    ``x`` (N, n_0); ``weights[l]`` (n_{l+1}, n_l) in the (out, in) layout; ``biases[l]``
    (n_{l+1},), or none at all (a bias-free network).  Returns (N, n_L).
    """
    h = check_array("x", x, ndim=2)
    if isinstance(weights, str | bytes) or not isinstance(weights, Sequence) or not weights:
        raise ValueError("weights must be a non-empty sequence of matrices")
    if biases is not None and (not isinstance(biases, Sequence) or len(biases) != len(weights)):
        raise ValueError(f"biases must be None or a sequence of {len(weights)} vectors")
    for i, w in enumerate(weights):
        w = check_array(f"weights[{i}]", w, ndim=2, shape=(None, h.shape[1]))
        h = h @ w.T
        if biases is not None:
            h = h + check_array(f"biases[{i}]", biases[i], ndim=1, shape=(w.shape[0],))
        if i < len(weights) - 1:
            h = np.maximum(0.0, h)
    return h
