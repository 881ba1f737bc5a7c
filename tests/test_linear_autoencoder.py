"""The linear autoencoder: loss, gradients and Hessian against data sums and autograd."""

import math

import numpy as np
import pytest
import torch

from hiddenunits import linear_autoencoder as lae


def _problem(seed=0, n=6, k=2, N=40):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, n)) @ rng.normal(size=(n, n))
    A, B = rng.normal(size=(k, n)), rng.normal(size=(n, k))
    return x, lae.covariance(x), A, B


def _torch_loss(C):
    Ct = torch.tensor(C)

    def f(A, B, mask=None):
        M = A if mask is None else mask[:, None] * A
        R = torch.eye(len(C), dtype=torch.float64) - B @ M
        return 0.5 * torch.trace(R @ Ct @ R.T)

    return f


def test_loss_equals_the_mean_reconstruction_error():
    x, C, A, B = _problem()
    xc = x - x.mean(0)
    direct = 0.5 * np.mean(np.sum((xc - xc @ (B @ A).T) ** 2, axis=1))
    assert lae.loss(A, B, C) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("mask", [None, np.array([0.0, 4.0 / 3.0])])
def test_gradients_match_autograd(mask):
    _, C, A, B = _problem(1)
    At = torch.tensor(A, requires_grad=True)
    Bt = torch.tensor(B, requires_grad=True)
    _torch_loss(C)(At, Bt, None if mask is None else torch.tensor(mask)).backward()
    gA, gB = lae.gradients(A, B, C, mask)
    np.testing.assert_allclose(gA, At.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gB, Bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_matches_autograd():
    _, C, A, B = _problem(2, n=5, k=3)
    k, n = A.shape
    f = _torch_loss(C)

    def flat(th):
        return f(th[: k * n].reshape(k, n), th[k * n:].reshape(n, k))

    th = torch.tensor(np.concatenate([A.ravel(), B.ravel()]))
    H = torch.autograd.functional.hessian(flat, th).numpy()
    np.testing.assert_allclose(lae.hessian(A, B, C), H, rtol=1e-10, atol=1e-10)


def test_optimum_value_and_critical_points():
    _, C, _, _ = _problem(3, n=6, k=2)
    lam, U = lae.pca(C)
    assert np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(U @ np.diag(lam) @ U.T, C, atol=1e-10)
    for S in [(0, 1), (0, 3), (2, 5)]:
        A, B = lae.critical_point(C, S)
        assert max(np.abs(g).max() for g in lae.gradients(A, B, C)) < 1e-10
        expected = 0.5 * sum(lam[j] for j in range(6) if j not in S)
        assert lae.loss(A, B, C) == pytest.approx(expected, rel=1e-12)
    assert lae.optimal_loss(C, 2) == pytest.approx(0.5 * lam[2:].sum())
    # a perturbed critical point is not critical: the check's gradient term can fail
    A, B = lae.critical_point(C, (0, 1))
    assert np.abs(lae.gradients(A + 0.01, B, C)[1]).max() > 1e-4


def test_saddle_bound_at_the_digits():
    cps = lae.critical_points(4, 6)
    assert len(cps) == math.comb(6, 4)
    lam, _ = lae.pca(lae.digits_covariance())
    for cp in cps:
        assert len(cp.gaps) == 4 * 60
        assert cp.bound == pytest.approx(min(lam[i] - lam[j] for i in cp.S
                                             for j in range(64) if j not in cp.S) / 2)
        if cp.S == (0, 1, 2, 3):
            assert cp.min_eig > -1e-12
        else:
            assert cp.min_eig <= cp.bound + 1e-12 and cp.bound < -1e-3


def test_hessian_kernel_at_the_minimum_is_the_orbit():
    # invertible C: the minimisers are one GL(k)-orbit, of dimension k^2
    _, C, _, _ = _problem(7, n=6, k=2)
    A, B = lae.critical_point(C, (0, 1))
    assert lae.hessian_kernel_dimension(A, B, C) == 4
    # the orbit's tangent vectors (Omega A, -B Omega) are in the kernel (independent check)
    H = lae.hessian(A, B, C)
    Om = np.random.default_rng(0).normal(size=(2, 2))
    v = np.concatenate([(Om @ A).ravel(), (-B @ Om).ravel()])
    assert np.linalg.norm(H @ v) < 1e-10 * np.linalg.norm(v)
    # a singular C adds the free part A (I - P_R): k more dimensions per null direction
    x = _problem(7, n=6, k=2)[0]
    x[:, 5] = 0.0
    C0 = lae.covariance(x)
    A, B = lae.critical_point(C0, (0, 1))
    assert lae.hessian_kernel_dimension(A, B, C0) == 4 + 2


def test_principal_angles_of_two_lines():
    u = np.array([[1.0], [0.0]])
    v = np.array([[math.cos(0.3)], [math.sin(0.3)]])
    assert lae.principal_angles(u, v)[0] == pytest.approx(0.3, abs=1e-12)


def test_correlations_match_numpy_on_samples():
    x, C, A, _ = _problem(4, n=5, k=2, N=200)
    _, U = lae.pca(C)
    xc = x - x.mean(0)
    h, s = xc @ A.T, xc @ U[:, :2]
    ref = np.corrcoef(h.T, s.T)[:2, 2:]
    np.testing.assert_allclose(lae.unit_component_correlations(A, C, 2), ref, atol=1e-10)
    A2 = np.random.default_rng(5).normal(size=(2, 5))
    ref2 = np.corrcoef(h.T, (xc @ A2.T).T)[:2, 2:]
    np.testing.assert_allclose(lae.unit_unit_correlations(A, A2, C), ref2, atol=1e-10)


def test_rotated_baseline_is_one_for_a_single_unit():
    _, C, _, _ = _problem(6)
    assert lae.rotated_pca_baseline(C, 1, samples=5, rng=0) == pytest.approx(1.0)
    # k = 2 with equal eigenvalues weights: E max(|cos|, |sin|) of a uniform angle
    C2 = np.eye(3)
    ref = 2 * math.sqrt(2) / math.pi  # E max(|cos u|, |sin u|), u uniform
    est = lae.rotated_pca_baseline(C2, 2, samples=1000, rng=1)
    assert est == pytest.approx(ref, abs=4 * 0.11 / math.sqrt(1000))  # sd < 0.11


def test_gradient_descent_reaches_the_minimum_on_digits():
    A, B, losses = lae.train(lae.TrainSpec(steps=400))
    C = lae.digits_covariance()
    assert losses[-1] - lae.optimal_loss(C, 4) < 1e-4
    _, U = lae.pca(C)
    assert lae.principal_angles(B, U[:, :4]).max() < 1e-2
    for a in (A, B, losses):  # cached and shared: read-only
        with pytest.raises(ValueError):
            a[0] = 0.0


def test_weight_decay_training_is_the_penalised_gradient_descent():
    spec = lae.TrainSpec(steps=30, init_scale=1.0, weight_decay=(0.0, 0.1, 0.2, 0.3))
    A, B, _ = lae.train(spec)
    C = lae.digits_covariance()
    A_, B_ = lae.init_factors(4, 64, 0, "gaussian", 1.0)
    g = np.array(spec.weight_decay)
    for _ in range(30):  # the penalty (1/2) sum_i g_i (||a_i||^2 + ||b_i||^2), written out
        gA, gB = lae.gradients(A_, B_, C)
        A_, B_ = A_ - 0.5 * (gA + g[:, None] * A_), B_ - 0.5 * (gB + B_ * g[None, :])
    np.testing.assert_allclose(A, A_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(B, B_, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(lae.TrainSpec(weight_decay=0.5).decays, np.full(4, 0.5))


def test_largest_hessian_eigenvalue_at_critical_points():
    _, C, _, _ = _problem(8, n=5, k=2)
    lam, _ = lae.pca(C)
    for S in [(0, 1), (2, 4)]:
        A, B = lae.critical_point(C, S)
        ev = np.linalg.eigvalsh(lae.hessian(A, B, C))
        assert ev[-1] >= lam[0] - 1e-12  # the bound of thm-baldi-hornik (b)
    # the stored extreme eigenvalues against a full eigendecomposition
    cp = lae.critical_points(4, 6)[-1]
    D = lae.digits_covariance()
    ev = np.linalg.eigvalsh(lae.hessian(*lae.critical_point(D, cp.S), D))
    assert cp.max_eig == pytest.approx(ev[-1], rel=1e-10)
    assert cp.min_eig == pytest.approx(ev[0], rel=1e-10)


def test_unit_study_compares_seeds_as_representations():
    study = lae.unit_study()
    assert all(1 - c < 1e-5 for c in study.canonical_min)
    assert all(0.999 < c <= 1 for c in study.cka)
    assert max(study.unit_unit) < 0.95


def test_init_factors_laws():
    A, B = lae.init_factors(50, 200, rng=0, law="uniform")
    assert np.abs(A).max() <= 1 / math.sqrt(200) and np.abs(B).max() <= 1 / math.sqrt(50)
    A, B = lae.init_factors(np.int64(50), np.int64(200), rng=np.random.default_rng(0),
                            law="gaussian")
    # 10000 draws: the sample variance is within 4 % of 1/(3 fan_in) with high probability
    assert A.var() == pytest.approx(1 / 600, rel=0.04)
    assert B.var() == pytest.approx(1 / 150, rel=0.04)


@pytest.mark.parametrize("call", [
    lambda: lae.loss(np.ones((2, 3)), np.ones((3, 3)), np.eye(3)),
    lambda: lae.loss(np.ones((2, 3)), np.ones((3, 2)), np.eye(4)),
    lambda: lae.gradients(np.ones((2, 3)), np.ones((3, 2)), np.eye(3), mask=np.ones(3)),
    lambda: lae.covariance(np.array([[1.0, np.nan], [0.0, 1.0]])),
    lambda: lae.covariance(np.ones((1, 3))),
    lambda: lae.loss(np.ones((2, 3)), np.ones((3, 2)), np.eye(3), mask=[1.0, np.nan]),
    lambda: lae.loss(np.ones((2, 3)) + 1j, np.ones((3, 2)), np.eye(3)),
    lambda: lae.init_factors(5, 3, rng=0),
    lambda: lae.init_factors(2, 3, rng=0, law="cauchy"),
    lambda: lae.init_factors(2, 3, rng=0, scale=0.0),
    lambda: lae.init_factors(True, 3),
    lambda: lae.init_factors(2, 3, rng="zero"),
    lambda: lae.TrainSpec(k=0),
    lambda: lae.TrainSpec(lr=-0.5),
    lambda: lae.TrainSpec(steps=2.5),
    lambda: lae.TrainSpec(law="cauchy"),
    lambda: lae.TrainSpec(weight_decay=-0.1),
    lambda: lae.TrainSpec(weight_decay=(0.1, 0.2)),
    lambda: lae.TrainSpec(weight_decay=(0.1, 0.2, float("nan"), 0.1)),
    lambda: lae.train("spec"),
    lambda: lae.principal_angles(np.ones((3, 1)), np.ones((4, 1))),
    lambda: lae.product_error(np.ones((2, 3)), np.ones((3, 2)), np.eye(3), 0),
    lambda: lae.range_projector(np.eye(3), rtol=0.0),
    lambda: lae.best_match(np.ones(3)),
    lambda: lae.rotated_pca_baseline(np.eye(3), 2, samples=0),
    lambda: lae.unit_unit_correlations(np.ones((2, 3)), np.ones((2, 4)), np.eye(3)),
    lambda: lae.hessian_kernel_dimension(np.ones((2, 3)), np.ones((3, 2)), np.eye(3), rtol=2),
    lambda: lae.pca(np.array([[1.0, 2.0], [0.0, 1.0]])),
    lambda: lae.optimal_loss(np.eye(3), 3),
    lambda: lae.critical_point(np.eye(3), (0, 0)),
    lambda: lae.unit_study(seeds=1),
    lambda: lae.critical_points(4, 4),
    lambda: lae.critical_point(np.eye(3), ()),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
