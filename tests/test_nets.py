"""MLPs, initial weight laws and the trainer."""

import math

import numpy as np
import pytest
import torch

from hiddenunits import nets


@pytest.mark.parametrize("scheme, variance", [
    ("pytorch", lambda n_in, n_out: 1 / (3 * n_in)),
    ("standard", lambda n_in, n_out: 1 / (3 * n_in)),
    ("xavier", lambda n_in, n_out: 2 / (n_in + n_out)),
    ("lecun", lambda n_in, n_out: 1 / n_in),
    ("he", lambda n_in, n_out: 2 / n_in),
])
def test_weight_variance_matches_its_law(scheme, variance):
    n_in, n_out = 400, 300
    layer = torch.nn.Linear(n_in, n_out)
    nets.init_linear_(layer, scheme, nets.generator(0))
    w = layer.weight.detach().double().numpy().ravel()
    target = variance(n_in, n_out)
    # the sample variance of 120000 draws has relative standard error below 0.5 %
    assert abs(w.var() / target - 1) < 0.02
    assert abs(w.mean()) < 4 * math.sqrt(target / w.size)


def test_orthogonal_rows_and_columns():
    for shape in [(30, 50), (50, 30), (40, 40)]:
        w = torch.empty(shape)
        nets.orthogonal_(w, nets.generator(1))
        g = w @ w.T if shape[0] <= shape[1] else w.T @ w
        torch.testing.assert_close(g, torch.eye(min(shape)), atol=1e-5, rtol=0)


def test_same_seed_same_network_and_training():
    x = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    runs = []
    for _ in range(2):
        model = nets.make_mlp([5, 8, 2], "tanh", "xavier", seed=4)
        runs.append(nets.train_classifier(model, x, y, nets.TrainConfig(epochs=3, lr=0.5)))
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].train_loss[-1] < runs[0].train_loss[0]


def test_hidden_outputs_one_per_activation():
    model = nets.make_mlp([4, 6, 6, 3], "relu")
    outs = nets.hidden_outputs(model, torch.zeros(2, 4))
    assert [tuple(o.shape) for o in outs] == [(2, 6), (2, 6)]


@pytest.mark.parametrize("call", [
    lambda: nets.make_mlp([5]),
    lambda: nets.make_mlp([5, 0, 2]),
    lambda: nets.make_mlp([5, 2], activation="swishy"),
    lambda: nets.make_mlp([5, 2], init="zeros"),
    lambda: nets.TrainConfig(lr=-1.0),
    lambda: nets.generator(-3),
    lambda: nets.train_classifier(nets.make_mlp([2, 2]), np.full((3, 2), np.nan), [0, 1, 0]),
    lambda: nets.train_classifier(nets.make_mlp([2, 2]), np.zeros((3, 2)), [0, 1]),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
