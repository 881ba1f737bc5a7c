"""Checks of chapter 5, "The geometry of random vectors and initialization".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import integrate, stats

from hiddenunits import initialization as ini
from hiddenunits import random_geometry as rg
from hiddenunits.book.checks.montecarlo import ks_level, ks_scaled, sidak_level, z_level
from hiddenunits.book.claims import claim, variant
from hiddenunits.threads import limited_threads


def _cdf_from_density(density: Callable, n: int, grid: int = 20_001) -> Callable:
    """The CDF of ``density(theta, n)`` on [0, pi], by cumulative Simpson on a fine grid."""
    t = np.linspace(0.0, math.pi, grid)
    cdf = integrate.cumulative_simpson(density(t, n), x=t, initial=0.0)
    return lambda x: np.interp(x, t, cdf)


# --------------------------------------------------------------------------- the angle law
ANGLE_DIMS = (3, 10, 100)
ANGLE_SAMPLES = 20_000
"""Simulated angles for each n of ``ANGLE_DIMS``."""


@claim("lem-angle-density",
       statement="the angle between two isotropic vectors of R^n has density "
                 "C_n sin^(n-2)(theta)",
       math=r"the angle between two isotropic vectors of $\mathbb{R}^n$ has density "
            r"$C_n \sin^{n-2}\theta$",
       method="monte-carlo", tolerance=ks_level(len(ANGLE_DIMS)),
       variants=[variant("exponent n - 1 (the law in R^(n+1))",
                         density=lambda t, n: rg.angle_pdf(t, n + 1)),
                 variant("exponent n - 3 (the law in R^(n-1))",
                         density=lambda t, n: rg.angle_pdf(t, n - 1))])
def check_angle_density(density: Callable = rg.angle_pdf) -> float:
    """Largest sqrt(N) x KS distance between simulated angles and the CDF of ``density``.

    The CDF is obtained by integrating the displayed density numerically, so the formula
    C_n sin^(n-2) itself is tested.  n in {3, 10, 100}, N = 20,000 each; false-alarm
    rate 1e-3 for the whole check.
    """
    rng = np.random.default_rng(1)
    worst = 0.0
    for n in ANGLE_DIMS:
        samples = rg.sample_angles(n, ANGLE_SAMPLES, rng)
        worst = max(worst, ks_scaled(samples, _cdf_from_density(density, n)))
    return worst


def _cos_moment_quadrature(n: int, k: int) -> float:
    """E cos^k(theta) = int cos^k p_n, by adaptive quadrature of the density."""
    # an odd moment is 0: a relative tolerance alone could never be met there
    value, _ = integrate.quad(lambda t: math.cos(t) ** k * rg.angle_pdf(t, n), 0.0, math.pi,
                              epsabs=0.0 if k % 2 == 0 else 1e-14, epsrel=1e-13, limit=400)
    return value


COS_DIMS = (2, 3, 4, 5, 10, 31, 100, 1000)


@claim("prop-cos-moments",
       statement="E cos(theta) = 0 and E cos^2(theta) = 1/n",
       math=r"$\mathbb{E}\cos\theta = 0$ and $\mathbb{E}\cos^2\theta = 1/n$",
       method="numeric", tolerance=1e-11,
       variants=[variant("E cos^2 = 1/(n+1)", second=lambda n: 1 / (n + 1)),
                 variant("E cos^2 = 1/(n-1)", second=lambda n: 1 / (n - 1))])
def check_cos_moments(first: Callable[[int], float] = lambda n: 0.0,
                      second: Callable[[int], float] = lambda n: 1 / n) -> float:
    """Largest error of ``first(n)`` and relative error of ``second(n)`` against quadrature.

    The moments are integrals of cos and cos^2 against the density p_n for n from 2 to
    1000 (quadrature to about 1e-13 relative), plus, symbolically, the by-parts identity
    d/dt [cos sin^(n-1)] = (n-1) cos^2 sin^(n-2) - sin^n of the proof.
    """
    worst = 0.0
    for n in COS_DIMS:
        worst = max(worst, abs(_cos_moment_quadrature(n, 1) - first(n)),
                    abs(_cos_moment_quadrature(n, 2) / second(n) - 1))
    th = sp.symbols("theta", real=True)
    m = sp.symbols("n", positive=True)
    identity = sp.simplify(sp.diff(sp.cos(th) * sp.sin(th) ** (m - 1), th)
                           - ((m - 1) * sp.cos(th) ** 2 * sp.sin(th) ** (m - 2)
                              - sp.sin(th) ** m))
    return worst + float(identity != 0)


# Every n up to 60, then a geometric grid up to 10^4: the quadrature costs ~1 ms each.
VARIANCE_DIMS = tuple(sorted(set(range(2, 61)) | set(np.geomspace(61, 10_000, 40).astype(int))))


@claim("thm-angle-variance",
       statement="Var(theta) = psi'(n/2)/2 for every n >= 2 (psi' = trigamma)",
       math=r"$\operatorname{Var}\theta = \tfrac12\psi'(n/2)$ for every $n \ge 2$",
       method="numeric", tolerance=1e-11,
       variants=[variant("1/n (the leading term only)", formula=lambda n: 1 / n),
                 variant("psi'(n/2)/2 - 2/n^3 (a wrong correction)",
                         formula=lambda n: rg.angle_variance(n) - 2 / n ** 3)])
def check_angle_variance(formula: Callable = rg.angle_variance) -> float:
    """Largest relative error of ``formula(n)`` against quadrature, n = 2 ... 10^4.

    Also checks symbolically the step of the proof that needs m = n - 2 >= 2: for
    f = cos^m, f and f' vanish at +-pi/2, and f'' = m(m-1) cos^(m-2) - m^2 cos^m.
    """
    worst = max(abs(formula(n) / rg.angle_variance_quadrature(n) - 1) for n in VARIANCE_DIMS)
    return float(worst) + _angle_variance_symbolic()


@lru_cache(maxsize=1)
def _angle_variance_symbolic() -> float:
    """Number of failures of the symbolic steps of ``check_angle_variance`` (0 if none).

    They do not depend on the formula checked: computed once, shared with the variants.
    """
    phi = sp.symbols("phi", real=True)
    m = sp.symbols("m", integer=True, positive=True)
    f = sp.cos(phi) ** m
    second = sp.simplify(sp.diff(f, phi, 2) - (m * (m - 1) * sp.cos(phi) ** (m - 2)
                                               - m ** 2 * f))
    ends = [(f.subs(m, k).subs(phi, e), sp.diff(f, phi).subs(m, k).subs(phi, e))
            for k in (2, 3, 4) for e in (-sp.pi / 2, sp.pi / 2)]
    return float(second != 0) + sum(float(v != 0) for pair in ends for v in pair)


# An observation about a published table, not a theorem: it has no claim of its own (the
# claim kinds are theorem, lemma, proposition, corollary); the chapter runs this check
# under the observation and shows the two false variants' errors beside it.
SU_TABLE_VARIANTS = (("the Gaussian approximation 1/(n-2)", lambda n: 1 / (n - 2)),
                     ("1/(n-1)", lambda n: 1 / (n - 1)))
SU_TABLE_TOLERANCE = 1.0
"""At most half a unit of the last printed digit: correct rounding."""


def check_su_table(formula: Callable = rg.angle_variance) -> float:
    """Worst |formula(n) - published| in half-units of the sixth significant digit.

    The observation under Su's table: psi'(n/2)/2, rounded to six significant digits,
    reproduces every published value (error at most 1, ``SU_TABLE_TOLERANCE``).
    """
    return max(rg.su_table_errors(formula))


@claim("prop-angle-concentration",
       statement="P(|cos theta| >= t) <= 2 exp(-n t^2/2)",
       math=r"$P(\lvert\cos\theta\rvert \ge t) \le 2e^{-nt^2/2}$",
       method="numeric", tolerance=1e-12,
       variants=[variant("2 exp(-n t^2) (exponent twice too large)",
                         bound=lambda t, n: 2 * np.exp(-n * t * t)),
                 variant("2 exp(-n t) (a linear exponent)",
                         bound=lambda t, n: 2 * np.exp(-n * t))])
def check_concentration(bound: Callable = rg.cap_bound) -> float:
    """Largest excess of the exact cap probability over ``bound``, relative to the bound.

    The exact probability is a regularised incomplete beta function evaluated to about
    1e-14 relative accuracy, so 1e-12 is round-off, not slack.
    """
    t = np.linspace(0.0, 1.0, 2001)
    worst = 0.0
    for n in (2, 3, 5, 10, 30, 100, 1000, 10_000):
        exact = rg.cap_probability(t, n)
        b = bound(t, n)
        ok = b > 1e-300
        worst = max(worst, float(np.max((exact[ok] - b[ok]) / b[ok])))
    return max(worst, 0.0)


CAP_DIMS = (3, 4, 5, 10, 30, 100, 1000, 10_000, 100_000)
CAP_T = tuple(np.linspace(0.0, 0.999, 112))
CAP_TOLERANCE = 1e-9
"""In log units: log P and log C_n carry absolute errors up to about 1e-10 at n = 10^5
(log-gamma of 5 x 10^4 is about 5 x 10^5), and the upper bound is an equality for n = 3."""
BALL_RANGE = 1 / math.sqrt(2)


def _cap_log_bounds(rate: Callable, n: int, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """log of the lower, upper and intermediate bounds of P(|cos theta| >= t), from ``rate``.

    lower 2 C_n e^(-(n-1) r(t)) / (n-1), upper 2 C_n (1-t) e^(-(n-3) r(t)) and
    intermediate 2 e^(-n r(t)); with r(t) = log(1/(1-t^2))/2 they are
    2 C_n (1-t^2)^((n-1)/2)/(n-1), 2 C_n (1-t)(1-t^2)^((n-3)/2) and 2 (1-t^2)^(n/2).
    """
    r = np.asarray(rate(t), dtype=float)
    log_2c = math.log(2.0) + rg.angle_log_normaliser(n)
    with np.errstate(divide="ignore"):
        upper = log_2c + np.log1p(-t) - (n - 3) * r
    return log_2c - math.log(n - 1) - (n - 1) * r, upper, math.log(2.0) - n * r


@lru_cache(maxsize=1)
def cap_log_probabilities() -> tuple[np.ndarray, ...]:
    """log P(|cos theta| >= t) on ``CAP_T`` for each n of ``CAP_DIMS`` (cached, read-only)."""
    out = []
    for n in CAP_DIMS:
        v = np.asarray(rg.cap_log_probability(np.array(CAP_T), n))
        v.setflags(write=False)
        out.append(v)
    return tuple(out)


@claim("prop-cap-rate",
       statement="for n >= 3 and 0 <= t < 1, 2 C_n (1-t^2)^((n-1)/2)/(n-1) <= "
                 "P(|cos theta| >= t) <= 2 C_n (1-t)(1-t^2)^((n-3)/2), so the exact rate is "
                 "r(t) = log(1/(1-t^2))/2; and P <= 2 (1-t^2)^(n/2) for t <= 1/sqrt(2)",
       math=r"$\frac{2C_n(1-t^2)^{(n-1)/2}}{n-1} \le P(\lvert\cos\theta\rvert \ge t) \le "
            r"2C_n(1-t)(1-t^2)^{(n-3)/2}$, rate $\frac12\log\frac{1}{1-t^2}$; "
            r"$P \le 2(1-t^2)^{n/2}$ for $t \le 1/\sqrt2$",
       method="numeric", tolerance=CAP_TOLERANCE,
       variants=[variant("rate t^2/2 (the exponent of the Gaussian bound)",
                         rate=lambda t: t * t / 2),
                 variant("rate log(1/(1-t^2)) (twice the true one)",
                         rate=lambda t: -np.log1p(-t * t)),
                 variant("P <= 2 (1-t^2)^(n/2) for every t in [0, 1]", ball_range=1.0)])
def check_cap_rate(rate: Callable = rg.cap_rate, ball_range: float = BALL_RANGE) -> float:
    """Largest violation, in log units, of the three bounds built from ``rate``.

    log P is the regularised incomplete beta function, or, where that underflows, the
    quadrature of the density of cos theta scaled by its value at t
    (:func:`~hiddenunits.random_geometry.cap_log_probability`); n from 3 to 10^5 and 112
    values of t in [0, 0.999].  The intermediate bound is tested for t <= ``ball_range``.
    """
    t = np.array(CAP_T)
    worst = 0.0
    for n, log_p in zip(CAP_DIMS, cap_log_probabilities(), strict=True):
        lower, upper, ball = _cap_log_bounds(rate, n, t)
        inside = t <= ball_range + 1e-15
        worst = max(worst, float(np.max(lower - log_p)), float(np.max(log_p - upper)),
                    float(np.max((log_p - ball)[inside])))
    return worst


# --------------------------------------------------------------------------- Gaussian maps
NORM_SHAPES = ((5, 40), (30, 8))  # (m, n): a wide map, with a kernel, and a tall one
NORM_SAMPLES = 5_000
"""Draws per statistic of ``check_gaussian_norm``: sqrt(N) x KS of the false variants grows
as sqrt(N), and at this N the closer one (about 10.6) is still over twice its threshold."""


@claim("lem-gaussian-norm",
       statement="for fixed x, ||Wx||^2/||x||^2 ~ chi^2_m / m when W has N(0, 1/m) entries",
       math=r"for fixed $x$, $\lVert Wx\rVert^2/\lVert x\rVert^2 \sim \chi^2_m/m$ when $W$ "
            r"has $\mathcal{N}(0, 1/m)$ entries",
       method="monte-carlo", tolerance=ks_level(2 * len(NORM_SHAPES)),
       variants=[variant("chi^2_(m-1) / m (one degree of freedom lost)",
                         law=lambda m: stats.chi2(df=m - 1, scale=1 / m)),
                 variant("chi^2_m / n (scaled by the input width)",
                         law=lambda m, n: stats.chi2(df=m, scale=1 / n))])
def check_gaussian_norm(law: Callable = lambda m: stats.chi2(df=m, scale=1 / m)) -> float:
    """Largest sqrt(N) x KS distance of ||Wx||^2/||x||^2 to ``law`` (a frozen scipy law).

    ``law`` takes m (and optionally n).  A dense and a sparse x, for a wide and a tall W;
    N = ``NORM_SAMPLES`` each; false-alarm rate 1e-3 for the whole check (Sidak over 4
    statistics).
    """
    rng = np.random.default_rng(2)
    worst = 0.0
    takes_n = law.__code__.co_argcount == 2
    for m, n in NORM_SHAPES:
        dist = law(m, n) if takes_n else law(m)
        for x in (rng.standard_normal(n), np.eye(n)[0]):
            r = rg.norm_ratio_samples(x, m, NORM_SAMPLES, rng)
            worst = max(worst, ks_scaled(r, dist.cdf))
    return worst


GRAM_SHAPES = ((10, 10), (40, 10), (6, 12))


def gram_zscores(diagonal: Callable, off_diagonal: Callable, spread: Callable,
                 size: int = 4000, rng: int = 3) -> list[float]:
    """Monte Carlo z-scores of three moments of W^T W - I against the given formulas.

    For each shape (m, n): the variance of a diagonal entry (``diagonal(m)``), of an
    off-diagonal entry (``off_diagonal(m)``) and the mean of ||W^T W - I||_F^2 / n
    (``spread(m, n)``), each estimated from ``size`` matrices.
    """
    gen = np.random.default_rng(rng)
    out = []
    for m, n in GRAM_SHAPES:
        w = gen.standard_normal((size, m, n)) / math.sqrt(m)  # (S, m, n)
        d = np.swapaxes(w, 1, 2) @ w - np.eye(n)  # (S, n, n)
        diag_sq = d[:, 0, 0] ** 2  # one entry per matrix: independent samples
        off_sq = d[:, 0, 1] ** 2
        spr = np.sum(d * d, axis=(1, 2)) / n
        for sample, expected in ((diag_sq, diagonal(m)), (off_sq, off_diagonal(m)),
                                 (spr, spread(m, n))):
            se = sample.std(ddof=1) / math.sqrt(size)
            out.append(float(abs(sample.mean() - expected) / se))
    return out


@claim("prop-gram-moments",
       statement="W (m, n) with N(0, 1/m) entries: the entries of W^T W - I have variance "
                 "2/m (diagonal) and 1/m (off-diagonal), and E ||W^T W - I||_F^2 / n = "
                 "(n+1)/m",
       math=r"for $W \in \mathbb{R}^{m\times n}$ with $\mathcal{N}(0, 1/m)$ entries, the "
            r"entries of $W^\top W - I$ have variance $2/m$ (diagonal) and $1/m$ "
            r"(off-diagonal), and $\mathbb{E}\lVert W^\top W - I\rVert_F^2/n = (n+1)/m$",
       method="monte-carlo", tolerance=z_level(3 * len(GRAM_SHAPES)),
       variants=[variant("off-diagonal variance 2/m", off_diagonal=lambda m: 2 / m),
                 variant("diagonal variance 1/m", diagonal=lambda m: 1 / m),
                 variant("E ||W^T W - I||_F^2 / n = n/m", spread=lambda m, n: n / m)])
def check_gram_moments(diagonal: Callable = lambda m: 2 / m,
                       off_diagonal: Callable = lambda m: 1 / m,
                       spread: Callable = rg.gram_spread_expected) -> float:
    """Largest |z| over three moments and three shapes (false-alarm rate 1e-3, Sidak)."""
    return max(gram_zscores(diagonal, off_diagonal, spread))


# --------------------------------------------------------------------------- edges
# (m, n, draws): two small shapes, where many draws are cheap, and the square and the tall
# matrix of the chapter's figure.
EDGE_SHAPES = ((10, 10, 4000), (40, 10, 4000), (400, 400, 12), (1600, 400, 12))
EDGE_TAIL_LEVELS = (0.5, 0.1, 0.01)
"""Values b of the tail bound at which the tails are tested: t = sqrt(2 log(1/b) / m)."""
EDGE_STATISTICS = len(EDGE_SHAPES) * (2 + 2 * len(EDGE_TAIL_LEVELS))


def _mp_edges(m: int, n: int) -> tuple[float, float]:
    return rg.mp_edges(n / m)


@lru_cache(maxsize=1)
@limited_threads()
def edge_samples(rng: int = 6) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(sigma_max, sigma_min) of the draws of each shape of ``EDGE_SHAPES`` (read-only).

    Cached: every statement (true or false) is compared with the same draws.
    """
    gen = np.random.default_rng(rng)
    out = []
    for m, n, draws in EDGE_SHAPES:
        w = gen.standard_normal((draws, m, n)) / math.sqrt(m) if m * n <= 400 else None
        s_max, s_min = np.empty(draws), np.empty(draws)
        for i in range(draws):
            wi = w[i] if w is not None else rg.gaussian_matrix(m, n, gen)
            eig = np.clip(np.linalg.eigvalsh(wi.T @ wi), 0.0, None)  # sigma^2, ascending
            s_min[i], s_max[i] = math.sqrt(eig[0]), math.sqrt(eig[-1])
        s_max.setflags(write=False)
        s_min.setflags(write=False)
        out.append((s_max, s_min))
    return tuple(out)


