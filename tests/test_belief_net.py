"""The RBM as a tied belief net, CD-k and greedy DBNs, against independent computations."""

import math

import numpy as np
import pytest
from scipy.special import expit

from hiddenunits import belief_net as bn
from hiddenunits import rbm as R


def test_kernels_are_stochastic_and_marginals_match_rbm_module():
    model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=4, n_hidden=3, scale=1.2))
    up, down = bn.kernels(model)
    np.testing.assert_allclose(up.sum(1), 1.0, atol=1e-14)
    np.testing.assert_allclose(down.sum(1), 1.0, atol=1e-14)
    p_v, p_h = bn.rbm_marginals(model)
    np.testing.assert_allclose(np.log(p_v), R.log_prob(model, R.all_states(4)), atol=1e-12)
    np.testing.assert_allclose(p_v @ up, p_h, atol=1e-14)  # stationarity
    np.testing.assert_allclose(p_h @ down, p_v, atol=1e-14)


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 4])
def test_tied_net_chain_equals_brute_force_for_a_random_top(depth):
    model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=3, n_hidden=2, scale=1.5, seed=2))
    size = 2 ** (2 if depth % 2 else 3)
    top = np.random.default_rng(depth).dirichlet(np.ones(size))
    np.testing.assert_allclose(bn.tied_net_marginal(model, depth, top),
                               bn.tied_net_marginal_bruteforce(model, depth, top), atol=1e-14)


def test_joint_of_all_layers_and_gibbs_chain_law():
    model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=2, n_hidden=3, scale=1.2, seed=1))
    top = np.random.default_rng(0).dirichlet(np.ones(8))
    joint = bn.tied_net_joint(model, 3, top)
    assert joint.shape == (4, 8, 4, 8)
    assert joint.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(joint.sum(axis=(0, 1, 2)), top, atol=1e-15)
    np.testing.assert_allclose(joint.sum(axis=(1, 2, 3)), bn.tied_net_marginal(model, 3, top),
                               atol=1e-15)
    start = np.array([0.1, 0.2, 0.3, 0.4])
    law = bn.gibbs_chain_law(model, 3, start)
    assert law.shape == (4, 8, 4, 8)
    np.testing.assert_allclose(law.sum(axis=(1, 2, 3)), start, atol=1e-15)
    up, down = bn.kernels(model)
    np.testing.assert_allclose(law.sum(axis=(0, 1, 2)), start @ up @ down @ up, atol=1e-15)
    # one transition written out: P(x_1 = h | x_0 = v) = prod_j sigma(c + W^T v)
    V, H = R.all_states(2), R.all_states(3)
    p = expit(V @ model.W + model.c)
    cond = np.prod(np.where(H[None] == 1, p[:, None], 1 - p[:, None]), axis=2)
    np.testing.assert_allclose(law.sum(axis=(2, 3)) / start[:, None], cond, atol=1e-14)


def test_deep_net_converges_and_rate_is_second_eigenvalue():
    model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=4, n_hidden=3, scale=1.0))
    p_v, _ = bn.rbm_marginals(model)
    top = np.zeros(16)
    top[3] = 1.0
    tv = [bn.total_variation(bn.tied_net_marginal(model, 2 * k, top), p_v) for k in (20, 21)]
    assert tv[1] / tv[0] == pytest.approx(bn.second_eigenvalue(model), rel=1e-3)


def test_complementary_prior_and_explaining_away():
    model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=4, n_hidden=3, scale=1.5))
    _, p_h = bn.rbm_marginals(model)
    post = bn.directed_posterior(p_h, model)
    assert bn.distance_from_factorial(post, 3) < 1e-12
    indep = bn.directed_posterior(bn.factorised_prior(p_h, 3), model)
    assert bn.distance_from_factorial(indep, 3) > 0.01


def test_cd_expected_update_against_monte_carlo():
    model, data = bn.tiny_problem()
    exact = bn.cd_expected_update(model, data, 1)
    rng = np.random.default_rng(0)
    n = 200000
    v0 = data[rng.integers(0, len(data), n)]
    h0 = (rng.random((n, model.n_hidden)) < expit(v0 @ model.W + model.c)).astype(float)
    v1 = (rng.random((n, model.n_visible)) < expit(h0 @ model.W.T + model.b)).astype(float)
    samples = v0[:, :, None] * expit(v0 @ model.W + model.c)[:, None, :] - \
        v1[:, :, None] * expit(v1 @ model.W + model.c)[:, None, :]
    se = samples.std(0) / math.sqrt(n)
    assert np.all(np.abs(samples.mean(0) - exact) < 5 * se + 1e-12)


