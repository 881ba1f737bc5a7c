"""MLPs, initial weight laws (torch.nn.init) and the trainer."""

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
    ("orthogonal", lambda n_in, n_out: 1 / max(n_in, n_out)),
])
def test_weight_variance_matches_its_law(scheme, variance):
    n_in, n_out = 400, 300
    layer = torch.nn.Linear(n_in, n_out)
    nets.init_linear_(layer, scheme, rng=0)
    w = layer.weight.detach().double().numpy().ravel()
    target = variance(n_in, n_out)
    # the sample variance of 120000 draws has relative standard error below 0.5 %
    assert abs(w.var() / target - 1) < 0.02
    assert abs(w.mean()) < 4 * math.sqrt(target / w.size)


def test_bias_laws():
    layer = torch.nn.Linear(100, 2000)
    nets.init_linear_(layer, "pytorch", rng=1)
    b = layer.bias.detach().numpy()
    assert abs(b.var() * 3 * 100 - 1) < 0.1 and np.abs(b).max() <= 0.1
    nets.init_linear_(layer, "he", rng=1)
    assert not layer.bias.detach().any()


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40)])
def test_orthogonal_rows_or_columns_and_gain(shape):
    layer = torch.nn.Linear(shape[1], shape[0])
    nets.init_linear_(layer, "orthogonal", rng=1, gain=2.0)
    w = layer.weight.detach() / 2.0
    g = w @ w.T if shape[0] <= shape[1] else w.T @ w
    torch.testing.assert_close(g, torch.eye(min(shape)), atol=1e-5, rtol=0)


def test_seed_and_generator_give_the_same_network():
    a = nets.make_mlp([5, 8, 2], "tanh", "xavier", rng=4)
    b = nets.make_mlp([5, 8, 2], "tanh", "xavier", rng=torch.Generator().manual_seed(4))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_numpy_integers_are_accepted():
    model = nets.make_mlp(np.array([3, 4, 2]), rng=np.int64(0))
    assert model[0].weight.shape == (4, 3)


def test_same_seed_same_network_and_training():
    x = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    runs = []
    for _ in range(2):
        model = nets.make_mlp([5, 8, 2], "tanh", "xavier", rng=4)
        runs.append(nets.train_classifier(model, x, y, nets.TrainConfig(epochs=3, lr=0.5)))
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].train_loss[-1] < runs[0].train_loss[0]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_without_history_gives_the_same_weights(optimizer):
    x = np.random.default_rng(1).normal(size=(50, 5)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    config = nets.TrainConfig(epochs=3, batch_size=16, lr=0.05, optimizer=optimizer, seed=2)
    models, hists = [], []
    for history in (True, False):
        model = nets.make_mlp([5, 8, 8, 2], rng=3)
        hists.append(nets.train_classifier(model, x, y, config, x[:10], y[:10],
                                           history=history))
        models.append(model)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)
    assert len(hists[0].train_loss) == 4 and len(hists[0].test_acc) == 4
    assert hists[1] == nets.History()


