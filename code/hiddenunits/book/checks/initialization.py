"""Checks of chapter 5, "The geometry of random vectors and initialization".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
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
        samples = rg.sample_angles(n, 20_000, rng)
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
    phi = sp.symbols("phi", real=True)
    m = sp.symbols("m", integer=True, positive=True)
    f = sp.cos(phi) ** m
    second = sp.simplify(sp.diff(f, phi, 2) - (m * (m - 1) * sp.cos(phi) ** (m - 2)
                                               - m ** 2 * f))
    ends = [(f.subs(m, k).subs(phi, e), sp.diff(f, phi).subs(m, k).subs(phi, e))
            for k in (2, 3, 4) for e in (-sp.pi / 2, sp.pi / 2)]
    symbolic = float(second != 0) + sum(float(v != 0) for pair in ends for v in pair)
    return float(worst) + symbolic


@claim("cor-angle-variance-table",
       statement="rounded to six significant digits, psi'(n/2)/2 reproduces Su's table",
       math=r"$\tfrac12\psi'(n/2)$ rounded to six significant digits reproduces the "
            r"published table",
       method="exact", tolerance=1.0,
       variants=[variant("the Gaussian approximation 1/(n-2)", formula=lambda n: 1 / (n - 2)),
                 variant("1/(n-1)", formula=lambda n: 1 / (n - 1))])
def check_su_table(formula: Callable = rg.angle_variance) -> float:
    """Worst |formula(n) - published| in half-units of the sixth significant digit."""
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


# --------------------------------------------------------------------------- Gaussian maps
NORM_SHAPES = ((5, 40), (30, 8))  # (m, n): a wide map, with a kernel, and a tall one


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
    N = 20,000 each; false-alarm rate 1e-3 for the whole check (Sidak over 4 statistics).
    """
    rng = np.random.default_rng(2)
    worst = 0.0
    takes_n = law.__code__.co_argcount == 2
    for m, n in NORM_SHAPES:
        dist = law(m, n) if takes_n else law(m)
        for x in (rng.standard_normal(n), np.eye(n)[0]):
            r = rg.norm_ratio_samples(x, m, 20_000, rng)
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
EDGE_SHAPES = ((400, 400), (1600, 400))  # (m, n): the square and the tall matrix of the figure
EDGE_DRAWS = 12
EDGE_WITHIN = 0.03
EDGE_STATISTICS = 4 * len(EDGE_SHAPES)


def t_level(k: int, df: int) -> float:
    """Critical value of the largest of ``k`` one-sided Student t statistics with ``df``
    degrees of freedom (a mean over df + 1 draws against its estimated standard error),
    at the false-alarm rate of the whole check (Sidak)."""
    return float(stats.t.isf(sidak_level(k), df))


def _mp_edges(m: int, n: int) -> tuple[float, float]:
    return rg.mp_edges(n / m)


@lru_cache(maxsize=1)
@limited_threads()
def edge_samples(draws: int = EDGE_DRAWS, rng: int = 6) -> tuple[tuple[np.ndarray, ...], ...]:
    """(sigma_max, sigma_min) of ``draws`` matrices of each shape of ``EDGE_SHAPES``.

    Cached and read-only: every statement (true or false) is compared with the same draws.
    """
    gen = np.random.default_rng(rng)
    out = []
    for m, n in EDGE_SHAPES:
        s_max, s_min = np.empty(draws), np.empty(draws)
        for i in range(draws):
            w = rg.gaussian_matrix(m, n, gen)
            eig = np.clip(np.linalg.eigvalsh(w.T @ w), 0.0, None)  # sigma^2, ascending
            s_min[i], s_max[i] = math.sqrt(eig[0]), math.sqrt(eig[-1])
        s_max.setflags(write=False)
        s_min.setflags(write=False)
        out.append((s_max, s_min))
    return tuple(out)


