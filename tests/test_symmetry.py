"""The GL(k) action, gradient and trajectory equivariance, invariant laws, ReLU symmetries."""

import itertools
import math

import numpy as np
import pytest
import torch

from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry
from hiddenunits.claims import get_claim


def _grad_generic(A, B):
    """Autograd gradient of a generic non-invariant loss of the product, l(W) = sum sin(W) W."""
    At = torch.tensor(A, requires_grad=True)
    Bt = torch.tensor(B, requires_grad=True)
    W = Bt @ At
    (torch.sin(W) * W).sum().backward()
    return At.grad.numpy(), Bt.grad.numpy()


def test_action_is_a_group_action_and_keeps_the_product():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(3, 5)), rng.normal(size=(4, 3))
    G, H = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    lhs = symmetry.act(G, *symmetry.act(H, A, B))
    rhs = symmetry.act(G @ H, A, B)
    for p, q in zip(lhs, rhs, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-10)
    GA, BGi = symmetry.act(G, A, B)
    np.testing.assert_allclose(BGi @ GA, B @ A, rtol=1e-10, atol=1e-10)


def test_gradients_transform_contragrediently_autograd():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(5, 3))
    gA, gB = _grad_generic(A, B)
    G = rng.normal(size=(3, 3))
    hA, hB = _grad_generic(*symmetry.act(G, A, B))
    np.testing.assert_allclose(hA, np.linalg.inv(G).T @ gA, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(hB, gB @ G.T, rtol=1e-9, atol=1e-10)
    P = symmetry.haar_orthogonal(3, rng)
    hA, hB = _grad_generic(*symmetry.act(P, A, B))
    np.testing.assert_allclose(hA, P @ gA, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(hB, gB @ P.T, rtol=1e-9, atol=1e-10)
    # and the naive law fails for a non-orthogonal G
    hA, _ = _grad_generic(*symmetry.act(np.diag([2.0, 1.0, 1.0]), A, B))
    assert np.abs(hA - np.diag([2.0, 1.0, 1.0]) @ gA).max() > 1e-2


def test_equivariance_gap_small_for_p_large_for_g():
    C = lae.digits_covariance()
    A, B = lae.init_factors(4, 64, seed=0)
    P = symmetry.haar_orthogonal(4, np.random.default_rng(2))
    assert symmetry.equivariance_gap(P, A, B, C) < 1e-13
    assert symmetry.equivariance_gap(np.diag([2.0, 1, 1, 1]), A, B, C) > 0.1


def test_symbolic_checks_pass_and_can_fail():
    assert symmetry.check_orbit_invariance() == 0.0
    assert symmetry.check_gradient_equivariance() == 0.0
    A, B, G, P, E = symmetry.matrix_symbols()
    assert symmetry.symbolic_zero((B * G.I).T * E - G.I.T * (B.T * E))
    assert not symmetry.symbolic_zero((B * G.I).T * E - G * (B.T * E))  # the naive law
    assert not symmetry.symbolic_zero((B * P.I).T * E - P * (B.T * E))  # no orthogonality


def test_haar_orthogonal_moments():
    rng = np.random.default_rng(3)
    Ps = np.array([symmetry.haar_orthogonal(3, rng) for _ in range(4000)])
    np.testing.assert_allclose(Ps[0] @ Ps[0].T, np.eye(3), atol=1e-12)
    # Haar: every entry has mean 0 and variance 1/k; 4000 draws, 5 standard errors
    se = math.sqrt(1 / 3 / 4000)
    assert abs(Ps[:, 0, 1].mean()) < 5 * se
    assert abs((Ps[:, 1, 2] ** 2).mean() - 1 / 3) < 0.02


def test_signed_permutation():
    S = symmetry.signed_permutation(5, np.random.default_rng(4))
    np.testing.assert_array_equal(np.abs(S).sum(0), np.ones(5))
    np.testing.assert_array_equal(S @ S.T, np.eye(5))


def test_trajectory_equivariance_short_runs():
    gd, adam = symmetry.CASES[0], symmetry.CASES[5]
    assert symmetry.compare(gd, steps=50).deviation.max() < 1e-12
    assert symmetry.compare(adam, steps=50).deviation.max() > 1e-3
    gap, _, _ = symmetry.transformed_run_gap(np.diag([2.0, 1, 1, 1]), steps=20)
    assert gap > 1e-2


def test_uniform_square_law_and_the_invariance_check():
    # Monte Carlo reference: E cos 4 psi = 3 - pi for a point uniform in a square
    study = symmetry.law_study("uniform", samples=20000, steps=0)
    mean, se = symmetry.fourier_mean(study.psi0, 4)
    assert abs(mean - symmetry.SQUARE_COS4) < 4 * se
    # the check statistic flags a non-invariant law (decoder started at zero)
    tol = get_claim("cor-invariant-law").tolerance
    biased = symmetry.law_study("uniform", decoder_zero=True)
    assert max(abs(symmetry.fourier_mean(biased.psi, j)[0]) for j in range(1, 5)) > 3 * tol
    assert symmetry.check_invariant_law() <= tol


def test_relu_symmetries():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 50))
    M = np.eye(4)[[2, 0, 3, 1]] * np.array([0.5, 2.0, 1.0, 3.0])[:, None]
    assert symmetry.is_positive_monomial(M) and symmetry.relu_equivariant(M, z)
    P = symmetry.haar_orthogonal(4, rng)
    assert not symmetry.is_positive_monomial(P) and not symmetry.relu_equivariant(P, z)
    assert not symmetry.relu_equivariant(-np.eye(4), z)


def test_census_counts_against_independent_enumeration():
    count, equiv, mismatch = symmetry.relu_symmetry_census(2, (-1.0, 0.0, 1.0))
    ref = sum(abs(np.linalg.det(np.array(e).reshape(2, 2))) > 0.5
              for e in itertools.product((-1, 0, 1), repeat=4))
    assert (count, equiv, mismatch) == (ref, 2, 0)  # the two permutation matrices
    census = symmetry.relu_census()
    assert census["k=2"][1] == 2 * 3**2  # 2 permutations times 3 positive values squared
    assert census["k=3"][1] == 6 and symmetry.check_relu_symmetry() == 0.0


def test_relu_network_symmetry():
    assert symmetry.monomial_change() < 1e-13
    ts, prof = symmetry.relu_profiles()
    assert np.ptp(prof["positive scaling exp(t diag(s))"]) < 1e-12
    assert np.ptp(prof["rotation exp(tS)"]) > 1e-3


@pytest.mark.parametrize("call", [
    lambda: symmetry.haar_orthogonal(0, np.random.default_rng(0)),
    lambda: symmetry.act(np.eye(2), np.ones((3, 4)), np.ones((4, 3))),
    lambda: symmetry.act(np.zeros((2, 2)), np.ones((2, 4)), np.ones((4, 2))),
    lambda: symmetry.act(np.eye(2), np.full((2, 4), np.nan), np.ones((4, 2))),
    lambda: symmetry.compare(symmetry.CASES[0], steps=0),
    lambda: symmetry.compare("gd"),
    lambda: symmetry.law_study("cauchy"),
    lambda: symmetry.law_study(samples=1),
    lambda: symmetry.fourier_mean(np.array([np.nan, 1.0]), 4),
    lambda: symmetry.relu_equivariant(np.eye(2), np.ones((3, 4))),
    lambda: symmetry.relu_symmetry_census(3, (-2.0, -1.0, 0.0, 1.0, 2.0)),
    lambda: symmetry.transformed_run_gap(np.ones((2, 3))),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