def test_telescoping_terms_and_limit():
    model, data = bn.tiny_problem(bn.TinyProblem(scale=0.8, seed=4))
    terms = bn.belief_net_layer_terms(model, data, 3)
    for k in (1, 2, 3):
        np.testing.assert_allclose(sum(terms[:2 * k]), bn.cd_expected_update(model, data, k),
                                   atol=1e-14)
    np.testing.assert_allclose(bn.cd_expected_update(model, data, 200),
                               R.exact_gradient(model, data)[0], atol=1e-12)


def test_second_eigenvalue_against_the_eigenvalues_of_the_chain():
    for problem in (bn.TinyProblem(n_visible=4, n_hidden=3, scale=1.5),
                    bn.TinyProblem(n_visible=2, n_hidden=5, scale=2.0, seed=3)):
        model, _ = bn.tiny_problem(problem)
        up, down = bn.kernels(model)
        ev = np.sort(np.linalg.eigvals(up @ down).real)[::-1]
        assert ev[-1] > -1e-12  # similar to a positive semidefinite matrix
        assert bn.second_eigenvalue(model) == pytest.approx(ev[1], abs=1e-12)


def test_chi_square_and_spectral_bound():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.25, 0.25, 0.5])
    assert bn.chi_square(p, q) == pytest.approx(0.05**2 / 0.25 * 2)
    assert bn.total_variation(p, q) == pytest.approx(0.05)
    assert bn.spectral_tv_bound(p, q, 0.5, 3) == pytest.approx(
        0.5 * math.sqrt(0.02) * 0.125)


def test_cd_bias_bound_and_zero_weights():
    model, data = bn.tiny_problem(bn.TinyProblem(n_visible=5, n_hidden=3, scale=0.0, seed=1))
    assert bn.second_eigenvalue(model) < 1e-12
    assert bn.cd_bias(model, data, 1)[0] < 1e-14
    model, data = bn.tiny_problem(bn.TinyProblem(n_visible=5, n_hidden=3, scale=2.0, seed=1))
    p_v, _ = bn.rbm_marginals(model)
    p0 = bn.data_distribution(data, 5)
    for k in (1, 2, 5):
        bias, tv = bn.cd_bias(model, data, k)
        assert 0 < bias <= tv <= bn.spectral_tv_bound(p0, p_v, bn.second_eigenvalue(model), k)


def test_cd1_curl_against_finite_differences():
    """Numerical curl dF_w/db - dF_b/dw of the exact expected CD-1 update (1x1 RBM, rho=1/2)
    by central differences of the enumerated chain; compare with 9(3 rho - 2)/256."""
    data = np.array([[0.0], [1.0]])

    def field(w, b, c):
        model = R.RBM([[w]], [b], [c])
        up, down = bn.kernels(model)
        p0 = bn.data_distribution(data, 1)
        p1 = p0 @ up @ down
        fw = bn.cd_expected_update(model, data, 1)[0, 0]
        fb = p0[1] - p1[1]
        return fw, fb

    w0, eps = math.log(3.0), 1e-5
    dfw_db = (field(w0, eps, 0)[0] - field(w0, -eps, 0)[0]) / (2 * eps)
    dfb_dw = (field(w0 + eps, 0, 0)[1] - field(w0 - eps, 0, 0)[1]) / (2 * eps)
    assert dfw_db - dfb_dw == pytest.approx(bn.curl_value(0.5), abs=1e-8)
    assert bn.curl_value(2 / 3) == pytest.approx(0.0, abs=1e-15)


def test_top_rbm_gradient_equals_weighted_exact_gradient():
    rng = np.random.default_rng(3)
    top = R.random_rbm(4, 7, 0.8, rng)
    H = R.all_states(4)
    target = rng.dirichlet(np.ones(16))
    ours = bn.top_rbm_gradient(top, H, target)
    ref = R.exact_gradient(top, H, weights=target)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(bn.top_rbm_log_marginal(top, H), R.log_prob(top, H), atol=1e-12)


def test_variational_bound_below_log_likelihood_for_other_q():
    rng = np.random.default_rng(5)
    rbm1 = R.random_rbm(6, 4, 1.0, rng)
    v = (rng.random((10, 6)) < 0.5).astype(float)
    log_q, entropy, log_lik_v = bn.layer_tables(rbm1, v)
    prior = np.log(rng.dirichlet(np.ones(16)))  # an arbitrary top model, not RBM1's prior
    lp = bn.dbn_log_prob(prior, log_lik_v)
    assert np.all(bn.variational_bound(prior, log_q, entropy, log_lik_v) < lp - 1e-6)