def edge_zscores(edges: Callable[[int, int], tuple[float, float]],
                 within: float) -> list[float]:
    """One-sided t statistics of the mean extreme singular values against ``edges(m, n)``.

    For each shape: how far the mean of sigma_max lies above the upper edge, and below it
    by more than ``within``; how far the mean of sigma_min lies below the lower edge, and
    above it by more than ``within`` (positive: the statement is violated).
    """
    out = []
    for (m, n), (s_max, s_min) in zip(EDGE_SHAPES, edge_samples(), strict=True):
        lo, hi = edges(m, n)
        se_max = s_max.std(ddof=1) / math.sqrt(s_max.size)
        se_min = s_min.std(ddof=1) / math.sqrt(s_min.size)
        out += [(s_max.mean() - hi) / se_max,  # above the upper edge
                (hi - within - s_max.mean()) / se_max,  # more than `within` below it
                (lo - s_min.mean()) / se_min,  # below the lower edge
                (s_min.mean() - lo - within) / se_min]  # more than `within` above it
    return [float(z) for z in out]


@claim("prop-singular-value-edges",
       statement="W (m, n), m >= n, N(0, 1/m) entries, c = n/m: E sigma_max <= 1 + sqrt(c) "
                 "and E sigma_min >= 1 - sqrt(c) at every size; at n = 400 (c = 1, 1/4) both "
                 "means are within 0.03 of these edges",
       math=r"for $W \in \mathbb{R}^{m\times n}$, $m \ge n$, with $\mathcal{N}(0, 1/m)$ "
            r"entries and $c = n/m$: $\mathbb{E}\sigma_{\max} \le 1 + \sqrt c$ and "
            r"$\mathbb{E}\sigma_{\min} \ge 1 - \sqrt c$; at $n = 400$ ($c = 1, \frac14$) "
            r"both means lie within $0.03$ of these edges",
       method="monte-carlo", tolerance=t_level(EDGE_STATISTICS, EDGE_DRAWS - 1),
       variants=[variant("edges 1 +- 1/sqrt(m) (a square W is nearly orthogonal)",
                         edges=lambda m, n: (1 - 1 / math.sqrt(m), 1 + 1 / math.sqrt(m))),
                 variant("edges 1 +- c (no square root)",
                         edges=lambda m, n: (1 - n / m, 1 + n / m)),
                 variant("edges (1 +- sqrt(c))^2 (those of the eigenvalues of W^T W)",
                         edges=lambda m, n: tuple(e * e for e in _mp_edges(m, n)))])
def check_singular_value_edges(edges: Callable[[int, int], tuple[float, float]] = _mp_edges,
                               within: float = EDGE_WITHIN) -> float:
    """Largest one-sided t statistic (0 if none is positive), 4 statistics x 2 shapes.

    Each is a mean over 12 draws against its estimated standard error, so the level is a
    Student t quantile (11 degrees of freedom), Sidak over the 8 statistics: false-alarm
    rate 1e-3 for the whole check.
    """
    return max(0.0, *edge_zscores(edges, within))


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
# (activation, width, layers, nets): a narrow ReLU net, where the law of z_l^2 is
# heavy-tailed, at moderate depth with many nets, a wider and deeper one, and a linear one.
# Heavy tails skew the Monte Carlo mean: over 300 seeds, the fraction of |z| above 3.29
# (nominal 1e-3) was 1.1e-3 and 1.25e-3 for the two ReLU settings and 0.9e-3 for the
# linear one.
INIT_SETTINGS = (("relu", 3, 4, 20_000), ("relu", 16, 8, 4000), ("linear", 8, 6, 4000))
INIT_SCALES = (0.5, 1.0, 2.0)  # v = c v*, v* = 2/n (ReLU) or 1/n (linear): below, at, above
INIT_STATISTICS = sum(depth for _, _, depth, _ in INIT_SETTINGS) * len(INIT_SCALES)


@lru_cache(maxsize=1)
@limited_threads()
def init_variance_samples(rng: int = 4) -> tuple[tuple[str, int, float, np.ndarray,
                                                        np.ndarray], ...]:
    """(activation, n, v, mean, std. error) of the simulated E z_l^2, l = 1, 2, ...

    Zero-bias nets of each (activation, width n, layers, number of nets) of
    ``INIT_SETTINGS``, weight variance v = c v* for c in ``INIT_SCALES`` (v* = 2/n for
    ReLU, 1/n for linear), input with ||x||^2 = n.  Cached: true and false statements are
    compared with the same simulation.
    """
    gen = np.random.default_rng(rng)
    out = []
    for act, n, depth, n_nets in INIT_SETTINGS:
        for c in INIT_SCALES:
            v = c * (2 if act == "relu" else 1) / n
            mean, se = ini.forward_second_moments(n, depth, v, n_nets, act, gen)
            mean.setflags(write=False)
            se.setflags(write=False)
            out.append((act, n, v, mean, se))
    return tuple(out)


