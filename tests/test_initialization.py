"""Variance propagation, the standard initialisations, products of layers and deep training."""

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch import nn

from hiddenunits import data, nets
from hiddenunits import initialization as ini

SMALL = replace(ini.DEEP_NET, depth=5, width=12)


@pytest.mark.parametrize("init, gain2", [
    ("pytorch", nn.init.calculate_gain("leaky_relu", math.sqrt(5)) ** 2),
    ("lecun", nn.init.calculate_gain("linear") ** 2),
    ("he", nn.init.calculate_gain("relu") ** 2),
])
def test_weight_variance_is_torch_gain_squared_over_fan_in(init, gain2):
    # kaiming laws: std = gain / sqrt(fan_in) (torch.nn.init's documented formula)
    assert ini.weight_variance(init, 50, 20) == pytest.approx(gain2 / 50, rel=1e-14)


def test_weight_variance_xavier_and_orthogonal():
    # xavier_uniform_: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)), variance a^2 / 3
    a = math.sqrt(6 / (50 + 20))
    assert ini.weight_variance("xavier", 50, 20) == pytest.approx(a * a / 3, rel=1e-14)
    # orthonormal rows (or columns): the squared entries sum to min(n_in, n_out) exactly
    w = torch.empty(20, 50, dtype=torch.float64)
    nn.init.orthogonal_(w, generator=torch.Generator().manual_seed(0))
    assert float((w ** 2).mean()) == pytest.approx(ini.weight_variance("orthogonal", 50, 20),
                                                   rel=1e-12)
    assert type(ini.weight_variance("he", np.int64(4), 3)) is float


def test_second_moment_gains_against_adaptive_quadrature():
    assert ini.second_moment_gain("relu") == pytest.approx(0.5, abs=1e-13)
    assert ini.second_moment_gain("linear") == pytest.approx(1.0, abs=1e-13)
    assert ini.second_moment_gain("leaky_relu") == pytest.approx((1 + 0.01 ** 2) / 2, abs=1e-13)
    phi = stats.norm.pdf
    for name, f in [("tanh", np.tanh), ("elu", lambda z: z if z > 0 else math.expm1(z)),
                    ("softplus", lambda z: math.log1p(math.exp(z)))]:
        ref = integrate.quad(lambda z, f=f: f(z) ** 2 * phi(z), -15, 15, points=[0.0],
                             epsabs=1e-14, limit=200)[0]
        assert ini.second_moment_gain(name) == pytest.approx(ref, abs=1e-10), name


@pytest.mark.parametrize("activation, variance", [("relu", 2 / 3), ("linear", 1 / 3)])
def test_forward_second_moments_at_tiny_width(activation, variance):
    mean, se = ini.forward_second_moments(3, 3, variance, 40_000, activation, rng=1)
    pred = ini.forward_second_moments_predicted(3, 3, variance, activation)
    assert np.all(np.abs(mean - pred) < 4 * se)  # exact at width 3 too


def test_forward_second_moments_of_a_one_unit_linear_net():
    # width 1, linear: z_l = w_l ... w_1 with w ~ N(0, v), so E z_l^2 = v^l exactly and the
    # simulation's first layer is |w_1|^2 averaged over the nets
    mean, se = ini.forward_second_moments(1, 2, 0.5, 50_000, "linear", rng=2)
    np.testing.assert_allclose(ini.forward_second_moments_predicted(1, 2, 0.5, "linear"),
                               [0.5, 0.25], rtol=1e-14)
    assert np.all(np.abs(mean - [0.5, 0.25]) < 4 * se)


def test_second_moments_take_a_seed_or_a_generator():
    a = ini.forward_second_moments(4, 3, 0.5, 10, rng=0)
    b = ini.forward_second_moments(4, 3, 0.5, 10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a[0], b[0])


def test_predicted_second_moments_closed_form():
    # ||x||^2 = n and v = 2 c / n give E z_l^2 = 2 c^l for ReLU
    np.testing.assert_allclose(ini.forward_second_moments_predicted(16, 5, 2 * 0.5 / 16),
                               2 * 0.5 ** np.arange(1, 6), rtol=1e-14)


