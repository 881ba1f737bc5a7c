"""Activation functions, their derivatives, the property table and the sympy identities."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import optimize, special

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


@pytest.mark.parametrize("name, closed_form", [
    ("sigmoid", 0.5),
    ("tanh", 0.0),
    ("relu", 1 / math.sqrt(2 * math.pi)),
    ("leaky_relu", (1 - A.LEAKY_SLOPE) / math.sqrt(2 * math.pi)),
    ("elu", 1 / math.sqrt(2 * math.pi) + math.exp(0.5) * special.ndtr(-1.0) - 0.5),
    ("gelu", 1 / (2 * math.sqrt(math.pi))),  # Stein: E[Z Phi(Z)] = E[phi_N(Z)]
])
def test_gaussian_mean_closed_forms(name, closed_form):
    assert A.gaussian_moment(name) == pytest.approx(closed_form, abs=1e-10)


@pytest.mark.parametrize("name", ["softplus", "silu"])
def test_gaussian_mean_monte_carlo(name):
    z = np.random.default_rng(1).normal(size=1_000_000)
    values = A.phi(name, z)
    se = values.std() / math.sqrt(z.size)
    assert abs(A.gaussian_moment(name) - values.mean()) < 5 * se


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


def test_forward_backward_cost_is_positive():
    cost = A.forward_backward_cost("relu", num=4096, repeats=2)
    assert math.isfinite(cost) and cost > 0


def test_checks_pass_and_wrong_variants_fail():
    assert A.check_affine_composition() == 0.0
    assert A.check_sigmoid_derivative() == 0.0
    assert A.check_tanh_sigmoid() == 0.0
    assert A.check_self_gated() == 0.0
    assert A.affine_composition_residual(perturb=True) > 0.1
    assert A.sigmoid_identity_residual(bound=sp.Rational(1, 3)) > 0.01
    assert A.tanh_identity_residual(scale=3) > 0.01
    assert A.self_gated_residual(wrong=True) > 0.01


def test_symbolic_residual_reports_size():
    t = sp.Symbol("t")
    assert A.symbolic_residual([sp.sin(t) ** 2 + sp.cos(t) ** 2 - 1]) == 0.0
    assert A.symbolic_residual([t - t + 2]) == pytest.approx(2.0)


def test_captioned_table():
    text = A.captioned_table(["a"], [[1]], "A caption.", "tab-x")
    assert text.startswith("```{table} A caption.\n:name: tab-x\n")
    with pytest.raises(ValueError, match="tab-"):
        A.captioned_table(["a"], [[1]], "c", "fig-x")


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown activation"):
        A.phi("swish2", [0.0])
    with pytest.raises(ValueError, match="finite"):
        A.dphi("relu", [0.0, math.nan])
    with pytest.raises(ValueError, match="scale"):
        A.gaussian_moment("relu", scale=0.0)
    with pytest.raises(ValueError, match="widths"):
        A.affine_composition_residual((3,))
    with pytest.raises(ValueError, match="positive"):
        A.forward_backward_cost("relu", num=0)
