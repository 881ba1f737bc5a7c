"""The sigmoid vanishing-gradient bound, the gain window and per-layer gradients."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.special import expit

from hiddenunits import gradient_flow as G
from hiddenunits.data import digits
from hiddenunits.nets import MLPConfig, hidden_outputs


def test_autograd_deltas_follow_the_backprop_recursion():
    net = G.DeepNet(depth=4, width=6, weight_scale=2.0, num_examples=3, seed=5)
    weights, zs, deltas = G.backprop_deltas(net)
    for ell in range(net.depth - 1):
        s = expit(zs[ell])
        recursion = (s * (1 - s)) * (deltas[ell + 1] @ weights[ell + 1])  # S W^T delta
        np.testing.assert_allclose(deltas[ell], recursion, rtol=1e-12, atol=1e-300)


def test_cached_deltas_are_read_only():
    weights, zs, deltas = G.backprop_deltas(G.DeepNet(depth=2, width=3, num_examples=2))
    for a in (weights[0], zs[1], deltas[0]):
        with pytest.raises(ValueError, match="read-only"):
            a[0, 0] = 1.0


def test_zero_errors_are_not_reported_as_violations():
    from hiddenunits.book.checks.activations import bound_ratios

    # with huge weights sigma' underflows to 0 and deltas vanish exactly
    net = G.DeepNet(depth=3, width=4, weight_scale=5000.0, num_examples=4)
    ratios = bound_ratios(net)
    assert np.all(np.isfinite(ratios)) and ratios.max() <= 1.0


def _grid_window_length(w, b, step=1e-5):
    """The window measured by counting grid points (an independent, coarse reference)."""
    h = np.arange(-8.0, 8.0, step) - b / w
    gain = abs(w) * expit(w * h + b) * (1 - expit(w * h + b))
    return float(np.count_nonzero(gain >= 1.0) * step)


@pytest.mark.parametrize("w, b", [(4.5, 0.0), (10.0, -3.0), (-25.0, 2.0)])
def test_gain_window_matches_brute_force(w, b):
    # the grid count is good to two grid spacings; Brent's ends to round-off
    assert G.measured_window_length(w, b) == pytest.approx(_grid_window_length(w, b), abs=3e-5)
    assert G.measured_window_length(w, b) == pytest.approx(G.gain_window_length(w), abs=1e-13)


def test_gain_window_ends_have_gain_one():
    left, right = G.gain_window(7.0, 1.5)
    for h in (left, right):
        assert 7.0 * expit(7.0 * h + 1.5) * (1 - expit(7.0 * h + 1.5)) == pytest.approx(1.0,
                                                                                     abs=1e-14)


def test_no_window_below_four_and_widest_window():
    assert G.gain_window_length(3.999) == 0.0
    assert G.gain_window(3.9) is None and G.measured_window_length(3.9) == 0.0
    w_star, l_star = G.widest_gain_window()
    ws = np.linspace(4.0, 30.0, 26_001)
    lengths = np.array([G.gain_window_length(w) for w in ws])
    assert ws[lengths.argmax()] == pytest.approx(w_star, abs=2e-3)
    assert lengths.max() == pytest.approx(l_star, abs=1e-9)
    # asymptotics 2 ln w / w
    assert G.gain_window_length(1e8) == pytest.approx(2 * math.log(1e8) / 1e8, rel=0.01)


def test_escape_curve_respects_the_bound():
    net = G.DeepNet(depth=4, width=20, weight_scale=4.0, num_examples=16)
    ratio, bound, saturated = G.escape_curve(net)
    assert 0 < ratio <= bound and 0 <= saturated <= 1
    curves = G.escape_curves(net, (1.0, 4.0))
    assert curves.shape == (2, 3) and tuple(curves[1]) == (ratio, bound, saturated)


def test_layer_profile_against_an_independent_computation():
    # reference: per-example gradients by a loop over examples with autograd, float64
    config = MLPConfig(depth=3, width=8, activation="tanh", init="standard")
    p = G.layer_profile(config, num_examples=6, rng=2)
    x, y = digits()
    model = config.build(64, 10, rng=2).double()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    deltas = [[] for _ in range(config.depth)]
    for i in range(6):
        zs, h = [], torch.as_tensor(x[i:i + 1], dtype=torch.float64)
        for m in model:
            h = m(h)
            if isinstance(m, torch.nn.Linear) and len(zs) < config.depth:
                zs.append(h)
        grads = torch.autograd.grad(torch.nn.functional.cross_entropy(
            h, torch.as_tensor(y[i:i + 1])), zs)
        for k, g in enumerate(grads):
            deltas[k].append(g.norm().item())
    np.testing.assert_allclose(p.delta, np.sqrt(np.mean(np.square(deltas), axis=1)),
                               rtol=1e-10)
    with torch.no_grad():
        hs = [h.numpy() for h in hidden_outputs(model, torch.as_tensor(x[:6],
                                                                       dtype=torch.float64))]
    np.testing.assert_allclose(p.spread, [np.sqrt(h.var(axis=0).mean()) for h in hs],
                               rtol=1e-10)
    np.testing.assert_allclose(p.rms, [np.sqrt(np.mean(h**2)) for h in hs], rtol=1e-10)
    np.testing.assert_allclose(p.slope_sq, [np.mean((1 - h**2) ** 2) for h in hs], rtol=1e-10)
    assert p.weight_grad.shape == (config.depth + 1,) and np.all(p.weight_grad > 0)
    w = [m.weight.detach().numpy() for m in linears[1:config.depth]]
    assert p.sigma_w2 == pytest.approx(config.width * np.mean([np.mean(a**2) for a in w]))
    np.testing.assert_allclose(p.gain, p.sigma_w2 * p.slope_sq)
    assert not p.delta.flags.writeable


def test_layer_profile_decays_follow_the_gains_and_sigmoid_decays_fastest():
    # the mean-field prediction is an approximation: within half a decade on these nets
    config = MLPConfig(depth=6, width=64, activation="sigmoid", init="standard")
    sig = G.layer_profile(config, num_examples=64)
    tanh = G.layer_profile(replace(config, activation="tanh"), num_examples=64)
    for p in (sig, tanh):
        for measured, predicted in (p.delta_decay(), p.spread_decay()):
            assert measured < 0 and abs(measured - predicted) < 0.5
    assert sig.delta_decay()[0] < tanh.delta_decay()[0]
    assert sig.sigma_w2 == pytest.approx(1 / 3, rel=0.1)  # U(-1/sqrt(n), 1/sqrt(n))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="depth"):
        G.DeepNet(depth=0)
    with pytest.raises(ValueError, match="weight_scale"):
        G.DeepNet(weight_scale=math.nan)
    with pytest.raises(ValueError, match="activation"):
        G.DeepNet(activation="gelu")
    with pytest.raises(ValueError, match="seed"):
        G.DeepNet(seed=-1)
    with pytest.raises(ValueError, match="width"):
        G.DeepNet(width=2.5)
    with pytest.raises(ValueError, match="DeepNet"):
        G.backprop_deltas("net")
    with pytest.raises(ValueError, match="sigmoid DeepNet"):
        G.escape_curve(G.DeepNet(activation="tanh"))
    with pytest.raises(ValueError, match="scale"):
        G.escape_curves(G.DeepNet(depth=2, width=3, num_examples=2), (0.0,))
    with pytest.raises(ValueError, match="finite"):
        G.gain_window_length(math.inf)
    with pytest.raises(ValueError, match="step"):
        G.gain_window(5.0, step=0.0)
    with pytest.raises(ValueError, match="lo < hi"):
        G.gain_window(5.0, lo=1.0, hi=0.0)
    with pytest.raises(ValueError, match="widen"):
        G.gain_window(5.0, lo=-0.1, hi=0.1)
    with pytest.raises(ValueError, match="num_examples"):
        G.layer_profile(MLPConfig(depth=2), num_examples=1)
    with pytest.raises(ValueError, match="MLPConfig"):
        G.layer_profile("relu")
    with pytest.raises(ValueError, match="activation"):
        G.layer_profile(MLPConfig(depth=2, activation="linear"))
    with pytest.raises(ValueError, match="depth"):
        G.layer_profile(MLPConfig(depth=1))
    with pytest.raises(ValueError, match="rng"):
        G.layer_profile(MLPConfig(depth=2), rng=-2)