def edge_pvalues(edges: Callable[[int, int], tuple[float, float]]) -> list[float]:
    """p-values of the draws against E sigma_max <= hi, E sigma_min >= lo and the tails.

    For each shape, (lo, hi) = ``edges(m, n)``: a one-sided Student t test of the mean of
    sigma_max against hi and of sigma_min against lo, and, for each b of
    ``EDGE_TAIL_LEVELS`` and t = sqrt(2 log(1/b)/m), an exact one-sided binomial test of
    the number of draws with sigma_max >= hi + t, and with sigma_min <= lo - t, against
    the bound b on their probability.  A small p-value counts against the statement.
    """
    out = []
    for (m, n, draws), (s_max, s_min) in zip(EDGE_SHAPES, edge_samples(), strict=True):
        lo, hi = edges(m, n)
        for sample in (s_max - hi, lo - s_min):  # positive mean: beyond the bound
            se = sample.std(ddof=1) / math.sqrt(draws)
            out.append(float(stats.t.sf(sample.mean() / se, draws - 1)))
        for b in EDGE_TAIL_LEVELS:
            t = math.sqrt(2 * math.log(1 / b) / m)
            for count in (np.sum(s_max >= hi + t), np.sum(s_min <= lo - t)):
                out.append(float(stats.binom.sf(count - 1, draws, b)))
    return out


