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


@pytest.mark.parametrize("name", saturation.UNITS)
def test_slope_matches_the_derivative(name):
    z = np.linspace(-6, 6, 121)
    z = z[np.abs(z) > 1e-9]  # ReLU's slope at 0 is a convention
    zt = torch.tensor(z)
    np.testing.assert_allclose(saturation.slope(name, zt).numpy(),
                               activations.autograd_derivative(name, z), rtol=1e-9,
                               atol=1e-12)
    sup = activations.activation_properties(name, with_cost=False).max_derivative
    np.testing.assert_allclose(saturation.relative_slope(name, zt).numpy(),
                               np.abs(activations.dphi(name, z)) / sup, rtol=1e-9,
                               atol=1e-12)


class _Shifted(torch.nn.Module):
    """phi(z) - phi(0): the reference for the shifted units."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module

    def forward(self, z):
        return self.module(z) - self.module(torch.zeros(()))


def _reference_model(spec: saturation.RunSpec) -> torch.nn.Sequential:
    """The network of ``spec`` built with nn.Sequential: gain and shift applied by hand."""
    model = spec.net.build(64, 10, rng=spec.seed)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for m in linears[:-1]:
            m.weight.mul_(spec.gain)
    if spec.shifted:
        model = torch.nn.Sequential(*[m if isinstance(m, torch.nn.Linear) else _Shifted(m)
                                      for m in model])
    return model


@pytest.mark.parametrize("activation", saturation.UNITS)
def test_batched_training_equals_train_classifier_on_each_network(activation):
    # the reference: torch.optim.SGD on one nn.Sequential at a time, same seeds
    train = replace(TINY_TRAIN, epochs=1)
    specs = [saturation.RunSpec(replace(TINY_NET, activation=activation, init=init), lr, seed,
                                gain, shifted)
             for init, lr, seed, gain, shifted in (("standard", 0.05, 3, 1.0, False),
                                                   ("xavier", 0.2, 4, 1.0, False),
                                                   ("standard", 0.1, 5, 2.5, True))]
    records = saturation.train_runs(specs, train)
    split = digits_split(rng=0)
    for spec, rec in zip(specs, records, strict=True):
        model = _reference_model(spec)
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


def _pre_activations(model: torch.nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    out, h = [], torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        for m in model:
            h = m(h)
            if isinstance(m, torch.nn.Linear):
                out.append(h.double().numpy())
    return out[:-1]


def test_recorded_statistics_match_an_independent_forward_pass():
    spec = saturation.RunSpec(TINY_NET, 0.1, 3)
    (run,) = saturation.train_runs([spec], TINY_TRAIN)
    assert run.train_loss.shape == (TINY_TRAIN.epochs + 1,) == (run.epochs + 1,)
    assert run.mean.shape == run.slope.shape == run.dead.shape == (3, TINY_NET.depth)
    assert run.gain.shape == (3, TINY_NET.depth - 1)
    assert run.epochs_recorded.tolist() == [0, 1, 2] and run.eval_epochs.tolist() == [2]
    assert (run.activation, run.init, run.lr, run.seed) == ("tanh", "xavier", 0.1, 3)
    # row 0 is the untrained network: recompute it from a fresh model with the same seed
    split = digits_split(rng=0)
    model = TINY_NET.build(64, 10, rng=3)
    x = split.x_train[:saturation.MONITOR]
    with torch.no_grad():
        hs = [h.double().numpy() for h in hidden_outputs(model, torch.as_tensor(x))]
    slopes = [1 - h**2 for h in hs]
    np.testing.assert_allclose(run.mean[0], [h.mean() for h in hs], rtol=1e-5)
    np.testing.assert_allclose(run.std[0], [h.std() for h in hs], rtol=1e-4)
    np.testing.assert_allclose(run.spread[0], [np.sqrt(h.var(axis=0).mean()) for h in hs],
                               rtol=1e-4)
    np.testing.assert_allclose(run.slope[0], [s.mean() for s in slopes], rtol=1e-5)
    np.testing.assert_allclose(run.saturated[0], [(s < 0.01).mean() for s in slopes])
    np.testing.assert_allclose(run.dead[0], [(s < 0.01).all(axis=0).mean() for s in slopes])
    # the gain of layer 1: n E[W_2^2] E[phi'(z_1)^2], phi' from autograd
    w2 = [m for m in model if isinstance(m, torch.nn.Linear)][1].weight.detach().double()
    z1 = _pre_activations(model, x)[0]
    chi = TINY_NET.width * float((w2**2).mean()) * np.mean(
        activations.autograd_derivative("tanh", z1) ** 2)
    assert run.gain[0, 0] == pytest.approx(chi, rel=1e-4)


def test_dead_units_are_counted_on_the_whole_training_set():
    spec = saturation.RunSpec(replace(TINY_NET, activation="relu"), 0.3, 0)
    (run,) = saturation.train_runs([spec], TINY_TRAIN)
    model = _reference_model(spec)
    split = digits_split(rng=0)
    train_classifier(model, split.x_train, split.y_train,
                     replace(TINY_TRAIN, lr=spec.lr, seed=spec.seed))
    zs = _pre_activations(model, split.x_train)
    np.testing.assert_allclose(run.final_dead, [(z <= 0).all(axis=0).mean() for z in zs])
    assert 0 <= run.dead[0, 0] <= run.saturated[0, 0] <= 1


def test_checkpoints_and_record_spacing():
    spec = saturation.RunSpec(replace(TINY_NET, activation="relu"), 0.1, 0)
    train4 = replace(TINY_TRAIN, epochs=4)
    (run,) = saturation.train_runs([spec], train4, every=2, checkpoints=(2, 0))
    assert run.epochs_recorded.tolist() == [0, 2, 4]
    assert run.eval_epochs.tolist() == [0, 2, 4]
    (short,) = saturation.train_runs([spec], replace(train4, epochs=2))
    assert run.at(2) == pytest.approx((short.final_loss, short.final_train_acc,
                                       short.test_acc), rel=1e-6)
    np.testing.assert_allclose(run.mean[1], short.mean[-1], rtol=1e-6)
    assert run.at(4) == (run.final_loss, run.final_train_acc, run.test_acc)
    with pytest.raises(ValueError, match="evaluated"):
        run.at(3)
    with pytest.raises(ValueError, match="divide"):
        saturation.train_runs([spec], train4, every=3)
    with pytest.raises(ValueError, match="checkpoint"):
        saturation.train_runs([spec], train4, checkpoints=(5,))
    with pytest.raises(ValueError, match="sequence"):
        saturation.train_runs([spec], train4, checkpoints=3)


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


def test_controls_and_outcomes():
    runs = saturation.sweep(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3), seeds=(0, 1))
    arms = (saturation.Arm("shifted", "sigmoid", "standard", shifted=True),
            saturation.Arm("big", "sigmoid", "xavier", gain=4.0))
    ctl = saturation.controls(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3), seeds=(0, 1), arms=arms)
    assert set(ctl) == {(a.key, lr, s) for a in arms for lr in (0.03, 0.3) for s in (0, 1)}
    assert ctl[("big", 0.3, 1)].spec.gain == 4.0 and ctl[("shifted", 0.3, 1)].spec.shifted
    out = saturation.outcomes(runs, ctl)
    assert len(out) == len(saturation.ACTIVATIONS) * len(saturation.INITS) + len(arms)
    by_key = {o.arm.key: o for o in out}
    assert by_key["shifted"].value_at_0 == 0.0 and by_key["sigmoid-standard"].value_at_0 == 0.5
    keyed = {**{(f"{a}-{i}", lr, s): r for (a, i, lr, s), r in runs.items()}, **ctl}
    for o in out:
        rates = {lr: [r for (k, rate, _), r in keyed.items() if k == o.arm.key and rate == lr]
                 for lr in (0.03, 0.3)}
        assert o.lr == saturation.best_rate(rates)
        rs = rates[o.lr]
        assert o.test_acc == saturation.mean_and_error([r.test_acc for r in rs])
        assert o.chi == pytest.approx(np.mean([r.gain[0].mean()
                                               for v in rates.values() for r in v]))
    # the larger weights give the larger gain
    assert by_key["big"].chi > by_key["sigmoid-xavier"].chi
    with pytest.raises(ValueError, match="distinct"):
        saturation.controls(TINY_NET, TINY_TRAIN, arms=arms[:1] * 2)


def test_long_runs_and_the_comparison():
    runs = saturation.long_runs(TINY_NET, replace(TINY_TRAIN, epochs=2), lrs=(0.03, 0.3),
                                seeds=(0, 1), checkpoints=(1,))
    c = saturation.compare(runs)
    assert c.epochs == 2 and c.lrs == (0.03, 0.3) and c.num_seeds == 2
    for a in saturation.LONG_UNITS:
        rs = [runs[(a, c.best[a], s)] for s in (0, 1)]
        assert c.test_acc[a] == saturation.mean_and_error([r.test_acc for r in rs])
        assert [e for e, *_ in c.curve[a]] == [1, 2]
        assert c.curve[a][-1][1:] == pytest.approx(c.test_acc[a])
        assert rs[0].epochs_recorded.tolist() == [0, 2]
    assert c.difference[0] == pytest.approx(c.test_acc["relu"][0] - c.test_acc["softplus"][0])
    assert c.comparable == all(c.train_acc[a][0] >= saturation.TRAINED
                               for a in saturation.LONG_UNITS)
    assert (c.relu_as_good is None) == (not c.comparable)


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
    th = [runs[("tanh", "standard", 0.3, s)] for s in (0, 1)]  # the largest rate
    onsets = saturation.onset_epochs(np.mean([r.saturated for r in th], 0))
    assert f.tanh_onsets == onsets
    assert f.tanh_onsets_by_seed == tuple(saturation.onset_epochs(r.saturated) for r in th)
    assert len(f.tanh_peak_saturated) == 2
    dead = [x for i in saturation.INITS for r in tuned[("relu", i)] for x in r.final_dead]
    assert f.relu_dead_range == (min(dead), max(dead))
    long = saturation.long_runs(TINY_NET, replace(TINY_TRAIN, epochs=2), lrs=(0.03, 0.3),
                                seeds=(0, 1), checkpoints=(1,))
    for table in (tables.learning_rate_table, tables.glorot_summary_table):
        headers, rows = table(runs)
        assert rows and all(len(r) == len(headers) for r in rows)
    headers, rows = tables.glorot_comparison_table(runs, saturation.compare(long))
    assert len(rows) == 7 and all(len(r) == len(headers) for r in rows)
    # the tanh row reports the largest rate, where the findings are measured, and the
    # peak of the other rate
    tanh_row = next(r for r in rows if r[0].startswith("Tanh, standard init: saturation"))
    assert "\\eta = 0.3$" in tanh_row[1]
    assert f"no layer exceeds ${f.tanh_peak_saturated[0]:.2f}$" in tanh_row[1]
    ctl = saturation.controls(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3), seeds=(0, 1),
                              arms=saturation.CONTROLS[:1])
    out = saturation.outcomes(runs, ctl)
    headers, rows = tables.control_table(out)
    assert len(rows) == len(out) and all(len(r) == len(headers) for r in rows)


def test_onset_epochs():
    a = np.array([[0.0, 0.0], [0.02, 0.0], [0.05, 0.0]])
    assert saturation.onset_epochs(a) == (1, None)
    with pytest.raises(ValueError, match="shape"):
        saturation.onset_epochs(np.zeros(3))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="activation"):
        saturation.RunSpec(replace(TINY_NET, activation="elu"), 0.1, 0)
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
    with pytest.raises(ValueError, match="gain"):
        saturation.RunSpec(TINY_NET, 0.1, 0, gain=0.0)
    with pytest.raises(ValueError, match="shifted"):
        saturation.RunSpec(TINY_NET, 0.1, 0, shifted=1)
    with pytest.raises(ValueError, match="key"):
        saturation.Arm("", "relu", "standard")
    with pytest.raises(ValueError, match="activation"):
        saturation.Arm("x", "elu", "standard")
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
        saturation.slope("elu", torch.zeros(3))
    with pytest.raises(ValueError, match="torch.Tensor"):
        saturation.slope("relu", np.zeros(3))
    with pytest.raises(ValueError, match="sweep"):
        saturation.best_learning_rates({})
    with pytest.raises(ValueError, match="controls"):
        saturation.outcomes(saturation.sweep(TINY_NET, TINY_TRAIN, lrs=(0.03, 0.3),
                                             seeds=(0, 1)), {})
    with pytest.raises(ValueError, match="long_runs"):
        saturation.compare({})
    with pytest.raises(ValueError, match="by_rate"):
        saturation.best_rate({})
    with pytest.raises(ValueError, match="two"):
        saturation.mean_and_error([1.0])


@pytest.mark.slow
def test_rectifier_beats_softplus_on_other_seeds():
    """The chapter's verdict (seeds 0 to 4): both units train, and ReLU's test accuracy is
    higher by more than two standard errors of the difference. It holds on seeds 3 to 7."""
    c = saturation.compare(saturation.long_runs(seeds=(3, 4, 5, 6, 7)))
    assert c.comparable and c.relu_as_good and c.difference[0] > 2 * c.difference[1]
