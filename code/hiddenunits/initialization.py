"""Initialising deep networks: variance propagation, the standard variances, and depth.

Builds on :mod:`hiddenunits.nets` (``make_mlp``, ``init_linear_``, ``orthogonal_``,
``train_classifier``): this module measures what those initialisations do to signals,
singular values and training in deep networks.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp
import torch
from scipy import integrate, stats
from torch import nn

from hiddenunits import data, nets
from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

# The weight inits compared in the chapter, with the labels used in figures and tables.
INIT_LABELS = {
    "pytorch": "PyTorch default",
    "xavier": "Xavier (Glorot)",
    "lecun": "LeCun",
    "he": "He",
    "orthogonal": "orthogonal",
}


# --------------------------------------------------------------------------- validation
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_init(init: str) -> str:
    if init not in nets.INITS:
        raise ValueError(f"unknown initialisation {init!r}; choose one of {nets.INITS}")
    return init


# --------------------------------------------------------------------------- variances
def weight_variance(init: str, n_in: int, n_out: int) -> float:
    """Variance of one weight of an (n_out, n_in) layer under ``init`` (see ``nets.INITS``).

    pytorch/standard: 1/(3 n_in); xavier: 2/(n_in + n_out); lecun: 1/n_in; he: 2/n_in;
    orthogonal (gain 1): 1/max(n_in, n_out), since each orthonormal row or column has unit
    norm spread over that many entries.
    """
    init = _check_init(init)
    n_in = _check_int("n_in", n_in, 1)
    n_out = _check_int("n_out", n_out, 1)
    return {
        "pytorch": 1 / (3 * n_in), "standard": 1 / (3 * n_in),
        "xavier": 2 / (n_in + n_out), "lecun": 1 / n_in, "he": 2 / n_in,
        "orthogonal": 1 / max(n_in, n_out),
    }[init]


def second_moment_gain(activation: str) -> float:
    """E[f(z)^2] / E[z^2] for z ~ N(0, 1): the factor an activation applies to a second moment.

    1/2 for ReLU (any symmetric z), (1 + a^2)/2 for leaky ReLU with slope a, 1 for the
    identity; for tanh it depends on the scale (here unit variance).
    """
    if activation not in nets.ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of "
                         f"{list(nets.ACTIVATIONS)}")
    f = nets.ACTIVATIONS[activation]()

    def integrand(z: float) -> float:
        with torch.no_grad():
            v = float(f(torch.tensor([z], dtype=torch.float64))[0])
        return v * v * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    value, _ = integrate.quad(integrand, -12, 12, points=[0.0], epsabs=1e-13, limit=200)
    return value


# --------------------------------------------------------------------------- claims
def variance_propagation_residual(w_values=(-2, 0, 2), x_law=None) -> Fraction:
    """|Var(y) - n_in Var(w) mean_j E[x_j^2]| for y = sum_j w_j x_j, by exact enumeration.

    w_j are i.i.d. uniform on ``w_values`` (mean 0); x = (x_1, x_2, x_3) has the finite joint
    law ``x_law`` (a list of (probability, x) pairs, correlated and not centred by default),
    independent of w.  Exact rational arithmetic: a correct identity gives exactly 0.
    """
    w_values = [Fraction(v) for v in w_values]
    if sum(w_values) != 0:
        raise ValueError("the weight law must have mean 0")
    if x_law is None:  # x = (u, u^2, u + v), u in {0, 1, 3}, v in {-1, 2}: not centred
        x_law = [(Fraction(pu) * Fraction(pv), (u, u * u, u + v))
                 for (pu, u), (pv, v) in itertools.product(
                     [(Fraction(1, 2), 0), (Fraction(1, 3), 1), (Fraction(1, 6), 3)],
                     [(Fraction(1, 4), -1), (Fraction(3, 4), 2)])]
    n_in = len(x_law[0][1])
    var_w = sum(v * v for v in w_values) / len(w_values)
    p_w = Fraction(1, len(w_values) ** n_in)
    e_y = e_y2 = Fraction(0)
    for p_x, x in x_law:
        for w in itertools.product(w_values, repeat=n_in):
            y = sum(wi * Fraction(xi) for wi, xi in zip(w, x, strict=True))
            e_y += p_x * p_w * y
            e_y2 += p_x * p_w * y * y
    mean_x2 = sum(p * sum(Fraction(xi) ** 2 for xi in x) for p, x in x_law) / n_in
    return abs((e_y2 - e_y ** 2) - n_in * var_w * mean_x2)


@claim("lem-variance-propagation", chapter="initialization",
       statement="y = w.x with i.i.d. centred w independent of x: Var y = n_in Var(w) E[x^2]",
       method="exact", tolerance=0.0)
def check_variance_propagation() -> float:
    """Exact enumeration with rationals (a correlated, non-centred input): residual 0."""
    return float(variance_propagation_residual())


def relu_second_moment_residuals() -> list:
    """sympy: E[relu(z)^2] - Var(z)/2 for Gaussian, Laplace and uniform z (each 0)."""
    z = sp.symbols("z", real=True)
    s = sp.symbols("s", positive=True)
    laws = {  # symmetric densities with variance s^2
        "gauss": sp.exp(-z ** 2 / (2 * s ** 2)) / (s * sp.sqrt(2 * sp.pi)),
        "laplace": sp.exp(-sp.sqrt(2) * sp.Abs(z) / s) / (sp.sqrt(2) * s),
    }
    out = []
    for density in laws.values():
        var = sp.integrate(z ** 2 * density, (z, -sp.oo, sp.oo))
        e_relu2 = sp.integrate(z ** 2 * density, (z, 0, sp.oo))  # relu(z)^2 = z^2 on z > 0
        out.append(sp.simplify(e_relu2 - var / 2))
    a = sp.sqrt(3) * s  # uniform on [-a, a] has variance s^2
    out.append(sp.simplify(sp.integrate(z ** 2 / (2 * a), (z, 0, a)) - s ** 2 / 2))
    return out


@claim("lem-relu-second-moment", chapter="initialization",
       statement="E[relu(z)^2] = Var(z)/2 for every symmetric z",
       method="symbolic", tolerance=0.0)
def check_relu_second_moment() -> float:
    """sympy for three symmetric laws (Gaussian, Laplace, uniform): count of non-zero residuals."""
    return float(sum(r != 0 for r in relu_second_moment_residuals()))


def relu_net_second_moments(width: int, depth: int, scale: float, n_nets: int,
                            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo E[z_l^2], l = 1..depth, in zero-bias ReLU nets with N(0, 2 scale/width) weights.

    The input is a fixed x with ||x||^2 = width, and layer 1 has the same weight law.
    Returns (mean, standard error), each (depth,), averaged over nets and units.
    """
    width = _check_int("width", width, 1)
    depth = _check_int("depth", depth, 1)
    n_nets = _check_int("n_nets", n_nets, 2)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    std = math.sqrt(2 * scale / width)
    h = np.ones((n_nets, width))  # (S, n): ||x||^2 = width
    means, ses = [], []
    for _ in range(depth):
        w = rng.standard_normal((n_nets, width, width)) * std  # (S, n, n)
        z = np.einsum("sij,sj->si", w, h)  # (S, n)
        per_net = np.mean(z * z, axis=1)  # (S,)
        means.append(per_net.mean())
        ses.append(per_net.std(ddof=1) / math.sqrt(n_nets))
        h = np.maximum(z, 0.0)
    return np.array(means), np.array(ses)


