"""Angles between random vectors, Gaussian maps and singular value laws."""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from hiddenunits import random_geometry as rg


def _quad_pdf(n, f=lambda t: 1.0):
    """int_0^pi f(theta) p_n(theta) d theta, split at pi/2 where the mass concentrates."""
    width = min(math.pi / 2, 40 / math.sqrt(n))
    lo, hi = math.pi / 2 - width, math.pi / 2 + width
    g = lambda t: f(t) * float(rg.angle_pdf(t, n))  # noqa: E731
    return integrate.quad(g, lo, hi, points=[math.pi / 2], limit=400, epsabs=0,
                          epsrel=1e-12)[0]


@pytest.mark.parametrize("n", [2, 3, 4, 10, 1000, 20_000])
def test_density_integrates_to_one_even_for_huge_n(n):
    assert _quad_pdf(n) == pytest.approx(1.0, abs=1e-10)


def test_density_small_n_closed_forms():
    t = np.linspace(0, math.pi, 7)
    np.testing.assert_allclose(rg.angle_pdf(t, 2), np.full(7, 1 / math.pi))
    np.testing.assert_allclose(rg.angle_pdf(t, 3), np.sin(t) / 2, atol=1e-15)
    np.testing.assert_allclose(rg.angle_pdf(t, 4), 2 * np.sin(t) ** 2 / math.pi, atol=1e-15)
    assert rg.angle_pdf(-0.1, 5) == 0 and rg.angle_pdf(4.0, 5) == 0


def test_log_normaliser_matches_gamma_and_stirling():
    for n in (2, 3, 7, 50):
        direct = math.gamma(n / 2) / (math.gamma((n - 1) / 2) * math.sqrt(math.pi))
        assert math.exp(rg.angle_log_normaliser(n)) == pytest.approx(direct, rel=1e-13)
    n = 10**6  # C_n = sqrt(n / (2 pi)) (1 + O(1/n))
    assert math.exp(rg.angle_log_normaliser(n)) == pytest.approx(math.sqrt(n / (2 * math.pi)),
                                                                 rel=1e-5)


@pytest.mark.parametrize("n", [2, 3, 9, 200])
def test_cdf_is_the_integral_of_the_density(n):
    for t in (0.3, 1.2, math.pi / 2, 2.5):
        lo = integrate.quad(lambda s: float(rg.angle_pdf(s, n)), 0, t, limit=200)[0]
        assert float(rg.angle_cdf(t, n)) == pytest.approx(lo, abs=1e-10)


@pytest.mark.parametrize("n", [2, 3, 5, 40, 3000])
def test_cos_moments_closed_forms(n):
    assert rg.cos_moment(n, 1) == 0.0
    assert rg.cos_moment(n, 2) == pytest.approx(1 / n, rel=1e-12)
    # E u_1^4 = 3 / (n (n + 2)) for a uniform unit vector (Gaussian moments)
    assert rg.cos_moment(n, 4) == pytest.approx(3 / (n * (n + 2)), rel=1e-12)
    if n <= 40:
        assert _quad_pdf(n, lambda t: math.cos(t) ** 2) == pytest.approx(1 / n, abs=1e-11)