def init_variance_zscores(relu_factor: Callable[[int, float], float],
                          linear_factor: Callable[[int, float], float],
                          first: Callable[[float, float], float]) -> list[float]:
    """|z| of the simulated E z_l^2 against q_1 = first(v, ||x||^2) and
    q_l = factor(n, v) q_(l-1), with the ReLU or the linear factor."""
    out = []
    for act, n, v, mean, se in init_variance_samples():
        factor = relu_factor(n, v) if act == "relu" else linear_factor(n, v)
        predicted = [first(v, float(n))]
        for _ in range(mean.size - 1):
            predicted.append(factor * predicted[-1])
        out.extend(np.abs(mean - np.array(predicted)) / se)
    return [float(z) for z in out]


@claim("prop-init-variances",
       statement="zero-bias net of width n, weight variance v: q_1 = v ||x||^2 and "
                 "q_l = (n v/2) q_(l-1) for ReLU, (n v) q_(l-1) for linear, at any width; "
                 "constant iff v = 2/n (ReLU), 1/n (linear)",
       math=r"zero-bias net of width $n$, weight variance $v$: $q_1 = v\lVert x\rVert^2$, "
            r"$q_\ell = \frac{nv}{2}q_{\ell-1}$ (ReLU) or $nv\,q_{\ell-1}$ (linear) at every "
            r"width; constant iff $v = 2/n$ (ReLU), $1/n$ (linear)",
       method="monte-carlo", tolerance=z_level(INIT_STATISTICS),
       variants=[variant("ReLU factor n v (He's variance would be 1/n)",
                         relu_factor=lambda n, v: n * v),
                 variant("linear factor n v/2 (the ReLU's half in a linear net)",
                         linear_factor=lambda n, v: n * v / 2),
                 variant("q_1 = v ||x||^2 / 2 (the input rectified too)",
                         first=lambda v, x2: v * x2 / 2)])
def check_init_variances(relu_factor: Callable[[int, float], float] = lambda n, v: n * v / 2,
                         linear_factor: Callable[[int, float], float] = lambda n, v: n * v,
                         first: Callable[[float, float], float] = lambda v, x2: v * x2
                         ) -> float:
    """Largest |z| over the 54 statistics (settings x variances x layers).

    The level gives the whole check a false-alarm rate of 1e-3 for Gaussian z-scores
    (Sidak); the skew measured above (``INIT_SETTINGS``) makes it about 2e-3.
    """
    return max(init_variance_zscores(relu_factor, linear_factor, first))


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


# --------------------------------------------------------------------------- products
PRODUCT_WIDTHS = (3, 8)
PRODUCT_DEPTH = 4
PRODUCT_SIZE = 20_000


@lru_cache(maxsize=1)
@limited_threads()
def product_samples(rng: int = 5) -> tuple[tuple[int, int, float, float, float, float], ...]:
    """(n, L, mean, s.e. of (1/n) tr A_L, mean, s.e. of (1/n) tr A_L^2) from simulation.

    ``PRODUCT_SIZE`` products of L N(0, 1/n) layers, for n in ``PRODUCT_WIDTHS`` and
    L = 1..``PRODUCT_DEPTH``; A_L = P_L^T P_L.
    """
    gen = np.random.default_rng(rng)
    out = []
    for n in PRODUCT_WIDTHS:
        p = np.broadcast_to(np.eye(n), (PRODUCT_SIZE, n, n))
        for layer in range(1, PRODUCT_DEPTH + 1):
            p = gen.standard_normal((PRODUCT_SIZE, n, n)) / math.sqrt(n) @ p  # (S, n, n)
            a = np.swapaxes(p, 1, 2) @ p
            tr1 = np.trace(a, axis1=1, axis2=2) / n
            tr2 = np.sum(a * a, axis=(1, 2)) / n  # tr(A^2) = ||A||_F^2 for symmetric A
            root = math.sqrt(PRODUCT_SIZE)
            out.append((n, layer, float(tr1.mean()), float(tr1.std(ddof=1) / root),
                        float(tr2.mean()), float(tr2.std(ddof=1) / root)))
    return tuple(out)


