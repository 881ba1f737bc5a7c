"""First-order optimisers in float64: closed forms, textbook recurrences and torch.optim."""

import numpy as np
import pytest
import torch

from hiddenunits import optimizers
from hiddenunits.optimizers import Optimizer


def _quadratic(seed=0, n=5):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    Q = M @ M.T / n + 0.1 * np.eye(n)  # positive definite
    b = rng.normal(size=n)
    return Q, b, rng.normal(size=n)


def test_gradient_descent_matches_the_closed_form():
    Q, _, x0 = _quadratic()
    lr = 0.1
    traj = optimizers.run(Optimizer("gd", lr=lr), (x0,), lambda th, t: (Q @ th[0],), 25)
    expected = np.linalg.matrix_power(np.eye(len(x0)) - lr * Q, 25) @ x0
    np.testing.assert_allclose(traj[-1][0], expected, rtol=1e-12, atol=1e-14)
    assert len(traj) == 26


def test_nesterov_matches_the_two_sequence_form():
    # theta_{t+1} = y_t - lr grad(y_t), y_{t+1} = theta_{t+1} + mu (theta_{t+1} - theta_t)
    Q, b, x0 = _quadratic(1)
    lr, mu = 0.05, 0.9
    traj = optimizers.run(Optimizer("nesterov", lr=lr, momentum=mu), (x0,),
                          lambda th, t: (Q @ th[0] - b,), 40)
    theta, y = x0.copy(), x0.copy()
    for _ in range(40):
        new = y - lr * (Q @ y - b)
        y = new + mu * (new - theta)
        theta = new
    np.testing.assert_allclose(traj[-1][0], theta, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("opt, make", [
    (Optimizer("heavy_ball", lr=0.05, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01)),
    (Optimizer("gd", lr=0.1, weight_decay=0.1),
     lambda p: torch.optim.SGD([p], lr=0.1, weight_decay=0.1)),
    (Optimizer("adam", lr=0.01), lambda p: torch.optim.Adam([p], lr=0.01)),
    (Optimizer("rmsprop", lr=0.01, beta2=0.99),
     lambda p: torch.optim.RMSprop([p], lr=0.01, alpha=0.99, eps=1e-8)),
    (Optimizer("adagrad", lr=0.1, weight_decay=0.01),
     lambda p: torch.optim.Adagrad([p], lr=0.1, eps=1e-8, weight_decay=0.01)),
])
def test_matches_torch_optim_in_float64(opt, make):
    Q, b, x0 = _quadratic(2)
    traj = optimizers.run(opt, (x0,), lambda th, t: (Q @ th[0] - b,), 30)
    p = torch.tensor(x0, requires_grad=True)
    torch_opt = make(p)
    Qt, bt = torch.tensor(Q), torch.tensor(b)
    for _ in range(30):
        torch_opt.zero_grad()
        (0.5 * p @ Qt @ p - bt @ p).backward()
        torch_opt.step()
    np.testing.assert_allclose(traj[-1][0], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_adagrad_closed_form_on_a_linear_loss():
    # a constant gradient c: after t steps s = t c^2, so theta_t = theta_0 - lr sum_j 1/sqrt(j)
    c = np.array([2.0, -0.5])
    traj = optimizers.run(Optimizer("adagrad", lr=0.1, eps=1e-300), (np.zeros(2),),
                          lambda th, t: (c,), 5)
    expected = -0.1 * np.sign(c) * sum(1 / np.sqrt(j) for j in range(1, 6))
    np.testing.assert_allclose(traj[-1][0], expected, rtol=1e-14)


def test_l1_adds_the_sign_subgradient():
    x0 = np.array([1.0, -2.0, 0.0])
    traj = optimizers.run(Optimizer("gd", lr=0.5, l1=0.2), (x0,),
                          lambda th, t: (np.zeros(3),), 1)
    np.testing.assert_array_equal(traj[1][0], [0.9, -1.9, 0.0])


def test_step_losses_are_indexed_by_step():
    seen = []
    optimizers.run(Optimizer("gd"), (np.zeros(2),),
                   lambda th, t: (seen.append(t), np.zeros(2))[1:], 4)
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs", [
    {"method": "adadelta"}, {"lr": 0.0}, {"lr": float("nan")}, {"momentum": 1.0},
    {"weight_decay": -1.0}, {"eps": 0.0}, {"beta2": 1.5}, {"l1": -0.1}, {"lr": "0.1"},
    {"momentum": True},
])
def test_bad_settings_raise(kwargs):
    with pytest.raises(ValueError):
        Optimizer(**kwargs)


@pytest.mark.parametrize("theta, steps", [
    ((np.array([np.nan]),), 1), ((), 1), ((np.zeros(2),), -1), ((np.zeros(2),), 1.5),
    ((np.float64(1.0),), 1), (np.zeros(2), 1), ((np.zeros(2) + 1j,), 1),
])
def test_bad_runs_raise(theta, steps):
    with pytest.raises(ValueError):
        optimizers.run(Optimizer(), theta, lambda th, t: th, steps)


def test_bad_run_arguments_raise():
    with pytest.raises(ValueError):
        optimizers.run("gd", (np.zeros(2),), lambda th, t: th, 1)
    with pytest.raises(ValueError):
        optimizers.run(Optimizer(), (np.zeros(2),), None, 1)
