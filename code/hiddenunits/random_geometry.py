"""Random vectors and random matrices in high dimension: angles, norms and singular values.

The angle ``theta`` between two independent isotropic vectors of R^n has density
``p_n(theta) = C_n sin^(n-2)(theta)`` on [0, pi] with ``C_n = Gamma(n/2) / (Gamma((n-1)/2)
sqrt(pi))``; everything here is computed through log-gamma so that it stays finite for n in
the tens of thousands.  The matrix part covers Gaussian maps ``W`` with i.i.d. N(0, 1/m)
entries: the chi-squared law of ``||Wx||^2 / ||x||^2``, the spread of the singular values of
``W`` (quarter-circle and Marchenko-Pastur laws) and the exact moments behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special

from hiddenunits.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    scalar_or_array,
    seeded_call,
)

# Published: the variance of the angle for several n, as printed (six significant digits,
# trailing zeros dropped) in the table of Su (2019), kexue.fm/archives/7076.
SU2019_VARIANCE_TABLE: dict[int, float] = {
    3: 0.467401,
    10: 0.110661,
    20: 0.0525832,
    50: 0.0204053,
    100: 0.0101007,
    200: 0.00502508,
    1000: 0.001001,
}


# --------------------------------------------------------------------------- validation
def _check_dim(n) -> int:
    """The ambient dimension: an integer n >= 2 (an angle needs two dimensions)."""
    return check_int("n", n, minimum=2)


def _check_dims(n: ArrayLike) -> np.ndarray:
    """Dimensions as an integer array, each >= 2."""
    a = check_array("n", n, dtype=np.int64)
    if np.any(a < 2):
        raise ValueError(f"n must be >= 2 everywhere, got minimum {a.min()}")
    return a


# --------------------------------------------------------------------------- the angle law
def angle_log_normaliser(n: int) -> float:
    """log C_n = log Gamma(n/2) - log Gamma((n-1)/2) - log(pi)/2 (finite for any n)."""
    n = _check_dim(n)
    return float(special.gammaln(n / 2) - special.gammaln((n - 1) / 2) - 0.5 * math.log(math.pi))


def angle_pdf(theta: ArrayLike, n: int) -> float | np.ndarray:
    """p_n(theta) = C_n sin^(n-2)(theta) on [0, pi] (zero outside), via logs."""
    n = _check_dim(n)
    t = check_array("theta", theta, nonempty=False)
    inside = (t >= 0) & (t <= math.pi)
    if n == 2:
        return scalar_or_array(np.where(inside, 1 / math.pi, 0.0), theta)  # uniform
    s = np.sin(np.where(inside, t, math.pi / 2))
    with np.errstate(divide="ignore"):  # log(0) = -inf at the end points gives density 0
        log_p = angle_log_normaliser(n) + (n - 2) * np.log(s)
    return scalar_or_array(np.where(inside, np.exp(log_p), 0.0), theta)


def angle_cdf(theta: ArrayLike, n: int) -> float | np.ndarray:
    """P(angle <= theta), from cos^2(angle) ~ Beta(1/2, (n-1)/2) and the symmetry of cos."""
    n = _check_dim(n)
    t = np.clip(check_array("theta", theta, nonempty=False), 0.0, math.pi)
    c = np.cos(t)
    upper = 0.5 * special.betainc((n - 1) / 2, 0.5, np.clip(1 - c * c, 0.0, 1.0))
    return scalar_or_array(np.where(c >= 0, upper, 1.0 - upper), theta)  # P(cos >= c)


def cos_moment(n: int, k: int) -> float:
    """E[cos^k(theta)]: 0 for odd k, Gamma(j+1/2) Gamma(n/2) / (sqrt(pi) Gamma(n/2+j)) for k=2j."""
    n = _check_dim(n)
    k = check_int("k", k, minimum=0)
    if k % 2:
        return 0.0
    j = k // 2
    return float(np.exp(special.gammaln(j + 0.5) + special.gammaln(n / 2)
                        - 0.5 * math.log(math.pi) - special.gammaln(n / 2 + j)))


def angle_mean(n: int) -> float:
    """E[theta] = pi/2 for every n (the density is symmetric about pi/2)."""
    _check_dim(n)
    return math.pi / 2


def angle_variance(n: ArrayLike) -> float | np.ndarray:
    """Var(theta) = psi'(n/2) / 2, with psi' the trigamma function (exact for every n >= 2).

    ``n`` is an integer or an array of integers (the result has its shape).
    """
    return scalar_or_array(0.5 * special.polygamma(1, _check_dims(n) / 2), n)


def angle_variance_recursion(n: int) -> float:
    """Var(theta) from V_2 = pi^2/12, V_3 = pi^2/4 - 2 and V_n = V_(n-2) - 2/(n-2)^2.

    An evaluation independent of the trigamma function.  The subtracted terms are summed
    with ``math.fsum`` (exactly rounded), so the only loss is the cancellation against the
    base value: a relative error of about n * 1e-16.
    """
    n = _check_dim(n)
    base = math.pi ** 2 / 12 if n % 2 == 0 else math.pi ** 2 / 4 - 2
    start = 4 if n % 2 == 0 else 5
    return base - 2.0 * math.fsum(1.0 / (k - 2) ** 2 for k in range(start, n + 1, 2))


def angle_variance_quadrature(n: int) -> float:
    """Var(theta) = int (theta - pi/2)^2 p_n(theta) d theta by adaptive quadrature.

    In phi = pi/2 - theta the integrand is C_n phi^2 cos^(n-2)(phi); it is negligible
    beyond |phi| = 40/sqrt(n) (there cos^(n-2) < exp(-(n-2) 40^2 / (2n)) ~ e^-800).
    """
    n = _check_dim(n)
    log_c = angle_log_normaliser(n)
    width = min(math.pi / 2, 40.0 / math.sqrt(n))

    def f(phi: float) -> float:
        c = math.cos(phi)
        if c <= 0.0:
            return 0.0
        return phi * phi * math.exp(log_c + (n - 2) * math.log(c))

    value, _ = integrate.quad(f, -width, width, points=[0.0], epsabs=0.0, epsrel=1e-13,
                              limit=400)
    return value


def sample_angles(n: int, size: int, rng: int | np.random.Generator = 0,
                  method: str = "vectors") -> np.ndarray:
    """Angles between independent isotropic vectors of R^n: ``size`` samples in [0, pi].

    ``method="vectors"`` draws both Gaussian vectors explicitly (cost n * size, done in
    chunks); ``"chi2"`` uses cos(theta) = g_1 / sqrt(g_1^2 + chi^2_(n-1)), which has the same
    law (fix one vector along e_1 by rotation invariance) and costs O(size) for any n.
    """
    n = _check_dim(n)
    size = check_int("size", size, minimum=1)
    rng = check_rng(rng)
    if check_choice("method", method, ("vectors", "chi2")) == "chi2":
        g1 = rng.standard_normal(size)
        rest = rng.chisquare(n - 1, size)
        return np.arccos(np.clip(g1 / np.sqrt(g1 * g1 + rest), -1.0, 1.0))
    out = np.empty(size)
    chunk = max(1, 4_000_000 // n)
    for start in range(0, size, chunk):
        k = min(chunk, size - start)
        x = rng.standard_normal((k, n))  # (k, n)
        y = rng.standard_normal((k, n))
        c = np.einsum("ij,ij->i", x, y) / np.sqrt(np.einsum("ij,ij->i", x, x)
                                                  * np.einsum("ij,ij->i", y, y))
        out[start:start + k] = np.arccos(np.clip(c, -1.0, 1.0))
    return out


def _check_t(t: ArrayLike) -> np.ndarray:
    a = check_array("t", t, nonempty=False)
    if np.any((a < 0) | (a > 1)):
        raise ValueError("t must lie in [0, 1]")
    return a


def cap_probability(t: ArrayLike, n: int) -> float | np.ndarray:
    """P(|cos theta| >= t) = I_(1-t^2)((n-1)/2, 1/2), the regularised incomplete beta."""
    n = _check_dim(n)
    a = _check_t(t)
    return scalar_or_array(special.betainc((n - 1) / 2, 0.5, 1.0 - a * a), t)


def cap_bound(t: ArrayLike, n: int) -> float | np.ndarray:
    """The concentration bound 2 exp(-n t^2 / 2) on P(|cos theta| >= t)."""
    n = _check_dim(n)
    a = _check_t(t)
    return scalar_or_array(2.0 * np.exp(-n * a * a / 2), t)


def cap_rate(t: ArrayLike) -> float | np.ndarray:
    """r(t) = log(1 / (1 - t^2)) / 2: the exponential rate of P(|cos theta| >= t) in n.

    -(1/n) log P(|cos theta| >= t) tends to r(t) for each fixed t in [0, 1); r(1) = inf.
    r(t) >= t^2/2, with equality only at t = 0.
    """
    a = _check_t(t)
    with np.errstate(divide="ignore"):  # t = 1: the rate is infinite
        return scalar_or_array(-0.5 * np.log1p(-a * a), t)


def _cap_log_integral(t: float, n: int) -> float:
    """log of int_t^1 ((1 - s^2)/(1 - t^2))^((n-3)/2) ds, by adaptive quadrature.

    The integrand is at most 1 (n >= 3) or at least 1 (n = 2), so nothing underflows
    however small the probability.  In u = s - t it is (1 - u (u + 2t)/(1 - t^2))^((n-3)/2),
    evaluated with ``log1p`` so that its relative accuracy does not degrade with n; it
    falls off like exp(-(n-3) t u / (1 - t^2)), so the interval is split there.
    """
    half = (n - 3) / 2
    scale = 1.0 - t * t

    def f(u: float) -> float:
        x = -u * (u + 2.0 * t) / scale
        return math.exp(half * math.log1p(x)) if x > -1.0 else 0.0

    rate = (n - 3) * t / scale
    width = min(1.0 - t, 50.0 / rate) if rate > 0 else 1.0 - t
    main = sum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
               for a, b in ((0.0, width / 50), (width / 50, width)))
    if width < 1.0 - t:  # the rest is below e^-50 of the start: an absolute tolerance
        main += integrate.quad(f, width, 1.0 - t, epsabs=1e-16 * main, epsrel=1e-13,
                               limit=200)[0]
    return math.log(main)


def cap_log_probability(t: ArrayLike, n: int) -> float | np.ndarray:
    """log P(|cos theta| >= t), finite however small the probability (-inf at t = 1).

    The regularised incomplete beta function of :func:`cap_probability` where it does not
    underflow (above 1e-280); below, log 2 + log C_n + ((n-3)/2) log(1 - t^2) plus the log
    of the normalised integral of the density of cos theta over [t, 1] (quadrature).
    """
    n = _check_dim(n)
    a = _check_t(t)
    flat = a.ravel()
    out = np.empty(flat.size)
    direct = special.betainc((n - 1) / 2, 0.5, 1.0 - flat * flat)
    for i, (ti, p) in enumerate(zip(flat, direct, strict=True)):
        if ti >= 1.0:
            out[i] = -math.inf
        elif p > 1e-280:
            out[i] = math.log(p)
        else:
            out[i] = (math.log(2.0) + angle_log_normaliser(n) + (n - 3) / 2 * math.log1p(-ti * ti)
                      + _cap_log_integral(float(ti), n))
    return scalar_or_array(out.reshape(a.shape), t)


def union_bound_dimension(k: int, t: float, delta: float) -> int:
    """Smallest n with k(k-1)/2 * 2 exp(-n t^2/2) <= delta.

    By the union bound over the k(k-1)/2 pairs, k independent isotropic vectors of R^n are
    then pairwise |cos| < t with probability at least 1 - delta.
    """
    k = check_int("k", k, minimum=2)
    t = check_real("t", t, low=0.0, high=1.0, low_open=True)
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    return max(2, math.ceil(2 * math.log(k * (k - 1) / delta) / (t * t)))


def max_pairwise_cosine(k: int, n: int, rng: int | np.random.Generator = 0) -> float:
    """max_{i<j} |cos angle(x_i, x_j)| for k independent Gaussian vectors of R^n."""
    k = check_int("k", k, minimum=2)
    n = _check_dim(n)
    x = check_rng(rng).standard_normal((k, n))  # (k, n)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    g = np.abs(x @ x.T)  # (k, k)
    return float(np.max(g[np.triu_indices(k, 1)]))


# --------------------------------------------------------------------------- Gaussian maps
def gaussian_matrix(m: int, n: int, rng: int | np.random.Generator = 0) -> np.ndarray:
    """W (m, n) with i.i.d. N(0, 1/m) entries, so that E[W^T W] = I_n."""
    m = check_int("m", m, minimum=1)
    n = check_int("n", n, minimum=1)
    return check_rng(rng).standard_normal((m, n)) / math.sqrt(m)


def norm_ratio_samples(x: ArrayLike, m: int, size: int,
                       rng: int | np.random.Generator = 0) -> np.ndarray:
    """``size`` draws of ||W x||^2 / ||x||^2 for fresh W (m, n) with N(0, 1/m) entries."""
    x = check_array("x", x, ndim=1)
    if not np.any(x):
        raise ValueError("x must be a non-zero vector (n,)")
    m = check_int("m", m, minimum=1)
    size = check_int("size", size, minimum=1)
    rng = check_rng(rng)
    out = np.empty(size)
    chunk = max(1, 2_000_000 // (m * x.size))
    for start in range(0, size, chunk):
        k = min(chunk, size - start)
        w = rng.standard_normal((k, m, x.size)) / math.sqrt(m)  # (k, m, n)
        out[start:start + k] = np.sum((w @ x) ** 2, axis=1) / np.dot(x, x)
    return out


def gram_deviation(w: ArrayLike) -> dict[str, float]:
    """How far W (m, n) is from having orthonormal columns: five numbers.

    ``entry_mse``: mean of the n^2 squared entries of W^T W - I (the article's measure);
    ``spread``: mean over the n singular values of (sigma^2 - 1)^2, i.e. ||W^T W - I||_F^2 / n;
    ``op_norm``: ||W^T W - I||_op = max_i |sigma_i^2 - 1|;
    ``sigma_max``, ``sigma_min``: the largest and smallest of the n singular values
    (0 when m < n).  ``w`` must be a real, finite, non-empty matrix.
    """
    w = check_array("w", w, ndim=2)
    n = w.shape[1]
    d = w.T @ w - np.eye(n)  # (n, n)
    s2 = np.linalg.svd(w, compute_uv=False) ** 2
    if s2.size < n:  # m < n: the missing singular values are 0
        s2 = np.concatenate([s2, np.zeros(n - s2.size)])
    return {"entry_mse": float(np.mean(d * d)), "spread": float(np.mean((s2 - 1) ** 2)),
            "op_norm": float(np.max(np.abs(s2 - 1))), "sigma_max": float(np.sqrt(s2.max())),
            "sigma_min": float(np.sqrt(s2.min()))}


def gram_spread_expected(m: int, n: int) -> float:
    """E ||W^T W - I||_F^2 / n = (n + 1) / m for W (m, n) with i.i.d. N(0, 1/m) entries."""
    m = check_int("m", m, minimum=1)
    n = check_int("n", n, minimum=1)
    return (n + 1) / m


def mp_edges(ratio: float) -> tuple[float, float]:
    """Edges (1 - sqrt(c), 1 + sqrt(c)) of the singular values of W (m, n), c = n/m <= 1."""
    ratio = check_real("ratio", ratio, low=0.0, high=1.0, low_open=True)
    r = math.sqrt(ratio)
    return 1.0 - r, 1.0 + r


def mp_singular_pdf(s: ArrayLike, ratio: float) -> float | np.ndarray:
    """Limit density of the singular values of W (m, n), N(0, 1/m) entries, n/m -> c <= 1.

    q_c(s) = sqrt((b^2 - s^2)(s^2 - a^2)) / (pi c s) on [a, b] = [1 - sqrt(c), 1 + sqrt(c)]
    (the Marchenko-Pastur law of s^2 moved to s); c = 1 gives the quarter circle.
    """
    a, b = mp_edges(ratio)
    ratio = check_real("ratio", ratio)
    x = check_array("s", s, nonempty=False)
    if a == 0.0:  # c = 1: the factor s cancels, leaving the quarter circle (finite at s = 0)
        return quarter_circle_pdf(s)
    inside = (x > a) & (x < b) & (x > 0)
    x_safe = np.where(inside, x, 1.0)
    val = np.sqrt(np.clip((b * b - x_safe ** 2) * (x_safe ** 2 - a * a), 0, None))
    return scalar_or_array(np.where(inside, val / (math.pi * ratio * x_safe), 0.0), s)


def quarter_circle_pdf(s: ArrayLike) -> float | np.ndarray:
    """q(s) = sqrt(4 - s^2) / pi on [0, 2]: singular values of a square N(0, 1/n) matrix."""
    x = check_array("s", s, nonempty=False)
    q = np.where((x >= 0) & (x <= 2), np.sqrt(np.clip(4 - x * x, 0, None)) / math.pi, 0.0)
    return scalar_or_array(q, s)


# --------------------------------------------------------------------------- book settings
# Given a seed these functions are cached (and return immutable results or copies);
# given a Generator they compute afresh (see validation.seeded_call).
def variance_table(mc_size: int = 20_000,
                   rng: int | np.random.Generator = 0) -> tuple[tuple[float, ...], ...]:
    """Rows (n, published, closed form, recursion, quadrature, Monte Carlo, MC std. error)."""
    return seeded_call(_variance_table, check_int("mc_size", mc_size, minimum=2), rng)


@lru_cache(maxsize=8)
def _variance_table(mc_size: int, rng: int | np.random.Generator) -> tuple[tuple, ...]:
    rng = check_rng(rng)
    rows = []
    for n, published in SU2019_VARIANCE_TABLE.items():
        a = sample_angles(n, mc_size, rng) - math.pi / 2
        mc = float(np.mean(a * a))  # the mean pi/2 is known exactly
        se = float(np.std(a * a, ddof=1) / math.sqrt(mc_size))
        rows.append((n, published, angle_variance(n), angle_variance_recursion(n),
                     angle_variance_quadrature(n), mc, se))
    return tuple(rows)


def square_draw(n: int = 400,
                rng: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """One square N(0, 1/n) matrix (n, n) and its singular values, both read-only."""
    return seeded_call(_square_draw, check_int("n", n, minimum=1), rng)


@lru_cache(maxsize=4)
def _square_draw(n: int, rng: int | np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    w = gaussian_matrix(n, n, rng)
    s = np.linalg.svd(w, compute_uv=False)
    w.setflags(write=False)
    s.setflags(write=False)
    return w, s


def tall_singular_values(n: int = 400, tall: int = 4,
                         rng: int | np.random.Generator = 1) -> np.ndarray:
    """Singular values (descending) of one (tall n, n) matrix with N(0, 1/(tall n)) entries."""
    return seeded_call(_tall_draw, check_int("n", n, minimum=1),
                       check_int("tall", tall, minimum=1), rng).copy()


@lru_cache(maxsize=4)
def _tall_draw(n: int, tall: int, rng: int | np.random.Generator) -> np.ndarray:
    s = np.linalg.svd(gaussian_matrix(tall * n, n, rng), compute_uv=False)
    s.setflags(write=False)
    return s


def su_table_errors(formula: Callable[[int], float] = angle_variance) -> list[float]:
    """|formula(n) - published| in units of half the last printed digit (6 significant)."""
    out = []
    for n, published in SU2019_VARIANCE_TABLE.items():
        half_unit = 0.5 * 10.0 ** (math.floor(math.log10(published)) - 5)
        out.append(abs(formula(n) - published) / half_unit)
    return out