def relu_net_second_moments_predicted(width: int, depth: int, scale: float) -> np.ndarray:
    """E[z_l^2] = sigma^2 ||x||^2 (width sigma^2 / 2)^(l-1) with sigma^2 = 2 scale / width."""
    sigma2 = 2 * scale / width
    return np.array([sigma2 * width * (width * sigma2 / 2) ** (layer - 1)
                     for layer in range(1, depth + 1)])


def relu_moment_zscores(width: int = 16, depth: int = 8, n_nets: int = 4000,
                        seed: int = 4) -> list[float]:
    """|z|-scores of the simulated second moments against the exact prediction."""
    rng = np.random.default_rng(seed)
    out = []
    for scale in (0.5, 1.0, 2.0):  # LeCun-like, He, twice He
        mean, se = relu_net_second_moments(width, depth, scale, n_nets, rng)
        pred = relu_net_second_moments_predicted(width, depth, scale)
        out.extend(np.abs(mean - pred) / se)
    return [float(v) for v in out]


@claim("prop-init-variances", chapter="initialization",
       statement="zero-bias ReLU net: E z_l^2 = (n sigma^2/2)^(l-1) E z_1^2 at any width; "
                 "constant iff sigma^2 = 2/n",
       method="monte-carlo", tolerance=4.0)