EDGE_LEVEL = -math.log10(sidak_level(EDGE_STATISTICS))
"""-log10 of the Sidak level of each of the statistics: false-alarm rate 1e-3 in all."""


@claim("prop-singular-value-edges",
       statement="W (m, n), m >= n, N(0, 1/m) entries, c = n/m: E sigma_max <= 1 + sqrt(c), "
                 "E sigma_min >= 1 - sqrt(c), and P(sigma_max >= 1 + sqrt(c) + t), "
                 "P(sigma_min <= 1 - sqrt(c) - t) <= exp(-m t^2/2) for t >= 0, at every size",
       math=r"for $W \in \mathbb{R}^{m\times n}$, $m \ge n$, with $\mathcal{N}(0, 1/m)$ "
            r"entries and $c = n/m$: $\mathbb{E}\sigma_{\max} \le 1 + \sqrt c$, "
            r"$\mathbb{E}\sigma_{\min} \ge 1 - \sqrt c$, and each exceeds these by $t$ "
            r"with probability at most $e^{-mt^2/2}$",
       method="monte-carlo", tolerance=EDGE_LEVEL,
       variants=[variant("edges 1 +- 0 (a Gaussian matrix is close to orthogonal)",
                         edges=lambda m, n: (1.0, 1.0)),
                 variant("edges 1 +- 1/sqrt(m) (entrywise errors of W^T W)",
                         edges=lambda m, n: (1 - 1 / math.sqrt(m), 1 + 1 / math.sqrt(m))),
                 variant("edges 1 +- c (no square root)",
                         edges=lambda m, n: (1 - n / m, 1 + n / m))])
