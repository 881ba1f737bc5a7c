"""Balancedness A A^T - B^T B: conserved by the flow, changed by eta^2 (...) per GD step."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hiddenunits import balancedness as bal
from hiddenunits import linear_autoencoder as lae
from hiddenunits.book.checks.basis import matrix_symbols, symbolic_zero


def test_one_step_change_against_direct_computation():
    C = lae.digits_covariance()
    A, B = lae.init_factors(4, 64, rng=1)
    gA, gB = lae.gradients(A, B, C)
    lr = 0.3
    direct = bal.balancedness(A - lr * gA, B - lr * gB) - bal.balancedness(A, B)
    np.testing.assert_allclose(direct, bal.step_change(gA, gB, lr), atol=1e-13)


def test_orbit_identity_numerically():
    C = lae.digits_covariance()
    A, B = lae.init_factors(4, 64, rng=2)
    gA, gB = lae.gradients(A, B, C)
    np.testing.assert_allclose(gA @ A.T, B.T @ gB, atol=1e-14)


def test_balancedness_of_a_rectangular_decoder():
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(2, 5)), rng.normal(size=(3, 2))  # m = 3 outputs, n = 5 inputs
    np.testing.assert_allclose(bal.balancedness(A, B), A @ A.T - B.T @ B)


def test_symbolic_step_identity_and_a_wrong_power_fails():
    import sympy as sp

    A, B, _, _, E = matrix_symbols()
    eta = sp.symbols("eta")
    gA, gB = B.T * E, E * A.T
    A1, B1 = A - eta * gA, B - eta * gB
    change = (A1 * A1.T - B1.T * B1) - (A * A.T - B.T * B)
    assert symbolic_zero(change - eta**2 * (gA * gA.T - gB.T * gB))
    assert not symbolic_zero(change - eta * (gA * gA.T - gB.T * gB))


def test_flow_conserves_d_with_an_independent_integrator():
    setup = bal.FlowSetup(k=2, horizon=2.0)
    C = lae.digits_covariance()
    A0, B0 = lae.init_factors(2, 64, rng=0, law="gaussian", scale=1.0)
    np.testing.assert_array_equal(A0, bal.start(setup)[0])

    def rhs(t, y):
        A, B = y[:128].reshape(2, 64), y[128:].reshape(64, 2)
        gA, gB = lae.gradients(A, B, C)
        return -np.concatenate([gA.ravel(), gB.ravel()])

    sol = solve_ivp(rhs, (0.0, setup.horizon), np.concatenate([A0.ravel(), B0.ravel()]),
                    method="DOP853", rtol=1e-12, atol=1e-12)
    y = sol.y[:, -1]
    DT = bal.balancedness(y[:128].reshape(2, 64), y[128:].reshape(64, 2))
    D0 = bal.balancedness(A0, B0)
    assert np.linalg.norm(DT - D0) / np.linalg.norm(D0) < 1e-9
    # and the loss did change, so the run was not trivial
    assert lae.loss(A0, B0, C) - lae.loss(y[:128].reshape(2, 64), y[128:].reshape(64, 2), C) > 0.1


def test_rk4_matches_the_midpoint_rule_on_the_trajectory():
    setup = bal.FlowSetup(horizon=1.0)
    A1, B1 = bal.rk4(setup, 0.05)
    A2, B2 = bal.midpoint(setup, 0.05)
    assert np.abs(A1 - A2).max() < 1e-3 and np.abs(B1 - B2).max() < 1e-3


def test_midpoint_drift_under_weight_decay_matches_the_closed_form():
    # with weight decay the flow obeys dD/dt = -2 gamma D, so D(T) = exp(-2 gamma T) D(0)
    gamma, T = 0.01, 10.0
    drift = bal.drift(bal.FlowSetup(weight_decay=gamma, horizon=T), "implicit midpoint", 0.2)
    assert drift == pytest.approx(1 - math.exp(-2 * gamma * T), rel=1e-3)


def test_gradient_descent_drift_is_first_order():
    table = bal.drift_table()
    table["Runge-Kutta 4"] = None  # the caller's copy, not the cached table
    table = bal.drift_table()
    slope = bal.order(bal.STEPS[1:], table["gradient descent (Euler)"][1:])
    assert 0.8 < slope < 1.3
    assert bal.order(bal.STEPS, table["Runge-Kutta 4"]) > 3.5


def test_spectra_under_a_change_of_basis():
    rng = np.random.default_rng(4)
    C = lae.covariance(rng.normal(size=(100, 5)) @ rng.normal(size=(5, 5)))
    A, B = rng.normal(size=(2, 5)), rng.normal(size=(5, 2))
    # independent computation: squared singular values of C^(1/2) A^T
    ref = np.linalg.svd(lae.sqrt_psd(C) @ A.T, compute_uv=False) ** 2
    np.testing.assert_allclose(bal.hidden_spectrum(A, C), ref, rtol=1e-10)
    G = rng.normal(size=(2, 2))
    GA, BG = G @ A, np.linalg.solve(G.T, B.T).T
    np.testing.assert_allclose(bal.output_spectrum(GA, BG, C), bal.output_spectrum(A, B, C),
                               rtol=1e-8)
    assert np.abs(bal.hidden_spectrum(GA, C) - bal.hidden_spectrum(A, C)).max() > 1e-3


def test_the_regularised_critical_points():
    # (P W^1/2 U_k^T, U_k W^1/2 P^T), W = I - gamma Lambda_k^-1: a critical point of L + penalty
    C = lae.digits_covariance()
    lam, U = lae.pca(C)
    gamma, k = 0.05, 4
    P = np.linalg.qr(np.random.default_rng(5).normal(size=(k, k)))[0]
    W = np.diag(np.sqrt(1 - gamma / lam[:k]))
    A, B = P @ W @ U[:, :k].T, U[:, :k] @ W @ P.T
    gA, gB = lae.gradients(A, B, C)
    assert np.abs(gA + gamma * A).max() < 1e-14 and np.abs(gB + gamma * B).max() < 1e-14
    np.testing.assert_allclose(bal.hidden_spectrum(A, C), lam[:k] - gamma, rtol=1e-12)


def test_decay_and_spectrum_runs():
    kunin = bal.decay_run(bal.DECAY_RUNS["uniform decay"])
    assert kunin.transpose_gap < 1e-12 and kunin.direction_error < 1e-12
    assert kunin.singular_error < 1e-12
    short = bal.decay_run(bal.DECAY_RUNS["per-unit decay"])
    long = bal.decay_run(bal.DECAY_RUNS["per-unit decay, longer"])
    assert short.unit_pc < long.unit_pc
    balanced = bal.spectrum_run(bal.SPECTRUM_RUNS["PyTorch's scale, weight decay"])
    unbalanced = bal.spectrum_run(bal.SPECTRUM_RUNS["PyTorch's scale"])
    assert balanced.balancedness < 1e-12 and balanced.hidden_error < 1e-12
    assert unbalanced.hidden_error > 0.1 > unbalanced.output_error


def test_order_of_exact_power_law():
    hs = np.array([0.1, 0.2, 0.4])
    assert bal.order(hs, 3 * hs**2) == pytest.approx(2.0)


@pytest.mark.parametrize("call", [
    lambda: bal.drift(bal.FlowSetup(), "leapfrog", 0.1),
    lambda: bal.euler(bal.FlowSetup(horizon=1.0), 0.3),
    lambda: bal.euler(bal.FlowSetup(horizon=1.0), -0.1),
    lambda: bal.balancedness(np.ones((2, 3)), np.ones((2, 3))),
    lambda: bal.step_change(np.ones((2, 3)), np.full((3, 2), np.inf), 0.1),
    lambda: bal.order([0.1, 0.2], [1.0]),
    lambda: bal.order([0.1, 0.2], [1.0, 0.0]),
    lambda: bal.drift("setup", "implicit midpoint", 0.1),
    lambda: bal.midpoint(bal.FlowSetup(horizon=1.0), 0.5, max_iter=0),
    lambda: bal.FlowSetup(k=0),
    lambda: bal.FlowSetup(horizon=0.0),
    lambda: bal.FlowSetup(weight_decay=-1.0),
    lambda: bal.FlowSetup(seed=-1),
    lambda: bal.step_change(np.ones((2, 3)), np.ones((3, 2)), 0.0),
    lambda: bal.step_identity_error(bal.FlowSetup(horizon=1.0), 0.3),
    lambda: bal.hidden_spectrum(np.ones((2, 3)), np.eye(4)),
    lambda: bal.output_spectrum(np.ones((2, 3)), np.ones((3, 3)), np.eye(3)),
    lambda: bal.spectrum_run("spec"),
    lambda: bal.decay_run(bal.FlowSetup()),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
