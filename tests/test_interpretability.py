"""Top-activating inputs: the float64 ReLU classifier, projections, purity and mosaics."""

import numpy as np
import pytest
import torch

from hiddenunits import interpretability as ip
from hiddenunits.data import digits_split


def test_sgd_step_matches_autograd():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=(3, 5)),
              rng.normal(size=3)]
    x, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    z = torch.relu(torch.tensor(x) @ tp[0].T + tp[1]) @ tp[2].T + tp[3]
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(y))
    loss.backward()
    lr = 0.3
    new = [p.copy() for p in params]
    value = ip.sgd_step(new, x, y, lr)
    assert value == pytest.approx(loss.item(), rel=1e-12)
    for p, q, t in zip(new, params, tp, strict=True):
        np.testing.assert_allclose(p, q - lr * t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sgd_step_with_a_dropout_mask_matches_autograd():
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=(3, 5)),
              rng.normal(size=3)]
    x, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    mask = (rng.random(size=(7, 5)) > 0.3) / 0.7
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    h = torch.relu(torch.tensor(x) @ tp[0].T + tp[1]) * torch.tensor(mask)
    torch.nn.functional.cross_entropy(h @ tp[2].T + tp[3], torch.tensor(y)).backward()
    new = [p.copy() for p in params]
    ip.sgd_step(new, x, y, 0.2, mask=mask)
    for p, q, t in zip(new, params, tp, strict=True):
        np.testing.assert_allclose(p, q - 0.2 * t.grad.numpy(), rtol=1e-10, atol=1e-12)


def _reference_training(width, seed, epochs):
    """The training loop written out with sgd_step, one network at a time."""
    gen = np.random.default_rng(seed)
    params = ip.init_relu_network(width, gen)
    split = digits_split(ip.TEST_FRACTION, rng=0)
    x, y = split.x_train.astype(np.float64), split.y_train
    for _ in range(epochs):
        perm = gen.permutation(len(y))
        for i in range(0, len(y), ip.TRAIN_BATCH):
            ip.sgd_step(params, x[perm[i:i + ip.TRAIN_BATCH]], y[perm[i:i + ip.TRAIN_BATCH]],
                        ip.TRAIN_LR)
    return params


def test_stacked_training_is_the_one_network_loop():
    nets = ip.relu_classifiers((3, 4), width=6, epochs=2)
    for seed, net in zip((3, 4), nets, strict=True):
        ref = _reference_training(6, seed, 2)
        for p, q in zip((net.W1, net.b1, net.W2, net.b2), ref, strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    alone = ip.relu_classifier(width=6, rng=4, epochs=2)
    np.testing.assert_array_equal(alone.W1, nets[1].W1)  # alone or in a stack: the same


def test_train_relu_network_monitor_and_dropout():
    params = ip.init_relu_network(4, rng=0)
    steps_per_epoch = -(-len(digits_split(ip.TEST_FRACTION, rng=0).y_train)
                        // ip.TRAIN_BATCH)
    final, seen = ip.train_relu_network(params, 2, rng=1, monitor=lambda p: p[1][0])
    assert len(seen) == 2 * steps_per_epoch + 1 and seen[0] == params[1][0]
    assert seen[-1] == final[1][0]
    _, none = ip.train_relu_network(params, 1, rng=1)
    assert none.size == 0
    # dropout draws masks from the generator: a different run, and the input is not modified
    dropped, _ = ip.train_relu_network(params, 1, rng=1, dropout=0.5)
    plain, _ = ip.train_relu_network(params, 1, rng=1)
    assert np.abs(dropped[0] - plain[0]).max() > 1e-6
    np.testing.assert_array_equal(params[0], ip.init_relu_network(4, rng=0)[0])


def test_canonical_correlations_against_the_whitening_formula():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    Y = X @ rng.normal(size=(3, 4)) + 0.5 * rng.normal(size=(300, 4))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Sxx, Syy, Sxy = Xc.T @ Xc, Yc.T @ Yc, Xc.T @ Yc

    def inv_sqrt(S):
        w, V = np.linalg.eigh(S)
        return V @ np.diag(w ** -0.5) @ V.T

    ref = np.linalg.svd(inv_sqrt(Sxx) @ Sxy @ inv_sqrt(Syy), compute_uv=False)
    np.testing.assert_allclose(ip.canonical_correlations(X, Y), ref, atol=1e-12)
    # invariant under any invertible change of basis of either side
    G = rng.normal(size=(3, 3))
    np.testing.assert_allclose(ip.canonical_correlations(X @ G, Y), ref, atol=1e-10)
    # a constant (dead) column is left out
    Z = np.concatenate([X, np.ones((300, 1))], axis=1)
    assert len(ip.canonical_correlations(Z, Y)) == 3


def test_cka_and_unit_match_invariances():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4))
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert ip.linear_cka(X, 3.0 * X @ Q) == pytest.approx(1.0)
    assert ip.linear_cka(X, X @ np.diag([5.0, 1.0, 1.0, 0.2])) < 0.9
    perm = X[:, [2, 0, 3, 1]] * np.array([2.0, -1.0, 0.5, 3.0])
    assert ip.unit_match(X, perm) == pytest.approx(1.0)
    assert ip.unit_match(X, X @ Q) < 0.95
    sim = ip.similarity(X, X @ Q)
    np.testing.assert_allclose(sim.canonical, 1.0, atol=1e-12)