def check_singular_value_edges(edges: Callable[[int, int], tuple[float, float]] = _mp_edges
                               ) -> float:
    """-log10 of the smallest p-value of :func:`edge_pvalues` (0 when all are 1).

    Shapes 10 x 10 and 40 x 10 (4000 draws each), 400 x 400 and 1600 x 400 (12 draws
    each); 4 statistics on the means and 24 on the tails.  The level is Sidak's over the
    28 statistics: false-alarm rate 1e-3 for the whole check (the binomial tests are
    exact, the t tests assume near-Gaussian means).
    """
    return max(0.0, -math.log10(max(min(edge_pvalues(edges)), 1e-300)))


# --------------------------------------------------------------------------- variance propagation
# A layer y = W x with W (2, 3): weights i.i.d. uniform on {-1, -1, 2} (centred, variance 2,
# not symmetric); x = (u, u^2, u + v) with u in {0, 1, 3}, v in {-1, 2}: correlated and not
# centred, independent of W.
PROPAGATION_N_OUT = 2
PROPAGATION_W_VALUES = (-1, -1, 2)
PROPAGATION_X_LAW = tuple(
    (Fraction(pu) * Fraction(pv), (u, u * u, u + v))
    for (pu, u), (pv, v) in itertools.product(
        [(Fraction(1, 2), 0), (Fraction(1, 3), 1), (Fraction(1, 6), 3)],
        [(Fraction(1, 4), -1), (Fraction(3, 4), 2)]))


def _mean_second_moment(x_law) -> Fraction:
    """(1/n) sum_j E x_j^2 for a finite law of (probability, x) pairs."""
    n = len(x_law[0][1])
    return sum(p * sum(Fraction(xj) ** 2 for xj in x) for p, x in x_law) / n


def _mean_variance(x_law) -> Fraction:
    """(1/n) sum_j Var x_j: the variance where the lemma has the second moment."""
    n = len(x_law[0][1])
    means = [sum(p * Fraction(x[j]) for p, x in x_law) for j in range(n)]
    return _mean_second_moment(x_law) - sum(mu * mu for mu in means) / n


@lru_cache(maxsize=1)
def propagation_moments() -> tuple[Fraction, int, int, tuple[tuple[Fraction, Fraction], ...]]:
    """Var(w), n_in, n_out and (E y_i, E y_i^2) for each output, by exact enumeration."""
    w_values = [Fraction(v) for v in PROPAGATION_W_VALUES]
    p_w = Fraction(1, len(w_values))
    var_w = sum(p_w * v * v for v in w_values) - sum(p_w * v for v in w_values) ** 2
    n_in, n_out = len(PROPAGATION_X_LAW[0][1]), PROPAGATION_N_OUT
    e_y = [Fraction(0)] * n_out
    e_y2 = [Fraction(0)] * n_out
    p_matrix = p_w ** (n_in * n_out)
    for p_x, x in PROPAGATION_X_LAW:
        for flat in itertools.product(w_values, repeat=n_in * n_out):
            for i in range(n_out):
                y = sum(wj * xj for wj, xj in zip(flat[i * n_in:(i + 1) * n_in], x,
                                                  strict=True))
                e_y[i] += p_x * p_matrix * y
                e_y2[i] += p_x * p_matrix * y * y
    return var_w, n_in, n_out, tuple(zip(e_y, e_y2, strict=True))


@claim("lem-variance-propagation",
       statement="y = W x, W (n_out, n_in) with i.i.d. centred entries independent of x: "
                 "E y_i = 0 and Var y_i = n_in Var(w) (1/n_in) sum_j E[x_j^2]",
       math=r"$y = Wx$ with i.i.d. centred $W_{ij}$ independent of $x$: $\mathbb{E}y_i = 0$ "
            r"and $\operatorname{Var} y_i = n_{in}\operatorname{Var}(w)\,\overline{q}$, "
            r"$\overline{q} = \frac{1}{n_{in}}\sum_j \mathbb{E}x_j^2$",
       method="exact", tolerance=0.0,
       variants=[variant("n_out in place of n_in", fan=lambda n_in, n_out: n_out),
                 variant("the variance of x in place of its second moment",
                         input_size=_mean_variance)])
def check_variance_propagation(fan: Callable[[int, int], int] = lambda n_in, n_out: n_in,
                               input_size: Callable = _mean_second_moment) -> float:
    """Largest |E y_i| and |Var y_i - fan(n_in, n_out) Var(w) input_size(x)| over outputs i.

    Exact enumeration of all 3^6 weight matrices and 6 inputs, in rational arithmetic: a
    true statement gives exactly 0.
    """
    var_w, n_in, n_out, moments = propagation_moments()
    predicted = fan(n_in, n_out) * var_w * input_size(PROPAGATION_X_LAW)
    return float(max(max(abs(m), abs(s - m * m - predicted)) for m, s in moments))


# --------------------------------------------------------------------------- ReLU second moment
_Z = sp.symbols("z", real=True)
_S = sp.symbols("s", positive=True)

# Laws of z with scale s > 0: ("density", p(z), low, high) or ("atoms", {value: mass}).
SYMMETRIC_LAWS = {  # each has variance s^2
    "Gaussian": ("density", sp.exp(-_Z ** 2 / (2 * _S ** 2)) / (_S * sp.sqrt(2 * sp.pi)),
                 -sp.oo, sp.oo),
    "Laplace": ("density", sp.exp(-sp.sqrt(2) * sp.Abs(_Z) / _S) / (sp.sqrt(2) * _S),
                -sp.oo, sp.oo),
    "uniform": ("density", 1 / (2 * sp.sqrt(3) * _S), -sp.sqrt(3) * _S, sp.sqrt(3) * _S),
    "three-point, atom at 0": ("atoms", {-2 * _S: sp.Rational(1, 8),
                                         sp.Integer(0): sp.Rational(3, 4),
                                         2 * _S: sp.Rational(1, 8)}),
}
# Centred but not symmetric: z = s (E - 1) with E exponential of mean 1.
SKEWED_LAWS = {"centred exponential": ("density", sp.exp(-(_Z / _S + 1)) / _S, -_S, sp.oo)}


