"""The sigmoid vanishing-gradient bound, the gain window and per-layer gradients."""

import math

import numpy as np
import pytest
from scipy.special import expit

from hiddenunits import gradient_flow as G


def test_autograd_deltas_follow_the_backprop_recursion():
    net = G.DeepNet(depth=4, width=6, weight_scale=2.0, num_examples=3, seed=5)
    weights, zs, deltas = G.backprop_deltas(net)
    for ell in range(net.depth - 1):
        s = expit(zs[ell])
        recursion = (s * (1 - s)) * (deltas[ell + 1] @ weights[ell + 1])  # S W^T delta
        np.testing.assert_allclose(deltas[ell], recursion, rtol=1e-12, atol=1e-300)


def test_bound_holds_for_sigmoid_and_fails_for_tanh():
    assert G.check_sigmoid_vanishing() == 0.0
    tanh_net = G.DeepNet(depth=6, width=16, weight_scale=1.0, num_examples=8,
                         activation="tanh")
    assert G.bound_ratios(tanh_net).max() > 2.0  # tanh' reaches 1, not 1/4
    sig = G.DeepNet(depth=2, width=4, weight_scale=1.0, num_examples=8)
    assert G.bound_ratios(sig, factor=0.01).max() > 1.0  # a too small factor fails


def test_zero_errors_are_not_reported_as_violations():
    # with huge weights sigma' underflows to 0 and deltas vanish exactly
    net = G.DeepNet(depth=3, width=4, weight_scale=5000.0, num_examples=4)
    ratios = G.bound_ratios(net)
    assert np.all(np.isfinite(ratios)) and ratios.max() <= 1.0


@pytest.mark.parametrize("w, b", [(4.5, 0.0), (10.0, -3.0), (-25.0, 2.0)])
def test_gain_window_matches_brute_force(w, b):
    assert G.measured_window_length(w, b, step=1e-5) == pytest.approx(
        G.gain_window_length(w), abs=3e-5)


def test_no_window_below_four_and_widest_window():
    assert G.gain_window_length(3.999) == 0.0
    assert G.measured_window_length(3.9) == 0.0
    w_star, l_star = G.widest_gain_window()
    ws = np.linspace(4.0, 30.0, 26_001)
    lengths = np.array([G.gain_window_length(w) for w in ws])
    assert ws[lengths.argmax()] == pytest.approx(w_star, abs=2e-3)
    assert lengths.max() == pytest.approx(l_star, abs=1e-9)
    # asymptotics 2 ln w / w
    assert G.gain_window_length(1e8) == pytest.approx(2 * math.log(1e8) / 1e8, rel=0.01)


def test_escape_curve_respects_the_bound():
    ratio, bound, saturated = G.escape_curve(4.0, depth=4, width=20, num_examples=16)
    assert 0 < ratio <= bound and 0 <= saturated <= 1


def test_layer_gradient_norms_shapes_and_sigmoid_decay():
    g = G.layer_gradient_norms("sigmoid", "standard", depth=4, width=16, num_examples=32)
    assert g.shape == (5,) and np.all(g > 0)
    assert g[0] < g[-2]  # gradients shrink towards the input in a sigmoid net


def test_bad_input_raises():
    with pytest.raises(ValueError, match="positive"):
        G.DeepNet(depth=0)
    with pytest.raises(ValueError, match="weight_scale"):
        G.DeepNet(weight_scale=math.nan)
    with pytest.raises(ValueError, match="activation"):
        G.DeepNet(activation="gelu")
    with pytest.raises(ValueError, match="depth >= 2"):
        G.bound_ratios(G.DeepNet(depth=1, width=3, num_examples=2))
    with pytest.raises(ValueError, match="factor"):
        G.bound_ratios(G.DeepNet(depth=2, width=3, num_examples=2), factor=-1.0)
    with pytest.raises(ValueError, match="finite"):
        G.gain_window_length(math.inf)
    with pytest.raises(ValueError, match="num_examples"):
        G.layer_gradient_norms("relu", "xavier", num_examples=0)
