"""Top-activating inputs: the float64 ReLU classifier, projections, purity and mosaics."""

import numpy as np
import pytest
import torch

from hiddenunits import interpretability as ip


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
    assert len(ds.unit) + ds.excluded == 32
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
