"""Sign constraint, Hessian of a linear unit, gradient descent and Newton's method."""

import math

import numpy as np
import pytest
import torch
from scipy.special import expit

from hiddenunits import conditioning as C


def test_layer_gradient_is_the_outer_product_of_delta_and_h():
    x, y = C.digits_batch(16)
    grad, delta, h = C.layer_gradient("sigmoid", x, y)
    # delta already carries the 1/B of the mean loss
    np.testing.assert_allclose(grad, delta.T @ h, rtol=1e-12, atol=1e-15)
    assert (h > 0).all()


def test_layer_gradient_against_finite_differences():
    # an independent reference: central differences of the loss of the same network
    x, y = C.digits_batch(3, offset=7)
    grad = C.layer_gradient("tanh", x, y, rng=2)[0]
    model = C._network("tanh", 2, C.SIGN_WIDTHS)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    w = model[2].weight
    eps = 1e-6
    for i, j in ((0, 0), (3, 17), (15, 31)):
        with torch.no_grad():
            w[i, j] += eps
            up = torch.nn.functional.cross_entropy(model(xt), yt).item()
            w[i, j] -= 2 * eps
            down = torch.nn.functional.cross_entropy(model(xt), yt).item()
            w[i, j] += eps
        assert grad[i, j] == pytest.approx((up - down) / (2 * eps), abs=1e-9)


def test_layer_gradient_depends_on_the_seed_only():
    x, y = C.digits_batch(4)
    g1, g2 = (C.layer_gradient("relu", x, y, rng=0)[0] for _ in range(2))
    np.testing.assert_array_equal(g1, g2)
    assert not np.array_equal(g1, C.layer_gradient("relu", x, y, rng=1)[0])


