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
