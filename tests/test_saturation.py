"""The Glorot & Bengio style runs: relative slopes, recorded statistics and findings."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from hiddenunits import activations, saturation
from hiddenunits.data import digits_split
from hiddenunits.nets import MLPConfig, TrainConfig, hidden_outputs

TINY_NET = MLPConfig(depth=2, width=8, activation="tanh", init="xavier")
TINY_TRAIN = TrainConfig(epochs=2, batch_size=256, lr=0.1)


@pytest.mark.parametrize("name", saturation.ACTIVATIONS)
def test_relative_slope_from_outputs_matches_the_derivative(name):
    z = np.linspace(-6, 6, 121)
    z = z[np.abs(z) > 1e-9]  # ReLU's slope at 0 is a convention
    h = torch.tensor(activations.phi(name, z))
    sup = activations.activation_properties(name, with_cost=False).max_derivative
    np.testing.assert_allclose(saturation.relative_slope(name, h).numpy(),
                               activations.dphi(name, z) / sup, rtol=1e-9, atol=1e-12)


def test_recorded_statistics_match_an_independent_forward_pass():
    run = saturation.glorot_run(TINY_NET, TINY_TRAIN, rng=3)
    assert run.train_loss.shape == (TINY_TRAIN.epochs + 1,)
    assert run.mean.shape == run.slope.shape == (TINY_TRAIN.epochs + 1, TINY_NET.depth)
    assert (run.activation, run.init) == ("tanh", "xavier")
    # row 0 is the untrained network: recompute it from a fresh model with the same seed
    split = digits_split(rng=0)
    model = TINY_NET.build(64, 10, rng=3)
    with torch.no_grad():
        hs = hidden_outputs(model, torch.as_tensor(split.x_train))
    np.testing.assert_allclose(run.mean[0], [h.mean().item() for h in hs], rtol=1e-5)
    np.testing.assert_allclose(run.slope[0], [(1 - h**2).mean().item() for h in hs],
                               rtol=1e-5)
    assert np.all((run.saturated >= 0) & (run.saturated <= 1))


def test_runs_are_cached_read_only_and_hooks_removed():
    net = replace(TINY_NET, activation="relu", init="standard")
    run = saturation.glorot_run(net, TINY_TRAIN)
    assert np.isfinite(run.train_loss).all()
    assert saturation.glorot_run(net, TINY_TRAIN) is run
    with pytest.raises(ValueError, match="read-only"):
        run.mean[0, 0] = 1.0
    # a second run with another split seed is a different run
    assert saturation.glorot_run(net, TINY_TRAIN, split_rng=1) is not run


def test_findings_are_read_off_the_runs():
    runs = saturation.all_runs(TINY_NET, TINY_TRAIN)
    assert len(runs) == len(saturation.ACTIVATIONS) * len(saturation.INITS)
    f = saturation.findings(runs)
    sig = runs[("sigmoid", "standard")]
    assert f.epochs == TINY_TRAIN.epochs
    assert (f.sigmoid_top_start, f.sigmoid_top_end) == (sig.mean[0, -1], sig.mean[-1, -1])
    assert f.sigmoid_top_verdict in ("yes", "partly", "no")
    acc = [runs[(a, i)].test_acc[-1] for a in ("tanh", "relu") for i in saturation.INITS]
    assert f.tanh_relu_worst_acc == pytest.approx(min(acc))
    assert f.sigmoid_worst == (f.sigmoid_best_acc < f.tanh_relu_worst_acc)
    assert f.tanh_bottom_first == (int(np.argmin(f.tanh_layer_slopes)) == 0)
    assert len(f.relu_softplus_acc) == len(saturation.INITS)


def test_tables_have_one_row_per_run_and_per_finding():
    from hiddenunits.book.tables import activations as tables

    runs = saturation.all_runs(TINY_NET, TINY_TRAIN)
    headers, rows = tables.glorot_summary_table(runs)
    assert len(rows) == len(runs) and all(len(r) == len(headers) for r in rows)
    headers, rows = tables.glorot_comparison_table(runs)
    assert len(rows) == 7 and all(len(r) == len(headers) for r in rows)
    assert all("{cite:p}" in r[0] for r in rows)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="activation"):
        saturation.glorot_run(replace(TINY_NET, activation="gelu"), TINY_TRAIN)
    with pytest.raises(ValueError, match="init"):
        saturation.glorot_run(replace(TINY_NET, init="he"), TINY_TRAIN)
    with pytest.raises(ValueError, match="depth"):
        saturation.glorot_run(replace(TINY_NET, depth=0), TINY_TRAIN)
    with pytest.raises(ValueError, match="MLPConfig"):
        saturation.glorot_run("sigmoid")
    with pytest.raises(ValueError, match="TrainConfig"):
        saturation.glorot_run(TINY_NET, {"epochs": 2})
    with pytest.raises(ValueError, match="rng"):
        saturation.glorot_run(TINY_NET, TINY_TRAIN, rng=-1)
    with pytest.raises(ValueError, match="split_rng"):
        saturation.glorot_run(TINY_NET, TINY_TRAIN, split_rng=1.5)
    with pytest.raises(ValueError, match="activation"):
        saturation.relative_slope("elu", torch.zeros(3))
    with pytest.raises(ValueError, match="torch.Tensor"):
        saturation.relative_slope("relu", np.zeros(3))
    with pytest.raises(ValueError, match="every"):
        saturation.findings({})
