"""Backpropagated errors delta_l = dL/dz_l in deep nets: the sigmoid bound and its price.

For z_l = W_l h_{l-1} + b_l and h_l = phi(z_l), backpropagation reads
delta_l = S_l W_{l+1}^T delta_{l+1} with S_l = diag(phi'(z_l)); for the sigmoid
||S_l||_op <= 1/4, hence ||delta_i|| <= prod_{l=i+1}^{j} (||W_l||_op / 4) ||delta_j||.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy import optimize

from hiddenunits.activations import LABELS, NAMES, dphi
from hiddenunits.claims import claim
from hiddenunits.data import digits
from hiddenunits.figures import figure
from hiddenunits.nets import make_mlp
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

_TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@dataclass(frozen=True)
class DeepNet:
    """A random deep net z_l = W_l h_{l-1}, h_l = phi(z_l), W_l ~ N(0, g^2/n) i.i.d."""

    depth: int = 10  # number of hidden layers D
    width: int = 100  # n: every layer is n x n
    weight_scale: float = 1.0  # g
    num_examples: int = 64  # inputs x ~ N(0, I_n)
    seed: int = 0
    activation: str = "sigmoid"

    def __post_init__(self):
        if self.depth < 1 or self.width < 1 or self.num_examples < 1:
            raise ValueError(f"depth, width and num_examples must be positive: {self}")
        if not (math.isfinite(self.weight_scale) and self.weight_scale > 0):
            raise ValueError(f"weight_scale must be positive and finite: {self}")
        if self.activation not in _TORCH_ACT:
            raise ValueError(f"activation must be one of {sorted(_TORCH_ACT)}: {self}")


@lru_cache(maxsize=64)
def backprop_deltas(net: DeepNet) -> tuple[list[np.ndarray], list[np.ndarray],
                                           list[np.ndarray]]:
    """(weights W_l (n, n), pre-activations z_l (N, n), errors delta_l (N, n)), l = 1..L.

    The loss is L = sum_i c_i . h_D(x_i) with random c_i, so delta_D is arbitrary; the
    deltas come from PyTorch's autograd in float64 (not from the recursion above).
    """
    rng = np.random.default_rng(net.seed)
    n = net.width
    weights = [rng.normal(0.0, net.weight_scale / math.sqrt(n), (n, n))
               for _ in range(net.depth)]
    x = torch.tensor(rng.normal(size=(net.num_examples, n)))  # (N, n)
    c = torch.tensor(rng.normal(size=(net.num_examples, n)))  # (N, n)
    act = _TORCH_ACT[net.activation]
    h, zs = x, []
    with limited_threads():
        for w in weights:
            z = h @ torch.tensor(w).T
            z = z.requires_grad_(True) if not zs else z
            z.retain_grad()
            zs.append(z)
            h = act(z)
        (h * c).sum().backward()
    return (weights, [z.detach().numpy() for z in zs], [z.grad.numpy() for z in zs])


def bound_ratios(net: DeepNet, factor: float = 0.25) -> np.ndarray:
    """||delta_i|| / (prod_{l=i+1}^{j} factor ||W_l||_op  ||delta_j||) over all examples
    and all layer pairs i < j (the theorem says <= 1 for the sigmoid and factor 1/4)."""
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"factor must be positive and finite, got {factor!r}")
    if net.depth < 2:
        raise ValueError("the bound compares two layers: need depth >= 2")
    weights, _, deltas = backprop_deltas(net)
    with limited_threads():
        gains = [factor * np.linalg.norm(w, 2) for w in weights]  # factor ||W_l||_op
    norms = np.stack([np.linalg.norm(d, axis=1) for d in deltas])  # (L, N)
    ratios = []
    for i in range(net.depth):
        for j in range(i + 1, net.depth):
            bound = np.prod(gains[i + 1:j + 1]) * norms[j]  # (N,)
            # where sigma' underflows both sides are 0 and 0 <= 0 holds: ratio 0, not 0/0
            ratio = np.divide(norms[i], bound, out=np.zeros_like(bound), where=bound > 0)
            ratio[(bound == 0) & (norms[i] > 0)] = np.inf  # a violation, never hidden
            ratios.append(ratio)
    return np.concatenate(ratios)


THEOREM_NETS = tuple(DeepNet(depth=d, width=n, weight_scale=g, num_examples=8, seed=s)
                     for s, (d, n, g) in enumerate(
                         [(d, n, g) for d in (2, 5, 12) for n in (4, 32)
                          for g in (0.5, 2.0, 8.0, 32.0)]))


@claim("thm-sigmoid-vanishing", chapter="activations",
       statement="sigmoid nets: ||delta_i|| <= prod_{l=i+1}^{j} (||W_l||_op/4) ||delta_j||",
       method="numeric", tolerance=1e-12)
def check_sigmoid_vanishing() -> float:
    # Norms of float64 products of <= 12 matrices of width <= 32: relative round-off is at
    # most about depth * width * eps = 12 * 32 * 1.1e-16 = 4e-14, far below 1e-12.
    worst = max(float(bound_ratios(net).max()) for net in THEOREM_NETS)
    return max(0.0, worst - 1.0)


# ---------------------------------------------------------------------------------------
# The price of escaping the bound: the gain window of one sigmoid unit.
# ---------------------------------------------------------------------------------------

def gain_window_length(w: float) -> float:
    """Length of {h : |w| sigma'(w h + b) >= 1}: (4/|w|) arccosh(sqrt(|w|)/2), 0 if |w| < 4."""
    w = abs(float(w))
    if not math.isfinite(w):
        raise ValueError("w must be finite")
    if w < 4.0:
        return 0.0
    return 4.0 / w * math.acosh(math.sqrt(w) / 2.0)


def widest_gain_window() -> tuple[float, float]:
    """(w*, l*): the weight with the widest gain window and its length.

    With u = sqrt(w)/2 the length is arccosh(u)/u^2, stationary where
    u / sqrt(u^2 - 1) = 2 arccosh(u).
    """
    u = optimize.brentq(lambda u: u / math.sqrt(u * u - 1) - 2 * math.acosh(u), 1.0001, 10.0,
                        xtol=1e-15)
    return 4 * u * u, math.acosh(u) / u**2


def measured_window_length(w: float, b: float = 0.0, step: float = 1e-5) -> float:
    """The gain window measured on a grid of h with spacing ``step`` (brute force)."""
    if not step > 0:
        raise ValueError("step must be positive")
    h = np.arange(-8.0, 8.0, step) - b / w if w != 0 else np.arange(-8.0, 8.0, step)
    gain = abs(w) * dphi("sigmoid", w * h + b)
    return float(np.count_nonzero(gain >= 1.0) * step)


@claim("cor-sigmoid-gain-window", chapter="activations",
       statement="|w| sigma'(wh+b) >= 1 needs |w| >= 4 and h in a window of length <= l*",
       method="numeric", tolerance=2e-4)
def check_gain_window() -> float:
    # A grid of spacing 1e-5 measures an interval's length to within 2 spacings = 2e-5 per
    # window; the maximum over the w-grid (spacing 0.01 near a smooth maximum) is within
    # ~1e-5 of l*. Tolerance 2e-4 covers both with a factor >= 5.
    err = 0.0
    for w, b in [(1.0, 0.0), (3.99, 1.0), (4.5, -2.0), (6.0, 0.5), (-10.0, 3.0), (50.0, 0.0)]:
        err = max(err, abs(measured_window_length(w, b) - gain_window_length(w)))
    w_star, l_star = widest_gain_window()
    ws = np.arange(4.0, 40.0, 0.01)
    lengths = np.array([gain_window_length(w) for w in ws])
    err = max(err, abs(lengths.max() - l_star), abs(ws[lengths.argmax()] - w_star) / 100)
    err = max(err, abs(measured_window_length(w_star) - l_star))
    return err


# ---------------------------------------------------------------------------------------
# Measurements for the figures.
# ---------------------------------------------------------------------------------------

ESCAPE_SETUP = {"depth": 10, "width": 100, "num_examples": 200}


@lru_cache(maxsize=64)
def escape_curve(weight_scale: float, depth: int = ESCAPE_SETUP["depth"],
                 width: int = ESCAPE_SETUP["width"],
                 num_examples: int = ESCAPE_SETUP["num_examples"],
                 seed: int = 0) -> tuple[float, float, float]:
    """(median ||delta_1||/||delta_D||, the bound prod (||W_l||/4), mean saturated fraction)
    for a random sigmoid net; a unit is saturated when sigma'(z) < 1% of its maximum 1/4."""
    net = DeepNet(depth, width, weight_scale, num_examples, seed)
    weights, zs, deltas = backprop_deltas(net)
    ratio = np.linalg.norm(deltas[0], axis=1) / np.linalg.norm(deltas[-1], axis=1)
    with limited_threads():
        bound = float(np.prod([np.linalg.norm(w, 2) / 4 for w in weights[1:]]))
    saturated = float(np.mean([np.mean(dphi("sigmoid", z) < 0.0025) for z in zs]))
    return float(np.median(ratio)), bound, saturated


ESCAPE_SCALES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


@figure("activations")
def fig_sigmoid_escape() -> Figure:
    """Gradient ratio, its bound and the saturated fraction vs the weight scale g."""
    fig, (ax0, ax1) = new_figure(1, 2, height=3.0)
    data = np.array([escape_curve(g) for g in ESCAPE_SCALES])  # (S, 3)
    ax0.loglog(ESCAPE_SCALES, data[:, 0], "o-", color=COLORS["blue"],
               label="measured $\\|\\delta_1\\| / \\|\\delta_D\\|$ (median)")
    ax0.loglog(ESCAPE_SCALES, data[:, 1], "s--", color=COLORS["orange"],
               label="bound $\\prod_{\\ell\\geq 2} \\|W_\\ell\\|_{op}/4$")
    ax0.axhline(1.0, color=COLORS["grey"], lw=0.8)
    ax0.set(xlabel="weight scale $g$", ylabel="ratio",
            title=f"sigmoid, $D = {ESCAPE_SETUP['depth']}$, $n = {ESCAPE_SETUP['width']}$")
    ax0.legend(loc="upper left")
    ax1.semilogx(ESCAPE_SCALES, data[:, 2], "o-", color=COLORS["vermillion"])
    ax1.set(xlabel="weight scale $g$", ylabel="fraction saturated",
            title="units with $\\sigma'(z) < 0.01 \\cdot \\frac{1}{4}$", ylim=(0, 1))
    return fig


LAYER_GRADIENT_SETUP = {"depth": 10, "width": 100, "num_examples": 256}


@lru_cache(maxsize=64)
def layer_gradient_norms(activation: str, init: str,
                         depth: int = LAYER_GRADIENT_SETUP["depth"],
                         width: int = LAYER_GRADIENT_SETUP["width"],
                         num_examples: int = LAYER_GRADIENT_SETUP["num_examples"],
                         seed: int = 0) -> np.ndarray:
    """||dL/dW_l||_F for l = 1..depth+1 of a fresh ``make_mlp`` on digits (cross-entropy)."""
    if num_examples < 1:
        raise ValueError("num_examples must be positive")
    x, y = digits()
    x, y = torch.as_tensor(x[:num_examples]), torch.as_tensor(y[:num_examples])
    with limited_threads():
        model = make_mlp([x.shape[1]] + [width] * depth + [10], activation, init, rng=seed)
        torch.nn.functional.cross_entropy(model(x), y).backward()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    return np.array([float(m.weight.grad.norm()) for m in linears])


@figure("activations")
def fig_layer_gradients() -> Figure:
    """Per-layer weight-gradient norms at initialisation, standard vs normalised init."""
    fig, axes = new_figure(1, 2, height=3.4, sharey=True)
    colors = [COLORS[c] for c in ("blue", "orange", "green", "sky", "vermillion",
                                  "purple", "black", "grey")]
    styles = ["-", "-", "-", ":", "--", "-.", "-", "--"]
    for ax, init, title in zip(axes, ("standard", "xavier"),
                               ("standard init", "normalised (Xavier) init"), strict=True):
        for name, c, ls in zip(NAMES, colors, styles, strict=True):
            g = layer_gradient_norms(name, init)
            ax.semilogy(np.arange(1, g.size + 1), g, ls, color=c, marker=".",
                        label=LABELS[name])
        ax.set(xlabel="layer $\\ell$ (1 = nearest the input)", title=title)
    axes[0].set_ylabel("$\\|\\partial L / \\partial W_\\ell\\|_F$")
    axes[1].legend(ncol=2, loc="lower right", fontsize=7.5)
    return fig
