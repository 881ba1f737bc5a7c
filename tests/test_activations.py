"""Activation functions, their derivatives, the property table and the sympy identities."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import integrate, optimize, special

from hiddenunits import activations as A

POINTS = np.linspace(-6.0, 6.0, 241)  # includes 0 (index 120)


@pytest.mark.parametrize("name", A.NAMES)
def test_phi_matches_the_torch_module(name):
    x = torch.tensor(POINTS, dtype=torch.float64)
    expected = A.torch_activation(name)(x).numpy()
    np.testing.assert_allclose(A.phi(name, POINTS), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", A.NAMES)
def test_dphi_matches_autograd_including_kinks(name):
    np.testing.assert_allclose(A.dphi(name, POINTS), A.autograd_derivative(name, POINTS),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", A.NAMES)
def test_dphi_matches_central_differences_away_from_kinks(name):
    t = POINTS[np.abs(POINTS) > 0.01]
    h = 1e-6
    fd = (A.phi(name, t + h) - A.phi(name, t - h)) / (2 * h)
    # central differences of smooth float64 functions: error O(h^2) + O(eps/h) ~ 1e-9
    np.testing.assert_allclose(A.dphi(name, t), fd, atol=1e-8)


@pytest.mark.parametrize("name, power, closed_form", [
    ("sigmoid", 1, 0.5),
    ("tanh", 1, 0.0),
    ("relu", 1, 1 / math.sqrt(2 * math.pi)),
    ("relu", 2, 0.5),
    ("leaky_relu", 1, (1 - A.LEAKY_SLOPE) / math.sqrt(2 * math.pi)),
    ("leaky_relu", 2, (1 + A.LEAKY_SLOPE**2) / 2),
    ("elu", 1, 1 / math.sqrt(2 * math.pi) + math.exp(0.5) * special.ndtr(-1.0) - 0.5),
    # E[(e^Z - 1)^2 1{Z < 0}] with E[e^{aZ} 1{Z < 0}] = e^{a^2/2} Phi(-a)
    ("elu", 2, 1 + math.exp(2) * special.ndtr(-2.0) - 2 * math.exp(0.5) * special.ndtr(-1.0)),
    ("gelu", 1, 1 / (2 * math.sqrt(math.pi))),  # Stein: E[Z Phi(Z)] = E[phi_N(Z)]
])
def test_gaussian_moments_closed_forms(name, power, closed_form):
    assert A.gaussian_moment(name, power) == pytest.approx(closed_form, abs=1e-13)


def test_gaussian_moment_scales_like_relu():
    for s in (0.1, 1.7, 4.0):
        assert A.gaussian_moment("relu", 1, s) == pytest.approx(s / math.sqrt(2 * math.pi),
                                                                rel=1e-13)
        assert A.gaussian_moment("relu", 2, s) == pytest.approx(s * s / 2, rel=1e-13)


@pytest.mark.parametrize("name", A.NAMES)
def test_gaussian_moments_against_adaptive_quadrature(name):
    # an independent reference: scipy's adaptive quadrature split at the kink, point by point
    for power, scale in ((1, 1.0), (2, 1.0), (1, 1.5), (2, 0.4)):
        def integrand(z, power=power, scale=scale):
            return (A.phi(name, scale * z) ** power * math.exp(-0.5 * z * z)
                    / math.sqrt(2 * math.pi))

        ref = sum(integrate.quad(integrand, a, b, epsabs=1e-14, epsrel=1e-13)[0]
                  for a, b in ((-np.inf, 0.0), (0.0, np.inf)))
        assert A.gaussian_moment(name, power, scale) == pytest.approx(ref, rel=1e-12,
                                                                      abs=1e-13)


@pytest.mark.parametrize("name", A.NAMES)
def test_gaussian_slope_moments_against_adaptive_quadrature(name):
    for power, scale in ((2, 1.0), (1, 1.0), (2, 0.5)):
        def integrand(z, power=power, scale=scale):
            return (A.dphi(name, scale * z) ** power * math.exp(-0.5 * z * z)
                    / math.sqrt(2 * math.pi))

        ref = sum(integrate.quad(integrand, a, b, epsabs=1e-14, epsrel=1e-13)[0]
                  for a, b in ((-np.inf, 0.0), (0.0, np.inf)))
        assert A.gaussian_slope_moment(name, power, scale) == pytest.approx(
            ref, rel=1e-11, abs=1e-13)


def test_gaussian_slope_moment_closed_forms():
    assert A.gaussian_slope_moment("relu") == pytest.approx(0.5, abs=1e-15)
    assert A.gaussian_slope_moment("relu", scale=3.0) == pytest.approx(0.5, abs=1e-15)
    assert A.gaussian_slope_moment("leaky_relu") == pytest.approx(
        (1 + A.LEAKY_SLOPE**2) / 2, abs=1e-15)
    # softplus' = sigma, so E[softplus'(Z)^2] = E[sigma(Z)^2] = E[sigma(Z)^2]
    assert A.gaussian_slope_moment("softplus") == pytest.approx(
        A.gaussian_moment("sigmoid", 2), rel=1e-13)


def test_saturated_sets_closed_forms():
    # sigma' = 1/(4 cosh^2(t/2)) < 0.01/4 iff cosh(t/2) > 10
    edge = 2 * math.acosh(10.0)
    (a, b), (c, d) = A.saturated_set("sigmoid")
    assert (a, d) == (-math.inf, math.inf)
    assert (b, c) == pytest.approx((-edge, edge), abs=1e-12)
    (a, b), (c, d) = A.saturated_set("tanh")  # 1 - tanh^2 < 0.01
    assert c == pytest.approx(math.atanh(math.sqrt(0.99)), abs=1e-12)
    ((a, b),) = A.saturated_set("softplus")  # sigma(t) < 0.01
    assert a == -math.inf and b == pytest.approx(math.log(0.01 / 0.99), abs=1e-12)
    ((a, b),) = A.saturated_set("relu")
    assert a == -math.inf and abs(b) < 1e-12
    assert A.saturated_set("leaky_relu") == ()  # slope exactly 1 % of its maximum
    assert A.saturated_probability("relu", 3.0) == pytest.approx(0.5, abs=1e-12)
    assert A.saturated_probability("sigmoid", 2.0) == pytest.approx(
        2 * special.ndtr(-edge / 2), rel=1e-10)


@pytest.mark.parametrize("name", ["gelu", "silu", "elu"])
def test_saturated_probability_against_monte_carlo(name):
    # P is a mean of indicators: binomial error bar sqrt(p(1-p)/N) <= 0.5/sqrt(N) = 1e-3;
    # 5 sigma of that is 5e-3
    rng = np.random.default_rng(7)
    z = 2.0 * rng.normal(size=250_000)
    sup = A.activation_properties(name, with_cost=False)
    level = 0.01 * max(sup.max_derivative, -sup.min_derivative)
    mc = np.mean(np.abs(A.dphi(name, z)) < level)
    assert A.saturated_probability(name, 2.0) == pytest.approx(mc, abs=5e-3)


def test_properties_include_moments_and_saturation():
    p = A.activation_properties("softplus", with_cost=False)
    assert p.value_at_0 == pytest.approx(math.log(2))
    assert p.second_moment == pytest.approx(A.gaussian_moment("softplus", 2))
    assert p.slope_second_moment == pytest.approx(A.gaussian_slope_moment("softplus"))
    assert p.saturated_fractions == tuple(A.saturated_probability("softplus", s)
                                          for s in A.SATURATION_SCALES)


def test_random_feature_error():
    target = np.cos
    # a target in the span of the features (the constant column) is fitted to round-off
    assert A.random_feature_error(np.tanh, lambda x: np.full_like(x, 3.0), 5) < 1e-9
    # a quadratic activation spans the polynomials of degree <= 2: the error equals that
    # of the least-squares quadratic on the same points, computed independently
    err = A.random_feature_error(np.square, target, 40)
    x, xe = np.linspace(-1, 1, 1001), np.linspace(-1, 1, 3001)
    coef = np.polynomial.polynomial.polyfit(x, target(x), 2)
    ref = np.max(np.abs(np.polynomial.polynomial.polyval(xe, coef) - target(xe)))
    assert err == pytest.approx(ref, rel=1e-6)
    # universality: the error of the step function falls with the number of units
    step = lambda t: (t > 0).astype(float)  # noqa: E731
    assert (A.random_feature_error(step, target, 400)
            < A.random_feature_error(step, target, 50) / 3)


def test_gaussian_moment_refuses_where_the_quadrature_is_not_accurate():
    with pytest.raises(ValueError, match="did not converge"):
        A.gaussian_moment("tanh", 2, 3.0)
    with pytest.raises(ValueError, match="cancels"):
        A.gaussian_moment("elu", 2, 2.0)


def test_gaussian_expectation_is_exact_for_polynomials():
    assert A.gaussian_expectation(lambda z: z**4) == pytest.approx(3.0, rel=1e-13)
    assert A.gaussian_expectation(lambda z: z**6, scale=2.0) == pytest.approx(15 * 64,
                                                                               rel=1e-13)
    assert abs(A.gaussian_expectation(lambda z: z**3)) < 1e-14


def test_gelu_slope_extremes_are_at_plus_minus_sqrt2():
    # GELU'' = pdf(t) (2 - t^2) vanishes at +-sqrt(2)
    peak = special.ndtr(math.sqrt(2)) + math.sqrt(2) * math.exp(-1) / math.sqrt(2 * math.pi)
    dmax, amax, dmin, amin = A.derivative_extremes("gelu")
    assert dmax == pytest.approx(peak, abs=1e-10)
    assert amax == pytest.approx(math.sqrt(2), abs=1e-5)
    assert dmin == pytest.approx(1 - peak, abs=1e-10)
    assert amin == pytest.approx(-math.sqrt(2), abs=1e-5)


def test_silu_slope_maximum_is_a_root_of_the_second_derivative():
    def second(t):
        s = special.expit(t)
        return s * (1 - s) * (2 + t * (1 - 2 * s))
    root = optimize.brentq(second, 1.0, 4.0, xtol=1e-14)
    dmax, amax, _, _ = A.derivative_extremes("silu")
    assert amax == pytest.approx(root, abs=1e-5)
    assert dmax == pytest.approx(float(A.dphi("silu", root)), abs=1e-12)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_self_gated_symmetry_numerically(name):
    np.testing.assert_allclose(A.phi(name, POINTS) - A.phi(name, -POINTS), POINTS, atol=1e-13)
    np.testing.assert_allclose(A.dphi(name, POINTS) + A.dphi(name, -POINTS), 1.0, atol=1e-13)


def test_property_classification():
    props = {n: A.activation_properties(n, with_cost=False) for n in A.NAMES}
    assert props["sigmoid"].saturation == "both sides"
    assert props["tanh"].saturation == "both sides"
    assert props["relu"].saturation == "left"
    assert props["leaky_relu"].saturation == "none"
    assert props["relu"].derivative_at_0 == 0.0
    assert props["leaky_relu"].derivative_at_0 == pytest.approx(A.LEAKY_SLOPE)
    assert [n for n, p in props.items() if not p.monotone] == ["gelu", "silu"]
    assert props["sigmoid"].max_derivative == pytest.approx(0.25, abs=1e-12)


def test_scalar_in_scalar_out():
    assert isinstance(A.phi("relu", 2.0), float) and A.phi("relu", 2.0) == 2.0
    assert isinstance(A.dphi("gelu", np.float32(0.5)), float)
    assert isinstance(A.phi("tanh", [0.0]), np.ndarray) and A.phi("tanh", [0.0]).shape == (1,)
    assert isinstance(A.autograd_derivative("silu", 1.0), float)


def test_properties_without_timing_are_cached_and_frozen():
    p = A.activation_properties("relu", with_cost=False)
    assert math.isnan(p.cost_ns) and A.activation_properties("relu", with_cost=False) is p
    with pytest.raises(AttributeError):
        p.max_derivative = 2.0


def test_symbolic_residual_reports_size():
    from hiddenunits.book.checks.activations import symbolic_residual

    t = sp.Symbol("t")
    assert symbolic_residual([sp.sin(t) ** 2 + sp.cos(t) ** 2 - 1]) == 0.0
    assert symbolic_residual([t - t + 2]) == pytest.approx(2.0)


def test_captioned_table():
    from hiddenunits.book.tables.activations import captioned_table

    text = captioned_table(["a"], [[1]], "A caption.", "tab-x")
    assert text.startswith("```{table} A caption.\n:name: tab-x\n")
    with pytest.raises(ValueError, match="tab-"):
        captioned_table(["a"], [[1]], "c", "fig-x")


def test_bad_input_raises():
    with pytest.raises(ValueError, match="name must be one of"):
        A.phi("swish2", [0.0])
    with pytest.raises(ValueError, match="non-finite"):
        A.dphi("relu", [0.0, math.nan])
    with pytest.raises(ValueError, match="complex"):
        A.phi("relu", [1j])
    with pytest.raises(ValueError, match="name"):
        A.torch_activation("linear")
    with pytest.raises(ValueError, match="scale"):
        A.gaussian_moment("relu", scale=0.0)
    with pytest.raises(ValueError, match="power"):
        A.gaussian_moment("relu", power=0)
    with pytest.raises(ValueError, match="power"):
        A.gaussian_moment("relu", power=1.5)
    with pytest.raises(ValueError, match="callable"):
        A.gaussian_expectation(3.0)
    with pytest.raises(ValueError, match="hi"):
        A.derivative_extremes("relu", lo=1.0, hi=0.0)
    with pytest.raises(ValueError, match="num"):
        A.derivative_extremes("relu", num=2)
    with pytest.raises(ValueError, match="num"):
        A.forward_backward_cost("relu", num=0)
    with pytest.raises(ValueError, match="rng"):
        A.forward_backward_cost("relu", rng=-1)
    with pytest.raises(ValueError, match="with_cost"):
        A.activation_properties("relu", with_cost="no")
    with pytest.raises(ValueError, match="power"):
        A.gaussian_slope_moment("relu", power=0)
    with pytest.raises(ValueError, match="threshold"):
        A.saturated_set("relu", threshold=1.5)
    with pytest.raises(ValueError, match="scale"):
        A.saturated_probability("relu", scale=0.0)
    with pytest.raises(ValueError, match="callable"):
        A.random_feature_error(np.tanh, 3.0, 10)
    with pytest.raises(ValueError, match="num_units"):
        A.random_feature_error(np.tanh, np.cos, 0)
