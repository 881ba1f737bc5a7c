"""The Glorot & Bengio style runs: the batched trainer, recorded statistics and findings."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from hiddenunits import activations, saturation
from hiddenunits.data import digits_split
from hiddenunits.nets import MLPConfig, TrainConfig, evaluate, hidden_outputs, train_classifier

TINY_NET = MLPConfig(depth=2, width=8, activation="tanh", init="xavier")
TINY_TRAIN = TrainConfig(epochs=2, batch_size=256, lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name", saturation.ACTIVATIONS)
def test_relative_slope_from_outputs_matches_the_derivative(name):
    z = np.linspace(-6, 6, 121)
    z = z[np.abs(z) > 1e-9]  # ReLU's slope at 0 is a convention
    h = torch.tensor(activations.phi(name, z))
    sup = activations.activation_properties(name, with_cost=False).max_derivative
    expected = activations.dphi(name, z) / sup
    np.testing.assert_allclose(saturation.relative_slope(name, h).numpy(), expected,
                               rtol=1e-9, atol=1e-12)
    out = torch.empty_like(h)
    np.testing.assert_allclose(saturation._relative_slope_(name, h, out).numpy(), expected,
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("activation", saturation.ACTIVATIONS)
def test_batched_training_equals_train_classifier_on_each_network(activation):
    # the reference: torch.optim.SGD on one nn.Sequential at a time, same seeds
    train = replace(TINY_TRAIN, epochs=1)
    specs = [saturation.RunSpec(replace(TINY_NET, activation=activation, init=init), lr, seed)
             for init, lr, seed in (("standard", 0.05, 3), ("xavier", 0.2, 4))]
    records = saturation.train_runs(specs, train)
    split = digits_split(rng=0)
    for spec, rec in zip(specs, records, strict=True):
        model = spec.net.build(64, 10, rng=spec.seed)
        hist = train_classifier(model, split.x_train, split.y_train,
                                replace(train, lr=spec.lr, seed=spec.seed))
        assert rec.final_loss == pytest.approx(hist.train_loss[-1], rel=2e-5)
        assert rec.final_train_acc == pytest.approx(hist.train_acc[-1], abs=1e-6)
        assert rec.test_acc == pytest.approx(evaluate(model, split.x_test, split.y_test)[1],
                                             abs=1e-6)
        monitored = evaluate(model, split.x_train[:saturation.MONITOR],
                             split.y_train[:saturation.MONITOR])
        assert (rec.train_loss[-1], rec.train_acc[-1]) == pytest.approx(monitored, rel=2e-5)
        with torch.no_grad():
            hs = hidden_outputs(model, torch.as_tensor(split.x_train[:saturation.MONITOR]))
        np.testing.assert_allclose(rec.mean[-1], [h.mean().item() for h in hs], rtol=1e-4,
                                   atol=1e-6)


def test_recorded_statistics_match_an_independent_forward_pass():
    (run,) = saturation.train_runs([saturation.RunSpec(TINY_NET, 0.1, 3)], TINY_TRAIN)
    assert run.train_loss.shape == (TINY_TRAIN.epochs + 1,) == (run.epochs + 1,)
    assert run.mean.shape == run.slope.shape == run.dead.shape == (3, TINY_NET.depth)
    assert (run.activation, run.init, run.lr, run.seed) == ("tanh", "xavier", 0.1, 3)
    # row 0 is the untrained network: recompute it from a fresh model with the same seed
    split = digits_split(rng=0)
    model = TINY_NET.build(64, 10, rng=3)
    x = torch.as_tensor(split.x_train[:saturation.MONITOR])
    with torch.no_grad():
        hs = [h.double().numpy() for h in hidden_outputs(model, x)]
    slopes = [1 - h**2 for h in hs]
    np.testing.assert_allclose(run.mean[0], [h.mean() for h in hs], rtol=1e-5)
    np.testing.assert_allclose(run.std[0], [h.std() for h in hs], rtol=1e-4)
    np.testing.assert_allclose(run.spread[0], [np.sqrt(h.var(axis=0).mean()) for h in hs],
                               rtol=1e-4)
    np.testing.assert_allclose(run.slope[0], [s.mean() for s in slopes], rtol=1e-5)
    np.testing.assert_allclose(run.saturated[0], [(s < 0.01).mean() for s in slopes])
    np.testing.assert_allclose(run.dead[0], [(s < 0.01).all(axis=0).mean() for s in slopes])


def test_dead_units_are_counted():
    # a ReLU net whose first-layer biases are very negative has dead first-layer units
    (run,) = saturation.train_runs([saturation.RunSpec(replace(TINY_NET, activation="relu"),
                                                       0.1, 0)], replace(TINY_TRAIN, epochs=0))
    assert 0 <= run.dead[0, 0] <= run.saturated[0, 0] <= 1
    h = torch.zeros(1, 5, 4)
    h[0, :, 1] = 1.0  # unit 1 alive, units 0, 2, 3 dead
    group = saturation._Group([saturation.RunSpec(replace(TINY_NET, activation="relu"), 0.1,
                                                  0)], 64, 10)
    work = torch.empty_like(h)
    slope = saturation._relative_slope_("relu", h, work)
    assert float((slope.amax(dim=1) < saturation.SATURATED).float().mean()) == 0.75
    assert group.activation == "relu"


def test_runs_are_cached_and_read_only():
    spec = saturation.RunSpec(replace(TINY_NET, activation="relu", init="standard"), 0.1, 0)
    (run,) = saturation.train_runs([spec], TINY_TRAIN)
    assert np.isfinite(run.train_loss).all()
    assert saturation.train_runs([spec], TINY_TRAIN)[0] is run
    with pytest.raises(ValueError, match="read-only"):
        run.mean[0, 0] = 1.0
    assert saturation.train_runs([spec], TINY_TRAIN, split_rng=1)[0] is not run


def test_a_diverging_run_is_recorded_as_infinite_loss_and_leaves_the_others_alone():
    specs = [saturation.RunSpec(replace(TINY_NET, activation="relu"), lr, 0)
             for lr in (1e30, 0.1)]
    bad, good = saturation.train_runs(specs, TINY_TRAIN)
    (alone,) = saturation.train_runs(specs[1:], TINY_TRAIN)
    assert bad.train_loss[-1] == bad.final_loss == np.inf
    np.testing.assert_allclose(good.train_loss, alone.train_loss, rtol=1e-6)


def test_sweep_tuning_and_errors():
    runs = saturation.sweep(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3), seeds=(0, 1))
    assert len(runs) == len(saturation.ACTIVATIONS) * len(saturation.INITS) * 2 * 2
    best = saturation.best_learning_rates(runs)
    for (a, i), lr in best.items():
        mean = {r: np.mean([runs[(a, i, r, s)].final_loss for s in (0, 1)])
                for r in (0.03, 0.3)}
        assert mean[lr] == min(mean.values())
    tuned = saturation.tuned_runs(runs)
    assert all(len(v) == 2 and v[0].lr == best[k] for k, v in tuned.items())
    m, e = saturation.mean_and_error([1.0, 2.0, 3.0])
    assert (m, e) == pytest.approx((2.0, 1.0 / np.sqrt(3)))


def test_findings_and_tables_are_read_off_the_runs():
    from hiddenunits.book.tables import activations as tables

    runs = saturation.sweep(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3), seeds=(0, 1))
    f = saturation.findings(runs)
    tuned = saturation.tuned_runs(runs)
    assert f.epochs == TINY_TRAIN.epochs and f.lrs == (0.03, 0.3)
    for (a, i), rs in tuned.items():
        assert f.accuracy[(a, i)] == saturation.mean_and_error([r.test_acc for r in rs])
    acc = {k: m for k, (m, _) in f.accuracy.items()}
    assert f.sigmoid_worst == (max(acc[("sigmoid", i)] for i in saturation.INITS)
                               < min(acc[(a, i)] for a in ("tanh", "relu")
                                     for i in saturation.INITS))
    onsets = saturation.onset_epochs(np.mean([r.saturated for r in tuned[("tanh",
                                                                         "standard")]], 0))
    assert f.tanh_onsets == onsets
    for comparable, good in zip(f.comparable, f.relu_as_good, strict=True):
        assert (good is None) == (not comparable)
    for table in (tables.learning_rate_table, tables.glorot_summary_table,
                  tables.glorot_comparison_table):
        headers, rows = table(runs)
        assert rows and all(len(r) == len(headers) for r in rows)
    assert len(tables.glorot_comparison_table(runs)[1]) == 7


def test_onset_epochs():
    a = np.array([[0.0, 0.0], [0.02, 0.0], [0.05, 0.0]])
    assert saturation.onset_epochs(a) == (1, None)
    with pytest.raises(ValueError, match="shape"):
        saturation.onset_epochs(np.zeros(3))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="activation"):
        saturation.RunSpec(replace(TINY_NET, activation="gelu"), 0.1, 0)
    with pytest.raises(ValueError, match="init"):
        saturation.RunSpec(replace(TINY_NET, init="he"), 0.1, 0)
    with pytest.raises(ValueError, match="depth"):
        saturation.RunSpec(replace(TINY_NET, depth=0), 0.1, 0)
    with pytest.raises(ValueError, match="bias"):
        saturation.RunSpec(replace(TINY_NET, bias=False), 0.1, 0)
    with pytest.raises(ValueError, match="MLPConfig"):
        saturation.RunSpec("sigmoid", 0.1, 0)
    with pytest.raises(ValueError, match="lr"):
        saturation.RunSpec(TINY_NET, 0.0, 0)
    with pytest.raises(ValueError, match="seed"):
        saturation.RunSpec(TINY_NET, 0.1, -1)
    spec = saturation.RunSpec(TINY_NET, 0.1, 0)
    with pytest.raises(ValueError, match="RunSpec"):
        saturation.train_runs([])
    with pytest.raises(ValueError, match="share"):
        saturation.train_runs([spec, saturation.RunSpec(replace(TINY_NET, width=4), 0.1, 0)])
    with pytest.raises(ValueError, match="TrainConfig"):
        saturation.train_runs([spec], {"epochs": 2})
    with pytest.raises(ValueError, match="SGD"):
        saturation.train_runs([spec], replace(TINY_TRAIN, optimizer="adam"))
    with pytest.raises(ValueError, match="split_rng"):
        saturation.train_runs([spec], TINY_TRAIN, split_rng=1.5)
    with pytest.raises(ValueError, match="activation"):
        saturation.relative_slope("elu", torch.zeros(3))
    with pytest.raises(ValueError, match="torch.Tensor"):
        saturation.relative_slope("relu", np.zeros(3))
    with pytest.raises(ValueError, match="sweep"):
        saturation.best_learning_rates({})
    with pytest.raises(ValueError, match="two"):
        saturation.mean_and_error([1.0])
