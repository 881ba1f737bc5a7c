"""Initialising deep networks: variance propagation, the standard variances, and depth.

Builds on :mod:`hiddenunits.nets` (``MLPConfig``, ``make_mlp``, ``TrainConfig``,
``train_classifier``): this module measures what the weight laws of ``nets.INITS`` do to
signals, singular values and training in deep networks.  ``depth`` always counts hidden
layers, as in ``nets.MLPConfig``: a net of depth ``L`` has ``L + 1`` weight layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import torch
from numpy.polynomial import legendre
from numpy.typing import ArrayLike
from scipy import special, stats
from torch import nn

from hiddenunits import data, nets
from hiddenunits.threads import limited_threads
from hiddenunits.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_seed,
    check_sizes,
)

DEEP_NET = nets.MLPConfig(depth=29, width=64, activation="relu", init="he", bias=True)
"""The chapter's deep network: 29 hidden layers of 64 units, i.e. 30 weight layers, like
He et al.'s 30-layer model (their depth counts weight layers)."""

DEEP_TRAIN = nets.TrainConfig(epochs=5, batch_size=32, lr=0.001, momentum=0.9, seed=0)
"""How the deep network is trained: SGD with momentum on the standardized digits."""

N_PROBE = 256
"""Number of standardized training digits fed to a network probed at initialization."""

_N_CLASSES = 10


# --------------------------------------------------------------------------- variances
def weight_variance(init: str, n_in: int, n_out: int) -> float:
    """Variance of one weight of an (n_out, n_in) layer under ``init`` (one of ``nets.INITS``).

    pytorch/standard: 1/(3 n_in); xavier: 2/(n_in + n_out); lecun: 1/n_in; he: 2/n_in;
    orthogonal (gain 1): 1/max(n_in, n_out), since each orthonormal row or column has unit
    norm spread over that many entries.
    """
    check_choice("init", init, nets.INITS)
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    return {
        "pytorch": 1 / (3 * n_in), "standard": 1 / (3 * n_in),
        "xavier": 2 / (n_in + n_out), "lecun": 1 / n_in, "he": 2 / n_in,
        "orthogonal": 1 / max(n_in, n_out),
    }[init]


