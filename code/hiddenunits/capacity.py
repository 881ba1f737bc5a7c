"""Cover's function-counting theorem: how many labelings of N points a hyperplane realises.

A *dichotomy* (labeling) of points ``x_1, ..., x_N`` in R^d is a split into two classes; it
is *linearly separable* when an affine threshold classifier ``w^T x + b`` puts the two
classes strictly on opposite sides.  Cover (1965) counts them: for points in general
position the number is ``C(N, d + 1)``, with

    C(N, p) = 2 sum_{k=0}^{p-1} binom(N - 1, k)

(``p`` free parameters; ``p = d`` for hyperplanes through the origin).  This module gives
the count in closed form and counts separable dichotomies directly, one linear programme
per dichotomy, so that the two can be compared.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike

from hiddenunits.validation import check_array, check_bool, check_int, check_rng

MAX_COUNTED_POINTS = 14
"""Largest N for which :func:`separable_dichotomies` enumerates the 2^N dichotomies."""


def cover_count(n: int, p: int) -> int:
    """``C(N, p) = 2 sum_{k<p} binom(N-1, k)``: separable dichotomies of N points in
    general position by a homogeneous hyperplane in R^p (an affine one in R^(p-1))."""
    n = check_int("n", n, minimum=1)
    p = check_int("p", p, minimum=1)
    return 2 * sum(math.comb(n - 1, k) for k in range(p))


def separable_fraction(n: ArrayLike, p: int) -> float | np.ndarray:
    """``C(N, p) / 2^N``, the fraction of the 2^N dichotomies that are separable.

    It equals P(B <= p - 1) for B ~ Binomial(N - 1, 1/2), which is how it is computed (so
    that N may be in the thousands).  ``n``: one or more N >= 1 (array-like of integers).
    """
    from scipy.stats import binom

    ns = check_array("n", n, dtype=np.int64, nonempty=True)
    if (ns < 1).any():
        raise ValueError("n must be >= 1")
    p = check_int("p", p, minimum=1)
    out = binom.cdf(p - 1, ns - 1, 0.5)
    return float(out) if np.ndim(n) == 0 else np.asarray(out, dtype=np.float64)


def _lift(points: np.ndarray, affine: bool) -> np.ndarray:
    """Points (N, d) as vectors of R^(d+1) with a last coordinate 1 (affine), or as they are."""
    return np.hstack([points, np.ones((len(points), 1))]) if affine else points


def _check_points(points: ArrayLike) -> np.ndarray:
    return check_array("points", points, ndim=2)


def _separable_lp(z: np.ndarray, signs: np.ndarray) -> bool:
    """Whether some w has s_i w^T z_i >= 1 for all i (a linear feasibility programme).

    By scaling w, this is strict separation ``s_i w^T z_i > 0``.  HiGHS accepts a point
    whose constraints are violated by at most 1e-7, which still gives s_i w^T z_i > 0.
    """
    from scipy.optimize import linprog  # imported here: scipy.optimize takes ~1 s

    res = linprog(np.zeros(z.shape[1]), A_ub=-signs[:, None] * z, b_ub=-np.ones(len(z)),
                  bounds=[(None, None)] * z.shape[1], method="highs")
    if res.status not in (0, 2):  # 0: feasible, 2: infeasible
        raise RuntimeError(f"linear programme failed: {res.message}")
    return res.status == 0


def _least_squares_certified(z: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Which columns of ``signs`` (N, M) the least-squares fit ``w = z^+ s`` separates with a
    clear margin: a cheap certificate of separability (never a certificate of the opposite).
    """
    w, *_ = np.linalg.lstsq(z, signs, rcond=None)  # (p, M)
    margins = signs * (z @ w)  # (N, M)
    scale = np.linalg.norm(z, axis=1)[:, None] * np.linalg.norm(w, axis=0)[None, :]
    return (margins > 1e-9 * scale).all(axis=0)


def is_separable(points: ArrayLike, labels: ArrayLike, affine: bool = True) -> bool:
    """Whether a hyperplane strictly separates the points labelled 0 from those labelled 1.

    points (N, d); labels (N,) in {0, 1}; ``affine``: hyperplanes ``w^T x + b = 0`` (True)
    or through the origin ``w^T x = 0`` (False).  Decided by a linear programme (HiGHS).
    """
    pts = _check_points(points)
    lab = check_array("labels", labels, shape=(len(pts),), dtype=np.int64)
    if not np.isin(lab, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    affine = check_bool("affine", affine)
    if affine and lab.min() == lab.max():
        return True  # one class: any hyperplane that misses every point
    z = _lift(pts, affine)
    signs = 2.0 * lab - 1.0
    if _least_squares_certified(z, signs[:, None])[0]:
        return True
    return _separable_lp(z, signs)


def separable_dichotomies(points: ArrayLike, affine: bool = True) -> np.ndarray:
    """Every separable dichotomy of the points: (M, N) array of labels in {0, 1}, sorted.

    Enumerates the 2^N dichotomies (N <= ``MAX_COUNTED_POINTS``).  A dichotomy and its
    complement are separable together (negate w), so only those with label 0 on the last
    point are decided: first by a least-squares certificate, then, if that fails, by the
    linear programme of :func:`is_separable`.  ``affine`` as in :func:`is_separable`.
    """
    pts = _check_points(points)
    affine = check_bool("affine", affine)
    n = len(pts)
    if n > MAX_COUNTED_POINTS:
        raise ValueError(f"counting enumerates 2^N dichotomies: N must be at most "
                         f"{MAX_COUNTED_POINTS}, got {n}")
    z = _lift(pts, affine)
    half = np.array([(*bits, 0) for bits in itertools.product((0, 1), repeat=n - 1)],
                    dtype=np.int64).reshape(-1, n)  # (2^(N-1), N)
    signs = 2.0 * half.T - 1.0  # (N, 2^(N-1))
    keep = _least_squares_certified(z, signs)
    for j in np.flatnonzero(~keep):
        if not (affine and half[j].min() == half[j].max()):
            keep[j] = _separable_lp(z, signs[:, j])
        else:
            keep[j] = True
    found = half[keep]
    both = np.vstack([found, 1 - found])
    order = np.lexsort(both.T[::-1])
    return both[order]


def count_separable_dichotomies(points: ArrayLike, affine: bool = True) -> int:
    """Number of separable dichotomies of the points (see :func:`separable_dichotomies`)."""
    return len(separable_dichotomies(points, affine))


def gaussian_points(n: int, d: int, rng: int | np.random.Generator = 0) -> np.ndarray:
    """N standard Gaussian points in R^d, (N, d): in general position with probability 1.

    ``rng``: a seed or a ``numpy.random.Generator``.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    return check_rng(rng).normal(size=(n, d))