def test_variance_closed_form_against_finite_sums_and_quadrature():
    assert rg.angle_variance(2) == pytest.approx(math.pi ** 2 / 12, rel=1e-14)
    assert rg.angle_variance(3) == pytest.approx(math.pi ** 2 / 4 - 2, rel=1e-14)
    for n in (4, 6, 12):  # even: pi^2/12 - 1/2 sum_{j < n/2} j^-2
        s = sum(1 / j ** 2 for j in range(1, n // 2))
        assert rg.angle_variance(n) == pytest.approx(math.pi ** 2 / 12 - s / 2, rel=1e-12)
    for n in (5, 7, 13):  # odd: pi^2/4 - 2 sum_{j <= (n-1)/2} (2j-1)^-2
        s = sum(1 / (2 * j - 1) ** 2 for j in range(1, (n - 1) // 2 + 1))
        assert rg.angle_variance(n) == pytest.approx(math.pi ** 2 / 4 - 2 * s, rel=1e-12)
    for n in (2, 3, 8, 101, 5000):
        exact = rg.angle_variance(n)
        assert rg.angle_variance_quadrature(n) == pytest.approx(exact, rel=1e-11)
        assert rg.angle_variance_recursion(n) == pytest.approx(exact, rel=1e-11)
        assert _quad_pdf(n, lambda t: (t - math.pi / 2) ** 2) == pytest.approx(exact, rel=1e-9)


def test_variance_asymptotics():
    # psi'(x) = 1/x + 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7) - ..., x = n/2: the
    # remainder after three terms is (-8/15 + 32/(21 n^2)) / n^5 + O(n^-9).  For n <= 300 it
    # is >= 2e-13, far above the rounding error of v (below 1e-18): compare it, not v
    for n in (30, 100, 300):
        v = rg.angle_variance(n)
        remainder = (v - (1 / n + 1 / n ** 2 + 2 / (3 * n ** 3))) * n ** 5
        assert remainder == pytest.approx(-8 / 15 + 32 / (21 * n * n), rel=1e-4)
    for n in (100, 1000, 10_000):
        assert 0 < 1 / (n - 2) - rg.angle_variance(n)  # the Gaussian approximation overestimates


def test_variance_monte_carlo_within_error_bars():
    rng = np.random.default_rng(10)
    for n in (4, 25):
        a = rg.sample_angles(n, 40_000, rng) - math.pi / 2
        se = np.std(a * a) / math.sqrt(a.size)
        assert abs(np.mean(a * a) - rg.angle_variance(n)) < 4 * se
        assert abs(np.mean(a)) < 4 * np.std(a) / math.sqrt(a.size)


def test_two_sampling_methods_agree_in_law():
    rng = np.random.default_rng(11)
    a = rg.sample_angles(30, 20_000, rng, method="vectors")
    b = rg.sample_angles(30, 20_000, rng, method="chi2")
    assert stats.ks_2samp(a, b).pvalue > 0.001


def test_su_table_reproduced_and_a_wrong_formula_is_caught():
    assert max(rg.su_table_errors()) <= 1.0
    assert max(rg.su_table_errors(lambda n: 1 / (n - 2))) > 100  # Gaussian approximation


def test_concentration_bound_holds_and_its_exponent_is_sharp_for_t_of_order_n_to_minus_half():
    t = np.linspace(0, 1, 101)
    for n in (3, 50, 2000):
        assert np.all(rg.cap_probability(t, n) <= rg.cap_bound(t, n) * (1 + 1e-12))
    # at t = 4 / sqrt(n) a bound with exponent n t^2 (twice too fast) is violated
    n, t = 400, 0.2
    assert rg.cap_probability(t, n) > 2 * math.exp(-n * t * t)


def test_cap_rate_is_the_exact_exponent_and_exceeds_t_squared_over_two():
    t = np.linspace(0.05, 0.95, 19)
    assert np.all(rg.cap_rate(t) > t * t / 2)
    assert rg.cap_rate(0.0) == 0.0 and rg.cap_rate(1.0) == math.inf
    n = np.array([10 ** 4, 10 ** 5, 10 ** 6])
    for ti in (0.3, 0.6, 0.9):
        rate = np.array([-rg.cap_log_probability(ti, k) / k for k in n])
        gap = np.abs(rate - rg.cap_rate(ti))
        assert np.all(gap < 2 * np.log(n) / n) and gap[-1] < gap[0]  # O(log n / n)


@pytest.mark.parametrize("n, t", [(10, 0.3), (1000, 0.5), (10_000, 0.5), (10 ** 5, 0.2),
                                  (10 ** 5, 0.99), (3, 0.999)])
def test_cap_log_probability_against_high_precision_incomplete_beta(n, t):
    mpmath.mp.dps = 40
    # P(|cos| >= t) = I_(1-t^2)((n-1)/2, 1/2) by the series of mpmath (x <= 0.96 converges)
    exact = mpmath.log(mpmath.betainc(mpmath.mpf(n - 1) / 2, mpmath.mpf(1) / 2, 0,
                                      1 - mpmath.mpf(t) ** 2, regularized=True))
    assert rg.cap_log_probability(t, n) == pytest.approx(float(exact), rel=1e-11, abs=1e-12)


def test_cap_probability_monte_carlo():
    rng = np.random.default_rng(12)
    n, t, size = 20, 0.3, 50_000
    c = np.abs(np.cos(rg.sample_angles(n, size, rng)))
    p = float(rg.cap_probability(t, n))
    assert abs(np.mean(c >= t) - p) < 4 * math.sqrt(p * (1 - p) / size)


def test_union_bound_dimension_formula():
    n = rg.union_bound_dimension(100, 0.2, 0.05)
    assert 100 * 99 * math.exp(-n * 0.04 / 2) <= 0.05
    assert 100 * 99 * math.exp(-(n - 1) * 0.04 / 2) > 0.05


def test_norm_ratio_is_chi_squared_over_m():
    rng = np.random.default_rng(13)
    x = rng.standard_normal(6)
    r = rg.norm_ratio_samples(x, 9, 40_000, rng)
    assert abs(r.mean() - 1) < 4 * math.sqrt(2 / 9 / r.size)
    assert r.var() == pytest.approx(2 / 9, rel=0.05)
    assert stats.kstest(r, stats.chi2(df=9, scale=1 / 9).cdf).pvalue > 0.001
    # the wrong number of degrees of freedom is detected
    assert stats.kstest(r, stats.chi2(df=6, scale=1 / 6).cdf).pvalue < 1e-6


def test_gram_deviation_of_orthogonal_and_identities():
    q, _ = np.linalg.qr(np.random.default_rng(14).standard_normal((30, 30)))
    rep = rg.gram_deviation(q)
    assert rep["entry_mse"] < 1e-28 and rep["op_norm"] < 1e-13
    w = rg.gaussian_matrix(30, 30, np.random.default_rng(15))
    rep = rg.gram_deviation(w)
    assert rep["spread"] == pytest.approx(30 * rep["entry_mse"], rel=1e-10)  # square: x n
    assert rep["op_norm"] >= math.sqrt(rep["spread"])
    wide = rg.gaussian_matrix(5, 12, np.random.default_rng(16))
    assert rg.gram_deviation(wide)["sigma_min"] == 0.0  # a kernel of dimension 7


def test_limit_laws_are_densities_with_the_right_moments():
    for c in (0.05, 0.25, 1.0):
        a, b = rg.mp_edges(c)
        def moment(k, c=c, a=a, b=b):
            return integrate.quad(lambda s: s ** k * float(rg.mp_singular_pdf(s, c)), a, b,
                                  limit=200)[0]

        mass, m2, m4 = moment(0), moment(2), moment(4)
        assert mass == pytest.approx(1, abs=1e-6)
        assert m2 == pytest.approx(1, abs=1e-6)  # E sigma^2 = 1
        assert m4 == pytest.approx(1 + c, abs=1e-6)  # Marchenko-Pastur second moment
    s = np.linspace(0, 2, 9)
    np.testing.assert_allclose(rg.quarter_circle_pdf(s), rg.mp_singular_pdf(s, 1.0), atol=1e-12)


def test_singular_values_near_the_limit_laws():
    s = rg.tall_singular_values(400, 4, 1)
    a, b = rg.mp_edges(0.25)
    assert a - 0.05 < s.min() and s.max() < b + 0.05
    rep = rg.gram_deviation(rg.square_draw(400, 0)[0])
    assert 1.9 < rep["sigma_max"] < 2.1 and 2.6 < rep["op_norm"] < 3.2


@pytest.mark.parametrize("call", [
    lambda: rg.angle_pdf(1.0, 1),
    lambda: rg.angle_pdf(1.0, 2.5),
    lambda: rg.angle_pdf(1.0, True),
    lambda: rg.angle_pdf(np.nan, 5),
    lambda: rg.angle_cdf([0.1, np.inf], 5),
    lambda: rg.cos_moment(5, -1),
    lambda: rg.sample_angles(5, 0, np.random.default_rng(0)),
    lambda: rg.sample_angles(5, 10, -1),
    lambda: rg.sample_angles(5, 10, 1.5),
    lambda: rg.angle_variance([4, 1]),
    lambda: rg.gram_deviation(np.zeros((0, 3))),
    lambda: rg.gram_deviation(np.eye(3) * (1 + 1j)),
    lambda: rg.sample_angles(5, 10, np.random.default_rng(0), method="polar"),
    lambda: rg.cap_probability(1.5, 5),
    lambda: rg.cap_bound(-0.1, 5),
    lambda: rg.cap_rate(1.5),
    lambda: rg.cap_log_probability(0.5, 1),
    lambda: rg.cap_log_probability([0.5, np.nan], 10),
    lambda: rg.union_bound_dimension(1, 0.1, 0.1),
    lambda: rg.union_bound_dimension(10, 0.1, 1.0),
    lambda: rg.norm_ratio_samples(np.zeros(3), 4, 10, np.random.default_rng(0)),
    lambda: rg.norm_ratio_samples(np.ones((2, 2)), 4, 10, np.random.default_rng(0)),
    lambda: rg.gram_deviation(np.ones(4)),
    lambda: rg.gram_deviation(np.full((2, 2), np.nan)),
    lambda: rg.mp_edges(0.0),
    lambda: rg.mp_edges(2.0),
    lambda: rg.gaussian_matrix(0, 3, np.random.default_rng(0)),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_scalar_in_scalar_out():
    assert type(rg.angle_pdf(1.0, 5)) is float
    assert type(rg.cap_probability(0.5, 5)) is float
    assert type(rg.angle_variance(5)) is float
    assert rg.angle_variance(np.array([2, 3])).shape == (2,)
    assert rg.angle_pdf([0.5, 1.0], 5).shape == (2,)
    assert rg.mp_edges(np.float32(0.25)) == pytest.approx((0.5, 1.5))


def test_seed_or_generator():
    a = rg.sample_angles(5, 10, 3)
    b = rg.sample_angles(5, 10, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_cached_results_cannot_be_changed_by_a_caller():
    w, s = rg.square_draw(50, 0)
    with pytest.raises(ValueError):
        w[0, 0] = 1.0
    t = rg.tall_singular_values(50, 2, 1)
    t[0] = -1.0
    assert rg.tall_singular_values(50, 2, 1)[0] > 0
