"""Sign constraint, Hessian of a linear unit, gradient descent and Newton's method."""

import math

import numpy as np
import pytest
import torch
from scipy.special import expit

from hiddenunits import conditioning as C


def test_layer_gradient_is_the_outer_product_of_delta_and_h():
    x, y = C._digits_tensors(16)
    grad, delta, h = C.layer_gradient("sigmoid", x, y)
    # delta already carries the 1/B of the mean loss
    np.testing.assert_allclose(grad, delta.T @ h, rtol=1e-5, atol=1e-7)
    assert (h > 0).all()


def test_layer_gradient_leaves_no_gradient_behind():
    x, y = C._digits_tensors(4)
    g1 = C.layer_gradient("relu", x, y)[0]
    g2 = C.layer_gradient("relu", x, y)[0]  # same model, grads must not accumulate
    np.testing.assert_array_equal(g1, g2)


def test_mixed_sign_rows():
    g = np.array([[1.0, 2.0], [-1.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    assert C.mixed_sign_rows(g) == 1
    with pytest.raises(ValueError, match="matrix"):
        C.mixed_sign_rows(np.ones(3))


def test_sign_check_passes_and_fails_for_centred_units():
    assert C.check_single_example_sign() == 0.0
    mixed, total = C.single_example_counts("tanh", num_examples=4)
    assert mixed > total // 2  # tanh inputs have both signs: the check can fail


def test_one_signed_fraction_limits():
    assert C.one_signed_fraction("sigmoid", 1, num_batches=4) == 1.0
    assert C.one_signed_fraction("relu", 1, num_batches=4) == 1.0
    assert C.one_signed_fraction("tanh", 1, num_batches=4) == 0.0
    assert C.one_signed_fraction("relu", 64, num_batches=4) < 1.0


def test_second_moment_against_monte_carlo():
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0, 2.0])
    a = rng.normal(size=(3, 3))
    cov = a @ a.T
    x = rng.multivariate_normal(mean, cov, size=400_000)  # (N, 3)
    empirical = x.T @ x / len(x)
    # entrywise standard error of a mean of x_i x_j is below sqrt(E[x_i^2 x_j^2] / N)
    se = np.sqrt((x[:, :, None] ** 2 * x[:, None, :] ** 2).mean(axis=0) / len(x))
    assert np.all(np.abs(empirical - C.second_moment(mean, cov)) < 5 * se)


def test_condition_number_isotropic_closed_form():
    rng = np.random.default_rng(3)
    for n in (2, 5, 40):
        mu = rng.normal(size=n)
        s2 = rng.uniform(0.1, 2.0)
        h = C.second_moment(mu, s2 * np.eye(n))
        assert C.condition_number(h) == pytest.approx(C.isotropic_condition(mu @ mu, s2),
                                                      rel=1e-10)


def test_symbolic_conditioning_and_its_wrong_variant():
    assert C.conditioning_residual(3) == 0.0
    assert C.conditioning_residual(3, wrong=True) > 0.01
    assert C.general_bound_violation(num_trials=50) == 0.0


def test_layer_input_condition_against_monte_carlo():
    rng = np.random.default_rng(0)
    n, num = 8, 400_000
    h = expit(rng.normal(size=(num, n)))
    m, v = C.unit_output_moments("sigmoid")
    assert m == pytest.approx(h.mean(), abs=5 * h.std() / math.sqrt(h.size))
    assert v == pytest.approx(h.var(), rel=0.01)
    # with N >> n the empirical condition number is within a few percent of the formula
    assert C.condition_number(h.T @ h / num) == pytest.approx(
        C.layer_input_condition("sigmoid", n), rel=0.05)


def test_gd_rate_is_attained_on_an_extreme_eigenvector_and_cannot_be_beaten():
    prob = C.TwoWeightProblem()
    ev, vecs = np.linalg.eigh(prob.hessian)
    kappa = ev[-1] / ev[0]
    rho = (kappa - 1) / (kappa + 1)
    path = C.gd_path(prob.hessian, np.zeros(2), vecs[:, 0], prob.best_step(), 10)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), rho ** np.arange(11), rtol=1e-12)
    assert C.check_gd_rate() <= 1e-12
    assert C.gd_rate_violation(prob.hessian, vecs[:, 0], rho_scale=0.9) > 0.01


def test_iterations_centred_and_not():
    assert C.iterations_to(C.sigmoid_like_problem(centred=True)) == 1
    assert C.iterations_to(C.sigmoid_like_problem()) > 10


def test_sgd_steps_are_along_positive_inputs():
    prob = C.TwoWeightProblem(mean=5.0, std=0.1)  # inputs are positive with certainty
    steps = np.diff(C.sgd_path(prob, (0.0, 0.0), lr=0.01, steps=50), axis=0)
    assert np.all(steps[:, 0] * steps[:, 1] >= 0)  # both weights move in the same direction


def test_logistic_derivatives_match_autograd():
    prob = C.LogisticProblem(num_points=50)
    design, (_, y) = prob.design(), prob.data()
    theta = np.array([0.3, -0.2, 0.1])
    f, g, h = C.logistic_derivatives(theta, design, y, prob.lam)

    def loss(t):
        m = torch.tensor(y) * (torch.tensor(design) @ t)
        return torch.nn.functional.softplus(-m).mean() + 0.5 * prob.lam * t @ t

    t = torch.tensor(theta, requires_grad=True)
    assert f == pytest.approx(loss(t).item(), rel=1e-12)
    (grad,) = torch.autograd.grad(loss(t), t)
    hess = torch.autograd.functional.hessian(loss, t.detach())
    np.testing.assert_allclose(g, grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(h, hess.numpy(), rtol=1e-10, atol=1e-14)


def test_newton_is_invariant_and_gradient_descent_is_not():
    assert C.check_newton_affine() <= 1e-10
    prob = C.LogisticProblem()
    assert C.newton_iterations(prob, False) == C.newton_iterations(prob, True)
    assert C.gd_iterations(prob, False) > 5 * C.gd_iterations(prob, True)


def test_sigmoid_square_loss_derivatives():
    for w in (-6.0, -1.0, 0.3, 2.0):
        h = 1e-5
        f, d1, d2 = C.sigmoid_square_loss(w)
        fp, fm = C.sigmoid_square_loss(w + h)[0], C.sigmoid_square_loss(w - h)[0]
        assert d1 == pytest.approx((fp - fm) / (2 * h), abs=1e-9)
        assert d2 == pytest.approx((fp - 2 * f + fm) / h**2, abs=1e-5)
    _, d1, d2 = C.sigmoid_square_loss(-30.0)
    assert -d1 / d2 == pytest.approx(-1.0, abs=1e-6)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="mean"):
        C.second_moment(np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        C.second_moment(np.zeros(2), np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        C.second_moment(np.array([np.nan, 0.0]), np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        C.condition_number(np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="square"):
        C.condition_number(np.ones((2, 3)))
    with pytest.raises(ValueError, match="std"):
        C.TwoWeightProblem(std=0.0)
    with pytest.raises(ValueError, match="agree"):
        C.gd_path(np.eye(2), np.zeros(3), np.zeros(2), 0.1, 3)
    with pytest.raises(ValueError, match="num_examples"):
        C._digits_tensors(0)
    with pytest.raises(ValueError, match="batch_size"):
        C.one_signed_fraction("relu", 0)
    with pytest.raises(ValueError, match="need x"):
        C.layer_gradient("relu", torch.zeros(2, 5), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="finite"):
        C.sigmoid_square_loss(math.inf)
