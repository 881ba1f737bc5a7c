"""Stepped sigmoid units, softplus and noisy ReLUs against closed forms and Monte Carlo."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import integrate

from hiddenunits import stepped_sigmoid as ssu


def test_softplus_and_sigmoid_match_direct_formulas():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(ssu.softplus(x), np.log1p(np.exp(x)), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ssu.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    assert ssu.softplus(np.array([1000.0]))[0] == pytest.approx(1000.0)


def test_sigmoid_derivatives_against_autograd():
    x = torch.linspace(-6, 6, 121, dtype=torch.float64, requires_grad=True)
    s = torch.sigmoid(x)
    d1 = torch.autograd.grad(s.sum(), x, create_graph=True)[0]
    d2 = torch.autograd.grad(d1.sum(), x, create_graph=True)[0]
    d3 = torch.autograd.grad(d2.sum(), x)[0]
    ours = ssu.sigmoid_derivatives(x.detach().numpy())
    for a, b in zip(ours, (d1, d2, d3), strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), atol=1e-14)


def test_mean_and_variance_against_monte_carlo():
    rng = np.random.default_rng(0)
    n = 40000
    for x in (-2.0, 0.0, 1.3, 4.0):
        draws = ssu.sample_stepped_sigmoid(np.full(n, x), rng, n_terms=60)
        mean_se = draws.std() / math.sqrt(n)
        assert abs(draws.mean() - ssu.stepped_sigmoid_mean(np.array([x]))[0]) < 5 * mean_se
        var_se = draws.var() * math.sqrt(2.0 / n) + 1e-4  # normal-theory SE of a variance
        assert abs(draws.var() - ssu.stepped_sigmoid_variance(np.array([x]))[0]) < 5 * var_se


def test_noisy_relu_moments_against_monte_carlo():
    rng = np.random.default_rng(1)
    n = 200000
    for x in (-1.5, 0.0, 0.7, 3.0):
        draws = ssu.noisy_relu(np.full(n, x), rng)
        mean, var = ssu.noisy_relu_moments(np.array([x]))
        assert abs(draws.mean() - mean[0]) < 5 * draws.std() / math.sqrt(n) + 1e-12
        assert abs(draws.var() - var[0]) < 5 * (draws.var() * math.sqrt(2.0 / n)) + 1e-4
    assert np.all(ssu.noisy_relu(np.full(100, -50.0), rng) == 0.0)


def test_error_constants_by_quadrature_and_sympy():
    # max |P| of the Peano primitive, on a fine grid of one period
    t = np.linspace(0.0, 1.0, 200001)
    k = 0.5 * np.minimum(t, 1 - t) ** 2
    p = np.concatenate([[0.0], np.cumsum((k[1:] + k[:-1]) / 2 * np.diff(t))]) - t / 24
    assert np.abs(p).max() == pytest.approx(ssu.PEANO_MAX, rel=1e-6)
    # total variations of sigma'' and sigma'''
    d3 = lambda u: abs(ssu.sigmoid_derivatives(np.array([u]))[2][0])  # noqa: E731

    def d4(u):
        s = 1 / (1 + math.exp(-u))
        return abs(s * (1 - s) * (1 - 2 * s) * (1 - 12 * s + 12 * s * s))

    pts = [-2.3, -1.1, 0.0, 1.1, 2.3]
    assert integrate.quad(d3, -40, 40, points=pts, limit=200)[0] == pytest.approx(
        2 / (3 * math.sqrt(3)), rel=1e-8)
    assert integrate.quad(d4, -40, 40, points=pts, limit=200)[0] == pytest.approx(
        5 / 12, rel=1e-8)
    assert ssu.SOFTPLUS_REMAINDER == pytest.approx(1 / 324, rel=1e-14)
    assert sp.nsimplify(ssu.VARIANCE_BOUND * 864 * math.sqrt(3)) == 11


def test_half_integer_offsets_matter():
    """Offsets -1, -2, ... (a right-endpoint rule) give errors of order 1/2: the check of the
    theorem would fail for that variant."""
    x = np.linspace(-5, 10, 301)
    wrong = ssu.stepped_sigmoid_mean(x - 0.5) - ssu.softplus(x)
    assert np.abs(wrong).max() > 0.45
    # Euler-Maclaurin for the right-endpoint rule: -f(0)/2 - f'(0)/12, f(u) = sigma(x - u)
    d1 = ssu.sigmoid_derivatives(x)[0]
    assert np.abs(wrong + ssu.sigmoid(x) / 2 - d1 / 12).max() < 2e-3


def test_tail_ratio():
    assert ssu.TAIL_RATIO == pytest.approx(1 / (2 * math.sinh(0.5)), rel=1e-14)
    x = np.array([-30.0])
    assert ssu.stepped_sigmoid_mean(x)[0] / ssu.softplus(x)[0] == pytest.approx(
        ssu.TAIL_RATIO, rel=1e-10)


def test_relu_net_against_an_explicit_two_layer_formula():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 4))
    w1, w2 = rng.standard_normal((5, 4)), rng.standard_normal((2, 5))
    b1, b2 = rng.standard_normal(5), rng.standard_normal(2)
    expected = np.maximum(0.0, x @ w1.T + b1) @ w2.T + b2
    np.testing.assert_allclose(ssu.relu_net(x, [w1, w2], [b1, b2]), expected, atol=1e-14)
    np.testing.assert_allclose(ssu.relu_net(x, [w1, w2]),
                               np.maximum(0.0, x @ w1.T) @ w2.T, atol=1e-14)


def test_stepped_softplus_is_the_integral_of_the_stepped_sigmoid_and_grows_quadratically():
    """Psi' = S (each term differentiates to a copy's probability): central differences of
    Psi against S; and Psi(x) - x^2/2 for large x against the closed form pi^2/6 - 1/24 of
    the Euler-Maclaurin limit (to the ~1e-8 of its periodic remainder)."""
    x = np.linspace(-10, 25, 71)
    h = 1e-5
    slope = (ssu.stepped_softplus(x + h) - ssu.stepped_softplus(x - h)) / (2 * h)
    np.testing.assert_allclose(slope, ssu.stepped_sigmoid_mean(x), atol=1e-7)
    big = np.array([40.0, 50.5])
    np.testing.assert_allclose(ssu.stepped_softplus(big) - big**2 / 2,
                               math.pi**2 / 6 - 1 / 24, atol=1e-7)
    assert ssu.stepped_softplus(-30.0) == pytest.approx(
        math.exp(-30.0) * ssu.TAIL_RATIO, rel=1e-9)


def test_scalar_in_scalar_out():
    for f in (ssu.sigmoid, ssu.softplus, ssu.relu, ssu.stepped_sigmoid_mean,
              ssu.stepped_sigmoid_variance, ssu.stepped_softplus):
        assert isinstance(f(0.5), float)
        assert isinstance(f(np.array([0.5, 1.0])), np.ndarray)
    assert all(isinstance(d, float) for d in ssu.sigmoid_derivatives(0.0))
    assert all(isinstance(m, float) for m in ssu.noisy_relu_moments(0.0))
    assert isinstance(ssu.noisy_relu(0.3, 0), float)
    assert ssu.stepped_sigmoid_mean(0.0) == pytest.approx(
        ssu.stepped_sigmoid_mean(np.array([0.0]))[0], abs=0)


def test_rng_is_a_seed_or_a_generator():
    x = np.zeros(5)
    np.testing.assert_array_equal(ssu.noisy_relu(x, 3),
                                  ssu.noisy_relu(x, np.random.default_rng(3)))
    np.testing.assert_array_equal(ssu.sample_stepped_sigmoid(x, 4),
                                  ssu.sample_stepped_sigmoid(x, np.random.default_rng(4)))


def test_bad_input():
    with pytest.raises(ValueError, match="non-finite"):
        ssu.stepped_sigmoid_mean(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="non-finite"):
        ssu.stepped_softplus(np.array([np.inf]))
    with pytest.raises(ValueError, match="non-finite"):
        ssu.noisy_relu(np.array([np.inf]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_terms"):
        ssu.sample_stepped_sigmoid(np.zeros(3), np.random.default_rng(0), n_terms=0)
    with pytest.raises(ValueError, match="n_terms"):
        ssu.sample_stepped_sigmoid(np.zeros(3), 0, n_terms=2.5)
    with pytest.raises(ValueError, match="seed"):
        ssu.noisy_relu(np.zeros(3), rng=-1)
    with pytest.raises(ValueError, match="rng"):
        ssu.sample_stepped_sigmoid(np.zeros(3), rng="0")
    with pytest.raises(ValueError, match="real"):
        ssu.softplus(np.array([1j]))
    with pytest.raises(ValueError, match="empty"):
        ssu.sigmoid([])
    with pytest.raises(ValueError, match="numbers"):
        ssu.relu(["a"])
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="weights"):
        ssu.relu_net(x, [])
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape"):
        ssu.relu_net(x, [np.zeros((2, 5))])
    with pytest.raises(ValueError, match="biases"):
        ssu.relu_net(x, [np.zeros((2, 4))], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape"):
        ssu.relu_net(x, [np.zeros((2, 4))], [np.zeros(3)])
    with pytest.raises(ValueError, match="x must have 2 axes"):
        ssu.relu_net(np.zeros(4), [np.zeros((2, 4))])
