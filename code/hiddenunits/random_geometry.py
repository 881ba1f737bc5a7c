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
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import integrate, special, stats

from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure

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
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_dim(n) -> int:
    """The ambient dimension: an integer n >= 2 (an angle needs two dimensions)."""
    return _check_int("n", n, 2)


def _as_finite(name: str, x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values")
    return a


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


# --------------------------------------------------------------------------- the angle law
def angle_log_normaliser(n: int) -> float:
    """log C_n = log Gamma(n/2) - log Gamma((n-1)/2) - log(pi)/2 (finite for any n)."""
    n = _check_dim(n)
    return float(special.gammaln(n / 2) - special.gammaln((n - 1) / 2) - 0.5 * math.log(math.pi))


def angle_pdf(theta, n: int) -> np.ndarray:
    """p_n(theta) = C_n sin^(n-2)(theta) on [0, pi] (zero outside), via logs."""
    n = _check_dim(n)
    theta = _as_finite("theta", theta)
    inside = (theta >= 0) & (theta <= math.pi)
    if n == 2:
        return np.where(inside, math.exp(angle_log_normaliser(2)), 0.0)  # uniform, 1/pi
    s = np.sin(np.where(inside, theta, math.pi / 2))
    with np.errstate(divide="ignore"):  # log(0) = -inf at the end points gives density 0
        log_p = angle_log_normaliser(n) + (n - 2) * np.log(s)
    return np.where(inside, np.exp(log_p), 0.0)


def angle_cdf(theta, n: int) -> np.ndarray:
    """P(angle <= theta), from cos^2(angle) ~ Beta(1/2, (n-1)/2) and the symmetry of cos."""
    n = _check_dim(n)
    theta = np.clip(_as_finite("theta", theta), 0.0, math.pi)
    c = np.cos(theta)
    upper = 0.5 * special.betainc((n - 1) / 2, 0.5, np.clip(1 - c * c, 0.0, 1.0))
    return np.where(c >= 0, upper, 1.0 - upper)  # P(cos >= c)


def cos_moment(n: int, k: int) -> float:
    """E[cos^k(theta)]: 0 for odd k, Gamma(j+1/2) Gamma(n/2) / (sqrt(pi) Gamma(n/2+j)) for k=2j."""
    n = _check_dim(n)
    k = _check_int("k", k, 0)
    if k % 2:
        return 0.0
    j = k // 2
    return float(np.exp(special.gammaln(j + 0.5) + special.gammaln(n / 2)
                        - 0.5 * math.log(math.pi) - special.gammaln(n / 2 + j)))


def angle_mean(n: int) -> float:
    """E[theta] = pi/2 for every n (the density is symmetric about pi/2)."""
    _check_dim(n)
    return math.pi / 2


def angle_variance(n: int) -> float:
    """Var(theta) = psi'(n/2) / 2, with psi' the trigamma function (exact for every n >= 2)."""
    n = _check_dim(n)
    return float(0.5 * special.polygamma(1, n / 2))


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


def sample_angles(n: int, size: int, rng: np.random.Generator,
                  method: str = "vectors") -> np.ndarray:
    """Angles between independent isotropic vectors of R^n: ``size`` samples in [0, pi].

    ``method="vectors"`` draws both Gaussian vectors explicitly (cost n * size, done in
    chunks); ``"chi2"`` uses cos(theta) = g_1 / sqrt(g_1^2 + chi^2_(n-1)), which has the same
    law (fix one vector along e_1 by rotation invariance) and costs O(size) for any n.
    """
    n = _check_dim(n)
    size = _check_int("size", size, 1)
    rng = _check_rng(rng)
    if method == "chi2":
        g1 = rng.standard_normal(size)
        rest = rng.chisquare(n - 1, size)
        return np.arccos(np.clip(g1 / np.sqrt(g1 * g1 + rest), -1.0, 1.0))
    if method != "vectors":
        raise ValueError(f"method must be 'vectors' or 'chi2', got {method!r}")
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


def cap_probability(t, n: int) -> np.ndarray:
    """P(|cos theta| >= t) = I_(1-t^2)((n-1)/2, 1/2), the regularised incomplete beta."""
    n = _check_dim(n)
    t = _as_finite("t", t)
    if np.any((t < 0) | (t > 1)):
        raise ValueError("t must lie in [0, 1]")
    return special.betainc((n - 1) / 2, 0.5, 1.0 - t * t)


def cap_bound(t, n: int) -> np.ndarray:
    """The concentration bound 2 exp(-n t^2 / 2) on P(|cos theta| >= t)."""
    n = _check_dim(n)
    t = _as_finite("t", t)
    if np.any((t < 0) | (t > 1)):
        raise ValueError("t must lie in [0, 1]")
    return 2.0 * np.exp(-n * t * t / 2)


def union_bound_dimension(k: int, t: float, delta: float) -> int:
    """Smallest n with k(k-1)/2 * 2 exp(-n t^2/2) <= delta.

    By the union bound over the k(k-1)/2 pairs, k independent isotropic vectors of R^n are
    then pairwise |cos| < t with probability at least 1 - delta.
    """
    k = _check_int("k", k, 2)
    if not (0 < t <= 1 and 0 < delta < 1):
        raise ValueError(f"need 0 < t <= 1 and 0 < delta < 1, got t={t!r}, delta={delta!r}")
    return max(2, math.ceil(2 * math.log(k * (k - 1) / delta) / (t * t)))


def max_pairwise_cosine(k: int, n: int, rng: np.random.Generator) -> float:
    """max_{i<j} |cos angle(x_i, x_j)| for k independent Gaussian vectors of R^n."""
    k = _check_int("k", k, 2)
    n = _check_dim(n)
    x = _check_rng(rng).standard_normal((k, n))  # (k, n)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    g = np.abs(x @ x.T)  # (k, k)
    return float(np.max(g[np.triu_indices(k, 1)]))


# --------------------------------------------------------------------------- Gaussian maps
def gaussian_matrix(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """W (m, n) with i.i.d. N(0, 1/m) entries, so that E[W^T W] = I_n."""
    m = _check_int("m", m, 1)
    n = _check_int("n", n, 1)
    return _check_rng(rng).standard_normal((m, n)) / math.sqrt(m)


def norm_ratio_samples(x, m: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of ||W x||^2 / ||x||^2 for fresh W (m, n) with N(0, 1/m) entries."""
    x = _as_finite("x", x)
    if x.ndim != 1 or not np.any(x):
        raise ValueError("x must be a non-zero vector (n,)")
    m = _check_int("m", m, 1)
    size = _check_int("size", size, 1)
    rng = _check_rng(rng)
    out = np.empty(size)
    chunk = max(1, 2_000_000 // (m * x.size))
    for start in range(0, size, chunk):
        k = min(chunk, size - start)
        w = rng.standard_normal((k, m, x.size)) / math.sqrt(m)  # (k, m, n)
        out[start:start + k] = np.sum((w @ x) ** 2, axis=1) / np.dot(x, x)
    return out


def gram_deviation(w) -> dict[str, float]:
    """How far W (m, n) is from having orthonormal columns, measured three ways.

    ``entry_mse``: mean of the n^2 squared entries of W^T W - I (the article's measure);
    ``spread``: mean over the n singular values of (sigma^2 - 1)^2, i.e. ||W^T W - I||_F^2 / n;
    ``op_norm``: ||W^T W - I||_op = max_i |sigma_i^2 - 1|.
    """
    w = _as_finite("w", w)
    if w.ndim != 2:
        raise ValueError(f"w must be a matrix (m, n), got shape {w.shape}")
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
    m = _check_int("m", m, 1)
    n = _check_int("n", n, 1)
    return (n + 1) / m


def mp_edges(ratio: float) -> tuple[float, float]:
    """Edges (1 - sqrt(c), 1 + sqrt(c)) of the singular values of W (m, n), c = n/m <= 1."""
    if not (isinstance(ratio, int | float) and 0 < ratio <= 1):
        raise ValueError(f"ratio n/m must lie in (0, 1], got {ratio!r}")
    r = math.sqrt(ratio)
    return 1.0 - r, 1.0 + r


def mp_singular_pdf(s, ratio: float) -> np.ndarray:
    """Limit density of the singular values of W (m, n), N(0, 1/m) entries, n/m -> c <= 1.

    q_c(s) = sqrt((b^2 - s^2)(s^2 - a^2)) / (pi c s) on [a, b] = [1 - sqrt(c), 1 + sqrt(c)]
    (the Marchenko-Pastur law of s^2 moved to s); c = 1 gives the quarter circle.
    """
    a, b = mp_edges(ratio)
    s = _as_finite("s", s)
    if a == 0.0:  # c = 1: the factor s cancels, leaving the quarter circle (finite at s = 0)
        return quarter_circle_pdf(s)
    inside = (s > a) & (s < b) & (s > 0)
    s_safe = np.where(inside, s, 1.0)
    val = np.sqrt(np.clip((b * b - s_safe ** 2) * (s_safe ** 2 - a * a), 0, None))
    return np.where(inside, val / (math.pi * ratio * s_safe), 0.0)


def quarter_circle_pdf(s) -> np.ndarray:
    """q(s) = sqrt(4 - s^2) / pi on [0, 2]: singular values of a square N(0, 1/n) matrix."""
    s = _as_finite("s", s)
    return np.where((s >= 0) & (s <= 2), np.sqrt(np.clip(4 - s * s, 0, None)) / math.pi, 0.0)


# --------------------------------------------------------------------------- book settings
@lru_cache(maxsize=8)
def variance_table(mc_size: int = 20_000, seed: int = 0) -> tuple[tuple, ...]:
    """Rows (n, published, closed form, recursion, quadrature, Monte Carlo, MC std. error)."""
    rng = np.random.default_rng(seed)
    rows = []
    for n, published in SU2019_VARIANCE_TABLE.items():
        a = sample_angles(n, mc_size, rng) - math.pi / 2
        mc = float(np.mean(a * a))  # the mean pi/2 is known exactly
        se = float(np.std(a * a, ddof=1) / math.sqrt(mc_size))
        rows.append((n, published, angle_variance(n), angle_variance_recursion(n),
                     angle_variance_quadrature(n), mc, se))
    return tuple(rows)


@lru_cache(maxsize=4)
def _square_draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    w = gaussian_matrix(n, n, np.random.default_rng(seed))
    s = np.linalg.svd(w, compute_uv=False)
    w.setflags(write=False)
    s.setflags(write=False)
    return w, s


@lru_cache(maxsize=4)
def square_gaussian_report(n: int = 400, seed: int = 0) -> dict[str, float]:
    """:func:`gram_deviation` of one square N(0, 1/n) matrix of the book's size."""
    return gram_deviation(_square_draw(_check_int("n", n, 1), seed)[0])


@lru_cache(maxsize=4)
def _tall_draw(n: int, tall: int, seed: int) -> np.ndarray:
    s = np.linalg.svd(gaussian_matrix(tall * n, n, np.random.default_rng(seed)),
                      compute_uv=False)
    s.setflags(write=False)
    return s


def tall_gaussian_singular_values(n: int = 400, tall: int = 4, seed: int = 1) -> np.ndarray:
    """Singular values (descending) of one (tall * n, n) matrix with N(0, 1/(tall n)) entries."""
    return _tall_draw(_check_int("n", n, 1), _check_int("tall", tall, 1), seed).copy()


# --------------------------------------------------------------------------- claims
# Kolmogorov-Smirnov: P(sqrt(N) D_N > 1.95) ~ 0.001 for a correct law, so a check at this
# level fails by chance about once in a thousand seeds; our seeds are fixed.
KS_LEVEL = 1.95


def _ks_scaled(samples: np.ndarray, cdf) -> float:
    return float(math.sqrt(samples.size) * stats.kstest(samples, cdf).statistic)


@claim("lem-angle-density", chapter="initialization",
       statement="the angle between two isotropic vectors of R^n has density "
                 "C_n sin^(n-2)(theta)",
       method="monte-carlo", tolerance=KS_LEVEL)
def check_angle_density() -> float:
    """Largest sqrt(N) * KS distance between simulated angles and the law, n in {3, 10, 100}."""
    rng = np.random.default_rng(1)
    worst = 0.0
    for n in (3, 10, 100):
        samples = sample_angles(n, 20_000, rng)
        worst = max(worst, _ks_scaled(samples, lambda t, n=n: angle_cdf(t, n)))
    return worst


@claim("prop-cos-moments", chapter="initialization",
       statement="E cos(theta) = 0 and E cos^2(theta) = 1/n",
       method="symbolic", tolerance=0.0)
def check_cos_moments() -> float:
    """sympy: the symmetry and the by-parts identity behind E cos^2 = 1/n; 0 when all hold."""
    th = sp.symbols("theta", real=True)
    n = sp.symbols("n", positive=True)
    residuals = [
        # cos(pi - t) sin^(n-2)(pi - t) = -cos(t) sin^(n-2)(t): the mean of cos is 0
        sp.simplify(sp.cos(sp.pi - th) * sp.sin(sp.pi - th) ** (n - 2)
                    + sp.cos(th) * sp.sin(th) ** (n - 2)),
        # d/dt [cos sin^(n-1)] = (n-1) cos^2 sin^(n-2) - sin^n
        sp.simplify(sp.diff(sp.cos(th) * sp.sin(th) ** (n - 1), th)
                    - ((n - 1) * sp.cos(th) ** 2 * sp.sin(th) ** (n - 2) - sp.sin(th) ** n)),
    ]
    # With A = int cos^2 sin^(n-2), J = int sin^(n-2): (n-1) A = int sin^n = J - A
    a, j = sp.symbols("A J", positive=True)
    ratio = sp.solve(sp.Eq((n - 1) * a, j - a), a)[0] / j
    residuals.append(sp.simplify(ratio - 1 / n))
    return float(sum(r != 0 for r in residuals))


@claim("thm-angle-variance", chapter="initialization",
       statement="Var(theta) = psi'(n/2)/2 for every n >= 2 (psi' = trigamma)",
       method="symbolic", tolerance=0.0)
def check_angle_variance() -> float:
    """sympy: the recursion of the proof, both base cases, the trigamma recurrence and n = 4."""
    phi = sp.symbols("phi", real=True)
    m = sp.symbols("m", positive=True)
    x = sp.symbols("x", positive=True)
    half_pi = sp.pi / 2
    f = sp.cos(phi) ** m
    residuals = [
        # (cos^m)'' = m(m-1) cos^(m-2) - m^2 cos^m
        sp.simplify(sp.diff(f, phi, 2) - (m * (m - 1) * sp.cos(phi) ** (m - 2) - m ** 2 * f)),
        # base n = 2 (m = 0): uniform angle, variance pi^2/12 = psi'(1)/2
        sp.simplify(sp.integrate(phi ** 2, (phi, -half_pi, half_pi)) / sp.pi
                    - sp.polygamma(1, 1) / 2),
        # base n = 3 (m = 1): variance pi^2/4 - 2 = psi'(3/2)/2 = (psi'(1/2) - 4)/2
        sp.simplify(sp.integrate(phi ** 2 * sp.cos(phi), (phi, -half_pi, half_pi))
                    / sp.integrate(sp.cos(phi), (phi, -half_pi, half_pi))
                    - (sp.polygamma(1, sp.S.Half) - 4) / 2),
        # psi'(x + 1) = psi'(x) - 1/x^2 turns V_n = V_(n-2) - 2/(n-2)^2 into psi'(n/2)/2
        sp.simplify(sp.expand_func(sp.polygamma(1, x + 1)) - sp.polygamma(1, x) + 1 / x ** 2),
        # end to end at n = 4, the first case that uses the recursion: pi^2/12 - 1/2
        sp.simplify(sp.integrate(phi ** 2 * sp.cos(phi) ** 2, (phi, -half_pi, half_pi))
                    / sp.integrate(sp.cos(phi) ** 2, (phi, -half_pi, half_pi))
                    - (sp.pi ** 2 / 12 - sp.Rational(1, 2))),
    ]
    return float(sum(r != 0 for r in residuals))


def su_table_errors() -> list[float]:
    """|closed form - published| in units of half the last printed digit (6 significant)."""
    out = []
    for n, published in SU2019_VARIANCE_TABLE.items():
        half_unit = 0.5 * 10.0 ** (math.floor(math.log10(published)) - 5)
        out.append(abs(angle_variance(n) - published) / half_unit)
    return out


@claim("cor-angle-variance-table", chapter="initialization",
       statement="rounded to six significant digits, psi'(n/2)/2 reproduces Su's table",
       method="exact", tolerance=1.0)
def check_su_table() -> float:
    """Worst |ours - published| in half-units of the sixth significant digit (<= 1: agrees)."""
    return max(su_table_errors())


@claim("prop-angle-concentration", chapter="initialization",
       statement="P(|cos theta| >= t) <= 2 exp(-n t^2/2)",
       method="numeric", tolerance=1e-12)
def check_concentration() -> float:
    """Largest excess of the exact cap probability over the bound, relative to the bound.

    The exact probability is a regularised incomplete beta function evaluated to about
    1e-14 relative accuracy, so 1e-12 is round-off, not slack.
    """
    t = np.linspace(0.0, 1.0, 2001)
    worst = 0.0
    for n in (2, 3, 5, 10, 30, 100, 1000, 10_000):
        exact = cap_probability(t, n)
        bound = cap_bound(t, n)
        ok = bound > 1e-300
        worst = max(worst, float(np.max((exact[ok] - bound[ok]) / bound[ok])))
    return max(worst, 0.0)


@claim("lem-gaussian-norm", chapter="initialization",
       statement="for fixed x, ||Wx||^2/||x||^2 ~ chi^2_m / m when W has N(0, 1/m) entries",
       method="monte-carlo", tolerance=KS_LEVEL)
def check_gaussian_norm() -> float:
    """sqrt(N) * KS distance to chi^2_m/m, for a dense and a sparse x, with m < n and m > n."""
    rng = np.random.default_rng(2)
    worst = 0.0
    for m, n in ((5, 40), (30, 8)):
        for x in (rng.standard_normal(n), np.eye(n)[0]):
            r = norm_ratio_samples(x, m, 20_000, rng)
            worst = max(worst, _ks_scaled(r, stats.chi2(df=m, scale=1 / m).cdf))
    return worst


def gram_spread_zscores(size: int = 4000, seed: int = 3) -> list[float]:
    """Monte Carlo z-scores of the mean of ||W^T W - I||_F^2 / n against (n + 1)/m."""
    rng = np.random.default_rng(seed)
    out = []
    for m, n in ((10, 10), (40, 10), (6, 12)):
        w = rng.standard_normal((size, m, n)) / math.sqrt(m)  # (S, m, n)
        d = np.swapaxes(w, 1, 2) @ w - np.eye(n)  # (S, n, n)
        spread = np.sum(d * d, axis=(1, 2)) / n
        se = spread.std(ddof=1) / math.sqrt(size)
        out.append(float(abs(spread.mean() - gram_spread_expected(m, n)) / se))
    return out


@claim("prop-gram-moments", chapter="initialization",
       statement="E ||W^T W - I||_F^2 / n = (n+1)/m for W (m, n) with N(0, 1/m) entries",
       method="monte-carlo", tolerance=4.0)
def check_gram_moments() -> float:
    """Largest |z| (in Monte Carlo standard errors) over three shapes; 4 standard errors."""
    return max(gram_spread_zscores())


# --------------------------------------------------------------------------- figures
@figure("initialization")
def fig_angle_density(mc_size: int = 20_000, seed: int = 0):
    """Angle densities against simulated angles, and the Gaussian limit of sqrt(n)(theta-pi/2)."""
    rng = np.random.default_rng(seed)
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    theta = np.linspace(0, math.pi, 400)
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for n, color in zip((3, 10, 50), colors, strict=True):
        ax1.hist(sample_angles(n, mc_size, rng), bins=60, density=True, color=color,
                 histtype="stepfilled", alpha=0.3)
        ax1.plot(theta, angle_pdf(theta, n), color=color, label=f"$n = {n}$")
    ax1.set_xlabel(r"angle $\theta$")
    ax1.set_ylabel("density")
    ax1.set_xticks([0, math.pi / 2, math.pi], ["0", r"$\pi/2$", r"$\pi$"])
    ax1.legend()
    u = np.linspace(-4, 4, 400)
    colors = [COLORS["vermillion"], COLORS["purple"], COLORS["sky"]]
    for n, color in zip((5, 500, 5000), colors, strict=True):
        a = math.sqrt(n) * (sample_angles(n, mc_size, rng, method="chi2") - math.pi / 2)
        ax2.hist(a, bins=60, range=(-4, 4), density=True, color=color, alpha=0.3,
                 histtype="stepfilled")
        ax2.plot(u, angle_pdf(math.pi / 2 + u / math.sqrt(n), n) / math.sqrt(n), color=color,
                 label=f"$n = {n}$")
    ax2.plot(u, stats.norm.pdf(u), color=COLORS["black"], lw=1, ls="--", label="$N(0, 1)$",
             zorder=5)
    ax2.set_xlabel(r"$\sqrt{n}\,(\theta - \pi/2)$")
    ax2.legend()
    return fig


@figure("initialization")
def fig_singular_value_laws(n: int = 400, tall: int = 4, seed: int = 0):
    """Singular values of one square and one tall Gaussian matrix against their limit laws."""
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    s = _square_draw(n, seed)[1]  # the matrix of square_gaussian_report
    grid = np.linspace(0, 2.2, 500)
    ax1.hist(s, bins=50, density=True, color=COLORS["blue"], alpha=0.35, histtype="stepfilled",
             label=f"one ${n}\\times{n}$ draw")
    ax1.plot(grid, quarter_circle_pdf(grid), color=COLORS["blue"], label="quarter circle")
    ax1.axvline(1.0, color=COLORS["grey"], lw=1, ls=":")
    ax1.set_xlabel(r"singular value $\sigma$")
    ax1.set_ylabel("density")
    ax1.set_title("square, $m = n$")
    ax1.legend(loc="upper right")
    m = tall * n
    s = tall_gaussian_singular_values(n, tall, seed + 1)
    ax2.hist(s, bins=50, density=True, color=COLORS["orange"], alpha=0.35, histtype="stepfilled",
             label=f"one ${m}\\times{n}$ draw")
    ax2.plot(grid, mp_singular_pdf(grid, n / m), color=COLORS["orange"],
             label="Marchenko-Pastur")
    for edge in mp_edges(n / m):
        ax2.axvline(edge, color=COLORS["grey"], lw=1, ls="--")
    ax2.set_xlabel(r"singular value $\sigma$")
    ax2.set_title(f"tall, $m = {tall}n$")
    ax2.legend(loc="upper right")
    return fig