def _train_with_torch_optim(model, x, y, config):
    """train_classifier's loop with PyTorch's own optimizer, for comparison."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=config.lr,
                               weight_decay=config.weight_decay)
    gen = nets.torch_generator(config.seed)
    for _ in range(config.epochs):
        perm = torch.randperm(len(y), generator=gen)
        for start in range(0, len(y), config.batch_size):
            idx = perm[start:start + config.batch_size]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()


@pytest.mark.parametrize("optimizer, momentum, weight_decay", [
    ("sgd", 0.0, 0.0), ("sgd", 0.9, 0.0), ("sgd", 0.9, 1e-3), ("adam", 0.0, 0.0),
    ("adam", 0.0, 1e-3)])
def test_written_out_update_is_pytorchs_bit_for_bit(optimizer, momentum, weight_decay):
    x = np.random.default_rng(5).normal(size=(70, 6)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    config = nets.TrainConfig(epochs=6, batch_size=16, lr=0.03, momentum=momentum,
                              weight_decay=weight_decay, optimizer=optimizer, seed=7)
    ours, theirs = nets.make_mlp([6, 12, 9, 2], rng=8), nets.make_mlp([6, 12, 9, 2], rng=8)
    nets.train_classifier(ours, x, y, config, history=False)
    _train_with_torch_optim(theirs, x, y, config)
    moved = False
    for a, b, c in zip(ours.parameters(), theirs.parameters(),
                       nets.make_mlp([6, 12, 9, 2], rng=8).parameters(), strict=True):
        assert torch.equal(a, b)
        moved |= not torch.equal(a, c)
    assert moved  # the weights did train


def test_mlp_config_counts_hidden_layers():
    cfg = nets.MLPConfig(depth=3, width=7, activation="tanh", init="he")
    assert cfg.sizes(5, 2) == (5, 7, 7, 7, 2)
    model = cfg.build(5, 2, rng=0)
    assert sum(isinstance(m, torch.nn.Linear) for m in model) == cfg.depth + 1
    assert sum(isinstance(m, torch.nn.Tanh) for m in model) == cfg.depth


def test_hidden_outputs_one_per_activation():
    model = nets.make_mlp([4, 6, 6, 3], "relu")
    outs = nets.hidden_outputs(model, torch.zeros(2, 4))
    assert [tuple(o.shape) for o in outs] == [(2, 6), (2, 6)]


def _net():
    return nets.make_mlp([2, 2])


@pytest.mark.parametrize("call, message", [
    (lambda: nets.make_mlp([5]), "at least 2"),
    (lambda: nets.make_mlp([5, 0, 2]), "sizes"),
    (lambda: nets.make_mlp([5, 2.5]), "integer"),
    (lambda: nets.make_mlp([5, 2], activation="swishy"), "activation"),
    (lambda: nets.make_mlp([5, 2], init="zeros"), "init"),
    (lambda: nets.TrainConfig(lr=-1.0), "lr"),
    (lambda: nets.TrainConfig(epochs=2.5), "epochs"),
    (lambda: nets.TrainConfig(momentum=-1), "momentum"),
    (lambda: nets.TrainConfig(momentum=1.0), "momentum"),
    (lambda: nets.TrainConfig(optimizer="lbfgs"), "optimizer"),
    (lambda: nets.MLPConfig(depth=-1), "depth"),
    (lambda: nets.MLPConfig(activation="x"), "activation"),
    (lambda: nets.torch_generator(-3), "rng"),
    (lambda: nets.torch_generator(np.random.default_rng(0)), "rng"),
    (lambda: nets.init_linear_(torch.nn.Linear(3, 3), "orthogonal", rng=0, gain=math.nan),
     "gain"),
    (lambda: nets.init_linear_(torch.nn.Conv1d(3, 3, 2), "he", rng=0), "Linear"),
    (lambda: nets.init_linear_(torch.nn.Linear(3, 3), "he", rng=None), "rng"),
    (lambda: nets.train_classifier(_net(), np.full((3, 2), np.nan), [0, 1, 0]), "non-finite"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1]), "length"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0.5, 1.0, 0.2]), "integers"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1, 2]), "0..1"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1, -1]), "0..1"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1, 0], config="x"), "config"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1, 0],
                                   x_test=np.zeros((2, 2))), "both"),
    (lambda: nets.train_classifier(_net(), np.zeros((3, 2)), [0, 1, 0], history=1),
     "history"),
    (lambda: nets.evaluate(_net(), np.zeros((3, 2)), [0, 1, 5]), "0..1"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_read_only_inputs_train_without_a_warning(recwarn):
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    nets.train_classifier(_net(), x, y, nets.TrainConfig(epochs=1))
    assert not [w for w in recwarn if "not writable" in str(w.message)]