def test_sgd_update_is_minus_lr_times_the_gradient():
    x, y = C.digits_batch(5, offset=20)
    grad, delta, _ = C.layer_gradient("softplus", x, y, rng=3)
    updates = C.sgd_update("softplus", x, y, lr=0.5, rng=3)
    assert len(updates) == len(C.SIGN_WIDTHS) - 1
    dw, db = updates[1]
    np.testing.assert_allclose(dw, -0.5 * grad, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(db, -0.5 * delta.sum(axis=0), rtol=1e-9, atol=1e-15)


def test_mixed_sign_rows():
    g = np.array([[1.0, 2.0], [-1.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    assert C.mixed_sign_rows(g) == 1
    with pytest.raises(ValueError, match="grad must have 2 axes"):
        C.mixed_sign_rows(np.ones(3))


def test_tanh_units_below_give_mixed_rows():
    mixed, total = C.single_example_counts("tanh", num_examples=4)
    assert mixed > total // 2  # tanh inputs have both signs
    assert C.single_example_counts("sigmoid", num_examples=4)[0] == 0


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


def test_iterations_centred_and_not():
    assert C.iterations_to(C.sigmoid_like_problem(centred=True)) == 1
    assert C.iterations_to(C.sigmoid_like_problem()) > 10


def test_sgd_steps_are_along_positive_inputs():
    prob = C.TwoWeightProblem(mean=5.0, std=0.1)  # inputs are positive with certainty
    steps = np.diff(C.sgd_path(prob, (0.0, 0.0), lr=0.01, steps=50, rng=4), axis=0)
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


def test_gradient_path_matches_gd_on_a_quadratic():
    h = np.array([[2.0, 0.5], [0.5, 1.0]])
    w_star = np.array([1.0, -2.0])

    def fun(w):
        e = w - w_star
        return 0.5 * e @ h @ e, h @ e, h

    np.testing.assert_allclose(C.gradient_path(fun, [0.0, 0.0], 0.3, 7),
                               C.gd_path(h, w_star, [0.0, 0.0], 0.3, 7), rtol=1e-14)
    # Newton reaches the minimum of a quadratic in one step
    np.testing.assert_allclose(C.newton_path(fun, [5.0, 5.0], 1)[1], w_star, rtol=1e-14)


def test_affine_pullback_follows_the_chain_rule():
    prob = C.LogisticProblem(num_points=30)
    f = prob.derivatives()
    a, c = C.centring_map(prob), np.array([0.1, -0.2, 0.3])
    g = C.affine_pullback(f, a, c)
    u = np.array([0.2, -0.1, 0.4])
    eps = 1e-6
    fd = [(g(u + eps * e)[0] - g(u - eps * e)[0]) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(g(u)[1], fd, atol=1e-8)
    assert g(u)[0] == f(a @ u + c)[0]


def test_centring_map_turns_centred_into_raw_parameters():
    prob = C.LogisticProblem(num_points=30)
    u = np.array([0.7, -0.3, 0.2])
    raw, centred = prob.design(), prob.design(centred=True)
    np.testing.assert_allclose(raw @ (C.centring_map(prob) @ u), centred @ u, atol=1e-12)


def test_centred_coordinates_describe_the_same_objective():
    # the penalty is carried through the centring map: same values, same minimum
    prob = C.LogisticProblem(num_points=40)
    f, g, a = prob.derivatives(), prob.derivatives(centred=True), C.centring_map(prob)
    rng = np.random.default_rng(3)
    for _ in range(5):
        u = rng.normal(size=3)
        assert g(u)[0] == pytest.approx(f(a @ u)[0], rel=1e-14)
    best = prob.minimum()
    newton = C.newton_path(f, np.zeros(3), 30)
    assert f(newton[-1])[0] == pytest.approx(best, rel=1e-14)
    assert best <= min(f(t)[0] for t in newton) + 1e-15
    # a penalty on the centred parameters would be another objective
    design, (_, y) = prob.design(centred=True), prob.data()
    other = C.logistic_derivatives(np.ones(3), design, y, prob.lam)[0]
    assert other != pytest.approx(g(np.ones(3))[0], rel=1e-6)


def test_smoothness_bounds_every_hessian():
    prob = C.LogisticProblem(num_points=40)
    rng = np.random.default_rng(0)
    for centred in (False, True):
        beta, fun = C.smoothness(prob, centred), prob.derivatives(centred)
        worst = max(np.linalg.eigvalsh(fun(rng.normal(size=3) * 3)[2])[-1] for _ in range(20))
        assert worst <= beta * (1 + 1e-12)


def test_newton_iterations_do_not_depend_on_centring_and_gd_does():
    prob = C.LogisticProblem()
    assert C.newton_iterations(prob, False) == C.newton_iterations(prob, True)
    assert C.gd_iterations(prob, False) > 5 * C.gd_iterations(prob, True)
    # the stopping rule holds at the returned count and not one step earlier
    k = C.newton_iterations(prob, False)
    path = C.newton_path(prob.derivatives(), np.zeros(3), k)
    f = prob.derivatives()
    assert f(path[k])[0] - prob.minimum() <= C.VALUE_TOL < f(path[k - 1])[0] - prob.minimum()


def test_bias_eigenvalues_against_numpy():
    rng = np.random.default_rng(1)
    for n in (1, 2, 5):
        for mu in (np.zeros(n), rng.normal(size=n)):
            s2 = float(rng.uniform(0.1, 3.0))
            h = np.zeros((n + 1, n + 1))
            h[:n, :n] = s2 * np.eye(n) + np.outer(mu, mu)
            h[:n, n] = h[n, :n] = mu
            h[n, n] = 1.0
            ev = np.linalg.eigvalsh(h)
            top, bottom = C.bias_eigenvalues(float(mu @ mu), s2)
            assert (top, bottom) == pytest.approx((ev[-1], ev[0]), rel=1e-12)
            assert C.bias_condition(float(mu @ mu), s2) == pytest.approx(ev[-1] / ev[0],
                                                                          rel=1e-12)
    assert C.bias_condition(0.0, 0.25) == pytest.approx(4.0)  # centred: max(s^2, 1/s^2)


def test_layer_input_condition_with_a_bias_against_monte_carlo():
    # reference: the empirical second moment of (h, 1) for sampled tanh units
    rng = np.random.default_rng(0)
    n, num = 20, 200_000
    h = np.tanh(rng.normal(size=(num, n)))
    x = np.hstack([h, np.ones((num, 1))])
    empirical = C.condition_number(x.T @ x / num)
    assert empirical == pytest.approx(C.layer_input_condition("tanh", n, bias=True),
                                      rel=0.05)
    assert C.layer_input_condition("tanh", n, bias=True) == pytest.approx(
        1 / C.unit_output_moments("tanh")[1])
    # centring removes the mean from every input, not from the bias
    s = 1 / (1 + np.exp(-rng.normal(size=(num, n))))
    s = np.hstack([s - 0.5, np.ones((num, 1))])
    assert C.condition_number(s.T @ s / num) == pytest.approx(
        C.layer_input_condition("sigmoid", n, bias=True, centred=True), rel=0.05)


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
    with pytest.raises(ValueError, match="cov must have shape"):
        C.second_moment(np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        C.second_moment(np.zeros(2), np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        C.second_moment(np.array([np.nan, 0.0]), np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        C.condition_number(np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="square"):
        C.condition_number(np.ones((2, 3)))
    with pytest.raises(ValueError, match="empty"):
        C.condition_number(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="variance"):
        C.isotropic_condition(1.0, 0.0)
    with pytest.raises(ValueError, match="std"):
        C.TwoWeightProblem(std=0.0)
    with pytest.raises(ValueError, match="w_star"):
        C.TwoWeightProblem(w_star=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="w must have shape"):
        C.TwoWeightProblem().loss(np.zeros(3))
    with pytest.raises(ValueError, match="w_star"):
        C.gd_path(np.eye(2), np.zeros(3), np.zeros(2), 0.1, 3)
    with pytest.raises(ValueError, match="steps"):
        C.gd_path(np.eye(2), np.zeros(2), np.zeros(2), 0.1, 2.5)
    with pytest.raises(ValueError, match="rng"):
        C.sgd_path(C.TwoWeightProblem(), (0.0, 0.0), 0.1, 3, rng="x")
    with pytest.raises(ValueError, match="problem"):
        C.sgd_path("problem", (0.0, 0.0), 0.1, 3)
    with pytest.raises(ValueError, match="tol"):
        C.iterations_to(C.TwoWeightProblem(), tol=0.0)
    with pytest.raises(ValueError, match="num_examples"):
        C.digits_batch(0)
    with pytest.raises(ValueError, match="offset"):
        C.digits_batch(10, offset=1790)
    with pytest.raises(ValueError, match="batch_size"):
        C.one_signed_fraction("relu", 0)
    with pytest.raises(ValueError, match="activation"):
        C.one_signed_fraction("swish", 4)
    with pytest.raises(ValueError, match="x must have shape"):
        C.layer_gradient("relu", np.zeros((2, 5)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="y must hold integers"):
        C.layer_gradient("relu", np.zeros((2, 64)), [0.5, 1.0])
    with pytest.raises(ValueError, match="rng"):
        C.layer_gradient("relu", np.zeros((2, 64)), [0, 1], rng=-1)
    with pytest.raises(ValueError, match="class labels"):
        C.layer_gradient("relu", np.zeros((2, 64)), [0, 10])
    with pytest.raises(ValueError, match="lr"):
        C.sgd_update("relu", np.zeros((1, 64)), [0], lr=0.0)
    with pytest.raises(ValueError, match="grad"):
        C.mixed_sign_rows(np.ones(3))
    with pytest.raises(ValueError, match="width"):
        C.layer_input_condition("relu", 0)
    with pytest.raises(ValueError, match="activation"):
        C.layer_input_condition("swish", 3)
    with pytest.raises(ValueError, match="scale"):
        C.unit_output_moments("relu", scale=-1.0)
    with pytest.raises(ValueError, match="lam"):
        C.LogisticProblem(lam=0.0)
    with pytest.raises(ValueError, match="num_points"):
        C.LogisticProblem(num_points=1.5)
    with pytest.raises(ValueError, match="labels"):
        C.logistic_derivatives(np.zeros(2), np.ones((3, 2)), [1.0, 0.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="invertible"):
        C.affine_pullback(lambda t: (0.0, t, np.eye(2)), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="callable"):
        C.newton_path(3, np.zeros(2), 2)
    with pytest.raises(ValueError, match="problem"):
        C.gd_iterations("p", False)
    with pytest.raises(ValueError, match="centred"):
        C.smoothness(C.LogisticProblem(), 1)
    with pytest.raises(ValueError, match="variance"):
        C.bias_condition(1.0, 0.0)
    with pytest.raises(ValueError, match="bias"):
        C.layer_input_condition("relu", 3, bias="yes")
    with pytest.raises(ValueError, match="problem"):
        C.centring_map(None)
    with pytest.raises(ValueError, match="finite"):
        C.sigmoid_square_loss(math.inf)