def test_mean_and_standard_error():
    m, se = ip.mean_and_standard_error([1.0, 2.0, 3.0, 6.0])
    assert m == 3.0 and se == pytest.approx(np.std([1, 2, 3, 6], ddof=1) / 2)


def test_direction_studies_are_the_single_studies():
    studies = ip.direction_studies((0, 1))
    for seed, study in zip((0, 1), studies, strict=True):
        single = ip.direction_study(rng=seed, net_seed=seed)
        np.testing.assert_array_equal(study.unit, single.unit)
        np.testing.assert_array_equal(study.random, single.random)
        assert study.difference == pytest.approx(study.unit.mean() - study.random.mean())


def test_cross_entropy_matches_torch():
    net = ip.relu_classifier()
    rng = np.random.default_rng(1)
    x, y = rng.random(size=(20, 64)), rng.integers(0, 10, size=20)
    z = torch.relu(torch.tensor(x) @ torch.tensor(net.W1).T + torch.tensor(net.b1))
    logits = z @ torch.tensor(net.W2).T + torch.tensor(net.b2)
    ref = torch.nn.functional.cross_entropy(logits, torch.tensor(y)).item()
    assert ip.cross_entropy(net.W1, net.b1, net.W2, net.b2, x, y) == pytest.approx(ref)


def test_classifier_trains_and_is_deterministic():
    net = ip.relu_classifier()
    assert net.train_acc > 0.9 and net.test_acc > 0.9
    assert ip.relu_classifier() is net  # cached, hence the same for every caller
    with pytest.raises(ValueError):
        net.W1[0, 0] = 0.0  # and read-only


def test_seed_or_generator():
    a = ip.relu_classifier(width=4, rng=3, epochs=1)
    b = ip.relu_classifier(width=4, rng=np.random.default_rng(3), epochs=1)
    np.testing.assert_array_equal(a.W1, b.W1)


def test_top_activating_and_purity():
    H = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0], [0.5, 3.0]])
    np.testing.assert_array_equal(ip.top_activating(H, [1.0, 0.0], 2), [1, 2])
    np.testing.assert_array_equal(ip.top_activating(H, [0.0, 1.0], 1), [3])
    assert ip.purity(np.array([3, 3, 1, 3])) == 0.75
    assert ip.active_units(H, 3) == [0, 1]
    assert ip.active_units(np.array([[0.0, 1.0], [0.0, 2.0]]), 2) == [1]