def test_greedy_experiment_improves_and_a_bad_step_size_does_not():
    good = bn.greedy_dbn()
    assert good.bound[-1] > good.bound[0] and good.log_lik[-1] >= good.bound[-1]
    bad = bn.greedy_dbn(bn.DBNConfig(rbm2_lr=0.3))
    # too large a step: the aggregated-posterior fit and hence the bound can get worse
    assert np.all(np.diff(bad.agg_log_lik) - np.diff(bad.bound) < 1e-9)
    assert bad.agg_log_lik.min() < bad.agg_log_lik[0]


def test_cached_results_are_immutable_or_copies():
    _, data = bn.tiny_problem()
    data[0, 0] = 7.0
    assert bn.tiny_problem()[1][0, 0] in (0.0, 1.0)
    res = bn.greedy_dbn()
    with pytest.raises(ValueError, match="read-only"):
        res.bound[0] = 0.0
    assert res.top_models[0].W.shape == (10, 64)
    np.testing.assert_array_equal(res.top_models[0].W, res.rbm1.W.T)
    depths, curves, rates = bn.depth_curves()
    with pytest.raises(TypeError):
        curves[0.5] = None
    with pytest.raises(ValueError, match="read-only"):
        depths[0] = 1


def test_bad_input():
    model, _ = bn.tiny_problem()
    with pytest.raises(ValueError, match="probability vector"):
        bn.tied_net_marginal(model, 2, np.ones(3) / 3)
    with pytest.raises(ValueError, match="depth"):
        bn.tied_net_marginal(model, -1, np.ones(16) / 16)
    with pytest.raises(ValueError, match="too many units"):
        bn.tied_net_joint(model, 6, np.ones(16) / 16)
    with pytest.raises(ValueError, match="start"):
        bn.gibbs_chain_law(model, 2, np.ones(8) / 8)
    with pytest.raises(ValueError, match="sum to 1"):
        bn.directed_posterior(np.ones(8), model)
    with pytest.raises(ValueError, match="at most"):
        bn.kernels(R.RBM(np.zeros((13, 2)), np.zeros(13), np.zeros(2)))
    with pytest.raises(ValueError, match="binary"):
        bn.data_distribution(np.full((2, 4), 0.5), 4)
    with pytest.raises(ValueError, match="rho"):
        bn.curl_value(1.5)
    with pytest.raises(ValueError, match="k must be"):
        bn.cd_expected_update(model, np.zeros((2, 4)), -1)
    with pytest.raises(ValueError, match="k must be"):
        bn.cd_bias(model, np.zeros((2, 4)), 1.5)
    with pytest.raises(ValueError, match="need an RBM"):
        bn.kernels("rbm")
    with pytest.raises(ValueError, match="q must be positive"):
        bn.chi_square([0.5, 0.5], [1.0, 0.0])
    with pytest.raises(ValueError, match="q must have shape"):
        bn.total_variation([0.5, 0.5], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="lam2"):
        bn.spectral_tv_bound([0.5, 0.5], [0.5, 0.5], 1.5, 1)
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\]"):
        bn.bernoulli_table(np.array([[1.5]]), np.array([[1.0]]))
    with pytest.raises(ValueError, match="n_visible"):
        bn.TinyProblem(n_visible=13)
    with pytest.raises(ValueError, match="rbm2_lr"):
        bn.DBNConfig(rbm2_lr=0.0)
    with pytest.raises(ValueError, match="need a DBNConfig"):
        bn.greedy_dbn("default")
    with pytest.raises(ValueError, match="need a DBNConfig"):
        bn.greedy_dbn([])
    with pytest.raises(ValueError, match="ks"):
        bn.cd_bias_curves(ks=(0,))
    with pytest.raises(ValueError, match="scales"):
        bn.depth_curves(scales=())
    with pytest.raises(ValueError, match="v must have shape"):
        bn.layer_tables(model, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="log_prior must have shape"):
        bn.dbn_log_prob(np.zeros(3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="target"):
        bn.top_rbm_gradient(R.random_rbm(2, 3, 1.0, 0), R.all_states(2), np.ones(4))
    with pytest.raises(ValueError, match="rho"):
        bn.curl_value(math.nan)
