"""The GL(k) action, gradient and trajectory equivariance, invariant laws, ReLU symmetries."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.stats import ortho_group

from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry
from hiddenunits.book.checks import basis as checks


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
    P = ortho_group.rvs(3, random_state=rng)
    hA, hB = _grad_generic(*symmetry.act(P, A, B))
    np.testing.assert_allclose(hA, P @ gA, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(hB, gB @ P.T, rtol=1e-9, atol=1e-10)
    # and the naive law fails for a non-orthogonal G
    hA, _ = _grad_generic(*symmetry.act(np.diag([2.0, 1.0, 1.0]), A, B))
    assert np.abs(hA - np.diag([2.0, 1.0, 1.0]) @ gA).max() > 1e-2


def test_cross_entropy_gradients_of_the_checks_match_finite_differences():
    A, B, X, y, gA, gB = checks._problems()[0]
    At, Bt = torch.tensor(A), torch.tensor(B)

    def f(a, b):
        logits = (b @ a @ torch.tensor(X)).T
        return torch.nn.functional.cross_entropy(logits, torch.tensor(y)).item()

    h = 1e-6
    for (i, j) in [(0, 0), (2, 4)]:
        e = torch.zeros_like(At)
        e[i, j] = h
        fd = (f(At + e, Bt) - f(At - e, Bt)) / (2 * h)
        assert fd == pytest.approx(gA[i, j], rel=1e-6, abs=1e-9)
    e = torch.zeros_like(Bt)
    e[1, 2] = h
    assert (f(At, Bt + e) - f(At, Bt - e)) / (2 * h) == pytest.approx(gB[1, 2], rel=1e-6,
                                                                        abs=1e-9)


def test_equivariance_gap_small_for_p_large_for_g():
    C = lae.digits_covariance()
    A, B = lae.init_factors(4, 64, rng=0)
    P = ortho_group.rvs(4, random_state=2)
    assert symmetry.equivariance_gap(P, A, B, C) < 1e-13
    assert symmetry.equivariance_gap(np.diag([2.0, 1, 1, 1]), A, B, C) > 0.1


def test_symbolic_tools_can_fail():
    A, B, G, P, E = checks.matrix_symbols()
    assert checks.symbolic_zero((B @ G.I).T @ E - G.I.T @ (B.T @ E))
    assert not checks.symbolic_zero((B @ G.I).T @ E - G @ (B.T @ E))  # the naive law
    assert not checks.symbolic_zero((B @ P.I).T @ E - P @ (B.T @ E))  # no orthogonality
    assert checks.symbolic_zero((B @ P.I).T @ E - P @ (B.T @ E), orthogonal=P)
    assert checks.chain_rule_residual() == 0


def test_isometries_are_exactly_the_orthogonal_matrices():
    for G in checks.isometry_test_matrices():
        orthogonal = np.allclose(G.T @ G, np.eye(3), atol=1e-12)
        assert checks.is_isometry(G) == orthogonal
    # T_G has the singular values of G and of G^-1: an independent computation
    G = np.diag([2.0, 0.5, 1.0])
    assert not checks.is_isometry(G) and abs(np.linalg.det(G)) == 1.0


def test_general_linear_is_well_conditioned_and_not_orthogonal():
    G = symmetry.general_linear(4, rng=0)
    s = np.linalg.svd(G, compute_uv=False)
    assert s.max() <= 1.25 + 1e-12 and s.min() >= 0.8 - 1e-12
    assert not np.allclose(G.T @ G, np.eye(4), atol=1e-3)
    np.testing.assert_allclose(symmetry.general_linear(3, rng=0, stretch=1.0) @
                               symmetry.general_linear(3, rng=0, stretch=1.0).T, np.eye(3),
                               atol=1e-12)


def test_signed_permutation():
    S = symmetry.signed_permutation(5, np.random.default_rng(4))
    np.testing.assert_array_equal(np.abs(S).sum(0), np.ones(5))
    np.testing.assert_array_equal(S @ S.T, np.eye(5))
    np.testing.assert_array_equal(symmetry.signed_permutation(5, 4), S)  # seed or generator


def test_trajectory_equivariance_short_runs():
    gd, adam = symmetry.case("gradient descent"), symmetry.case("Adam")
    assert symmetry.compare(gd, steps=50).deviation.max() < 1e-12
    assert symmetry.compare(adam, steps=50).deviation.max() > 1e-3
    general = replace(gd, group="general linear")
    assert symmetry.compare(general, steps=50).deviation.max() > 1e-2
    gap, _, _ = symmetry.transformed_run_gap(np.diag([2.0, 1, 1, 1]), steps=20)
    assert gap > 1e-2


def test_compare_deviation_against_the_group_action():
    r = symmetry.compare(symmetry.case("Adam"), steps=5)
    # recompute from scratch with act() (an independent path: solve instead of inverse)
    from scipy.stats import ortho_group as og
    gen = np.random.default_rng(0)
    theta0 = lae.init_factors(4, 64, gen, "gaussian", 1.0)
    M = og.rvs(4, random_state=gen)
    grad = symmetry.step_gradients(symmetry.case("Adam"), 5, 4, gen)
    run1 = symmetry.optimizers.run(symmetry.case("Adam").optimizer, theta0, grad, 5)
    run2 = symmetry.optimizers.run(symmetry.case("Adam").optimizer, symmetry.act(M, *theta0),
                                   grad, 5)
    ref = [math.sqrt(sum(np.sum((p - q) ** 2) for p, q in zip(symmetry.act(M, *t1), t2,
                                                               strict=True))
                     / sum(np.sum(p ** 2) for p in t1)) for t1, t2 in zip(run1, run2,
                                                                           strict=True)]
    np.testing.assert_allclose(r.deviation, ref, rtol=1e-9, atol=1e-15)


def test_case_lookup():
    assert symmetry.case("Adagrad").optimizer.method == "adagrad"
    assert not symmetry.case("RMSProp").equivariant
    with pytest.raises(ValueError, match="no procedure"):
        symmetry.case("SGD")


def test_tied_units_stay_tied_and_limit_the_rank():
    run = symmetry.stabiliser_run("linear", tied=4)
    assert run.deviation.max() == 0.0
    # all units equal: B A has rank one, so the loss is at least the best rank-one loss
    C = lae.digits_covariance()
    assert run.loss >= lae.optimal_loss(C, 1)
    pair = symmetry.stabiliser_run("linear", tied=2, method="nesterov")
    assert pair.deviation.max() == 0.0 and pair.loss >= lae.optimal_loss(C, 3)
    assert symmetry.stabiliser_run("linear", tie_outgoing=False).deviation[-1] > 1e-3
    assert symmetry.stabiliser_run("linear", dropout=0.25).deviation[-1] > 1e-3


def test_tied_relu_units_stay_tied():
    run = symmetry.stabiliser_run("relu", tied=3)
    assert run.deviation.max() == 0.0 and 0.0 <= run.accuracy <= 1.0
    assert symmetry.stabiliser_run("relu", dropout=0.25).deviation.max() > 1e-4


def test_unit_parameters_and_tie_deviation():
    W1, b1 = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0])
    W2, b2 = np.arange(6.0).reshape(2, 3), np.zeros(2)
    units = symmetry.unit_parameters([W1, b1, W2, b2], "relu")
    np.testing.assert_array_equal(units[1], [2.0, 3.0, 2.0, 1.0, 4.0])
    A, B = np.ones((2, 3)), np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(symmetry.unit_parameters([A, B], "linear")[1],
                                  [1.0, 1.0, 1.0, 1.0, 3.0, 5.0])
    u = np.array([[3.0, 4.0], [3.0, 4.0], [0.0, 0.0]])
    assert symmetry.tie_deviation(u, 2) == 0.0
    assert symmetry.tie_deviation(u, 3) == pytest.approx(1.0)


def test_step_gradients_share_minibatches_and_masks():
    case = replace(symmetry.CASES[1], dropout=0.5)
    grad = symmetry.step_gradients(case, steps=3, k=4, rng=0)
    A, B = lae.init_factors(4, 64, rng=1)
    first = [grad((A, B), t) for t in range(3)]
    again = [grad((A, B), t) for t in range(3)]  # the same function: the same step losses
    for (g1, h1), (g2, h2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(g1, g2)
        np.testing.assert_array_equal(h1, h2)
    # a step loss on a minibatch with dropout differs from the full-batch loss
    full = lae.gradients(A, B, lae.digits_covariance())
    assert np.abs(first[0][0] - full[0]).max() > 1e-6


def test_compare_seed_and_generator_agree_and_cache_is_read_only():
    gd = symmetry.CASES[0]
    a = symmetry.compare(gd, steps=20, rng=5)
    b = symmetry.compare(gd, steps=20, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.deviation, b.deviation)
    with pytest.raises(ValueError):
        a.deviation[0] = 1.0


def test_uniform_square_law():
    # Monte Carlo reference: E cos 4 psi = 3 - pi for a point uniform in a square
    study = symmetry.law_study("uniform", samples=20000, steps=0)
    mean, se = symmetry.fourier_mean(study.psi0, 4)
    assert abs(mean - symmetry.SQUARE_COS4) < 4 * se
    np.testing.assert_array_equal(study.A, study.A0)  # no step taken


def test_law_study_fits_the_target_and_scales_hidden_units():
    study = symmetry.law_study("gaussian", samples=200, steps=200, rng=1)
    assert study.final_error < 1e-6
    scaled = symmetry.law_study("gaussian", samples=200, steps=0, rng=1, hidden_scales=(1, 3))
    np.testing.assert_allclose(scaled.A0[:, 1], 3 * study.A0[:, 1])
    np.testing.assert_allclose(scaled.A0[:, 0], study.A0[:, 0])


def _invariant_study(rng, samples=8000):
    """A synthetic O(2)-invariant law: Gaussian encoders times independent Haar rotations."""
    A = rng.normal(size=(samples, 2, 2)) * np.array([[1.0], [0.2]])  # anisotropic
    phi = rng.uniform(0, 2 * math.pi, size=samples)
    R = np.stack([np.stack([np.cos(phi), -np.sin(phi)], 1),
                  np.stack([np.sin(phi), np.cos(phi)], 1)], 1)  # (N, 2, 2)
    A = R @ A
    return symmetry.LawStudy("gaussian", False, (1.0, 1.0), A, A, A, 0.0)


def test_chi_square_statistic_is_calibrated_under_invariance():
    # 40 synthetic invariant samples (8000 runs each, 62.5 expected per cell): mean df = 120
    # and sd sqrt(240); the mean of 40 has standard error 2.45, and no single statistic
    # should pass the 1e-3 level often.
    rng = np.random.default_rng(0)
    values = [checks.invariant_law_statistic(_invariant_study(rng)) for _ in range(40)]
    assert abs(np.mean(values) - checks.LAW_DF) < 4 * math.sqrt(2 * checks.LAW_DF / 40)
    assert checks.LAW_LEVEL == pytest.approx(stats.chi2.isf(1e-3, 120))
    assert sum(v > checks.LAW_LEVEL for v in values) <= 1


def test_the_invariance_check_has_power_against_the_uniform_law():
    assert checks.invariant_law_miss("uniform") < 1e-6
    # and (a negative control) no power at all against the Gaussian law it accepts
    assert checks.invariant_law_miss("gaussian") > 0.5


def test_relu_symmetries():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 50))
    M = np.eye(4)[[2, 0, 3, 1]] * np.array([0.5, 2.0, 1.0, 3.0])[:, None]
    assert symmetry.is_positive_monomial(M) and symmetry.relu_equivariant(M, z)
    P = ortho_group.rvs(4, random_state=rng)
    assert not symmetry.is_positive_monomial(P) and not symmetry.relu_equivariant(P, z)
    assert not symmetry.relu_equivariant(-np.eye(4), z)
    np.testing.assert_array_equal(symmetry.is_positive_monomial(np.stack([M, P, -M])),
                                  [True, False, False])


def test_census_counts_against_independent_enumeration():
    census = symmetry.relu_symmetry_census(2, (-1.0, 0.0, 1.0))
    ref = sum(abs(np.linalg.det(np.array(e).reshape(2, 2))) > 0.5
              for e in itertools.product((-1, 0, 1), repeat=4))
    assert (census.count, census.equivariant_count) == (ref, 2)  # the two permutations
    two, three = symmetry.relu_census()
    assert two.equivariant_count == 2 * 3**2  # 2 permutations times 3 positive values squared
    assert three.equivariant_count == 6
    assert np.all(two.equivariant == symmetry.is_positive_monomial(two.matrices))


def test_relu_network_symmetry():
    assert symmetry.monomial_change() < 1e-13
    ts, prof = symmetry.relu_profiles()
    assert np.ptp(prof["positive scaling exp(t diag(s))"]) < 1e-12
    assert np.ptp(prof["rotation exp(tS)"]) > 1e-3
    prof["rotation exp(tS)"] = None  # the caller's copy of the dict, not the cache's
    assert symmetry.relu_profiles()[1]["rotation exp(tS)"] is not None


@pytest.mark.parametrize("call", [
    lambda: symmetry.signed_permutation(0),
    lambda: symmetry.signed_permutation(3, rng=-1),
    lambda: symmetry.general_linear(3, stretch=0.5),
    lambda: symmetry.act(np.eye(2), np.ones((3, 4)), np.ones((4, 3))),
    lambda: symmetry.act(np.zeros((2, 2)), np.ones((2, 4)), np.ones((4, 2))),
    lambda: symmetry.act(np.eye(2), np.full((2, 4), np.nan), np.ones((4, 2))),
    lambda: symmetry.act(np.eye(2) + 0j, np.ones((2, 4)), np.ones((4, 2))),
    lambda: symmetry.compare(symmetry.CASES[0], steps=0),
    lambda: symmetry.compare("gd"),
    lambda: symmetry.compare(symmetry.CASES[0], rng=1.5),
    lambda: symmetry.Case("x", symmetry.CASES[0].optimizer, group="unitary"),
    lambda: symmetry.Case("x", symmetry.CASES[0].optimizer, dropout=1.0),
    lambda: symmetry.Case("x", "gd"),
    lambda: symmetry.law_study("cauchy"),
    lambda: symmetry.law_study(samples=1),
    lambda: symmetry.law_study(hidden_scales=(1.0, -1.0)),
    lambda: symmetry.law_study(lr=float("nan")),
    lambda: symmetry.fourier_mean(np.array([np.nan, 1.0]), 4),
    lambda: symmetry.fourier_mean(np.array([0.0, 1.0]), 0),
    lambda: symmetry.hidden_angles(np.ones((3, 3, 2))),
    lambda: symmetry.relu_equivariant(np.eye(2), np.ones((3, 4))),
    lambda: symmetry.relu_symmetry_census(3, (-2.0, -1.0, 0.0, 1.0, 2.0)),
    lambda: symmetry.relu_symmetry_census(2, (0.0, 1.0), probes=0),
    lambda: symmetry.transformed_run_gap(np.ones((2, 3))),
    lambda: symmetry.orbit_profiles(ts=[]),
    lambda: symmetry.change_hidden_basis("net", np.eye(2)),
    lambda: symmetry.step_gradients(symmetry.CASES[0], 0, 4),
    lambda: symmetry.step_gradients("gd", 10, 4),
    lambda: symmetry.commutes_with_relu(np.ones((2, 2, 3)), np.ones((2, 1))),
    lambda: symmetry.commutes_with_relu(np.ones((2, 2, 2)), np.ones((3, 1))),
    lambda: symmetry.stabiliser_run("sigmoid"),
    lambda: symmetry.stabiliser_run("linear", tied=5),
    lambda: symmetry.stabiliser_run("relu", tied=1),
    lambda: symmetry.stabiliser_run("relu", method="nesterov"),
    lambda: symmetry.stabiliser_run("linear", dropout=1.0),
    lambda: symmetry.stabiliser_run("linear", tie_outgoing="yes"),
    lambda: symmetry.tie_deviation(np.ones((3, 2)), 4),
    lambda: symmetry.unit_parameters([np.ones((2, 3))], "linear"),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