def test_pytorch_default_law_and_global_state_untouched():
    before = torch.get_rng_state().clone()
    w, b = ini.pytorch_linear_weights(100, 500, rng=7)
    assert torch.equal(before, torch.get_rng_state())
    bound = 1 / math.sqrt(100)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-b, b]: variance b^2/3, fourth moment b^4/5
    se = math.sqrt((bound ** 4 / 5 - bound ** 4 / 9) / w.size)
    assert abs(np.mean(w ** 2) - 1 / 300) < 4 * se
    w2, _ = ini.pytorch_linear_weights(100, 500, rng=7)
    np.testing.assert_array_equal(w, w2)
    w3, _ = ini.pytorch_linear_weights(10, 5, rng=torch.Generator().manual_seed(1))
    assert w3.shape == (5, 10)


def test_product_moments_recursion():
    m = ini.product_moments_exact(7, 6)
    assert isinstance(m, tuple) and m[0] == 1 and m[1] == Fraction(2 * 7 + 1, 7)
    # n = 1: a product of scalars N(0, 1), so M_L = E w^(4L) / ... = 3^L exactly
    assert ini.product_moments_exact(1, 5) == tuple(Fraction(3 ** k) for k in range(6))
    big = ini.product_moments_exact(10**6, 5)
    assert float(big[5]) == pytest.approx(6.0, rel=1e-4)  # Fuss-Catalan: L + 1


