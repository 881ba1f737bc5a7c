"""Variance propagation, the standard initialisations, products of layers and deep training."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from hiddenunits import initialization as ini
from hiddenunits import nets


@pytest.mark.parametrize("init", ["pytorch", "xavier", "lecun", "he"])
def test_weight_variance_matches_the_drawn_weights(init):
    n_in, n_out = 300, 200
    layer = nn.Linear(n_in, n_out)
    nets.init_linear_(layer, init, nets.generator(3))
    w = layer.weight.detach().double().numpy().ravel()
    target = ini.weight_variance(init, n_in, n_out)
    # 60000 draws: the sample variance has relative standard error below 0.6 %
    assert w.var() == pytest.approx(target, rel=0.03)


@pytest.mark.parametrize("shape", [(64, 64), (30, 50), (50, 30)])
def test_orthogonal_entries_have_variance_one_over_the_larger_width(shape):
    w = torch.empty(shape, dtype=torch.float64)
    nets.orthogonal_(w, nets.generator(0))
    n_out, n_in = shape
    # the squared entries sum to min(n_in, n_out) exactly (orthonormal rows or columns)
    assert float((w ** 2).mean()) == pytest.approx(ini.weight_variance("orthogonal", n_in, n_out),
                                                   rel=1e-12)


def test_second_moment_gains():
    assert ini.second_moment_gain("relu") == pytest.approx(0.5, abs=1e-10)
    assert ini.second_moment_gain("linear") == pytest.approx(1.0, abs=1e-10)
    assert ini.second_moment_gain("leaky_relu") == pytest.approx((1 + 0.01 ** 2) / 2, abs=1e-10)
    z = np.random.default_rng(0).standard_normal(200_000)
    t2 = np.tanh(z) ** 2
    assert abs(ini.second_moment_gain("tanh") - t2.mean()) < 4 * t2.std() / math.sqrt(z.size)


def test_variance_propagation_exact_and_sensitive():
    assert ini.variance_propagation_residual() == 0
    law = [(Fraction(1, 2), (1, 1)), (Fraction(1, 2), (2, -3))]
    assert ini.variance_propagation_residual((-1, 1), law) == 0
    # using Var(x) instead of E[x^2] would be wrong: the residual of that variant is positive
    var_x = sum(p * Fraction(x[0]) ** 2 for p, x in law) - sum(p * x[0] for p, x in law) ** 2
    assert var_x != sum(p * Fraction(x[0]) ** 2 for p, x in law)
    with pytest.raises(ValueError):
        ini.variance_propagation_residual((0, 1))


def test_relu_second_moment_residuals_vanish():
    assert all(r == 0 for r in ini.relu_second_moment_residuals())


def test_forward_second_moments_at_tiny_width():
    rng = np.random.default_rng(1)
    mean, se = ini.relu_net_second_moments(width=3, depth=5, scale=1.0, n_nets=40_000, rng=rng)
    pred = ini.relu_net_second_moments_predicted(3, 5, 1.0)
    assert np.all(np.abs(mean - pred) < 4 * se)  # exact at width 3 too


def test_forward_check_fails_for_a_wrong_prediction(monkeypatch):
    assert ini.check_init_variances() <= 4
    monkeypatch.setattr(ini, "relu_net_second_moments_predicted",
                        lambda w, d, c: np.array([2 * c * c ** (k - 1) for k in range(1, d + 1)])
                        * 1.1)
    assert ini.check_init_variances() > 4


def test_pytorch_default_law_and_global_state_untouched():
    before = torch.get_rng_state().clone()
    w, b = ini.pytorch_linear_weights(100, 500, seed=7)
    assert torch.equal(before, torch.get_rng_state())
    bound = 1 / math.sqrt(100)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-b, b]: variance b^2/3, fourth moment b^4/5
    se = math.sqrt((bound ** 4 / 5 - bound ** 4 / 9) / w.size)
    assert abs(np.mean(w ** 2) - 1 / 300) < 4 * se
    w2, _ = ini.pytorch_linear_weights(100, 500, seed=7)
    np.testing.assert_array_equal(w, w2)


def test_product_moments_recursion_properties():
    m = ini.product_moments_exact(7, 6)
    assert m[0] == 1 and m[1] == Fraction(2 * 7 + 1, 7)
    assert all(m[k] >= k + 1 for k in range(7))
    big = ini.product_moments_exact(10**6, 5)
    assert float(big[5]) == pytest.approx(6.0, rel=1e-4)  # Fuss-Catalan: L + 1


def test_product_moments_monte_carlo_other_size():
    assert max(ini.product_moment_zscores(n=5, depth=3, size=30_000, seed=9)) < 4


def test_product_singular_values():
    orth = ini.product_singular_values(20, (1, 5), "orthogonal")
    for s in orth.values():
        np.testing.assert_allclose(s, 1.0, atol=1e-12)
    gauss = ini.product_singular_values(200, (1, 4), "gaussian")
    assert np.mean(gauss[1] ** 2) == pytest.approx(1.0, abs=0.05)
    assert gauss[4][0] / gauss[4][-1] > 1e3


def test_relu_jacobian_matches_autograd():
    config = ini.DepthConfig(depth=6, width=12)
    s = ini.relu_jacobian_singular_values("he", 1.0, config)
    x = torch.from_numpy(ini.standardized_digits().x_train[:1]).double()[0]
    model = ini.make_initialized_mlp([64] + [12] * 5 + [10], "relu", "he", 0).double()
    body = nn.Sequential(*list(model)[:-1])  # up to the last hidden activation
    jac = torch.autograd.functional.jacobian(body, x)
    np.testing.assert_allclose(s, torch.linalg.svdvals(jac).numpy(), rtol=1e-10, atol=1e-12)
    assert ini.numerical_rank(s) <= ini.relu_active_counts("he", 1.0, config).min()


def test_make_initialized_mlp_gain():
    model = ini.make_initialized_mlp([8, 8, 8, 3], "relu", "orthogonal", 0, gain=math.sqrt(2))
    w = model[0].weight.detach().double()
    torch.testing.assert_close(w @ w.T, 2 * torch.eye(8, dtype=torch.float64), atol=1e-6,
                               rtol=0)
    plain = ini.make_initialized_mlp([8, 8, 3], "relu", "he", 0)
    ref = nets.make_mlp([8, 8, 3], "relu", "he", seed=0)
    torch.testing.assert_close(plain[0].weight, ref[0].weight)
    with pytest.raises(ValueError):
        ini.make_initialized_mlp([8, 8, 3], "relu", "he", 0, gain=2.0)


def test_activation_scales_linear_lecun_roughly_constant():
    s = ini.activation_scales("linear", "orthogonal", ini.DepthConfig(depth=12))
    assert s.shape == (11,)
    np.testing.assert_allclose(s, s[0], rtol=1e-4)  # orthogonal maps preserve every norm
    he = ini.activation_scales("relu", "he", ini.DepthConfig(depth=12))
    lecun = ini.activation_scales("relu", "lecun", ini.DepthConfig(depth=12))
    assert lecun[-1] / he[-1] < 0.1  # lost sqrt(2) per layer


def test_gradients_he_versus_lecun():
    config = ini.DeepTrainConfig(depth=12)
    he = ini.layer_gradient_norms("he", 1.0, config)
    lecun = ini.layer_gradient_norms("lecun", 1.0, config)
    assert he.shape == (12,)
    assert np.all(he > 10 * lecun)


def test_training_cache_and_small_run():
    config = ini.DeepTrainConfig(depth=3, width=8, epochs=1)
    a = ini.train_deep_relu("he", 1.0, config)
    b = ini.train_deep_relu("he", config=config)
    assert a is b and len(a.train_loss) == 2
    assert not ini.stalled(a)


def test_stalled_and_verdict():
    h = nets.History(train_loss=[2.3026, 2.3025, 2.3027])
    assert ini.stalled(h) and ini.verdict(h) == "stalled"
    assert ini.verdict(nets.History(train_loss=[2.3, 2.0])) == "slow"
    assert ini.verdict(nets.History(train_loss=[2.3, 0.5])) == "trains"
    with pytest.raises(ValueError):
        ini.stalled(nets.History(train_loss=[]))


@pytest.mark.parametrize("call", [
    lambda: ini.weight_variance("zeros", 3, 3),
    lambda: ini.weight_variance("he", 0, 3),
    lambda: ini.second_moment_gain("swish"),
    lambda: ini.relu_net_second_moments(0, 3, 1.0, 10, np.random.default_rng(0)),
    lambda: ini.relu_net_second_moments(4, 3, float("nan"), 10, np.random.default_rng(0)),
    lambda: ini.pytorch_linear_weights(0, 3, 0),
    lambda: ini.product_moments_exact(0, 3),
    lambda: ini.product_singular_values(4, (), "gaussian"),
    lambda: ini.product_singular_values(4, (2,), "uniform"),
    lambda: ini.numerical_rank(np.array([])),
    lambda: ini.activation_scales("relu", "he", config="deep"),
    lambda: ini.DepthConfig(depth=1),
    lambda: ini.DeepTrainConfig(lr=-1.0),
    lambda: ini.DeepTrainConfig(batch_size=0),
    lambda: ini.train_deep_relu("zeros"),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_pytorch_check_detects_the_lecun_uniform_bound():
    w, _ = ini.pytorch_linear_weights(400, 300, seed=0)
    bound = math.sqrt(3 / 400)  # U(-sqrt(3/n), sqrt(3/n)) has variance 1/n: not torch's law
    d = stats.kstest(w.ravel(), stats.uniform(loc=-bound, scale=2 * bound).cdf).statistic
    assert math.sqrt(w.size) * d > 1.95


def test_product_check_detects_the_infinite_width_value():
    exact = ini.product_moments_exact(8, 4)
    assert float(exact[4]) > 5 + 0.5  # finite width: clearly above the n -> oo value L + 1