def product_zscores(mean_square: Callable[[int, int], float],
                    fourth: Callable[[int, int], Sequence]) -> list[float]:
    """|z| of the simulated moments against ``mean_square(n, L)`` and ``fourth(n, depth)[L]``."""
    out = []
    for n, layer, m1, se1, m2, se2 in product_samples():
        out += [abs(m1 - mean_square(n, layer)) / se1,
                abs(m2 - float(fourth(n, PRODUCT_DEPTH)[layer])) / se2]
    return out


def _lower_bound_violations(fourth: Callable[[int, int], Sequence]) -> int:
    """Number of (n, L), n <= 64, L <= 30, with M_L < L + 1 (exact rationals)."""
    return sum(m < layer + 1 for n in range(1, 65)
               for layer, m in enumerate(fourth(n, 30)))


def _orthogonal_deviation() -> float:
    """Largest |sigma - 1| over products of up to 8 Haar orthogonal 64 x 64 layers."""
    out = ini.product_singular_values(64, (1, 2, 4, 8), "orthogonal", rng=0)
    return max(float(np.max(np.abs(s - 1))) for s in out.values())


def _moments_missing_pairing(n: int, depth: int) -> tuple[Fraction, ...]:
    """The recursion of ``ini.product_moments_exact`` without the term v_(L-1)/n of v_L."""
    u, v = Fraction(n * n), Fraction(n)
    out = [v / n]
    for _ in range(depth):
        u, v = u + 2 * v / n, v + u / n
        out.append(v / n)
    return tuple(out)


@claim("prop-product-spread",
       statement="products of L N(0, 1/n) layers: mean sigma^2 = 1, mean sigma^4 = M_L from "
                 "the exact recursion, M_L >= L + 1; orthogonal layers keep every sigma = 1",
       math=r"products of $L$ layers with $\mathcal{N}(0, 1/n)$ entries: mean $\sigma^2 = 1$, "
            r"mean $\sigma^4 = M_L$ from the exact recursion, $M_L \ge L + 1$; orthogonal "
            r"layers keep every $\sigma = 1$",
       method="monte-carlo",
       tolerance=z_level(2 * len(PRODUCT_WIDTHS) * PRODUCT_DEPTH),
       variants=[variant("mean sigma^4 = L + 1 (the infinite-width value)",
                         fourth=lambda n, d: tuple(Fraction(k + 1) for k in range(d + 1))),
                 variant("v_L = v_(L-1) + u_(L-1)/n (a pairing missed in Isserlis' sum)",
                         fourth=lambda n, d: _moments_missing_pairing(n, d)),
                 variant("mean sigma^2 = 1 + L/n", mean_square=lambda n, k: 1 + k / n)])
def check_product_spread(mean_square: Callable[[int, int], float] = lambda n, k: 1.0,
                         fourth: Callable[[int, int], Sequence] = ini.product_moments_exact
                         ) -> float:
    """Largest |z| over n = 3, 8, L = 1..4 and both moments (16 statistics).

    The level gives the whole check a false-alarm rate of 1e-3 for Gaussian z-scores
    (Sidak); tr A_L^2 is heavy-tailed, which skews its mean: over 150 seeds the fraction of
    |z| above 3.29 was 1.25e-3 (nominal 1e-3), so the rate is closer to 1.5e-3.

    The two deterministic parts make the error infinite if they fail: M_L >= L + 1 for
    every n <= 64 and L <= 30 (exact), and the products of orthogonal layers have every
    singular value within 1e-12 of 1.
    """
    if _lower_bound_violations(fourth) or _orthogonal_deviation() > 1e-12:
        return math.inf
    return max(product_zscores(mean_square, fourth))

