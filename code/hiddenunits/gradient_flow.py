"""Backpropagated errors delta_l = dL/dz_l in deep nets: the sigmoid bound and its price.

For z_l = W_l h_{l-1} + b_l and h_l = phi(z_l), backpropagation reads
delta_l = S_l W_{l+1}^T delta_{l+1} with S_l = diag(phi'(z_l)); for the sigmoid
||S_l||_op <= 1/4, hence ||delta_i|| <= prod_{l=i+1}^{j} (||W_l||_op / 4) ||delta_j||.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
from scipy import optimize

from hiddenunits.activations import NAMES, SATURATED, dphi
from hiddenunits.data import digits
from hiddenunits.nets import MLPConfig
from hiddenunits.threads import limited_threads
from hiddenunits.validation import check_choice, check_int, check_real, check_seed

_TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@dataclass(frozen=True)
class DeepNet:
    """A random deep net z_l = W_l h_{l-1}, h_l = phi(z_l), W_l ~ N(0, g^2/n) i.i.d.

    There are ``depth`` hidden layers l = 1..D, all of width n, no biases and no output
    layer: the loss is L = sum_i c_i . h_D(x_i) with random c_i.
    """

    depth: int = 10
    """D, the number of hidden layers (>= 1)."""
    width: int = 100
    """n: every layer is n x n."""
    weight_scale: float = 1.0
    """g > 0."""
    num_examples: int = 64
    """Inputs x ~ N(0, I_n)."""
    seed: int = 0
    """Seed of the weights, the inputs and the c_i."""
    activation: str = "sigmoid"
    """``"sigmoid"``, ``"tanh"`` or ``"relu"``."""

    def __post_init__(self):
        check_int("depth", self.depth, minimum=1)
        check_int("width", self.width, minimum=1)
        check_real("weight_scale", self.weight_scale, low=0.0, low_open=True)
        check_int("num_examples", self.num_examples, minimum=1)
        check_seed(self.seed)
        check_choice("activation", self.activation, _TORCH_ACT)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=64)
def backprop_deltas(net: DeepNet) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...],
                                           tuple[np.ndarray, ...]]:
    """(weights W_l (n, n), pre-activations z_l (N, n), errors delta_l (N, n)), l = 1..D.

    The deltas come from PyTorch's autograd in float64 (not from the recursion above).
    Cached; the arrays are read-only.
    """
    if not isinstance(net, DeepNet):
        raise ValueError(f"net must be a DeepNet, got {type(net).__name__}")
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
    return (tuple(_read_only(w) for w in weights),
            tuple(_read_only(z.detach().numpy()) for z in zs),
            tuple(_read_only(z.grad.numpy()) for z in zs))


# ---------------------------------------------------------------------------------------
# The price of escaping the bound: the gain window of one sigmoid unit.
# ---------------------------------------------------------------------------------------

def gain_window_length(w: float) -> float:
    """Length of {h : |w| sigma'(w h + b) >= 1}: (4/|w|) arccosh(sqrt(|w|)/2), 0 if |w| < 4."""
    w = abs(check_real("w", w))
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


def gain_window(w: float, b: float = 0.0, lo: float = -8.0, hi: float = 8.0,
                step: float = 1e-3) -> tuple[float, float] | None:
    """The interval {h in [lo, hi] : |w| sigma'(w h + b) >= 1}, found without its formula.

    A scan of h with spacing ``step`` brackets the ends of the set, and Brent's method
    locates them to round-off; None when the scan finds no h with gain >= 1 (the set
    is an interval or empty, since sigma' is unimodal).
    """
    w, b = check_real("w", w), check_real("b", b)
    lo, hi = check_real("lo", lo), check_real("hi", hi)
    step = check_real("step", step, low=0.0, low_open=True)
    if not lo < hi:
        raise ValueError(f"need lo < hi, got {lo} and {hi}")

    def excess(h: float) -> float:
        return abs(w) * dphi("sigmoid", w * h + b) - 1.0

    h = np.arange(lo, hi + step / 2, step)
    inside = np.flatnonzero(abs(w) * dphi("sigmoid", w * h + b) >= 1.0)
    if inside.size == 0:
        return None
    first, last = inside[0], inside[-1]
    if first == 0 or last == h.size - 1:
        raise ValueError("the window reaches the end of the scan: widen [lo, hi]")
    left = optimize.brentq(excess, h[first - 1], h[first], xtol=1e-15, rtol=1e-15)
    right = optimize.brentq(excess, h[last], h[last + 1], xtol=1e-15, rtol=1e-15)
    return left, right


def measured_window_length(w: float, b: float = 0.0, step: float = 1e-3) -> float:
    """Length of :func:`gain_window` (0 when there is none)."""
    window = gain_window(w, b, step=step)
    return 0.0 if window is None else window[1] - window[0]


# ---------------------------------------------------------------------------------------
# Measurements for the figures.
# ---------------------------------------------------------------------------------------

ESCAPE_NET = DeepNet(depth=10, width=100, num_examples=200)
"""The random sigmoid nets of the escape experiment (the weight scale varies)."""
ESCAPE_SCALES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The weight scales g of the escape experiment."""


@lru_cache(maxsize=64)
def escape_curve(net: DeepNet) -> tuple[float, float, float]:
    """(median ||delta_1||/||delta_D||, the bound prod_{l>=2} ||W_l||/4, mean saturated
    fraction) for a random sigmoid ``net``; a unit is saturated when sigma'(z) is below
    ``activations.SATURATED`` times its maximum 1/4."""
    if not isinstance(net, DeepNet) or net.activation != "sigmoid":
        raise ValueError("net must be a sigmoid DeepNet")
    weights, zs, deltas = backprop_deltas(net)
    ratio = np.linalg.norm(deltas[0], axis=1) / np.linalg.norm(deltas[-1], axis=1)
    with limited_threads():
        bound = float(np.prod([np.linalg.norm(w, 2) / 4 for w in weights[1:]]))
    level = SATURATED * 0.25  # sup sigma' = 1/4
    saturated = float(np.mean([np.mean(dphi("sigmoid", z) < level) for z in zs]))
    return float(np.median(ratio)), bound, saturated


def escape_curves(net: DeepNet = ESCAPE_NET,
                  scales: tuple[float, ...] = ESCAPE_SCALES) -> np.ndarray:
    """(S, 3): :func:`escape_curve` of ``net`` with each weight scale of ``scales``."""
    if not isinstance(net, DeepNet):
        raise ValueError(f"net must be a DeepNet, got {type(net).__name__}")
    return np.array([escape_curve(replace(net, weight_scale=check_real("scale", g, low=0.0,
                                                                       low_open=True)))
                     for g in scales])


LAYER_GRADIENT_NET = MLPConfig(depth=10, width=100)
"""The MLPs of the per-layer profiles at initialisation (activation and init vary)."""
LAYER_GRADIENT_EXAMPLES = 128
"""The number of digits (the first ones) on which the profiles are taken."""


@dataclass(frozen=True)
class LayerProfile:
    """Per-layer quantities of a fresh MLP on digits (arrays read-only; layer 1 first).

    With z_l = W_l h_(l-1) + b_l, h_l = phi(z_l) and delta_l = dL_i/dz_l the error of one
    example's loss L_i, for the hidden layers l = 1..D.
    """

    config: MLPConfig
    """The network (``config.build(64, 10, rng)``)."""
    weight_grad: np.ndarray
    """(D + 1,) ||dL/dW_l||_F of the mean loss L, the output layer last."""
    delta: np.ndarray
    """(D,) root mean square over the examples of ||delta_l||."""
    spread: np.ndarray
    """(D,) input-dependent spread of h_l: the root mean square over units of each unit's
    standard deviation over the examples."""
    rms: np.ndarray
    """(D,) root mean square of h_l over units and examples."""
    slope_sq: np.ndarray
    """(D,) mean of phi'(z_l)^2 over units and examples."""
    sigma_w2: float
    """n E[W_ij^2] over the square hidden-to-hidden weights W_2..W_D (n the width): 1/3
    for the standard initialisation, 1 for Xavier's."""

    def __post_init__(self):
        for name in ("weight_grad", "delta", "spread", "rms", "slope_sq"):
            object.__setattr__(self, name, _read_only(np.array(getattr(self, name),
                                                               dtype=np.float64)))

    @property
    def gain(self) -> np.ndarray:
        """(D,) chi_l = sigma_w^2 E[phi'(z_l)^2], the mean-field gain of layer l."""
        return self.sigma_w2 * self.slope_sq

    def delta_decay(self) -> tuple[float, float]:
        """(measured, predicted) log10 of ||delta_1|| / ||delta_D||; the prediction is
        sum_{l=1}^{D-1} log10 sqrt(chi_l)."""
        return (float(np.log10(self.delta[0] / self.delta[-1])),
                float(0.5 * np.sum(np.log10(self.gain[:-1]))))

    def spread_decay(self) -> tuple[float, float]:
        """(measured, predicted) log10 of spread(h_D) / spread(h_1); the prediction is
        sum_{l=2}^{D} log10 sqrt(chi_l)."""
        return (float(np.log10(self.spread[-1] / self.spread[0])),
                float(0.5 * np.sum(np.log10(self.gain[1:]))))


@lru_cache(maxsize=64)
def _layer_profile(config: MLPConfig, num_examples: int, seed: int) -> LayerProfile:
    x, y = digits()
    x = torch.as_tensor(x[:num_examples], dtype=torch.float64)
    y = torch.as_tensor(y[:num_examples])
    with limited_threads():
        # float64: the spread of a sigmoid layer deep in the net is ~1e-8 of its mean
        model = config.build(x.shape[1], 10, rng=seed).double()
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        h, zs, hs = x, [], []
        for m in model:
            h = m(h)
            if isinstance(m, torch.nn.Linear) and len(zs) < config.depth:
                h.retain_grad()
                zs.append(h)
            elif not isinstance(m, torch.nn.Linear):
                hs.append(h)
        torch.nn.functional.cross_entropy(h, y).backward()
        grads = [m.weight.grad.norm().item() for m in linears]
        # dL/dz of the mean loss is delta_i / N for each example i
        delta = [(z.grad * num_examples).norm(dim=1).square().mean().sqrt().item() for z in zs]
        act = config.activation
        slope_sq = [float(np.mean(dphi(act, z.detach().numpy()) ** 2)) for z in zs]
        hidden = [g.detach().numpy() for g in hs]
        spread = [float(np.sqrt(g.var(axis=0).mean())) for g in hidden]
        rms = [float(np.sqrt(np.mean(g**2))) for g in hidden]
        square = [m.weight.detach().numpy() for m in linears[1:config.depth]]
        sigma_w2 = (config.width * float(np.mean([np.mean(w**2) for w in square]))
                    if square else math.nan)
    return LayerProfile(config, grads, delta, spread, rms, slope_sq, sigma_w2)


def layer_profile(config: MLPConfig, num_examples: int = LAYER_GRADIENT_EXAMPLES,
                  rng: int = 0) -> LayerProfile:
    """The :class:`LayerProfile` of a fresh MLP on the first ``num_examples`` digits.

    The MLP is ``config.build(64, 10, rng)`` (``rng`` a seed; ``config.activation`` one of
    ``activations.NAMES``), in float64, and L the mean cross-entropy.  Cached.
    """
    if not isinstance(config, MLPConfig):
        raise ValueError(f"config must be an MLPConfig, got {type(config).__name__}")
    if config.activation not in NAMES:
        raise ValueError(f"config.activation must be one of {NAMES}")
    if config.depth < 2:
        raise ValueError("config.depth must be at least 2 (a layer-to-layer gain)")
    num_examples = check_int("num_examples", num_examples, minimum=2,
                             maximum=len(digits()[1]))
    return _layer_profile(config, num_examples, check_int("rng", rng, minimum=0))