LAWS = {**SYMMETRIC_LAWS, **SKEWED_LAWS}


@lru_cache(maxsize=32)
def law_moment(name: str, which: str) -> sp.Expr:
    """E z, E z^2, E relu(z) or E relu(z)^2 (``which``: z, z2, relu, relu2) for ``LAWS[name]``.

    relu(z)^k = z^k 1{z > 0}, so the relu moments integrate z^k over z > 0 only.
    """
    law = LAWS[name]
    power = 2 if which.endswith("2") else 1
    positive = which.startswith("relu")
    if law[0] == "density":
        _, density, low, high = law
        low = sp.Max(low, 0) if positive else low
        return sp.simplify(sp.integrate(_Z ** power * density, (_Z, low, high)))
    return sp.simplify(sum(p * v ** power for v, p in law[1].items()
                           if not positive or bool(v > 0)))


def _relu_second_moment(name: str) -> sp.Expr:
    """E relu(z)^2."""
    return law_moment(name, "relu2")


def _relu_variance(name: str) -> sp.Expr:
    """Var relu(z) = E relu(z)^2 - (E relu(z))^2."""
    return law_moment(name, "relu2") - law_moment(name, "relu") ** 2


@claim("lem-relu-second-moment",
       statement="E[relu(z)^2] = Var(z)/2 for every symmetric z",
       math=r"$\mathbb{E}\operatorname{relu}(z)^2 = \frac12\operatorname{Var} z$ for every "
            r"symmetric $z$",
       method="symbolic", tolerance=0.0,
       variants=[variant("Var(z)/4", rhs=lambda var: var / 4),
                 variant("Var relu(z) = Var(z)/2 (its variance for its second moment)",
                         lhs=_relu_variance),
                 variant("for every centred z (symmetry dropped)",
                         laws=tuple(SYMMETRIC_LAWS) + tuple(SKEWED_LAWS))])
def check_relu_second_moment(lhs: Callable[[str], sp.Expr] = _relu_second_moment,
                             rhs: Callable[[sp.Expr], sp.Expr] = lambda var: var / 2,
                             laws: Sequence[str] = tuple(SYMMETRIC_LAWS)) -> float:
    """Number of laws (of symbolic scale s) for which sympy finds lhs(law) != rhs(Var z).

    The symmetric laws: Gaussian, Laplace, uniform and a three-point law with an atom at 0.
    """
    wrong = 0
    for name in laws:
        var = law_moment(name, "z2") - law_moment(name, "z") ** 2
        wrong += sp.simplify(lhs(name) - rhs(var)) != 0
    return float(wrong)


# --------------------------------------------------------------------------- deep ReLU nets
# Discrete weight laws, as {value: multiplicity}: the probability of a value is its
# multiplicity over their sum.  Symmetric ones (the proposition's hypothesis) and a centred
# law that is not symmetric (for a false variant).
WEIGHT_LAWS = {
    "Rademacher": {-1: 1, 1: 1},  # variance 1
    "three-point": {-1: 1, 0: 2, 1: 1},  # variance 1/2, an atom at 0
    "centred, not symmetric": {-1: 2, 2: 1},  # variance 2
}
# (activation, width n, layers, law): exact enumeration of every weight configuration.
INIT_SETTINGS = (("relu", 2, 5, "Rademacher"), ("relu", 3, 4, "Rademacher"),
                 ("relu", 2, 4, "three-point"), ("relu", 3, 2, "three-point"),
                 ("linear", 2, 4, "three-point"), ("linear", 3, 3, "Rademacher"))
INIT_INPUTS = {2: (1, -2), 3: (2, -1, 3)}
"""The fixed input x of a net of width n (integers, so that everything stays exact)."""


def _law_variance(law: str) -> Fraction:
    values = WEIGHT_LAWS[law]
    total = sum(values.values())
    mean = Fraction(sum(v * c for v, c in values.items()), total)
    return Fraction(sum(v * v * c for v, c in values.items()), total) - mean * mean


@lru_cache(maxsize=16)
def exact_second_moments(activation: str, width: int, depth: int, law: str
                         ) -> tuple[tuple[Fraction, ...], ...]:
    """E z_(l,i)^2 for every layer l and unit i of a zero-bias net, exactly (rationals).

    Weights i.i.d. from ``WEIGHT_LAWS[law]``, input ``INIT_INPUTS[width]``.  The law of the
    hidden vector h_l is carried from layer to layer as a finite distribution {h: weight}:
    given h_(l-1), the units z_(l,i) = w_i . h_(l-1) are independent (disjoint rows of
    W_l), each with the law of one row's dot product, enumerated over all rows.
    Returns (depth, width).
    """
    values = list(WEIGHT_LAWS[law].items())
    rows = []
    for combo in itertools.product(values, repeat=width):
        rows.append((tuple(v for v, _ in combo), math.prod(c for _, c in combo)))
    row_total = sum(c for _, c in rows)
    dist, total = {INIT_INPUTS[width]: 1}, 1
    out = []
    for layer in range(depth):
        moment = 0
        new: dict[tuple[int, ...], int] = {}
        for h, weight in dist.items():
            z_law: dict[int, int] = {}
            for w, c in rows:
                z = sum(a * b for a, b in zip(w, h, strict=True))
                z_law[z] = z_law.get(z, 0) + c
            moment += weight * sum(c * z * z for z, c in z_law.items())
            if layer == depth - 1:
                continue
            h_law: dict[int, int] = {}
            for z, c in z_law.items():
                key = max(z, 0) if activation == "relu" else z
                h_law[key] = h_law.get(key, 0) + c
            for combo in itertools.product(h_law.items(), repeat=width):
                key = tuple(v for v, _ in combo)
                new[key] = new.get(key, 0) + weight * math.prod(c for _, c in combo)
        # every unit has the law of one row's dot product: the same moment for each
        out.append((Fraction(moment, total * row_total),) * width)
        dist, total = new, total * row_total ** width
    return tuple(out)


