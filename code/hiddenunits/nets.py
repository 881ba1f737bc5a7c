"""Multilayer perceptrons, weight initializations and a small seeded trainer (torch).

An MLP here is ``n_inputs -> width x depth -> n_outputs``: ``depth`` counts the *hidden*
layers (a Linear layer followed by the activation); the output layer is linear.  So a
network with ``depth`` hidden layers has ``depth + 1`` Linear (weight) layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from hiddenunits.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_seed,
    check_sizes,
)

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

INITS = ("pytorch", "standard", "xavier", "lecun", "he", "orthogonal")
"""Weight laws for a layer with n_in inputs and n_out outputs (all from ``torch.nn.init``):

* ``pytorch``: U(-1/sqrt(n_in), 1/sqrt(n_in)), variance 1/(3 n_in); bias likewise
  (``nn.Linear``'s default, i.e. ``kaiming_uniform_(a=sqrt(5))``);
* ``standard``: the same weights, bias 0 (Glorot & Bengio's "standard" initialization);
* ``xavier``: U(-a, a), a = sqrt(6/(n_in + n_out)), variance 2/(n_in + n_out); bias 0
  (their "normalized" initialization, ``xavier_uniform_``);
* ``lecun``: N(0, 1/n_in); bias 0 (``kaiming_normal_`` with the linear gain);
* ``he``: N(0, 2/n_in); bias 0 (``kaiming_normal_`` with the ReLU gain);
* ``orthogonal``: Haar-random orthonormal rows or columns times ``gain``; bias 0
  (``orthogonal_``).
"""


def torch_generator(rng: int | torch.Generator = 0) -> torch.Generator:
    """A CPU ``torch.Generator`` from ``rng``: a seed (int >= 0) or a generator (used as is)."""
    if isinstance(rng, torch.Generator):
        return rng
    try:
        seed = check_seed(rng)
    except ValueError:
        raise ValueError("rng must be a seed (integer >= 0) or a torch.Generator, "
                         f"got {type(rng).__name__}") from None
    return torch.Generator().manual_seed(seed)


def init_linear_(layer: nn.Linear, scheme: str, rng: int | torch.Generator,
                 gain: float = 1.0) -> nn.Linear:
    """Initialize ``layer`` in place with weight law ``scheme`` (one of ``INITS``).

    ``rng`` is required (a seed or a ``torch.Generator``), so nothing falls back on
    torch's global generator.  ``gain`` multiplies the orthogonal law (the others ignore
    it).
    """
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"layer must be a torch.nn.Linear, got {type(layer).__name__}")
    check_choice("scheme", scheme, INITS)
    gain = check_real("gain", gain, low=0.0, low_open=True)
    gen = torch_generator(rng)
    w = layer.weight
    with torch.no_grad():
        if scheme in ("pytorch", "standard"):
            nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(w, generator=gen)
        elif scheme == "lecun":
            nn.init.kaiming_normal_(w, nonlinearity="linear", generator=gen)
        elif scheme == "he":
            nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen)
        else:
            nn.init.orthogonal_(w, gain=gain, generator=gen)
        if layer.bias is not None:
            if scheme == "pytorch":
                bound = 1.0 / math.sqrt(w.shape[1])
                nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
            else:
                nn.init.zeros_(layer.bias)
    return layer


@dataclass(frozen=True)
class MLPConfig:
    """An MLP ``n_inputs -> width x depth -> n_outputs`` (see :func:`make_mlp`)."""

    depth: int = 1
    """Hidden layers (Linear + activation); the net has ``depth + 1`` Linear layers."""
    width: int = 64
    """Units per hidden layer."""
    activation: str = "relu"
    """A key of ``ACTIVATIONS``."""
    init: str = "pytorch"
    """A weight law of ``INITS``."""
    bias: bool = True
    """Whether the Linear layers have biases."""

    def __post_init__(self):
        check_int("depth", self.depth, minimum=0)
        check_int("width", self.width, minimum=1)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("init", self.init, INITS)
        check_bool("bias", self.bias)

    def sizes(self, n_inputs: int, n_outputs: int) -> tuple[int, ...]:
        """Layer widths ``(n_inputs, width, ..., width, n_outputs)``."""
        return (check_int("n_inputs", n_inputs, minimum=1),
                *[self.width] * self.depth, check_int("n_outputs", n_outputs, minimum=1))

    def build(self, n_inputs: int, n_outputs: int,
              rng: int | torch.Generator = 0) -> nn.Sequential:
        """The network, weights drawn from ``rng``."""
        return make_mlp(self.sizes(n_inputs, n_outputs), self.activation, self.init, rng,
                        self.bias)


def make_mlp(sizes: Sequence[int], activation: str = "relu", init: str = "pytorch",
             rng: int | torch.Generator = 0, bias: bool = True) -> nn.Sequential:
    """An MLP ``sizes[0] -> ... -> sizes[-1]`` with ``activation`` after every hidden layer.

    The output layer is linear.  Weights follow ``init`` (see ``INITS``), drawn from
    ``rng`` (a seed or a ``torch.Generator``), layer after layer.
    """
    sizes = check_sizes("sizes", sizes, minimum_length=2)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    gen = torch_generator(rng)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out, bias=check_bool("bias", bias))
        init_linear_(linear, init, gen)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def hidden_outputs(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every activation module of an MLP (one tensor (N, width) per layer)."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    outs = []
    h = x
    for module in model:
        h = module(h)
        if not isinstance(module, nn.Linear):
            outs.append(h)
    return outs


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train_classifier`."""

    epochs: int = 20
    """Passes over the training set (0: no training, only the initial record)."""
    batch_size: int = 64
    lr: float = 0.1
    """Learning rate (> 0)."""
    momentum: float = 0.0
    """Heavy-ball momentum of SGD, in [0, 1)."""
    weight_decay: float = 0.0
    """L2 penalty coefficient (>= 0)."""
    optimizer: str = "sgd"
    """``"sgd"`` or ``"adam"``."""
    seed: int = 0
    """Seed of the minibatch order."""

    def __post_init__(self):
        check_int("epochs", self.epochs, minimum=0)
        check_int("batch_size", self.batch_size, minimum=1)
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_real("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        check_real("weight_decay", self.weight_decay, low=0.0)
        check_choice("optimizer", self.optimizer, ("sgd", "adam"))
        check_seed(self.seed)


@dataclass
class History:
    """Per-epoch record of a training run; index 0 is before the first epoch."""

    train_loss: list[float] = field(default_factory=list)
    """Mean cross-entropy on the training set."""
    train_acc: list[float] = field(default_factory=list)
    """Accuracy on the training set."""
    test_acc: list[float] = field(default_factory=list)
    """Accuracy on the test set (empty when none was given)."""


def _as_tensors(model: nn.Module, x: ArrayLike, y: ArrayLike,
                names: tuple[str, str] = ("x", "y")) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (N, ...) as float32 and integer labels (N,) within the model's classes."""
    xa = check_array(names[0], x)
    if xa.ndim < 2:
        raise ValueError(f"{names[0]} must have shape (N, ...), got {xa.shape}")
    ya = check_array(names[1], y, ndim=1, dtype=np.int64)
    if len(xa) != len(ya):
        raise ValueError(f"{names[0]} and {names[1]} differ in length: {len(xa)} and "
                         f"{len(ya)}")
    xt = torch.tensor(xa, dtype=torch.float32)  # a copy: xa may be a read-only view
    with torch.no_grad():
        n_classes = model(xt[:1]).shape[-1]
    if ya.min() < 0 or ya.max() >= n_classes:
        raise ValueError(f"{names[1]} must hold class labels in 0..{n_classes - 1} (the "
                         f"model's outputs), got {ya.min()}..{ya.max()}")
    return xt, torch.tensor(ya)


def evaluate(model: nn.Module, x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)``."""
    return _evaluate(model, *_as_tensors(model, x, y))


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


class _Descent:
    """The update of ``torch.optim.SGD`` or ``torch.optim.Adam``, written out.

    The same tensor operations in the same order as PyTorch's CPU path (its "single
    tensor" loop; no foreach kernels on the CPU), hence bit-for-bit the same weights
    (``tests/test_nets.py`` trains both ways and compares).  Written out because the first
    ``step`` of a ``torch.optim`` optimizer imports ``torch._dynamo``, which costs about
    2.4 s in every process that trains.  SGD: heavy-ball momentum without dampening or
    Nesterov; Adam: betas (0.9, 0.999), eps 1e-8, coupled weight decay, no amsgrad.
    """

    BETAS = (0.9, 0.999)
    EPS = 1e-8

    def __init__(self, params, config: TrainConfig):
        self.params = [p for p in params if p.requires_grad]
        self.config = config
        self.steps = [0] * len(self.params)  # per parameter, as PyTorch counts them
        if config.optimizer == "adam":
            self.moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]
        else:
            self.buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        cfg = self.config
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            self.steps[i] += 1
            grad = p.grad
            if cfg.weight_decay != 0:
                grad = grad.add(p, alpha=cfg.weight_decay)
            if cfg.optimizer == "adam":
                self._adam(p, grad, *self.moments[i], float(self.steps[i]))
                continue
            if cfg.momentum != 0:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = grad.detach().clone()
                else:
                    buf.mul_(cfg.momentum).add_(grad)
                grad = buf
            p.add_(grad, alpha=-cfg.lr)

    def _adam(self, p: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor,
              exp_avg_sq: torch.Tensor, step: float) -> None:
        beta1, beta2 = self.BETAS
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = self.config.lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.EPS)
        p.addcdiv_(exp_avg, denom, value=-step_size)


def train_classifier(model: nn.Module, x: ArrayLike, y: ArrayLike,
                     config: TrainConfig = TrainConfig(), x_test: ArrayLike | None = None,
                     y_test: ArrayLike | None = None, *, history: bool = True) -> History:
    """Train ``model`` with cross-entropy by minibatch SGD (or Adam); return its history.

    ``x`` (N, ...) inputs, ``y`` (N,) integer labels in 0..K-1 for a model with K
    outputs; ``x_test``/``y_test`` (both or neither) are evaluated after every epoch.
    ``history=False`` skips those evaluations (the History returned is empty): the
    training, and so the trained weights, are the same.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    history = check_bool("history", history)
    x, y = _as_tensors(model, x, y)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    if x_test is not None:
        x_test, y_test = _as_tensors(model, x_test, y_test, ("x_test", "y_test"))
    gen = torch_generator(config.seed)
    opt = _Descent(model.parameters(), config)
    hist = History()

    def record():
        if not history:
            return
        loss, acc = _evaluate(model, x, y)
        hist.train_loss.append(loss)
        hist.train_acc.append(acc)
        if x_test is not None:
            hist.test_acc.append(_evaluate(model, x_test, y_test)[1])

    record()
    n = len(y)
    for _ in range(config.epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, config.batch_size):
            idx = perm[start:start + config.batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        record()
    return hist
