"""Checks of chapter 5, "The geometry of random vectors and initialization".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy as sp
from scipy import integrate, stats

from hiddenunits import random_geometry as rg
from hiddenunits.book.checks.montecarlo import ks_level, ks_scaled, z_level
from hiddenunits.book.claims import claim, variant


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
    value, _ = integrate.quad(lambda t: math.cos(t) ** k * rg.angle_pdf(t, n), 0.0, math.pi,
                              epsabs=0.0, epsrel=1e-13, limit=400)
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