@claim("prop-init-variances",
       statement="zero-bias net of width n, i.i.d. symmetric weights of variance v: "
                 "q_1 = v ||x||^2 and q_l = (n v/2) q_(l-1) for ReLU, (n v) q_(l-1) for "
                 "linear, at every width; constant iff v = 2/n (ReLU), 1/n (linear)",
       math=r"zero-bias net of width $n$, symmetric weights of variance $v$: "
            r"$q_1 = v\lVert x\rVert^2$, $q_\ell = \frac{nv}{2}q_{\ell-1}$ (ReLU) or "
            r"$nv\,q_{\ell-1}$ (linear) at every width",
       method="exact", tolerance=0.0,
       variants=[variant("ReLU factor n v (He's variance would be 1/n)",
                         relu_factor=lambda n, v: n * v),
                 variant("linear factor n v/2 (the ReLU's half in a linear net)",
                         linear_factor=lambda n, v: n * v / 2),
                 variant("q_1 = v ||x||^2 / 2 (the input rectified too)",
                         first=lambda v, x2: v * x2 / 2),
                 variant("centred weights suffice (symmetry dropped)",
                         laws=("Rademacher", "three-point", "centred, not symmetric"))])
def check_init_variances(relu_factor: Callable = lambda n, v: n * v / 2,
                         linear_factor: Callable = lambda n, v: n * v,
                         first: Callable = lambda v, x2: v * x2,
                         laws: Sequence[str] = ("Rademacher", "three-point")) -> float:
    """Largest |E z_(l,i)^2 - q_l| over every layer and unit of the ``INIT_SETTINGS`` nets.

    Exact enumeration in rational arithmetic (:func:`exact_second_moments`), for each
    weight law of ``laws`` (ReLU settings with a law not in ``INIT_SETTINGS`` use width 2
    and 3 layers); q_1 = ``first(v, ||x||^2)`` and q_l = factor(n, v) q_(l-1).  A true
    statement gives exactly 0.
    """
    settings = [st for st in INIT_SETTINGS if st[3] in laws]
    settings += [("relu", 2, 3, law) for law in laws
                 if not any(st[3] == law for st in INIT_SETTINGS)]
    worst = Fraction(0)
    for act, n, depth, law in settings:
        v = _law_variance(law)
        x2 = sum(Fraction(c) ** 2 for c in INIT_INPUTS[n])
        factor = relu_factor(n, v) if act == "relu" else linear_factor(n, v)
        predicted = first(v, x2)
        for layer, moments in enumerate(exact_second_moments(act, n, depth, law)):
            if layer:
                predicted = factor * predicted
            worst = max(worst, *(abs(m - predicted) for m in moments))
    return float(worst)


# --------------------------------------------------------------------------- PyTorch default
PYTORCH_SHAPES = ((400, 300, 0), (37, 1000, 1))  # (n_in, n_out, seed)


@claim("prop-pytorch-default",
       statement="torch.nn.Linear(n_in, n_out) draws weights and biases from U(-1/sqrt(n_in), "
                 "1/sqrt(n_in)): variance 1/(3 n_in)",
       math=r"`torch.nn.Linear` draws weights and biases from "
            r"$\mathcal{U}(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$: variance $1/(3n_{in})$",
       method="monte-carlo", tolerance=ks_level(2 * len(PYTORCH_SHAPES)),
       variants=[variant("variance 1/n_in (LeCun's)", variance=lambda n_in, n_out: 1 / n_in),
                 variant("variance 1/(3 n_out) (fan-out)",
                         variance=lambda n_in, n_out: 1 / (3 * n_out))])
def check_pytorch_default(variance: Callable[[int, int], float] =
                          lambda n_in, n_out: 1 / (3 * n_in)) -> float:
    """Largest sqrt(N) x KS distance of torch's own nn.Linear draws to U(-b, b), b^2/3 = variance.

    Weights and biases of two layers (4 statistics); false-alarm rate 1e-3 for the whole
    check.
    """
    worst = 0.0
    for n_in, n_out, seed in PYTORCH_SHAPES:
        w, b = ini.pytorch_linear_weights(n_in, n_out, seed)
        bound = math.sqrt(3 * variance(n_in, n_out))
        law = stats.uniform(loc=-bound, scale=2 * bound)
        for sample in (w.ravel(), b):
            worst = max(worst, ks_scaled(sample, law.cdf))
    return worst


# --------------------------------------------------------------------------- length factors
LENGTH_WIDTHS = (2, 16)
LENGTH_DEPTH = 4
LENGTH_NETS = 10_000
LENGTH_STATISTICS = 3 * len(LENGTH_WIDTHS)


@lru_cache(maxsize=1)
def length_factor_samples(rng: int = 7) -> tuple[tuple[int, np.ndarray], ...]:
    """(n, factors (nets, depth)) of ||h_l||^2 / ||h_(l-1)||^2 in simulated nets (read-only).

    ``LENGTH_NETS`` zero-bias ReLU nets with N(0, 2/n) weights for each width of
    ``LENGTH_WIDTHS``, ``LENGTH_DEPTH`` layers
    (:func:`~hiddenunits.initialization.relu_log_lengths`); a factor after a layer with no
    active unit is NaN.
    """
    out = []
    for n in LENGTH_WIDTHS:
        logs = ini.relu_log_lengths(n, LENGTH_DEPTH, LENGTH_NETS, rng + n)
        with np.errstate(invalid="ignore"):
            factors = np.exp(np.diff(np.concatenate([np.zeros((LENGTH_NETS, 1)), logs], 1),
                                     axis=1))
        factors.setflags(write=False)
        out.append((n, factors))
    return tuple(out)


def _conditional_cdf(cdf: Callable, n: int) -> Callable:
    """The CDF of R given R > 0, from the CDF of R (atom ``cdf(0)`` at 0 removed)."""
    atom = float(cdf(0.0, n))
    return lambda r: (np.asarray(cdf(np.asarray(r), n)) - atom) / (1.0 - atom)


@claim("lem-length-factor",
       statement="zero-bias ReLU layer of width n, N(0, 2/n) weights: given h_(l-1) != 0, "
                 "R_l = ||h_l||^2/||h_(l-1)||^2 ~ (2/n) chi^2_K, K ~ Binomial(n, 1/2), "
                 "whatever h_(l-1) is: the factors of successive layers are i.i.d.",
       math=r"given $h_{\ell-1} \ne 0$, $R_\ell = \lVert h_\ell\rVert^2/\lVert h_{\ell-1}"
            r"\rVert^2 \sim \frac2n\chi^2_K$, $K \sim \mathrm{Bin}(n, \frac12)$, whatever "
            r"$h_{\ell-1}$ is",
       method="monte-carlo", tolerance=ks_level(LENGTH_STATISTICS),
       variants=[variant("R ~ (2/n) chi^2 with n/2 degrees of freedom (half the units on)",
                         cdf=lambda r, n: stats.chi2.cdf(np.asarray(r) * n / 2, n / 2)),
                 variant("R ~ chi^2_n / n (the factor of a linear layer)",
                         cdf=lambda r, n: stats.chi2.cdf(np.asarray(r) * n, n))])