def test_product_singular_values():
    orth = ini.product_singular_values(20, (1, 5), "orthogonal")
    for s in orth.values():
        np.testing.assert_allclose(s, 1.0, atol=1e-12)
    gauss = ini.product_singular_values(200, (1, 4), "gaussian", rng=np.int64(3))
    assert np.mean(gauss[1] ** 2) == pytest.approx(1.0, abs=0.05)
    assert gauss[4][0] / gauss[4][-1] > 1e3
    again = ini.product_singular_values(200, (1, 4), "gaussian",
                                        rng=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(gauss[4], again[4])


def test_relu_jacobian_matches_autograd():
    s = ini.relu_jacobian_singular_values(SMALL, 1.0, rng=0)
    x = torch.from_numpy(data.standardized_digits(0.25, 0).x_train[:1]).double()[0]
    model = ini.make_initialized_mlp(SMALL.sizes(64, 10), "relu", "he", 0).double()
    body = nn.Sequential(*list(model)[:-1])  # up to the last hidden activation
    jac = torch.autograd.functional.jacobian(body, x)
    np.testing.assert_allclose(s, torch.linalg.svdvals(jac).numpy(), rtol=1e-10, atol=1e-12)
    counts = ini.relu_active_counts(SMALL, 1.0, rng=0)
    assert counts.shape == (SMALL.depth,)
    assert ini.numerical_rank(s) <= counts.min()


def test_make_initialized_mlp_gain_and_numpy_integers():
    model = ini.make_initialized_mlp([8, 8, 8, 3], "relu", "orthogonal", 0, gain=math.sqrt(2))
    w = model[0].weight.detach().double()
    torch.testing.assert_close(w @ w.T, 2 * torch.eye(8, dtype=torch.float64), atol=1e-6,
                               rtol=0)
    plain = ini.make_initialized_mlp([8, 8, 3], "relu", "he", 0)
    ref = nets.make_mlp([8, 8, 3], "relu", "he", rng=0)
    torch.testing.assert_close(plain[0].weight, ref[0].weight)
    numpy_ints = ini.make_initialized_mlp(np.array([8, 8, 3]), "relu", "he", np.int64(0))
    torch.testing.assert_close(numpy_ints[0].weight, ref[0].weight)


def test_activation_scales_orthogonal_linear_constant_and_relu_lecun_decays():
    net = replace(ini.DEEP_NET, depth=11)
    s = ini.activation_scales(replace(net, activation="linear", init="orthogonal"))
    assert s.shape == (11,)
    np.testing.assert_allclose(s, s[0], rtol=1e-4)  # orthogonal maps preserve every norm
    he = ini.activation_scales(net)
    lecun = ini.activation_scales(replace(net, init="lecun"))
    assert lecun[-1] / he[-1] < 0.1  # lost sqrt(2) per layer
    he[:] = 0.0  # a copy: the cached result is unchanged
    assert ini.activation_scales(net)[0] > 0


def test_gradients_he_versus_lecun():
    net = replace(ini.DEEP_NET, depth=11)
    he = ini.layer_gradient_norms(net)
    lecun = ini.layer_gradient_norms(replace(net, init="lecun"))
    assert he.shape == (12,)
    assert np.all(he > 10 * lecun)


def test_training_returns_independent_copies_of_a_cached_run():
    net = replace(ini.DEEP_NET, depth=2, width=8)
    train = replace(ini.DEEP_TRAIN, epochs=1)
    a = ini.train_deep(net, train)
    b = ini.train_deep(net, train, rng=0)
    assert a == b and a is not b and len(a.train_loss) == 2
    a.train_loss.append(99.0)
    assert ini.train_deep(net, train).train_loss == b.train_loss
    assert not ini.stalled(b)


def test_stalled_and_verdict():
    h = nets.History(train_loss=[2.3026, 2.3025, 2.3027])
    assert ini.stalled(h) and ini.verdict(h) == "stalled"
    assert ini.verdict(nets.History(train_loss=[2.3, 2.0])) == "slow"
    assert ini.verdict(nets.History(train_loss=[2.3, 0.5])) == "trains"
    assert ini.verdict(nets.History(train_loss=[2.3, 2.5, 2.4])) == "no progress"
    diverged = nets.History(train_loss=[2.3, float("nan")])
    assert ini.verdict(diverged) == "diverged" and not ini.stalled(diverged)
    assert set(ini.VERDICTS) == {"diverged", "stalled", "no progress", "slow", "trains"}


def test_batched_training_matches_separate_runs():
    net = replace(ini.DEEP_NET, depth=3, width=16)
    train = replace(ini.DEEP_TRAIN, epochs=2, lr=0.01)
    runs = [ini.Run("he", 1.0, 0.01, 0), ini.Run("lecun", 1.0, 0.003, 1),
            ini.Run("orthogonal", math.sqrt(2), 0.01, 2), ini.Run("pytorch", 1.0, 0.01, 3)]
    batch = ini.train_deep_batch(runs, net, train)
    assert len(batch) == len(runs)
    for run, hist in zip(runs, batch, strict=True):
        alone = ini.train_deep(replace(net, init=run.init), replace(train, lr=run.lr),
                               run.gain, run.seed)
        np.testing.assert_allclose(hist.train_loss, alone.train_loss, rtol=1e-5)
        np.testing.assert_allclose(hist.train_acc, alone.train_acc, atol=1e-3)
        np.testing.assert_allclose(hist.test_acc, alone.test_acc, atol=3e-3)


@pytest.mark.parametrize("activation, bias", [("tanh", True), ("relu", False)])
def test_batched_training_matches_separate_runs_other_nets(activation, bias):
    # the written-out backward pass: another activation (through autograd), untrained zero biases
    net = replace(ini.DEEP_NET, depth=3, width=16, activation=activation, bias=bias)
    train = replace(ini.DEEP_TRAIN, epochs=2, lr=0.01)
    runs = [ini.Run("xavier", 1.0, 0.01, 0), ini.Run("he", 1.0, 0.003, 1)]
    for run, hist in zip(runs, ini.train_deep_batch(runs, net, train), strict=True):
        alone = ini.train_deep(replace(net, init=run.init), replace(train, lr=run.lr),
                               run.gain, run.seed)
        np.testing.assert_allclose(hist.train_loss, alone.train_loss, rtol=1e-5)
        np.testing.assert_allclose(hist.test_acc, alone.test_acc, atol=3e-3)


def test_batched_training_keeps_a_diverging_run_apart():
    net = replace(ini.DEEP_NET, depth=3, width=16, bias=False)
    train = replace(ini.DEEP_TRAIN, epochs=1)
    a, b = ini.train_deep_batch([ini.Run("he", lr=1e6), ini.Run("he", lr=0.001)], net, train)
    (c,) = ini.train_deep_batch([ini.Run("he", lr=0.001)], net, train)
    assert ini.verdict(a) == "diverged" and b == c


def test_length_factor_law_against_a_simulated_layer():
    rng = np.random.default_rng(3)
    n, size = 4, 40_000
    x = rng.standard_normal(n)  # any fixed non-zero input
    w = rng.standard_normal((size, n, n)) * math.sqrt(2 / n)
    h = np.maximum(w @ x, 0.0)
    r = np.sum(h * h, axis=1) / (x @ x)
    assert abs(np.mean(r == 0) - 2.0 ** -n) < 4 * math.sqrt(2.0 ** -n / size)
    assert ini.length_factor_cdf(0.0, n) == pytest.approx(2.0 ** -n)
    positive = r[r > 0]
    atom = 2.0 ** -n
    law = lambda t: (ini.length_factor_cdf(t, n) - atom) / (1 - atom)  # noqa: E731
    assert stats.kstest(positive, law).pvalue > 1e-3
    assert ini.length_factor_cdf(-1.0, n) == 0.0 and ini.length_factor_cdf(1e3, n) == 1.0


def test_length_factor_moments_exact_and_log_moments():
    for n in (1, 2, 7, 64):
        # R = (2/n) sum of n i.i.d. relu(g)^2, with mean 1/2 and variance 3/2 - 1/4
        assert ini.length_factor_moments(n) == (1, Fraction(4, n * n) * n * Fraction(5, 4))
    rng = np.random.default_rng(4)
    n, size = 8, 200_000
    k = rng.binomial(n, 0.5, size)
    r = 2 / n * rng.chisquare(np.maximum(k, 1)) * (k > 0)
    logs = np.log(r[r > 0])
    mean, var = ini.length_factor_log_moments(n)
    assert abs(logs.mean() - mean) < 4 * logs.std() / math.sqrt(logs.size)
    assert var == pytest.approx(logs.var(), rel=0.03)
    for n in (256, 4096):  # the delta method: -5/(2n) - 49/(12 n^2), 5/n + 37/(2 n^2)
        mean, var = ini.length_factor_log_moments(n)
        assert abs(mean + 5 / (2 * n) + 49 / (12 * n * n)) < 20 / n ** 3
        assert abs(var - 5 / n - 37 / (2 * n * n)) < 100 / n ** 3


def test_relu_log_lengths_first_layer_has_the_factor_law():
    logs = ini.relu_log_lengths(16, 3, 20_000, rng=5)
    assert logs.shape == (20_000, 3)
    mean, var = ini.length_factor_log_moments(16)
    logs = logs[np.all(np.isfinite(logs), axis=1)]  # no layer entirely off (probability 2^-16)
    first = logs[:, 0]
    assert abs(first.mean() - mean) < 4 * math.sqrt(var / first.size)
    # the factors of successive layers are uncorrelated (independent, in fact)
    steps = np.diff(logs, axis=1)
    assert abs(np.corrcoef(first, steps[:, 0])[0, 1]) < 4 / math.sqrt(first.size)


def test_network_outputs_lecun_is_he_scaled_per_layer():
    net = replace(ini.DEEP_NET, depth=3, width=16)
    he = ini.network_outputs(replace(net, init="he"), n_inputs=20, rng=1)
    lecun = ini.network_outputs(replace(net, init="lecun"), n_inputs=20, rng=1)
    assert he.shape == (20, 10) and he.dtype == np.float64
    np.testing.assert_allclose(lecun * 2.0 ** (4 / 2), he, rtol=1e-5, atol=1e-6 * abs(he).max())


def test_deep_net_counts_hidden_layers():
    assert ini.DEEP_NET.depth == 29 and len(ini.DEEP_NET.sizes(64, 10)) - 1 == 30
    assert len(ini.layer_gradient_norms(replace(ini.DEEP_NET, depth=3))) == 4
    assert ini.activation_scales(replace(ini.DEEP_NET, depth=3)).shape == (3,)


@pytest.mark.parametrize("call", [
    lambda: ini.weight_variance("zeros", 3, 3),
    lambda: ini.weight_variance("he", 0, 3),
    lambda: ini.weight_variance("he", 2.0, 3),
    lambda: ini.second_moment_gain("swish"),
    lambda: ini.forward_second_moments(0, 3, 1.0, 10),
    lambda: ini.forward_second_moments(4, 3, float("nan"), 10),
    lambda: ini.forward_second_moments(4, 3, 1.0, 1),
    lambda: ini.forward_second_moments(4, 3, 1.0, 10, "tanh"),
    lambda: ini.forward_second_moments(4, 3, 1.0, 10, rng="x"),
    lambda: ini.forward_second_moments(4, 3, 1.0, 10, rng=-1),
    lambda: ini.forward_second_moments_predicted(0, 3, 1),
    lambda: ini.forward_second_moments_predicted(4, -3, 1),
    lambda: ini.forward_second_moments_predicted(4, 3, -1.0),
    lambda: ini.forward_second_moments_predicted(4, 3, 1.0, "tanh"),
    lambda: ini.pytorch_linear_weights(0, 3),
    lambda: ini.pytorch_linear_weights(3, 3, rng=1.5),
    lambda: ini.product_moments_exact(0, 3),
    lambda: ini.product_moments_exact(3, -1),
    lambda: ini.product_singular_values(4, (), "gaussian"),
    lambda: ini.product_singular_values(4, (0,), "gaussian"),
    lambda: ini.product_singular_values(4, (2,), "uniform"),
    lambda: ini.numerical_rank(np.array([])),
    lambda: ini.numerical_rank([1.0, -0.5]),
    lambda: ini.numerical_rank([1.0], rtol=0.0),
    lambda: ini.make_initialized_mlp([8, 8, 3], "relu", "he", 0, gain=2.0),
    lambda: ini.make_initialized_mlp([8, 8, 3], "relu", "orthogonal", 0, gain=float("nan")),
    lambda: ini.make_initialized_mlp([8], "relu", "he", 0),
    lambda: ini.make_initialized_mlp([8, 3], "relu", "zeros", 0),
    lambda: ini.activation_scales("deep"),
    lambda: ini.activation_scales(n_inputs=0),
    lambda: ini.activation_scales(n_inputs=10**6),
    lambda: ini.activation_scales(gain=0.0),
    lambda: ini.activation_scales(rng="x"),
    lambda: ini.relu_active_counts("x"),
    lambda: ini.relu_active_counts(replace(ini.DEEP_NET, activation="tanh")),
    lambda: ini.relu_jacobian_singular_values(replace(ini.DEEP_NET, activation="tanh")),
    lambda: ini.layer_gradient_norms(gain=-1.0),
    lambda: ini.train_deep("deep"),
    lambda: ini.train_deep(train="fast"),
    lambda: ini.train_deep(replace(ini.DEEP_NET, init="he"), gain=2.0),
    lambda: nets.TrainConfig(momentum=-5),
    lambda: ini.stalled(nets.History(train_loss=[])),
    lambda: ini.Run("he", gain=2.0),
    lambda: ini.Run("he", lr=0.0),
    lambda: ini.Run("zeros"),
    lambda: ini.Run("he", seed=-1),
    lambda: ini.train_deep_batch([]),
    lambda: ini.train_deep_batch(["he"]),
    lambda: ini.train_deep_batch([ini.Run("he")], train=replace(ini.DEEP_TRAIN,
                                                                  optimizer="adam")),
    lambda: ini.train_deep_batch([ini.Run("he")], net="deep"),
    lambda: ini.length_factor_cdf(1.0, 0),
    lambda: ini.length_factor_moments(0),
    lambda: ini.length_factor_log_moments(1.5),
    lambda: ini.relu_log_lengths(4, 0, 10),
    lambda: ini.relu_log_lengths(4, 2, 10, rng="x"),
    lambda: ini.network_outputs("deep"),
    lambda: ini.network_outputs(ini.DEEP_NET, n_inputs=0),
    lambda: ini.stalled([2.3, 2.2]),
    lambda: ini.stalled(nets.History(train_loss=[2.3, 2.2]), tolerance=0.0),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
