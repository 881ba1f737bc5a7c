"""Tests of hiddenunits.xor against independent references (lstsq, autograd, enumeration)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from hiddenunits import xor as X
from hiddenunits.data import xor


def test_least_squares_matches_numpy_and_sympy():
    x, y = xor()
    w, b = X.least_squares_affine(x, y.astype(float))
    np.testing.assert_allclose(w, 0.0, atol=1e-12)
    assert b == pytest.approx(0.5, abs=1e-12)
    sol = X.least_squares_xor_symbolic()
    assert sorted(str(v) for v in sol.values()) == ["0", "0", "1/2"]
    assert X.check_xor_least_squares() == 0.0


def test_affine_identity_holds_for_random_affine_maps():
    rng = np.random.default_rng(0)
    for _ in range(100):
        w, b = rng.normal(size=2), rng.normal()

        def f(u, v, w=w, b=b):
            return w[0] * u + w[1] * v + b

        assert f(0, 0) + f(1, 1) - f(0, 1) - f(1, 0) == pytest.approx(0.0, abs=1e-12)
    assert X.affine_identity_residual() == 0


def test_margin_is_zero_for_xor_and_positive_for_and():
    x, y = xor()
    assert X.max_margin(x, y) == pytest.approx(0.0, abs=1e-9)
    y_and = np.array([0, 0, 0, 1])
    assert X.max_margin(x, y_and) == pytest.approx(1.0 / 3.0, abs=1e-7)  # worked by hand


def test_network_is_positively_homogeneous():
    rng = np.random.default_rng(1)
    w, a = rng.normal(size=(2, 2)), rng.normal(size=2)
    x = rng.normal(size=(20, 2))
    for c in (0.0, 0.5, 3.0):
        np.testing.assert_allclose(X.relu_net(c * x, w, a), c * X.relu_net(x, w, a),
                                   atol=1e-12)
    assert X.relu_net(np.zeros((1, 2)), w, a)[0] == 0.0


def test_exact_solution_is_abs_difference():
    x = np.random.default_rng(2).uniform(-2, 2, size=(50, 2))
    np.testing.assert_allclose(X.relu_net(x, X.EXACT_W, X.EXACT_A), np.abs(x[:, 0] - x[:, 1]))
    assert X.check_exact_solution() == 0.0


def test_article_weights_float_forward_matches_exact_fractions():
    x, _ = xor()
    for layout in X.LAYOUTS:
        w, a = X.article_weights(layout)
        exact = np.array([float(v) for v in X.article_outputs_exact(layout)])
        np.testing.assert_allclose(X.relu_net(x, w, a), exact, atol=1e-12)
    # hand computation of the transposed reading at (1, 1)
    assert X.article_outputs_exact("in_out")[3] == Fraction("0.8707") * (
        Fraction("1.1485") - Fraction("1.0205"))
    np.testing.assert_allclose(X.article_linear_collapse("out_in"),
                               [0.8707 * 1.1485 - 0.9815 * 1.0205,
                                -0.8707 * 1.1486 + 0.9815 * 1.0189])


def test_gradient_matches_autograd():
    rng = np.random.default_rng(3)
    x, y = xor()
    w, a = X.pytorch_init(5, rng)
    loss, dw, da = X.mse_and_grad(x, y.astype(float), w, a)
    wt = torch.tensor(w, requires_grad=True)
    at = torch.tensor(a, requires_grad=True)
    f = torch.einsum("snj,sj->sn", torch.relu(torch.tensor(x) @ wt.transpose(1, 2)), at)
    lt = ((f - torch.tensor(y, dtype=torch.float64)) ** 2).mean(dim=1)
    lt.sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dw, wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(da, at.grad.numpy(), atol=1e-12)


def test_dead_unit_gets_no_gradient():
    x, y = xor()
    w = np.array([[[-0.3, -0.2], [0.5, -0.1]]])
    a = np.array([[0.4, 0.7]])
    _, dw, _ = X.mse_and_grad(x, y.astype(float), w, a)
    assert np.all(dw[0, 0] == 0.0)
    assert X.dead_units(x, w)[0].tolist() == [True, False]


def test_dead_at_init_probability_monte_carlo():
    x, _ = xor()
    w, _ = X.pytorch_init(200_000, np.random.default_rng(4))
    frac = X.dead_units(x, w).any(axis=1).mean()
    p = float(X.dead_at_init_probability())
    assert p == 7 / 16
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / 200_000)


def test_single_alive_unit_cannot_solve_xor():
    # one unit a relu(w.x): brute force over a grid of weights never classifies all four points
    x, y = xor()
    grid = np.linspace(-2, 2, 21)
    for w1 in grid:
        for w2 in grid:
            for a in grid:
                f = a * np.maximum(x @ np.array([w1, w2]), 0)
                assert not ((f > 0.5) == (y == 1)).all()


def test_training_solves_some_runs_and_classifies_outcomes():
    res = X.train_xor(X.GDConfig(num_seeds=64, steps=300, seed=5))
    outcome = X.classify_runs(res)
    assert set(np.unique(outcome)) <= set(range(len(X.OUTCOMES)))
    solved = outcome == 0
    assert solved.any()
    assert (res.loss[solved] < 0.25).all()
    assert X.check_dead_unit() < 0.05


def test_loss_plateaus():
    assert X.loss_plateau(np.array([0.0, 0.2501, 1 / 3, 0.5, 0.1])).tolist() == [0, 1, 2, 3, -1]


def test_bad_input_raises():
    with pytest.raises(ValueError):
        X.relu_net(np.zeros((3, 3)), X.EXACT_W, X.EXACT_A)
    with pytest.raises(ValueError):
        X.relu_net(np.full((3, 2), np.nan), X.EXACT_W, X.EXACT_A)
    with pytest.raises(ValueError):
        X.relu_net(np.zeros((3, 2)), np.zeros((3, 3)), X.EXACT_A)
    with pytest.raises(ValueError):
        X.least_squares_affine(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError):
        X.max_margin(np.zeros((4, 2)), np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError):
        X.article_weights("row_major")
    with pytest.raises(ValueError):
        X.GDConfig(num_seeds=0)
    with pytest.raises(ValueError):
        X.GDConfig(lr=-1.0)