@lru_cache(maxsize=1)
def _half_line_rule(nodes: int = 128, end: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-end, 0] and [0, end], joined."""
    x, w = legendre.leggauss(nodes)
    half = end / 2
    z = np.concatenate([half * (x - 1), half * (x + 1)])
    weights = np.concatenate([half * w, half * w])
    z.setflags(write=False)
    weights.setflags(write=False)
    return z, weights


def second_moment_gain(activation: str) -> float:
    """E[f(z)^2] / E[z^2] for z ~ N(0, 1): the factor an activation applies to a second moment.

    ``activation`` is a key of ``nets.ACTIVATIONS`` (linear, sigmoid, tanh, relu,
    leaky_relu, softplus, elu, gelu, silu).  1/2 for ReLU, (1 + a^2)/2 for leaky ReLU with
    slope a, 1 for the identity; for tanh it depends on the scale (here unit variance).
    Gauss-Legendre quadrature on each half line, so that the kink of ReLU-like activations
    at 0 falls on an end point; the tails beyond |z| = 12 weigh less than 1e-30.
    """
    check_choice("activation", activation, nets.ACTIVATIONS)
    z, w = _half_line_rule()
    f = nets.ACTIVATIONS[activation]()
    with torch.no_grad():
        fz = f(torch.from_numpy(z.copy())).numpy()  # one call on every node
    return float(np.sum(w * fz * fz * np.exp(-z * z / 2)) / math.sqrt(2 * math.pi))


# --------------------------------------------------------------------------- forward moments
_FORWARD = ("relu", "linear")


def forward_second_moments(width: int, depth: int, variance: float, n_nets: int,
                           activation: str = "relu", rng: int | np.random.Generator = 0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo q_l = E[z_l^2], l = 1..depth, in zero-bias nets with N(0, variance) weights.

    Square layers of ``width`` units, ``activation`` "relu" or "linear" (the identity)
    between them, and a fixed input x with ||x||^2 = width.  ``depth`` counts the layers
    whose pre-activations z_l are recorded.  Returns (mean, standard error), each
    (depth,), averaged over ``n_nets`` independent nets and their units.
    """
    width = check_int("width", width, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    variance = check_real("variance", variance, low=0.0, low_open=True)
    n_nets = check_int("n_nets", n_nets, minimum=2)
    check_choice("activation", activation, _FORWARD)
    rng = check_rng(rng)
    std = math.sqrt(variance)
    h = np.ones((n_nets, width))  # (S, n): ||x||^2 = width
    means, ses = [], []
    for _ in range(depth):
        w = rng.standard_normal((n_nets, width, width)) * std  # (S, n, n)
        z = np.matmul(w, h[:, :, None])[:, :, 0]  # (S, n)
        per_net = np.mean(z * z, axis=1)  # (S,)
        means.append(per_net.mean())
        ses.append(per_net.std(ddof=1) / math.sqrt(n_nets))
        h = np.maximum(z, 0.0) if activation == "relu" else z
    return np.array(means), np.array(ses)


def forward_second_moments_predicted(width: int, depth: int, variance: float,
                                     activation: str = "relu") -> np.ndarray:
    """q_l = v ||x||^2 (n v g)^(l-1), g = 1/2 (ReLU) or 1 (linear), ||x||^2 = n, (depth,).

    The setting of :func:`forward_second_moments`: n = ``width``, v = ``variance``.
    """
    width = check_int("width", width, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    variance = check_real("variance", variance, low=0.0, low_open=True)
    gain = {"relu": 0.5, "linear": 1.0}[check_choice("activation", activation, _FORWARD)]
    layers = np.arange(1, depth + 1)
    return variance * width * (width * variance * gain) ** (layers - 1)


def _torch_seed(rng: int | torch.Generator) -> int:
    """A seed from ``rng``: the seed itself, or one drawn from a ``torch.Generator``."""
    if isinstance(rng, torch.Generator):
        return int(torch.randint(2 ** 62, (1,), generator=rng))
    try:
        return check_seed(rng)
    except ValueError:
        raise ValueError("rng must be a seed (integer >= 0) or a torch.Generator, "
                         f"got {type(rng).__name__}") from None


def pytorch_linear_weights(n_in: int, n_out: int,
                           rng: int | torch.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """Weights (n_out, n_in) and bias (n_out,) of a freshly constructed ``torch.nn.Linear``.

    ``nn.Linear`` draws from torch's global generator; we fork it
    (``torch.random.fork_rng``), seed the fork from ``rng`` (a seed, or a
    ``torch.Generator`` that supplies one) and restore the caller's state afterwards, so
    nothing is seeded globally.
    """
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    seed = _torch_seed(rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = nn.Linear(n_in, n_out)
    return (layer.weight.detach().double().numpy().copy(),
            layer.bias.detach().double().numpy().copy())


# --------------------------------------------------------------------------- deep networks
def make_initialized_mlp(sizes: Sequence[int], activation: str, init: str,
                         rng: int | torch.Generator = 0, gain: float = 1.0,
                         bias: bool = True) -> nn.Sequential:
    """``nets.make_mlp`` with the orthogonal law scaled by ``gain`` in every Linear layer.

    The orthogonal law with gain g is g times the orthogonal law (``torch.nn.init.
    orthogonal_`` draws, then multiplies), so the weights are drawn by ``nets.make_mlp``
    and multiplied by ``gain``.  The other laws have no gain: for them ``gain`` must be 1,
    and then this is exactly ``nets.make_mlp``.
    """
    sizes = check_sizes("sizes", sizes, minimum_length=2)
    check_choice("init", init, nets.INITS)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    if gain != 1.0 and init != "orthogonal":
        raise ValueError(f"gain must be 1 for init {init!r}: only the orthogonal law has a gain")
    model = nets.make_mlp(sizes, activation, init, rng, bias)
    if gain != 1.0:
        with torch.no_grad():
            for module in model:
                if isinstance(module, nn.Linear):
                    module.weight.mul_(gain)
    return model


def _check_net(net: nets.MLPConfig, relu_only: bool = False) -> nets.MLPConfig:
    if not isinstance(net, nets.MLPConfig):
        raise ValueError(f"net must be a nets.MLPConfig, got {type(net).__name__}")
    if relu_only and net.activation != "relu":
        raise ValueError(f"net must be a ReLU network, got activation {net.activation!r}")
    return net


def _build(net: nets.MLPConfig, n_inputs: int, gain: float,
           rng: int | torch.Generator) -> nn.Sequential:
    return make_initialized_mlp(net.sizes(n_inputs, _N_CLASSES), net.activation, net.init,
                                rng, gain, net.bias)


def _digits() -> data.Split:
    """The standardized digits split of the chapter (its own copy of the arrays)."""
    split = _digits_split()
    return data.Split(split.x_train.copy(), split.y_train.copy(), split.x_test.copy(),
                      split.y_test.copy())


@lru_cache(maxsize=1)
def _digits_split() -> data.Split:
    return data.standardized_digits(0.25, 0)


def _cached(cached_fn, uncached_fn, rng, *args):
    """Call the cached function for an integer seed, the plain one for a generator."""
    if isinstance(rng, torch.Generator):
        return uncached_fn(*args, rng)
    return cached_fn(*args, _torch_seed(rng))


def activation_scales(net: nets.MLPConfig = DEEP_NET, gain: float = 1.0,
                      n_inputs: int = N_PROBE, rng: int | torch.Generator = 0) -> np.ndarray:
    """Root mean square of each hidden layer's output at initialization, (net.depth,).

    The network is ``net`` on the 64 pixels with 10 outputs, weights drawn from ``rng``
    (orthogonal ones scaled by ``gain``); its inputs are the first ``n_inputs``
    standardized training digits.
    """
    _check_net(net)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    n_inputs = check_int("n_inputs", n_inputs, minimum=1, maximum=len(_digits().y_train))
    return _cached(_activation_scales, _activation_scales.__wrapped__, rng, net, gain,
                   n_inputs).copy()


@lru_cache(maxsize=64)
def _activation_scales(net: nets.MLPConfig, gain: float, n_inputs: int,
                       rng: int | torch.Generator) -> np.ndarray:
    x = torch.from_numpy(_digits().x_train[:n_inputs])
    model = _build(net, x.shape[1], gain, rng)
    with torch.no_grad(), limited_threads():
        outs = nets.hidden_outputs(model, x)
    return np.array([float(o.double().pow(2).mean().sqrt()) for o in outs])


def relu_active_counts(net: nets.MLPConfig = DEEP_NET, gain: float = 1.0,
                       rng: int | torch.Generator = 0) -> np.ndarray:
    """Number of active (positive) units in each hidden layer of a ReLU ``net``, (net.depth,).

    At the first standardized training digit, the input of
    :func:`relu_jacobian_singular_values`.
    """
    _check_net(net, relu_only=True)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    x = torch.from_numpy(_digits().x_train[:1])
    model = _build(net, x.shape[1], gain, rng)
    with torch.no_grad():
        return np.array([int((o > 0).sum()) for o in nets.hidden_outputs(model, x)])


@limited_threads()
def relu_jacobian_singular_values(net: nets.MLPConfig = DEEP_NET, gain: float = 1.0,
                                  rng: int | torch.Generator = 0) -> np.ndarray:
    """Singular values of d(last hidden layer)/d(input) of a ReLU ``net`` at one digit, (64,).

    J = D_L W_L ... D_1 W_1 with D_l the 0/1 diagonal of the active units of layer l
    (biases included in deciding which units are active); float64, descending.
    """
    _check_net(net, relu_only=True)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    x = torch.from_numpy(_digits().x_train[:1]).double()[0]
    model = _build(net, x.shape[0], gain, rng).double()
    linears = [m for m in model if isinstance(m, nn.Linear)][:-1]  # hidden layers only
    h, jac = x, torch.eye(x.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for lin in linears:
            z = lin(h)
            jac = (z > 0).double()[:, None] * (lin.weight @ jac)  # (width, 64)
            h = torch.relu(z)
    return torch.linalg.svdvals(jac).numpy()


def layer_gradient_norms(net: nets.MLPConfig = DEEP_NET, gain: float = 1.0,
                         rng: int | torch.Generator = 0) -> np.ndarray:
    """Frobenius norm of the loss gradient of each weight matrix at initialization, (depth + 1,).

    Cross-entropy on the whole standardized training set, before any update.
    """
    _check_net(net)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    split = _digits()
    model = _build(net, split.x_train.shape[1], gain, rng)
    x = torch.from_numpy(split.x_train)
    y = torch.from_numpy(split.y_train)
    with limited_threads():
        nn.functional.cross_entropy(model(x), y).backward()
    return np.array([float(m.weight.grad.norm()) for m in model if isinstance(m, nn.Linear)])


def train_deep(net: nets.MLPConfig = DEEP_NET, train: nets.TrainConfig = DEEP_TRAIN,
               gain: float = 1.0, rng: int | torch.Generator = 0) -> nets.History:
    """Train ``net`` (weights from ``rng``, orthogonal ones times ``gain``) on the digits.

    ``nets.train_classifier`` with ``train`` on the standardized digits split, tested on
    its test part after every epoch.  Runs from a seed are cached (the chapter's table and
    figure share them); each call returns its own copy of the history.
    """
    _check_net(net)
    if not isinstance(train, nets.TrainConfig):
        raise ValueError(f"train must be a nets.TrainConfig, got {type(train).__name__}")
    gain = check_real("gain", gain, low=0.0, low_open=True)
    h = _cached(_train_deep, _train_deep.__wrapped__, rng, net, train, gain)
    return nets.History(list(h.train_loss), list(h.train_acc), list(h.test_acc))


@lru_cache(maxsize=32)
def _train_deep(net: nets.MLPConfig, train: nets.TrainConfig, gain: float,
                rng: int | torch.Generator) -> nets.History:
    split = _digits()
    model = _build(net, split.x_train.shape[1], gain, rng)
    with limited_threads():
        return nets.train_classifier(model, split.x_train, split.y_train, train,
                                     split.x_test, split.y_test)


def _losses(history: nets.History) -> np.ndarray:
    if not isinstance(history, nets.History):
        raise ValueError(f"history must be a nets.History, got {type(history).__name__}")
    return check_array("history.train_loss", history.train_loss, ndim=1, finite=False)


STALL_TOLERANCE = 0.01
"""A run whose training loss never moves by this fraction of its first value is stalled."""

SLOW_FRACTION = 0.75
"""A run that ends above this fraction of its first training loss is slow."""


def stalled(history: nets.History, tolerance: float = STALL_TOLERANCE) -> bool:
    """True when the training loss never moved by ``tolerance`` (relative) from its start."""
    losses = _losses(history)
    tolerance = check_real("tolerance", tolerance, low=0.0, low_open=True)
    return bool(np.all(np.isfinite(losses))
                and np.max(np.abs(losses - losses[0])) < tolerance * losses[0])


VERDICTS = ("diverged", "stalled", "no progress", "slow", "trains")
"""The verdicts of :func:`verdict`, in order of decreasing failure."""


def verdict(history: nets.History) -> str:
    """How a training run went, from its per-epoch training losses (one of ``VERDICTS``).

    'diverged': a loss is not finite; 'stalled': the loss never moved by 1 % of its first
    value; 'no progress': the final loss is not below the first; 'slow': the final loss is
    above 3/4 of the first; 'trains': otherwise.
    """
    losses = _losses(history)
    if not np.all(np.isfinite(losses)):
        return "diverged"
    if stalled(history):
        return "stalled"
    if losses[-1] >= losses[0]:
        return "no progress"
    return "slow" if losses[-1] > SLOW_FRACTION * losses[0] else "trains"


@dataclass(frozen=True)
class Run:
    """One training run of a batch: weight law, orthogonal gain, learning rate, weight seed."""

    init: str
    """A weight law of ``nets.INITS``."""
    gain: float = 1.0
    """Multiplies the orthogonal law (must be 1 for the others)."""
    lr: float = DEEP_TRAIN.lr
    """Learning rate of SGD (> 0); the other settings come from the ``TrainConfig``."""
    seed: int = 0
    """Seed of the initial weights."""

    def __post_init__(self):
        check_choice("init", self.init, nets.INITS)
        gain = check_real("gain", self.gain, low=0.0, low_open=True)
        if gain != 1.0 and self.init != "orthogonal":
            raise ValueError(f"gain must be 1 for init {self.init!r}")
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_seed(self.seed)


def _stacked_parameters(net: nets.MLPConfig, runs: Sequence[Run], n_inputs: int
                        ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Weights (K, in, out) and biases (K, 1, out) of each layer of the K networks.

    Each network's layers are drawn exactly as :func:`train_deep` draws them
    (``make_initialized_mlp`` from the run's seed: ``nets.init_linear_`` on each layer in
    turn from one generator, orthogonal weights then times the gain), into one scratch
    ``nn.Linear`` per layer shape rather than a fresh model per run, and stacked along a
    leading run axis.
    """
    sizes = net.sizes(n_inputs, _N_CLASSES)
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    scratch = {shape: nn.Linear(*shape, bias=net.bias) for shape in set(shapes)}
    weights = [torch.empty(len(runs), n_in, n_out) for n_in, n_out in shapes]
    biases = [torch.zeros(len(runs), 1, n_out) for _, n_out in shapes]
    with torch.no_grad():
        for k, run in enumerate(runs):
            gen = nets.torch_generator(run.seed)
            for i, shape in enumerate(shapes):
                layer = nets.init_linear_(scratch[shape], run.init, gen)
                weights[i][k] = layer.weight.T * run.gain if run.gain != 1.0 else layer.weight.T
                if net.bias:  # else a constant zero: never trained
                    biases[i][k, 0] = layer.bias
    return weights, biases


def _batched_forward(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                     activation: nn.Module, x: torch.Tensor,
                     last_linear: bool = True) -> torch.Tensor:
    """Logits (K, N, C) of the K stacked networks on the same inputs x (N, in).

    With ``last_linear`` False, every layer is followed by the activation (the hidden
    layers of a network given without its output layer).
    """
    h = x.expand(weights[0].shape[0], -1, -1)  # (K, N, in)
    # ReLU in place on the fresh product: the same values, one tensor less to allocate (the
    # product's backward does not need its output; ReLU's needs only its own output).
    inplace = isinstance(activation, nn.ReLU)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = torch.baddbmm(b, h, w)  # (K, N, out)
        if i < len(weights) - 1 or not last_linear:
            h = torch.relu_(h) if inplace else activation(h)
    return h


_RECORD_ROWS = 256
"""Rows per block of the hidden layers in :func:`_batched_record` (activations of all the
networks stay in cache)."""


def _batched_record(weights, biases, activation, parts) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mean cross-entropy (K,) and accuracy (K,) of each network on each (x, y) of ``parts``.

    The hidden layers run on all the inputs at once, in blocks of rows; the output layer
    on each part whole.  Each row's logits are those of :func:`_batched_forward` on the
    part alone (a row of a matrix product does not depend on the other rows).
    """
    with torch.no_grad():
        x = torch.cat([xp for xp, _ in parts])
        blocks = torch.tensor_split(x, -(-len(x) // _RECORD_ROWS))
        hidden = torch.cat([_batched_forward(weights[:-1], biases[:-1], activation, block,
                                             last_linear=False) for block in blocks], dim=1)
        out, start = [], 0
        for _, y in parts:
            h = hidden[:, start:start + len(y)]
            start += len(y)
            logits = torch.baddbmm(biases[-1], h, weights[-1])  # (K, N, C)
            k, n, c = logits.shape
            loss = nn.functional.cross_entropy(logits.reshape(k * n, c), y.repeat(k),
                                               reduction="none").reshape(k, n).mean(1)
            acc = (logits.argmax(2) == y).float().mean(1)
            out.append((loss.double().numpy(), acc.double().numpy()))
    return out


def _sgd_step(weights, biases, velocity_w, velocity_b, lr, momentum, activation, x, y) -> None:
    """One step of SGD with momentum of the K stacked networks on the minibatch (x, y).

    The loss is the sum over runs of each run's mean cross-entropy, so run k's gradient is
    its own.  The backward pass is written out with the operations autograd performs for
    :func:`_batched_forward` (the same products, the same results), and each layer is
    updated as soon as its gradient is known, while it is still in cache: the update of
    ``torch.optim.SGD``, v = momentum v + g, then p = p - lr v.  ``velocity_b`` is None
    when the biases are constant zeros (not trained).
    """
    relu = isinstance(activation, nn.ReLU)
    inputs = [x.expand(weights[0].shape[0], -1, -1)]  # each layer's input, (K, B, in)
    graphs = []  # (pre-activation, activation) of each hidden layer, for other activations
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = torch.baddbmm(b, inputs[-1], w)
        if relu:  # in place, as in _batched_forward: its backward needs its output only
            inputs.append(torch.relu_(z))
        else:
            with torch.enable_grad():
                a = activation(z.requires_grad_(True))
            graphs.append((z, a))
            inputs.append(a.detach())
    logits = torch.baddbmm(biases[-1], inputs[-1], weights[-1]).requires_grad_(True)
    kb, c = logits.shape[0] * logits.shape[1], logits.shape[2]
    with torch.enable_grad():
        loss = nn.functional.cross_entropy(logits.reshape(kb, c), y.repeat(logits.shape[0]),
                                           reduction="sum") / len(y)
    (grad,) = torch.autograd.grad(loss, logits)  # d loss / d (pre-activation), (K, B, out)
    for i in range(len(weights) - 1, -1, -1):
        h = inputs[i]
        grad_w = torch.bmm(h.transpose(1, 2), grad)
        grad_b = grad.sum(1, keepdim=True) if velocity_b is not None else None
        if i > 0:  # the gradient of the layer below, with this layer's weights before update
            grad_h = torch.bmm(grad, weights[i].transpose(1, 2))
            if relu:
                grad = torch.ops.aten.threshold_backward.grad_input(grad_h, h, 0,
                                                                    grad_input=grad_h)
            else:
                z, a = graphs[i - 1]
                (grad,) = torch.autograd.grad(a, z, grad_h)
        velocity_w[i].mul_(momentum).add_(grad_w)
        weights[i].sub_(torch.mul(lr, velocity_w[i], out=grad_w))
        if grad_b is not None:
            velocity_b[i].mul_(momentum).add_(grad_b)
            biases[i].sub_(torch.mul(lr, velocity_b[i], out=grad_b))


@limited_threads()
def train_deep_batch(runs: Sequence[Run], net: nets.MLPConfig = DEEP_NET,
                     train: nets.TrainConfig = DEEP_TRAIN) -> tuple[nets.History, ...]:
    """Train K networks ``net`` at once on the digits; one history per run, in order.

    The same computation as K calls of :func:`train_deep` (each with ``train`` at the
    run's learning rate): the same initial weights, the same minibatch order (from
    ``train.seed``), the update of ``torch.optim.SGD`` with momentum (no weight decay),
    the same per-epoch records.  The K networks are stacked along a leading axis and
    multiplied by batched matrix products, which on a CPU costs a fraction of K separate
    runs.  Round-off differs from the separate runs (batched and plain matrix products
    sum in different orders), and a long run of a deep network amplifies it: histories
    agree closely for the first epochs, not to the last digit at the end.
    """
    runs = tuple(runs)
    if not runs or not all(isinstance(r, Run) for r in runs):
        raise ValueError("runs must be a non-empty sequence of initialization.Run")
    _check_net(net)
    if not isinstance(train, nets.TrainConfig):
        raise ValueError(f"train must be a nets.TrainConfig, got {type(train).__name__}")
    if train.optimizer != "sgd" or train.weight_decay != 0.0:
        raise ValueError("train_deep_batch implements SGD with momentum and no weight decay")
    split = _digits()
    x = torch.tensor(split.x_train, dtype=torch.float32)
    y = torch.tensor(split.y_train)
    x_test = torch.tensor(split.x_test, dtype=torch.float32)
    y_test = torch.tensor(split.y_test)
    weights, biases = _stacked_parameters(net, runs, x.shape[1])
    velocity_w = [torch.zeros_like(w) for w in weights]
    velocity_b = [torch.zeros_like(b) for b in biases] if net.bias else None
    lr = torch.tensor([r.lr for r in runs], dtype=torch.float32)[:, None, None]  # (K, 1, 1)
    activation = nets.ACTIVATIONS[net.activation]()
    k = len(runs)
    losses, accs, test_accs = [], [], []

    def record():
        (loss, acc), (_, test_acc) = _batched_record(weights, biases, activation,
                                                     ((x, y), (x_test, y_test)))
        losses.append(loss)
        accs.append(acc)
        test_accs.append(test_acc)

    record()
    gen = nets.torch_generator(train.seed)
    n = len(y)
    for _ in range(train.epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, train.batch_size):
            idx = perm[start:start + train.batch_size]
            _sgd_step(weights, biases, velocity_w, velocity_b, lr, train.momentum, activation,
                      x[idx], y[idx])
        record()
    out = []
    for i in range(k):
        out.append(nets.History([float(v[i]) for v in losses], [float(a[i]) for a in accs],
                                [float(a[i]) for a in test_accs]))
    return tuple(out)


# --------------------------------------------------------------------------- length factors
def length_factor_cdf(r: ArrayLike, width: int) -> float | np.ndarray:
    """P(R <= r) for R = (2/n) chi^2_K, K ~ Binomial(n, 1/2): the squared-length factor.

    The law of ||h_l||^2 / ||h_(l-1)||^2 in a zero-bias ReLU layer of width n with
    N(0, 2/n) weights (given h_(l-1) != 0); it has an atom 2^-n at 0 (no unit active).
    """
    n = check_int("width", width, minimum=1)
    x = check_array("r", r, nonempty=False)
    k = np.arange(n + 1)
    pk = stats.binom.pmf(k, n, 0.5)  # (n+1,)
    y = np.clip(x, 0.0, None)[..., None] * n / 2  # chi^2_K <= n r / 2
    inner = np.where(k == 0, 1.0, stats.chi2.cdf(y, np.maximum(k, 1)))  # chi^2_0 = 0
    return np.where(x < 0, 0.0, inner @ pk) if x.ndim else float(
        0.0 if x < 0 else inner @ pk)


def length_factor_moments(width: int) -> tuple[Fraction, Fraction]:
    """(E R, Var R) of the squared-length factor R = (2/n) chi^2_K, exactly (rationals).

    From the law: E[chi^2_k] = k, E[(chi^2_k)^2] = k (k + 2), summed against the binomial
    probabilities C(n, k) / 2^n.
    """
    n = check_int("width", width, minimum=1)
    total = 2 ** n
    m1 = sum(Fraction(math.comb(n, k) * k, total) for k in range(n + 1))
    m2 = sum(Fraction(math.comb(n, k) * k * (k + 2), total) for k in range(n + 1))
    scale = Fraction(2, n)
    return scale * m1, scale * scale * m2 - (scale * m1) ** 2


def length_factor_log_moments(width: int) -> tuple[float, float]:
    """(E log R, Var log R) for R = (2/n) chi^2_K given K >= 1 (no layer entirely off).

    E[log chi^2_k] = psi(k/2) + log 2 and Var[log chi^2_k] = psi'(k/2) (psi the digamma
    function), mixed over K ~ Binomial(n, 1/2) conditioned on K >= 1.
    """
    n = check_int("width", width, minimum=1)
    k = np.arange(1, n + 1)
    logp = stats.binom.logpmf(k, n, 0.5) - math.log1p(-2.0 ** -n)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    mean_k = special.digamma(k / 2) + math.log(2.0) + math.log(2.0 / n)  # E[log R | K = k]
    mean = float(p @ mean_k)
    var = float(p @ special.polygamma(1, k / 2) + p @ (mean_k - mean) ** 2)
    return mean, var


@limited_threads()
def relu_log_lengths(width: int, depth: int, n_nets: int,
                     rng: int | np.random.Generator = 0) -> np.ndarray:
    """log ||h_l||^2 / ||x||^2, l = 1..depth, in zero-bias ReLU nets with N(0, 2/n) weights.

    ``n_nets`` independent nets of ``depth`` square layers of ``width`` units, fed the
    fixed input x = (1, ..., 1); returns (n_nets, depth).  A layer with no active unit
    gives -inf from there on.
    """
    n = check_int("width", width, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    n_nets = check_int("n_nets", n_nets, minimum=1)
    rng = check_rng(rng)
    h = np.ones((n_nets, n))  # (S, n)
    log_x = math.log(n)
    out = np.empty((n_nets, depth))
    for layer in range(depth):
        w = rng.standard_normal((n_nets, n, n)) * math.sqrt(2.0 / n)  # (S, n, n)
        h = np.maximum(np.matmul(w, h[:, :, None])[:, :, 0], 0.0)  # (S, n)
        with np.errstate(divide="ignore"):
            out[:, layer] = np.log(np.sum(h * h, axis=1)) - log_x
    return out


# --------------------------------------------------------------------------- depth and scale
@limited_threads()
def network_outputs(net: nets.MLPConfig, gain: float = 1.0, n_inputs: int = N_PROBE,
                    rng: int | torch.Generator = 0) -> np.ndarray:
    """Outputs (logits) of ``net`` at initialization on the first standardized digits.

    The network is built as in :func:`activation_scales` and evaluated in float64 (its
    float32 weights converted exactly), so that round-off in the forward pass is far below
    that of the weights themselves; (n_inputs, 10).
    """
    _check_net(net)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    n_inputs = check_int("n_inputs", n_inputs, minimum=1, maximum=len(_digits().y_train))
    x = torch.from_numpy(_digits().x_train[:n_inputs]).double()
    model = _build(net, x.shape[1], gain, rng).double()
    with torch.no_grad():
        return model(x).numpy()


# --------------------------------------------------------------------------- products
def product_moments_exact(n: int, depth: int) -> tuple[Fraction, ...]:
    """M_L = (1/n) E tr((P_L^T P_L)^2), L = 0..depth, for P_L = W_L ... W_1, W i.i.d. N(0, 1/n).

    Recursion of the chapter: tau = E (tr A)^2, rho = E tr(A^2) with A = P^T P,
    tau_L = tau_(L-1) + 2 rho_(L-1)/n, rho_L = (1 + 1/n) rho_(L-1) + tau_(L-1)/n,
    tau_0 = n^2, rho_0 = n, and M_L = rho_L / n.  Exact rationals, (depth + 1,).
    """
    n = check_int("n", n, minimum=1)
    depth = check_int("depth", depth, minimum=0)
    tau, rho = Fraction(n * n), Fraction(n)
    out = [rho / n]
    for _ in range(depth):
        tau, rho = tau + 2 * rho / n, (1 + Fraction(1, n)) * rho + tau / n
        out.append(rho / n)
    return tuple(out)


@limited_threads()
def product_singular_values(n: int, depths: Sequence[int], kind: str,
                            rng: int | torch.Generator = 0) -> dict[int, np.ndarray]:
    """Singular values (descending) of W_L ... W_1 for each L in ``depths``, {L: (n,)}.

    ``kind="gaussian"``: i.i.d. N(0, 1/n) layers; ``"orthogonal"``: Haar orthogonal layers
    (``torch.nn.init.orthogonal_``).  Float64; keep the depth small enough that the
    smallest singular value stays far above 1e-16 times the largest (n = 64: L <= 8 is
    safe).
    """
    n = check_int("n", n, minimum=1)
    depths = check_sizes("depths", depths)
    check_choice("kind", kind, ("gaussian", "orthogonal"))
    gen = nets.torch_generator(rng)
    p = torch.eye(n, dtype=torch.float64)
    out = {}
    for layer in range(1, max(depths) + 1):
        w = torch.empty(n, n, dtype=torch.float64)
        if kind == "gaussian":
            w.normal_(0.0, 1 / math.sqrt(n), generator=gen)
        else:
            nn.init.orthogonal_(w, generator=gen)
        p = w @ p
        if layer in depths:
            out[layer] = torch.linalg.svdvals(p).numpy()
    return out


def numerical_rank(s: ArrayLike, rtol: float = 1e-10) -> int:
    """Number of singular values above ``rtol`` times the largest (float64 round-off ~1e-16)."""
    s = check_array("s", s, ndim=1)
    if np.any(s < 0):
        raise ValueError("s must hold singular values (>= 0)")
    rtol = check_real("rtol", rtol, low=0.0, low_open=True)
    return int(np.sum(s > rtol * s.max()))