def check_init_variances() -> float:
    """Largest |z| over 3 weight scales x 8 layers, width 16, 4000 nets: within 4 std errors."""
    return max(relu_moment_zscores())


def pytorch_linear_weights(n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (n_out, n_in) and bias (n_out,) of a freshly constructed ``torch.nn.Linear``.

    nn.Linear draws from torch's global generator; we fork it (``torch.random.fork_rng``),
    seed the fork and restore the caller's state afterwards, so nothing is seeded globally.
    """
    n_in = _check_int("n_in", n_in, 1)
    n_out = _check_int("n_out", n_out, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_check_int("seed", seed, 0))
        layer = nn.Linear(n_in, n_out)
    return (layer.weight.detach().double().numpy().copy(),
            layer.bias.detach().double().numpy().copy())


@claim("prop-pytorch-default", chapter="initialization",
       statement="torch.nn.Linear's default weights and biases are U(-1/sqrt(n_in), "
                 "1/sqrt(n_in)): variance 1/(3 n_in)",
       method="monte-carlo", tolerance=1.95)
def check_pytorch_default() -> float:
    """sqrt(N) * KS distance of torch's own nn.Linear draws to U(-b, b), b = 1/sqrt(n_in).

    Level 1.95: the 0.999 quantile of the Kolmogorov distribution (fixed seeds).
    """
    worst = 0.0
    for n_in, n_out, seed in ((400, 300, 0), (37, 1000, 1)):
        w, b = pytorch_linear_weights(n_in, n_out, seed)
        bound = 1 / math.sqrt(n_in)
        law = stats.uniform(loc=-bound, scale=2 * bound)
        for sample in (w.ravel(), b):
            worst = max(worst, math.sqrt(sample.size) * stats.kstest(sample, law.cdf).statistic)
    return worst


# --------------------------------------------------------------------------- depth
@lru_cache(maxsize=2)
def standardized_digits(seed: int = 0) -> data.Split:
    """The digits split with each pixel standardised on the training set (constant ones: 0)."""
    split = data.digits_split(0.25, seed=seed)
    mu = split.x_train.mean(axis=0)
    sd = split.x_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)

    def f(x):
        return ((x - mu) / sd).astype(np.float32)

    return data.Split(f(split.x_train), split.y_train, f(split.x_test), split.y_test)


def make_initialized_mlp(sizes, activation: str, init: str, seed: int,
                         gain: float = 1.0) -> nn.Sequential:
    """``nets.make_mlp`` with every Linear re-drawn by ``nets.init_linear_`` at ``gain``.

    ``gain`` only matters for the orthogonal law (the others ignore it in ``nets``); with
    ``gain == 1`` this is exactly ``nets.make_mlp``.
    """
    model = nets.make_mlp(sizes, activation, _check_init(init), rng=seed)
    if gain != 1.0:
        if init != "orthogonal":
            raise ValueError("a gain other than 1 is only used by the orthogonal init")
        gen = nets.torch_generator(seed)
        for module in model:
            if isinstance(module, nn.Linear):
                nets.init_linear_(module, init, gen, gain)
    return model


@dataclass(frozen=True)
class DepthConfig:
    """A deep MLP probed at initialisation: ``depth`` Linear layers of ``width`` units."""

    depth: int = 30
    width: int = 64
    n_inputs: int = 256
    seed: int = 0

    def __post_init__(self):
        _check_int("depth", self.depth, 2)
        _check_int("width", self.width, 1)
        _check_int("n_inputs", self.n_inputs, 1)
        _check_int("seed", self.seed, 0)


def activation_scales(activation: str, init: str, config: DepthConfig = DepthConfig(),
                      gain: float = 1.0) -> np.ndarray:
    """Root mean square of each hidden layer's output at initialisation, (depth - 1,).

    The inputs are ``config.n_inputs`` standardised digits; the net is
    ``64 -> width -> ... -> width -> 10`` with ``config.depth`` Linear layers.
    """
    if activation not in nets.ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of "
                         f"{list(nets.ACTIVATIONS)}")
    if not isinstance(config, DepthConfig):
        raise ValueError("config must be a DepthConfig")
    # one cache key however the arguments were passed
    return _activation_scales(activation, _check_init(init), config, float(gain)).copy()


@lru_cache(maxsize=64)
def _activation_scales(activation: str, init: str, config: DepthConfig,
                       gain: float) -> np.ndarray:
    x = torch.from_numpy(standardized_digits().x_train[:config.n_inputs])
    sizes = [x.shape[1]] + [config.width] * (config.depth - 1) + [10]
    model = make_initialized_mlp(sizes, activation, init, config.seed, gain)
    with torch.no_grad(), limited_threads():
        outs = nets.hidden_outputs(model, x)
    return np.array([float(o.double().pow(2).mean().sqrt()) for o in outs])


# --------------------------------------------------------------------------- products
def product_moments_exact(n: int, depth: int) -> list[Fraction]:
    """(1/n) E tr((P_L^T P_L)^2), L = 0..depth, for P_L = W_L ... W_1, W i.i.d. N(0, 1/n).

    Recursion of the chapter: u = E (tr A)^2, v = E tr(A^2) with A = P^T P,
    u_L = u_(L-1) + 2 v_(L-1)/n, v_L = (1 + 1/n) v_(L-1) + u_(L-1)/n, u_0 = n^2, v_0 = n.
    """
    n = _check_int("n", n, 1)
    depth = _check_int("depth", depth, 0)
    u, v = Fraction(n * n), Fraction(n)
    out = [v / n]
    for _ in range(depth):
        u, v = u + 2 * v / n, (1 + Fraction(1, n)) * v + u / n
        out.append(v / n)
    return out


def product_moment_zscores(n: int = 8, depth: int = 4, size: int = 20_000,
                           seed: int = 5) -> list[float]:
    """|z|-scores of simulated (1/n) tr(A_L) and (1/n) tr(A_L^2) against 1 and the recursion."""
    rng = np.random.default_rng(seed)
    exact = product_moments_exact(n, depth)
    p = np.broadcast_to(np.eye(n), (size, n, n))
    out = []
    for layer in range(1, depth + 1):
        p = rng.standard_normal((size, n, n)) / math.sqrt(n) @ p  # (S, n, n)
        a = np.swapaxes(p, 1, 2) @ p
        tr1 = np.trace(a, axis1=1, axis2=2) / n
        tr2 = np.sum(a * a, axis=(1, 2)) / n  # tr(A^2) = ||A||_F^2 for symmetric A
        for sample, target in ((tr1, 1.0), (tr2, float(exact[layer]))):
            out.append(float(abs(sample.mean() - target)
                             / (sample.std(ddof=1) / math.sqrt(size))))
    return out


@claim("prop-product-spread", chapter="initialization",
       statement="products of L Gaussian layers: mean sigma^2 = 1, mean sigma^4 from the "
                 "exact recursion (>= L + 1)",
       method="monte-carlo", tolerance=4.0)
def check_product_spread() -> float:
    """Largest |z| over L = 1..4 (n = 8, 20000 products); 4 standard errors."""
    return max(product_moment_zscores())


@limited_threads()
def product_singular_values(n: int, depths: tuple[int, ...], kind: str,
                            seed: int = 0) -> dict[int, np.ndarray]:
    """Singular values (descending) of W_L ... W_1 for each L in ``depths``.

    ``kind="gaussian"``: i.i.d. N(0, 1/n) layers; ``"orthogonal"``: Haar orthogonal layers
    from ``nets.orthogonal_``.  Float64; keep the depth small enough that the smallest
    singular value stays far above 1e-16 times the largest (n = 64: L <= 8 is safe).
    """
    n = _check_int("n", n, 1)
    if not depths or any(_check_int("depth", d, 1) != d for d in depths):
        raise ValueError("depths must be a non-empty tuple of positive integers")
    if kind not in ("gaussian", "orthogonal"):
        raise ValueError(f"kind must be 'gaussian' or 'orthogonal', got {kind!r}")
    gen = nets.torch_generator(seed)
    p = torch.eye(n, dtype=torch.float64)
    out = {}
    for layer in range(1, max(depths) + 1):
        w = torch.empty(n, n, dtype=torch.float64)
        if kind == "gaussian":
            w.normal_(0.0, 1 / math.sqrt(n), generator=gen)
        else:
            torch.nn.init.orthogonal_(w, generator=gen)
        p = w @ p
        if layer in depths:
            out[layer] = torch.linalg.svdvals(p).numpy()
    return out


def numerical_rank(s: np.ndarray, rtol: float = 1e-10) -> int:
    """Number of singular values above ``rtol`` times the largest (float64 round-off ~1e-16)."""
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError("s must be a non-empty finite vector of singular values")
    return int(np.sum(s > rtol * s.max()))


def relu_active_counts(init: str, gain: float = 1.0,
                       config: DepthConfig = DepthConfig()) -> np.ndarray:
    """Number of active (positive) units in each hidden layer at the Jacobian's input digit."""
    x = torch.from_numpy(standardized_digits().x_train[:1])
    sizes = [x.shape[1]] + [config.width] * (config.depth - 1) + [10]
    model = make_initialized_mlp(sizes, "relu", init, config.seed, gain)
    with torch.no_grad():
        return np.array([int((o > 0).sum()) for o in nets.hidden_outputs(model, x)])


@limited_threads()
def relu_jacobian_singular_values(init: str, gain: float = 1.0,
                                  config: DepthConfig = DepthConfig()) -> np.ndarray:
    """Singular values of d(last hidden layer)/d(input) of a zero-bias ReLU MLP at one digit."""
    x = torch.from_numpy(standardized_digits().x_train[:1]).double()[0]
    sizes = [x.shape[0]] + [config.width] * (config.depth - 1) + [10]
    model = make_initialized_mlp(sizes, "relu", init, config.seed, gain).double()
    linears = [m for m in model if isinstance(m, nn.Linear)][:-1]  # hidden layers only
    h, jac = x, torch.eye(x.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for lin in linears:
            z = lin(h)
            jac = (z > 0).double()[:, None] * (lin.weight @ jac)  # (width, 64)
            h = torch.relu(z)
    return torch.linalg.svdvals(jac).numpy()


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class DeepTrainConfig:
    """The small analogue of He et al.'s deep-net experiment: a deep ReLU MLP on digits."""

    depth: int = 30  # Linear layers: 64 -> width x (depth - 1) -> 10
    width: int = 64
    epochs: int = 10
    lr: float = 0.001
    momentum: float = 0.9
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self):
        _check_int("depth", self.depth, 2)
        _check_int("width", self.width, 1)
        _check_int("epochs", self.epochs, 0)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("seed", self.seed, 0)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def train_deep_relu(init: str, gain: float = 1.0,
                    config: DeepTrainConfig = DeepTrainConfig()) -> nets.History:
    """Train a ``config.depth``-layer ReLU MLP with ``init`` on standardised digits (SGD).

    Cached: the chapter's table and figure share the runs (do not mutate the result).
    """
    if not isinstance(config, DeepTrainConfig):
        raise ValueError("config must be a DeepTrainConfig")
    return _train_deep_relu(_check_init(init), float(gain), config)


@lru_cache(maxsize=32)
def _train_deep_relu(init: str, gain: float, config: DeepTrainConfig) -> nets.History:
    split = standardized_digits()
    sizes = [split.x_train.shape[1]] + [config.width] * (config.depth - 1) + [10]
    model = make_initialized_mlp(sizes, "relu", init, config.seed, gain)
    train = nets.TrainConfig(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                             momentum=config.momentum, seed=config.seed)
    with limited_threads():
        return nets.train_classifier(model, split.x_train, split.y_train, train,
                                     split.x_test, split.y_test)


def layer_gradient_norms(init: str, gain: float = 1.0,
                         config: DeepTrainConfig = DeepTrainConfig()) -> np.ndarray:
    """Frobenius norm of the loss gradient for each Linear weight at initialisation, (depth,).

    Computed on the whole standardised training set, before any update.
    """
    split = standardized_digits()
    sizes = [split.x_train.shape[1]] + [config.width] * (config.depth - 1) + [10]
    model = make_initialized_mlp(sizes, "relu", init, config.seed, gain)
    x = torch.from_numpy(split.x_train)
    y = torch.from_numpy(split.y_train)
    with limited_threads():
        nn.functional.cross_entropy(model(x), y).backward()
    return np.array([float(m.weight.grad.norm()) for m in model if isinstance(m, nn.Linear)])


# The runs of the chapter's table: (init, gain, label).
TRAINING_RUNS = (
    ("lecun", 1.0, "LeCun, $1/n_{in}$"),
    ("xavier", 1.0, "Xavier, $2/(n_{in}+n_{out})$"),
    ("he", 1.0, "He, $2/n_{in}$"),
    ("orthogonal", 1.0, "orthogonal, gain 1"),
    ("orthogonal", math.sqrt(2), r"orthogonal, gain $\sqrt{2}$"),
)


def stalled(history: nets.History, tolerance: float = 0.01) -> bool:
    """True when the training loss moved by less than ``tolerance`` (relative) overall."""
    losses = np.asarray(history.train_loss)
    if losses.size == 0 or not np.all(np.isfinite(losses)):
        raise ValueError("history needs a finite, non-empty training loss")
    return bool(np.max(np.abs(losses - losses[0])) < tolerance * losses[0])


def verdict(history: nets.History) -> str:
    """'stalled' (loss moved < 1 %), 'slow' (final loss > 3/4 of the first) or 'trains'."""
    if stalled(history):
        return "stalled"
    losses = history.train_loss
    return "slow" if losses[-1] > 0.75 * losses[0] else "trains"


# --------------------------------------------------------------------------- figures
_INIT_COLORS = {"pytorch": "grey", "xavier": "orange", "lecun": "blue", "he": "green",
                "orthogonal": "purple"}


@figure("initialization")
@limited_threads()
def fig_depth_scales(config: DepthConfig = DepthConfig()):
    """RMS of each hidden layer at initialisation, per activation and initialisation."""
    acts = ("linear", "tanh", "relu")
    fig, axes = new_figure(1, 3, height=3.0, sharey=True)
    layers = np.arange(1, config.depth)
    for ax, act in zip(axes, acts, strict=True):
        for init, label in INIT_LABELS.items():
            ax.plot(layers, activation_scales(act, init, config),
                    color=COLORS[_INIT_COLORS[init]], label=label)
        ax.set_yscale("log")
        ax.set_title(act)
        ax.set_xlabel("hidden layer")
    axes[0].set_ylabel("RMS of the layer's output")
    axes[0].legend(fontsize=7)
    return fig


@figure("initialization")
@limited_threads()
def fig_product_spectra(n: int = 64, depths: tuple[int, ...] = (1, 2, 4, 8)):
    """Singular values of products of Gaussian or orthogonal layers, and of ReLU Jacobians."""
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    rank = (np.arange(n) + 0.5) / n
    gauss = product_singular_values(n, depths, "gaussian")
    orth = product_singular_values(n, depths, "orthogonal")
    shades = [COLORS[c] for c in ("sky", "blue", "purple", "black")]
    for depth, color in zip(depths, shades, strict=True):
        ax1.plot(rank, gauss[depth], color=color, label=f"Gaussian, $L = {depth}$")
    ax1.plot(rank, orth[max(depths)], color=COLORS["orange"], lw=2.5, ls="--",
             label=f"orthogonal, $L = {max(depths)}$")
    ax1.set_yscale("log")
    ax1.set_xlabel("rank / n")
    ax1.set_ylabel(r"singular value of $W_L\cdots W_1$")
    ax1.legend(fontsize=7)
    config = DepthConfig()
    for init, gain, color, label in (
            ("he", 1.0, COLORS["green"], "He (Gaussian)"),
            ("orthogonal", math.sqrt(2), COLORS["orange"], r"orthogonal $\times\sqrt{2}$")):
        s = relu_jacobian_singular_values(init, gain, config)
        rank = numerical_rank(s)
        ax2.plot(np.arange(1, rank + 1), s[:rank], color=color, marker=".",
                 label=f"{label}: rank {rank} of {s.size}")
    ax2.set_yscale("log")
    ax2.set_xlabel("index of the singular value")
    ax2.set_ylabel("singular value of the Jacobian")
    ax2.set_title(f"ReLU MLP, {config.depth - 1} hidden layers")
    ax2.legend(fontsize=7)
    return fig


@figure("initialization")
@limited_threads()
def fig_training_curves(config: DeepTrainConfig = DeepTrainConfig()):
    """Training loss of the deep ReLU MLP for each initialisation."""
    fig, ax = new_figure(height=3.2)
    colors = {("orthogonal", math.sqrt(2)): COLORS["vermillion"]}
    for init, gain, label in TRAINING_RUNS:
        hist = train_deep_relu(init, gain, config)
        color = colors.get((init, gain), COLORS[_INIT_COLORS[init]])
        ax.plot(np.arange(len(hist.train_loss)), hist.train_loss, color=color, label=label,
                ls=":" if init == "xavier" else "-")
    ax.axhline(math.log(10), color=COLORS["black"], lw=0.8, ls="--")
    ax.annotate(r"$\log 10$: the stalled runs overlap here", (6.0, math.log(10)),
                xytext=(5.0, math.log(10) + 0.3), fontsize=8,
                arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy")
    ax.set_title(f"{config.depth}-layer ReLU MLP, width {config.width}, digits")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return fig