def test_direction_study_ranges():
    ds = ip.direction_study()
    assert len(ds.unit) + ds.excluded == 32 and ds.net_seed == 0
    assert 0.1 <= ds.chance <= 1 and np.all((ds.random > 0) & (ds.random <= 1))
    # top images of any direction are far purer than random sets of images
    assert ds.unit.mean() > ds.chance + 0.2 and ds.random.mean() > ds.chance + 0.2


def test_mosaic_layout():
    imgs = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    m = ip.mosaic(imgs, pad=1)
    assert m.shape == (2 * 3 + 1, 3 * 3 + 1)
    np.testing.assert_array_equal(m[1:3, 1:3], imgs[0, 0])
    np.testing.assert_array_equal(m[4:6, 7:9], imgs[1, 2])
    assert np.isnan(m[0, 0])


@pytest.mark.parametrize("call", [
    lambda: ip.relu_classifier(width=0),
    lambda: ip.relu_classifier(rng=1.5),
    lambda: ip.relu_classifier(epochs=0),
    lambda: ip.hidden_features(ip.relu_classifier(), np.ones((3, 10))),
    lambda: ip.hidden_features(ip.relu_classifier(), np.full((2, 64), np.nan)),
    lambda: ip.top_activating(np.ones((3, 2)), [1.0, 0.0], 4),
    lambda: ip.purity(np.array([], dtype=int)),
    lambda: ip.direction_study(count=0),
    lambda: ip.mosaic(np.ones((2, 2))),
    lambda: ip.mosaic(np.ones((1, 1, 2, 2)), pad=-1),
    lambda: ip.purity(np.array([0.5, 1.0])),
    lambda: ip.purity(np.array([-1, 1])),
    lambda: ip.top_activating(np.ones((3, 2)), [1.0, 0.0, 0.0], 1),
    lambda: ip.active_units(np.ones((3, 2)), 0),
    lambda: ip.direction_study(rng=-1),
    lambda: ip.direction_study(net_seed=1.5),
    lambda: ip.direction_studies(()),
    lambda: ip.relu_classifiers("01"),
    lambda: ip.relu_classifiers((0, -1)),
    lambda: ip.init_relu_network(0),
    lambda: ip.train_relu_network(ip.init_relu_network(2), -1),
    lambda: ip.train_relu_network(ip.init_relu_network(2), 1, dropout=1.0),
    lambda: ip.train_relu_network(ip.init_relu_network(2), 1, monitor=3),
    lambda: ip.train_relu_network([np.ones((2, 5)), np.ones(2), np.ones((10, 2)),
                                   np.ones(10)], 1),
    lambda: ip.sgd_step([np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4)],
                        np.ones((1, 3)), np.zeros(1, dtype=int), 0.1, mask=np.ones((1, 3))),
    lambda: ip.canonical_correlations(np.ones((5, 2)), np.ones((4, 2))),
    lambda: ip.canonical_correlations(np.ones((1, 2)), np.ones((1, 2))),
    lambda: ip.linear_cka(np.ones((5, 2)), np.random.default_rng(0).normal(size=(5, 2))),
    lambda: ip.unit_match(np.ones((5, 2)), np.random.default_rng(0).normal(size=(5, 2))),
    lambda: ip.seed_similarities((0,)),
    lambda: ip.mean_and_standard_error([1.0]),
    lambda: ip.cross_entropy(np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4),
                             np.ones((5, 3)), np.array([0, 1, 2, 3, 4])),
    lambda: ip.cross_entropy(np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4),
                             np.ones((5, 4)), np.zeros(5, dtype=int)),
    lambda: ip.sgd_step([np.ones((2, 3))], np.ones((1, 3)), np.zeros(1, dtype=int), 0.1),
    lambda: ip.sgd_step([np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4)],
                        np.ones((1, 3)), np.zeros(1, dtype=int), -0.1),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
