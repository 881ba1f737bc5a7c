"""The Glorot & Bengio style runs: relative slopes, recorded statistics and tables."""

import numpy as np
import pytest
import torch

from hiddenunits import activations, saturation
from hiddenunits.data import digits_split
from hiddenunits.nets import hidden_outputs, make_mlp

TINY = saturation.GlorotConfig(depth=2, width=8, epochs=2, batch_size=256, lr=0.1)


@pytest.mark.parametrize("name", saturation.ACTIVATIONS)
def test_relative_slope_from_outputs_matches_the_derivative(name):
    z = np.linspace(-6, 6, 121)
    z = z[np.abs(z) > 1e-9]  # ReLU's slope at 0 is a convention
    h = torch.tensor(activations.phi(name, z))
    sup = activations.activation_properties(name, with_cost=False).max_derivative
    np.testing.assert_allclose(saturation.relative_slope(name, h).numpy(),
                               activations.dphi(name, z) / sup, rtol=1e-9, atol=1e-12)


def test_recorded_statistics_match_an_independent_forward_pass():
    run = saturation.glorot_run("tanh", "xavier", TINY)
    assert run.train_loss.shape == (TINY.epochs + 1,)
    assert run.mean.shape == run.slope.shape == (TINY.epochs + 1, TINY.depth)
    # row 0 is the untrained network: recompute it from a fresh model with the same seed
    split = digits_split(seed=TINY.split_seed)
    model = make_mlp([64] + [TINY.width] * TINY.depth + [10], "tanh", "xavier",
                     seed=TINY.seed)
    with torch.no_grad():
        hs = hidden_outputs(model, torch.as_tensor(split.x_train))
    np.testing.assert_allclose(run.mean[0], [h.mean().item() for h in hs], rtol=1e-5)
    np.testing.assert_allclose(run.slope[0], [(1 - h**2).mean().item() for h in hs],
                               rtol=1e-5)
    assert np.all((run.saturated >= 0) & (run.saturated <= 1))


def test_hooks_are_removed_after_a_run():
    run = saturation.glorot_run("relu", "standard", TINY)
    assert np.isfinite(run.train_loss).all()
    # a second, identical run is served from the cache and is the same object
    assert saturation.glorot_run("relu", "standard", TINY) is run


def test_tables_have_one_row_per_run_and_per_finding():
    rows = saturation.summary_rows(TINY)
    assert len(rows) == len(saturation.ACTIVATIONS) * len(saturation.INITS)
    assert all(len(r) == len(saturation.SUMMARY_HEADERS) for r in rows)
    comparison = saturation.comparison_rows(TINY)
    assert len(comparison) == 7
    assert all(len(r) == len(saturation.COMPARISON_HEADERS) for r in comparison)
    assert all("{cite:p}" in r[0] for r in comparison)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="positive"):
        saturation.GlorotConfig(depth=0)
    with pytest.raises(ValueError, match="momentum"):
        saturation.GlorotConfig(momentum=1.0)
    with pytest.raises(ValueError, match="activation"):
        saturation.glorot_run("gelu", "standard", TINY)
    with pytest.raises(ValueError, match="activation"):
        saturation.relative_slope("elu", torch.zeros(3))
