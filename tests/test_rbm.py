"""RBMs: exact quantities against brute force and autograd, the fused CD/PCD loop against a
plain reference loop, Gaussian RBMs against quadrature, and input validation."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import expit, logsumexp

from hiddenunits import rbm as R
from hiddenunits.data import binarized_digits, digits_split, standardized_digits


def brute_log_z(model: R.RBM) -> float:
    terms = [-R.energy(model, np.array([v]), np.array([h]))[0]
             for v in itertools.product([0, 1], repeat=model.n_visible)
             for h in itertools.product([0, 1], repeat=model.n_hidden)]
    return float(logsumexp(terms))


def test_all_states():
    s = R.all_states(3)
    assert s.shape == (8, 3)
    assert {tuple(r) for r in s} == set(itertools.product([0.0, 1.0], repeat=3))
    assert R.all_states(0).shape == (1, 0)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5), (5, 5)])
def test_log_partition_and_log_prob_against_brute_force(shape):
    model = R.random_rbm(*shape, 1.3, np.random.default_rng(sum(shape)))
    assert R.log_partition(model) == pytest.approx(brute_log_z(model), abs=1e-12)
    v = R.all_states(shape[0])
    assert np.exp(R.log_prob(model, v)).sum() == pytest.approx(1.0, abs=1e-12)


def test_log_partition_of_larger_model_against_plain_enumeration():
    model = R.random_rbm(64, 12, 0.3, np.random.default_rng(5))
    h = R.all_states(12)
    a = h @ model.W.T + model.b
    plain = logsumexp(h @ model.c + np.logaddexp(0.0, a).sum(axis=1))
    assert R.log_partition(model) == pytest.approx(plain, abs=1e-10)


def test_exact_gradient_against_autograd():
    rng = np.random.default_rng(2)
    model = R.random_rbm(5, 3, 1.0, rng)
    data = (rng.random((9, 5)) < 0.5).astype(float)
    weights = rng.random(9)
    W = torch.tensor(model.W, requires_grad=True)
    b = torch.tensor(model.b, requires_grad=True)
    c = torch.tensor(model.c, requires_grad=True)
    V = torch.tensor(R.all_states(5))
    H = torch.tensor(R.all_states(3))
    x = torch.tensor(data)
    for wts in (None, weights):
        neg_e = (V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T  # (32, 8)
        log_z = torch.logsumexp(neg_e.reshape(-1), 0)
        free = x @ b + torch.nn.functional.softplus(x @ W + c).sum(1)
        w = torch.full((9,), 1 / 9.0, dtype=torch.float64) if wts is None else \
            torch.tensor(wts / wts.sum())
        ll = (w * (free - log_z)).sum()
        grads = torch.autograd.grad(ll, (W, b, c))
        ours = R.exact_gradient(model, data, weights=wts)
        for g, o in zip(grads, ours, strict=True):
            np.testing.assert_allclose(o, g.numpy(), atol=1e-12)


def test_model_statistics_when_hidden_layer_is_larger():
    model = R.random_rbm(3, 6, 1.0, np.random.default_rng(3))
    vh, v_mean, h_mean = R.model_statistics(model)
    vh_s, h_mean_s, v_mean_s = R.model_statistics(model.swap())
    np.testing.assert_allclose(vh, vh_s.T, atol=1e-14)
    V, H = R.all_states(3), R.all_states(6)
    joint = np.exp(np.array([[-R.energy(model, v[None], h[None])[0] for h in H] for v in V]))
    joint /= joint.sum()
    np.testing.assert_allclose(vh, V.T @ joint @ H, atol=1e-12)
    np.testing.assert_allclose(v_mean, joint.sum(1) @ V, atol=1e-12)
    np.testing.assert_allclose(h_mean, joint.sum(0) @ H, atol=1e-12)


def reference_train(data, config, seed):
    """A plain float64 loop consuming the same random numbers as ``train_rbm``."""
    rng = np.random.default_rng(seed)
    n, nv = data.shape
    nh, bsz, k = config.n_hidden, config.batch_size, config.k
    W = rng.normal(0.0, config.init_scale, (nv, nh)).astype(np.float32).astype(float)
    b, c = np.zeros(nv), np.zeros(nh)
    chains = np.zeros((bsz, nh))
    starts = list(range(0, n, bsz))
    for _ in range(config.epochs):
        x = data[rng.permutation(n)] if config.shuffle else data
        noise = R._logistic_noise(rng, (len(starts), k, bsz, nv)).astype(float)
        unif = rng.random((len(starts), k, bsz, nh), dtype=np.float32).astype(float)
        for t, s in enumerate(starts):
            v0 = x[s:s + bsz]
            m = len(v0)
            q0 = expit(v0 @ W + c)
            h = chains if config.persistent else (unif[t, 0, :m] < q0).astype(float)
            for step in range(k):
                v = ((h @ W.T + b) > noise[t, step, :len(h)]).astype(float)
                q = expit(v @ W + c)
                j = step if config.persistent else step + 1
                if j < k:
                    h = (unif[t, j, :len(h)] < q).astype(float)
            W += config.lr * (v0.T @ q0 / m - v.T @ q / len(v))
            b += config.lr * (v0.mean(0) - v.mean(0))
            c += config.lr * (q0.mean(0) - q.mean(0))
            if config.persistent:
                chains = h
    return W, b, c


@pytest.mark.parametrize("kw", [dict(k=1), dict(k=3), dict(k=1, persistent=True),
                                dict(k=2, persistent=True, shuffle=True)])
def test_fused_loop_matches_reference_loop(kw):
    rng = np.random.default_rng(4)
    data = (rng.random((47, 9)) < 0.4).astype(np.float32)  # last batch is partial
    cfg = R.CDConfig(n_hidden=5, lr=0.1, batch_size=10, epochs=2, init_scale=0.1, **kw)
    got = R.train_rbm(data, cfg, rng=7).rbm
    W, b, c = reference_train(data.astype(float), cfg, seed=7)
    # float32 arithmetic in the fused loop: agreement to ~1e-6
    np.testing.assert_allclose(got.W, W, atol=1e-5)
    np.testing.assert_allclose(got.b, b, atol=1e-5)
    np.testing.assert_allclose(got.c, c, atol=1e-5)


def test_training_improves_likelihood_and_records_it():
    x = binarized_digits()[0][:400]
    for kw in (dict(k=1), dict(persistent=True)):
        res = R.train_rbm(x, R.CDConfig(n_hidden=6, lr=0.05, epochs=4, **kw), rng=0,
                          eval_every=2)
        assert res.epochs == (0, 2, 4)
        assert res.log_likelihood[-1] > res.log_likelihood[0] + 5
        assert res.seconds_per_epoch > 0


def test_gibbs_sampler_reaches_the_exact_marginal():
    model = R.random_rbm(3, 2, 1.0, np.random.default_rng(6))
    v, _ = R.gibbs_sample(model, 20000, 30, np.random.default_rng(0))
    codes = (v @ [1, 2, 4]).astype(int)
    freq = np.bincount(codes, minlength=8) / len(codes)
    p = np.exp(R.log_prob(model, R.all_states(3)))
    se = np.sqrt(p * (1 - p) / len(codes))
    assert np.all(np.abs(freq - p) < 5 * se + 1e-4)


def test_gaussian_rbm_density_integrates_to_one_and_conditionals():
    rng = np.random.default_rng(8)
    model = R.GaussianRBM(rng.normal(0, 0.7, (2, 3)), rng.normal(0, 1, 2),
                          rng.normal(0, 1, 3), [0.8, 1.3])
    g = np.linspace(-14, 14, 561)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    dens = np.exp(R.gb_log_density(model, grid)).reshape(len(g), len(g))
    assert np.trapezoid(np.trapezoid(dens, g, axis=1), g) == pytest.approx(1.0, abs=1e-9)
    # the marginal is the mixture sum_h p(h) N(b + s W h, s^2)
    H = R.all_states(3)
    v = rng.normal(0, 1.5, (5, 2))
    wh = H @ model.W.T
    log_w = H @ model.c + wh @ (model.b / model.s) + 0.5 * (wh**2).sum(1)
    p_h = np.exp(log_w - logsumexp(log_w))
    means = model.b + model.s * wh
    comp = np.exp(-(((v[:, None, :] - means[None]) / model.s) ** 2).sum(-1) / 2) / (
        2 * np.pi * np.prod(model.s))
    np.testing.assert_allclose(np.exp(R.gb_log_density(model, v)), comp @ p_h, rtol=1e-10)


def test_gaussian_training_and_readout():
    split = standardized_digits()
    xtr, xte = split.x_train, split.x_test
    for hidden in ("binary", "nrelu"):
        cfg = R.GBConfig(n_hidden=16, hidden=hidden, epochs=2, lr=0.02)
        model = R.train_gaussian_rbm(xtr[:400], cfg, rng=0)
        init = R.GaussianRBM(np.zeros((64, 16)), xtr[:400].mean(0), np.zeros(16), 1.0)
        assert R.gb_reconstruction_error(model, xte, hidden) < R.gb_reconstruction_error(
            init, xte, hidden)
    f = np.eye(3)[[0, 1, 2, 0, 1, 2]] * 5.0
    assert R.ridge_readout_accuracy(f, [0, 1, 2, 0, 1, 2], f, [0, 1, 2, 0, 1, 2]) == 1.0


def test_benchmark_runs_small():
    res = R.benchmark_rbm(R.BenchConfig(epochs=1, seeds=(0, 1)))
    assert res.ours_seconds > 0 and res.sklearn_seconds > 0
    assert len(res.ours_ll) == 2 and all(math.isfinite(v) for v in res.sklearn_ll)


def test_standardized_digits_keep_the_old_threshold():
    """The Gaussian experiment's input: pixels constant on the training set are only
    centred; every other pixel has std > 1e-3, so the old 1e-3 threshold changed nothing."""
    raw = digits_split()
    sd = raw.x_train.std(axis=0)
    assert sd[sd > 0].min() > 1e-3
    split = standardized_digits()
    np.testing.assert_allclose(split.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(split.x_train.std(axis=0)[sd > 0], 1.0, rtol=1e-4)
    assert np.all(split.x_train[:, sd == 0] == 0)


def test_rng_is_a_seed_or_a_generator():
    x = binarized_digits()[0][:50]
    cfg = R.CDConfig(n_hidden=3, epochs=1)
    a = R.train_rbm(x, cfg, rng=3).rbm
    b = R.train_rbm(x, cfg, rng=np.random.default_rng(3)).rbm
    np.testing.assert_array_equal(a.W, b.W)
    m1 = R.random_rbm(3, 2, 1.0, 5)
    m2 = R.random_rbm(3, 2, 1.0, np.random.default_rng(5))
    np.testing.assert_array_equal(m1.W, m2.W)


def test_results_are_immutable_or_copies():
    exp = R.DigitsRBMExperiment(n_hidden=3, epochs=1, eval_every=1)
    runs = R.digits_runs(exp)
    runs.pop("CD-1")
    assert set(R.digits_runs(exp)) == {"CD-1", "CD-10", "PCD-1"}
    res = R.digits_runs(exp)["CD-1"]
    with pytest.raises(ValueError, match="read-only"):
        res.rbm.W[0, 0] = 1.0
    with pytest.raises(AttributeError):
        res.epochs = (0,)
    assert isinstance(res.log_likelihood, tuple)


def test_bad_input():
    model = R.random_rbm(4, 3, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"b must have shape \(4\)"):
        R.RBM(np.zeros((4, 3)), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="non-finite"):
        R.RBM(np.full((2, 2), np.nan), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="W must have 2 axes"):
        R.RBM(np.zeros(4), np.zeros(4), np.zeros(1))
    with pytest.raises(ValueError, match="need a RBM"):
        R.energy("model", np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="rows"):
        R.energy(model, np.zeros((2, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="columns"):
        R.p_h_given_v(model, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        R.log_prob(model, np.full((1, 4), 0.5))
    with pytest.raises(ValueError, match="n must be an integer <= 24"):
        R.all_states(40)
    with pytest.raises(ValueError, match="n must be an integer"):
        R.all_states(3.0)
    with pytest.raises(ValueError, match="intractable"):
        R.log_partition(R.RBM(np.zeros((30, 30)), np.zeros(30), np.zeros(30)))
    with pytest.raises(ValueError, match="lr"):
        R.CDConfig(lr=0.0)
    with pytest.raises(ValueError, match="epochs"):
        R.CDConfig(epochs=2.5)
    with pytest.raises(ValueError, match="k must be"):
        R.CDConfig(k=0)
    with pytest.raises(ValueError, match="persistent"):
        R.CDConfig(persistent=1)
    with pytest.raises(ValueError, match="need a CDConfig"):
        R.train_rbm(np.zeros((5, 3)), {"lr": 0.1})
    with pytest.raises(ValueError, match="eval_every"):
        R.train_rbm(np.zeros((5, 3)), R.CDConfig(batch_size=5), eval_every=-1)
    with pytest.raises(ValueError, match="seed"):
        R.train_rbm(np.zeros((5, 3)), R.CDConfig(batch_size=5), rng=-2)
    with pytest.raises(ValueError, match="n_visible"):
        R.random_rbm(0, 3, 1.0, 0)
    with pytest.raises(ValueError, match="scale"):
        R.random_rbm(2, 3, -1.0, 0)
    with pytest.raises(ValueError, match="rng"):
        R.random_rbm(2, 3, 1.0, None)
    with pytest.raises(ValueError, match="v0 must have 2 rows"):
        R.gibbs_sample(model, 2, 1, 0, v0=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="steps"):
        R.gibbs_sample(model, 2, 0, 0)
    with pytest.raises(ValueError, match="batch_size"):
        R.train_rbm(np.zeros((5, 3)), R.CDConfig(batch_size=10))
    with pytest.raises(ValueError, match="hidden must be one of"):
        R.GBConfig(hidden="tanh")
    with pytest.raises(ValueError, match="s must be"):
        R.GBConfig(s=math.nan)
    with pytest.raises(ValueError, match="hidden must be one of"):
        R.gb_hidden_mean(R.GaussianRBM(np.zeros((2, 1)), np.zeros(2), np.zeros(1), 1.0),
                         np.zeros(2), "relu")
    with pytest.raises(ValueError, match="metric must be one of"):
        R.gb_summary("binary", 1.0, "loss")
    with pytest.raises(ValueError, match="y_train must hold integers"):
        R.ridge_readout_accuracy(np.eye(2), [0.5, 1.0], np.eye(2), [0, 1])
    with pytest.raises(ValueError, match="alpha"):
        R.ridge_readout_accuracy(np.eye(2), [0, 1], np.eye(2), [0, 1], alpha=0.0)
    with pytest.raises(ValueError, match="seeds"):
        R.BenchConfig(seeds=(0,))
    with pytest.raises(ValueError, match="n_examples"):
        R.BenchConfig(n_examples=5000)
    with pytest.raises(ValueError, match="eval_every"):
        R.DigitsRBMExperiment(eval_every=-1)
    with pytest.raises(ValueError, match="scales"):
        R.GBExperiment(scales=())
    with pytest.raises(ValueError, match="need a DigitsRBMExperiment"):
        R.digits_runs("default")
    with pytest.raises(ValueError, match="need a GBExperiment"):
        R.gb_experiment([])  # unhashable: validated before the cache
    with pytest.raises(ValueError, match="need a BenchConfig"):
        R.benchmark_rbm({"epochs": 1})
    with pytest.raises(ValueError, match="s must be"):
        R.GaussianRBM(np.zeros((2, 1)), np.zeros(2), np.zeros(1), [1.0, 0.0])
    with pytest.raises(ValueError, match="weights"):
        R.exact_gradient(model, np.zeros((3, 4)), weights=[1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="non-finite"):
        R.train_gaussian_rbm(np.full((20, 3), np.inf), R.GBConfig(batch_size=5))


def test_gaussian_rbm_rejects_a_wrongly_shaped_s_clearly():
    # used to surface numpy's broadcasting error
    with pytest.raises(ValueError, match="s must be a scalar or have shape"):
        R.GaussianRBM(np.zeros((5, 2)), np.zeros(5), np.zeros(2), s=np.ones(3))