def check_length_factor(cdf: Callable = ini.length_factor_cdf) -> float:
    """Largest sqrt(N) x KS distance of the simulated factors, given R > 0, to ``cdf``.

    For each width: the factor of the first layer (fixed input), and the factor of the
    last layer in the nets where the factor before it is below its median, and above it
    (a law that depended on h_(l-1) would differ between the two halves).  6 statistics,
    false-alarm rate 1e-3 for the whole check (Sidak).  The atom 2^-n at R = 0 is left
    out, since the KS distance is for continuous laws: each test uses the positive factors
    and the law given R > 0.
    """
    worst = 0.0
    for n, factors in length_factor_samples():
        law = _conditional_cdf(cdf, n)
        first = factors[:, 0]
        previous, last = factors[:, -2], factors[:, -1]
        alive = np.isfinite(previous) & (previous > 0)
        median = np.median(previous[alive])
        for sample in (first, last[alive & (previous < median)],
                       last[alive & (previous >= median)]):
            positive = sample[np.isfinite(sample) & (sample > 0)]
            worst = max(worst, ks_scaled(positive, law))
    return worst


EXACT_MOMENT_WIDTHS = 64
"""E R = 1 and Var R = 5/n are checked exactly for every n <= EXACT_MOMENT_WIDTHS."""
LOG_LENGTH_WIDTH = 2 ** 20
LOG_LENGTH_TOLERANCE = 1e-4
"""At n = 2^20 the next terms of the expansions, 49/(12 n) and 37/(2 n) relative to the
first ones, contribute 3.9e-6 and 1.8e-5."""


@claim("prop-log-length",
       statement="He ReLU layer of width n, given K >= 1: E log R = -5/(2n) + O(1/n^2) and "
                 "Var log R = 5/n + O(1/n^2); E R = 1 and Var R = 5/n exactly",
       math=r"$\mathbb{E}\log R_\ell = -\frac{5}{2n} + O(n^{-2})$, "
            r"$\operatorname{Var}\log R_\ell = \frac5n + O(n^{-2})$; "
            r"$\mathbb{E}R_\ell = 1$, $\operatorname{Var}R_\ell = \frac5n$",
       method="numeric", tolerance=LOG_LENGTH_TOLERANCE,
       variants=[variant("E log R = -5/(4n) (half the drift)", mean_log=lambda n: -5 / (4 * n)),
                 variant("Var log R = 2/n (the value for a linear layer)",
                         var_log=lambda n: 2 / n),
                 variant("Var R = 4/n (as if exactly half the units were active)",
                         var_factor=lambda n: Fraction(4, n))])
def check_log_length(mean_log: Callable = lambda n: -5 / (2 * n),
                     var_log: Callable = lambda n: 5 / n,
                     var_factor: Callable = lambda n: Fraction(5, n)) -> float:
    """Largest of n |E log R - mean_log(n)| and n |Var log R - var_log(n)| at n = 2^20.

    The log moments are computed exactly from the law of R, as binomial mixtures of the
    digamma and trigamma functions
    (:func:`~hiddenunits.initialization.length_factor_log_moments`); the tolerance covers
    the O(1/n^2) terms.  E R = 1 and Var R = ``var_factor(n)`` are checked exactly, in
    rationals, for every n <= ``EXACT_MOMENT_WIDTHS`` (the error is infinite if they fail).
    """
    for n in range(1, EXACT_MOMENT_WIDTHS + 1):
        mean, var = ini.length_factor_moments(n)
        if mean != 1 or var != var_factor(n):
            return math.inf
    n = LOG_LENGTH_WIDTH
    m, v = _log_length_moments(n)
    return max(n * abs(m - mean_log(n)), n * abs(v - var_log(n)))


@lru_cache(maxsize=1)
def _log_length_moments(n: int) -> tuple[float, float]:
    """E log R and Var log R at width n (the reference: computed once, shared by variants)."""
    return ini.length_factor_log_moments(n)


# --------------------------------------------------------------------------- products
# The moments of products of Gaussian layers are computed exactly with a three-point law
# in place of N(0, 1): g in {-sqrt(3), 0, sqrt(3)} with probabilities 1/6, 2/3, 1/6 has
# the moments of N(0, 1) up to order 5 (it is the 3-point Gauss-Hermite rule).  tr A_L
# and tr A_L^2 are polynomials of degree at most 4 in each single entry of each W_l (an
# entry appears linearly in P_L, so at most to the 4th power in tr((P^T P)^2)); the
# entries are independent, so these expectations are the same under both laws.
PRODUCT_SHAPES = ((1, 8), (2, 5), (3, 1))
"""(n, largest L) enumerated exactly."""


def _signed_permutations(n: int) -> np.ndarray:
    """All n x n signed permutation matrices, (2^n n!, n, n)."""
    out = []
    for perm in itertools.permutations(range(n)):
        for signs in itertools.product((-1, 1), repeat=n):
            s = np.zeros((n, n), dtype=np.int64)
            s[np.arange(n), perm] = signs
            out.append(s)
    return np.array(out)


