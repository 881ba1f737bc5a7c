"""Tests of hiddenunits.xor against independent references (lstsq, autograd, enumeration)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from hiddenunits import xor as X
from hiddenunits.data import xor


def test_least_squares_matches_the_normal_equations():
    x, y = xor()
    w, b = X.least_squares_affine(x, y.astype(float))
    np.testing.assert_allclose(w, 0.0, atol=1e-12)
    assert b == pytest.approx(0.5, abs=1e-12)
    rng = np.random.default_rng(5)  # a generic problem: solve (D^T D) theta = D^T y directly
    x, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    design = np.hstack([x, np.ones((30, 1))])
    theta = np.linalg.solve(design.T @ design, design.T @ y)
    w, b = X.least_squares_affine(x, y)
    np.testing.assert_allclose(np.append(w, b), theta, atol=1e-12)


def test_affine_identity_holds_for_random_affine_maps():
    rng = np.random.default_rng(0)
    for _ in range(100):
        w, b = rng.normal(size=2), rng.normal()

        def f(u, v, w=w, b=b):
            return w[0] * u + w[1] * v + b

        assert f(0, 0) + f(1, 1) - f(0, 1) - f(1, 0) == pytest.approx(0.0, abs=1e-12)


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


def test_exact_check_decides_equality_with_the_absolute_difference():
    """The check of prop-xor-exact-solution is a complete test: its error is 0 exactly for
    the networks that equal |x1 - x2| everywhere (compared here on 2000 random points)."""
    from hiddenunits.book.checks.separability import check_exact_solution

    rng = np.random.default_rng(7)
    pts = rng.normal(size=(2000, 2))
    cases = [(((2, -2), (-1, 1)), (Fraction(1, 2), 1)),  # rescaled rows: the same function
             (((1, -1), (-1, 1)), (1, 1)), (((1, -1), (1, -1)), (1, 1))]
    cases += [(tuple(tuple(int(v) for v in row) for row in rng.integers(-2, 3, (2, 2))),
               tuple(int(v) for v in rng.integers(-2, 3, 2))) for _ in range(40)]
    for w, a in cases:
        f = X.relu_net(pts, np.array(w, dtype=float), np.array([float(v) for v in a]))
        same = np.allclose(f, np.abs(pts[:, 0] - pts[:, 1]), atol=1e-12)
        assert (check_exact_solution(w, a) == 0.0) == same, (w, a)


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
    # the exact evaluation agrees with the float network on other points too
    pts = ((Fraction(1, 3), Fraction(-2, 7)), (Fraction(5, 2), Fraction(1, 9)))
    w, a = X.article_weights_exact("in_out")
    exact = [float(v) for v in X.relu_net_exact(w, a, pts)]
    f = X.relu_net(np.array(pts, dtype=float), *X.article_weights("in_out"))
    np.testing.assert_allclose(f, exact, atol=1e-12)


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
    summary = X.gd_summary(res)
    assert sum(summary[o] for o in X.OUTCOMES) == pytest.approx(1.0)


def test_loss_plateaus():
    assert X.loss_plateau(np.array([0.0, 0.2501, 1 / 3, 0.5, 0.1])).tolist() == [0, 1, 2, 3, -1]
    assert X.loss_plateau(0.5) == 3 and type(X.loss_plateau(0.5)) is int


@pytest.mark.parametrize("call", [
    lambda: X.relu_net(np.zeros((3, 3)), X.EXACT_W, X.EXACT_A),
    lambda: X.relu_net(np.full((3, 2), np.nan), X.EXACT_W, X.EXACT_A),
    lambda: X.relu_net(np.zeros((3, 2)), np.zeros((3, 3)), X.EXACT_A),
    lambda: X.relu_net(np.zeros((3, 2)), X.EXACT_W, np.zeros(3)),
    lambda: X.relu_net(np.zeros((3, 2), dtype=complex), X.EXACT_W, X.EXACT_A),
    lambda: X.hidden(np.zeros((0, 2)), X.EXACT_W),
    lambda: X.least_squares_affine(np.zeros((4, 2)), np.zeros(3)),
    lambda: X.least_squares_affine(np.zeros(4), np.zeros(4)),
    lambda: X.max_margin(np.zeros((4, 2)), np.array([0, 1, 2, 0])),
    lambda: X.max_margin(np.zeros((4, 2)), np.array([0.5, 1, 0, 0])),
    lambda: X.article_weights("row_major"),
    lambda: X.article_outputs_exact("row_major"),
    lambda: X.relu_net_exact(X.ARTICLE_W, X.ARTICLE_A[:1]),
    lambda: X.GDConfig(num_seeds=0),
    lambda: X.GDConfig(num_seeds=2.5),
    lambda: X.GDConfig(lr=-1.0),
    lambda: X.GDConfig(steps=-1),
    lambda: X.GDConfig(seed=-3),
    lambda: X.pytorch_init(0),
    lambda: X.pytorch_init(3, rng="seed"),
    lambda: X.mse_and_grad(np.zeros((4, 2)), np.zeros(3), np.zeros((1, 2, 2)), np.zeros((1, 2))),
    lambda: X.mse_and_grad(np.zeros((4, 2)), np.zeros(4), np.zeros((2, 2)), np.zeros(2)),
    lambda: X.train_xor("config"),
    lambda: X.classify_runs(None),
    lambda: X.dead_units(np.zeros((4, 2)), np.zeros((3, 3))),
    lambda: X.loss_plateau([0.1], atol=-1.0),
    lambda: X.loss_plateau([np.nan]),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_seed_or_generator():
    w1, a1 = X.pytorch_init(3, 5)
    w2, a2 = X.pytorch_init(3, np.random.default_rng(5))
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(a1, a2)


def test_cached_runs_cannot_be_changed_by_a_caller():
    res = X.xor_gd_runs(X.GDConfig(num_seeds=4, steps=2))
    with pytest.raises(ValueError):
        res.w[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        X.EXACT_W[0, 0] = 2.0


def test_failure_kinds_cover_the_other_runs_and_more_steps_change_nothing():
    """Every 'other' run is one of the two kinds; 4x the steps leaves every count alone."""
    cfg = X.GDConfig()  # the chapter's runs
    counts = []
    for steps in (cfg.steps, 4 * cfg.steps):
        res = X.xor_gd_runs(X.GDConfig(num_seeds=cfg.num_seeds, steps=steps))
        outcome = X.classify_runs(res)
        kinds = X.failure_kinds(res)
        other = outcome == X.OUTCOMES.index("other")
        either = kinds["same inputs"] | kinds["corner unserved"]
        assert other.any() and np.all(either[other])
        plateau = X.loss_plateau(res.loss)
        assert np.all(plateau >= 0)  # every final loss is one of the four plateaus
        counts.append((np.bincount(outcome, minlength=4).tolist(),
                       np.bincount(plateau, minlength=4).tolist()))
    assert counts[0] == counts[1]


def test_failure_kinds_by_hand():
    w = np.array([[[1.0, -1.0], [-1.0, 1.0]],   # the exact solution: different, both served
                  [[1.0, 0.5], [2.0, 1.0]],     # same inputs
                  [[1.0, -2.0], [2.0, -1.0]]])  # (0,1) served by no unit
    res = X.GDResult(w, np.ones((3, 2)), w, np.ones((3, 2)), np.zeros((3, 4)), np.zeros(3))
    kinds = X.failure_kinds(res)
    assert kinds["same inputs"].tolist() == [False, True, False]
    assert kinds["corner unserved"].tolist() == [False, False, True]
    with pytest.raises(ValueError):
        X.failure_kinds("runs")