def _canonical(b: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """A representative of each B (K, n, n) under B -> S B S^T, S signed permutation.

    The lexicographically smallest of the conjugates; the law of W is invariant under
    W -> W S, so B_L = W_L B_(L-1) W_L^T has the same law from B_(L-1) or from any of its
    conjugates, and traces of B and B^2 are the same for all of them.
    """
    conj = np.einsum("pij,kjl,pml->pkim", perms, b, perms).reshape(len(perms), len(b), -1)
    best = conj[0].copy()
    rows = np.arange(len(b))
    for cand in conj[1:]:
        diff = cand != best
        first = np.argmax(diff, axis=1)
        smaller = diff.any(axis=1) & (cand[rows, first] < best[rows, first])
        best[smaller] = cand[smaller]
    return best.reshape(b.shape)


@lru_cache(maxsize=8)
def exact_product_moments(n: int, depth: int) -> tuple[tuple[Fraction, Fraction], ...]:
    """((1/n) E tr A_L, (1/n) E tr A_L^2) for L = 1..depth, exactly, Gaussian N(0, 1/n) layers.

    With the three-point law (see above) W_l = sqrt(3/n) V_l, V_l with entries in
    {-1, 0, 1} of multiplicities 1, 4, 1; B_L = P_L P_L^T = W_L B_(L-1) W_L^T has the
    traces of A_L = P_L^T P_L.  The law of the integer matrix V_L ... V_1 (V ... V)^T is
    carried as a finite distribution, reduced by ``_canonical``.
    """
    if 6 ** (n * n * depth) >= 2 ** 62:  # the multiplicities are int64
        raise ValueError(f"n = {n}, depth = {depth}: too many configurations")
    idx = np.array(list(itertools.product(range(3), repeat=n * n)))  # (M, n^2)
    v = np.array([-1, 0, 1])[idx].reshape(-1, n, n)  # (M, n, n)
    mult = np.array([1, 4, 1], dtype=np.int64)[idx].prod(axis=1)  # (M,)
    perms = _signed_permutations(n)
    b, weight = np.eye(n, dtype=np.int64)[None], np.array([1], dtype=np.int64)
    out = []
    for layer in range(1, depth + 1):
        vb = np.einsum("aij,bjk->baik", v, b)  # (K, M, n, n)
        new = np.einsum("baik,alk->bail", vb, v).reshape(-1, n, n)
        if layer < depth:  # the last layer's traces need no reduction
            new = _canonical(new, perms)
        new_weight = (weight[:, None] * mult[None, :]).reshape(-1)
        keys, inverse = np.unique(new.reshape(len(new), -1), axis=0, return_inverse=True)
        weight = np.zeros(len(keys), dtype=np.int64)
        np.add.at(weight, inverse.ravel(), new_weight)
        b = keys.reshape(-1, n, n)
        total = int(weight.sum())
        scale = Fraction(3, n) ** layer
        counts = weight.tolist()  # exact products in Python integers
        tr1 = sum(c * t for c, t in zip(counts, np.trace(b, axis1=1, axis2=2).tolist(),
                                        strict=True))
        tr2 = sum(c * t for c, t in zip(counts, np.sum(b * b, axis=(1, 2)).tolist(),
                                        strict=True))
        out.append((Fraction(tr1, total) * scale / n, Fraction(tr2, total) * scale ** 2 / n))
    return tuple(out)


BOUND_WIDTHS, BOUND_DEPTH = 64, 30
"""M_L >= L + 1 is checked exactly for every n <= BOUND_WIDTHS and L <= BOUND_DEPTH."""
ORTHOGONAL_WIDTH, ORTHOGONAL_DEPTHS, ORTHOGONAL_TOLERANCE = 64, (1, 2, 4, 8), 1e-12
"""Products of Haar orthogonal layers: width, depths, and the float64 round-off allowed."""


def _lower_bound_violations(fourth: Callable[[int, int], Sequence]) -> int:
    """Number of (n, L), n <= BOUND_WIDTHS, L <= BOUND_DEPTH, with M_L < L + 1 (exactly)."""
    return sum(m < layer + 1 for n in range(1, BOUND_WIDTHS + 1)
               for layer, m in enumerate(fourth(n, BOUND_DEPTH)))


def _orthogonal_deviation() -> float:
    """Largest |sigma - 1| over products of Haar orthogonal layers (``ORTHOGONAL_*``)."""
    out = ini.product_singular_values(ORTHOGONAL_WIDTH, ORTHOGONAL_DEPTHS, "orthogonal", rng=0)
    return max(float(np.max(np.abs(s - 1))) for s in out.values())


def _moments_missing_pairing(n: int, depth: int) -> tuple[Fraction, ...]:
    """The recursion of ``ini.product_moments_exact`` without the term rho_(L-1)/n of rho_L."""
    tau, rho = Fraction(n * n), Fraction(n)
    out = [rho / n]
    for _ in range(depth):
        tau, rho = tau + 2 * rho / n, rho + tau / n
        out.append(rho / n)
    return tuple(out)


@claim("prop-product-spread",
       statement="products of L N(0, 1/n) layers: mean sigma^2 = 1, mean sigma^4 = M_L from "
                 "the exact recursion, M_L >= L + 1; orthogonal layers keep every sigma = 1",
       math=r"products of $L$ layers with $\mathcal{N}(0, 1/n)$ entries: mean $\sigma^2 = 1$, "
            r"mean $\sigma^4 = M_L$ from the exact recursion, $M_L \ge L + 1$; orthogonal "
            r"layers keep every $\sigma = 1$",
       method="exact", tolerance=0.0,
       variants=[variant("mean sigma^4 = L + 1 (the infinite-width value)",
                         fourth=lambda n, d: tuple(Fraction(k + 1) for k in range(d + 1))),
                 variant("rho_L = rho_(L-1) + tau_(L-1)/n (a pairing missed in Isserlis' sum)",
                         fourth=lambda n, d: _moments_missing_pairing(n, d)),
                 variant("mean sigma^2 = 1 + L/n",
                         mean_square=lambda n, k: 1 + Fraction(k, n))])
def check_product_spread(mean_square: Callable[[int, int], Fraction] = lambda n, k: Fraction(1),
                         fourth: Callable[[int, int], Sequence] = ini.product_moments_exact
                         ) -> float:
    """Largest |exact moment - statement| over the ``PRODUCT_SHAPES`` (n, L), exactly.

    The two moments come from :func:`exact_product_moments` (exact, by the three-point
    law); a true statement gives exactly 0.  The other two parts make the error infinite
    if they fail: M_L >= L + 1 for every n <= ``BOUND_WIDTHS`` and L <= ``BOUND_DEPTH``
    (exact rationals), and the products of Haar orthogonal layers (``ORTHOGONAL_*``) have
    every singular value within ``ORTHOGONAL_TOLERANCE`` of 1 (float64 round-off).
    """
    if _lower_bound_violations(fourth) or _orthogonal_deviation() > ORTHOGONAL_TOLERANCE:
        return math.inf
    worst = Fraction(0)
    for n, depth in PRODUCT_SHAPES:
        predicted = fourth(n, depth)
        for layer, (m2, m4) in enumerate(exact_product_moments(n, depth), start=1):
            worst = max(worst, abs(m2 - mean_square(n, layer)),
                        abs(m4 - Fraction(predicted[layer])))
    return float(worst)


# --------------------------------------------------------------------------- LeCun and He
LECUN_SEEDS = (0, 1, 2)
LECUN_TOLERANCE = (ini.DEEP_NET.depth + 1) * math.sqrt(ini.DEEP_NET.width) * 2.0 ** -24
"""Float precision: each float32 weight is rounded to 2^-24 relative, in 30 layers of width
64; the bound L sqrt(n) 2^-24 = 1.4e-5 is about 30 times the measured error."""


@claim("lem-lecun-he-scale",
       statement="with zero biases and the same seed, the LeCun net is the He net with every "
                 "layer scaled by 1/sqrt(2); its logits are 2^(-L/2) times He's (L weight "
                 "layers)",
       math=r"with zero biases and the same seed, the LeCun network's logits are "
            r"$2^{-L/2}$ times He's ($L$ weight layers)",
       method="numeric", tolerance=LECUN_TOLERANCE,
       variants=[variant("factor 2^(-(L-1)/2) (the hidden layers only)",
                         factor=lambda layers: 2.0 ** (-(layers - 1) / 2)),
                 variant("Xavier's law in place of LeCun's (the same variance on square layers)",
                         law="xavier")])
def check_lecun_he_scale(factor: Callable[[int], float] = lambda layers: 2.0 ** (-layers / 2),
                         law: str = "lecun") -> float:
    """Largest ||f_law / factor(L) - f_He|| / ||f_He|| over three seeds, at 256 digits.

    The chapter's network (29 hidden layers of 64, 30 weight layers, biases initialized
    to 0) built by ``nets.make_mlp`` from the same seed under each law and evaluated in
    float64 (:func:`~hiddenunits.initialization.network_outputs`).
    """
    layers = ini.DEEP_NET.depth + 1
    worst = 0.0
    for seed in LECUN_SEEDS:
        he = ini.network_outputs(replace(ini.DEEP_NET, init="he"), rng=seed)
        other = ini.network_outputs(replace(ini.DEEP_NET, init=law), rng=seed)
        worst = max(worst, float(np.linalg.norm(other / factor(layers) - he)
                                 / np.linalg.norm(he)))
    return worst
