"""Multilayer perceptrons, weight initialisations and a small seeded trainer (torch)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

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

# Weight laws, for a layer with n_in inputs and n_out outputs:
#   pytorch    U(-1/sqrt(n_in), 1/sqrt(n_in)), var 1/(3 n_in); bias likewise (nn.Linear's default)
#   standard   the same weights, bias 0 (Glorot & Bengio's "standard" initialisation)
#   xavier     U(-a, a), a = sqrt(6/(n_in + n_out)), var 2/(n_in + n_out); bias 0 ("normalised")
#   lecun      N(0, 1/n_in); bias 0
#   he         N(0, 2/n_in); bias 0
#   orthogonal Haar-orthogonal rows or columns times `gain`; bias 0
INITS = ("pytorch", "standard", "xavier", "lecun", "he", "orthogonal")


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return torch.Generator().manual_seed(int(seed))


def orthogonal_(weight: torch.Tensor, gen: torch.Generator, gain: float = 1.0) -> torch.Tensor:
    """Fill ``weight`` (n_out, n_in) with a Haar-random matrix with orthonormal rows or columns."""
    n_out, n_in = weight.shape
    a = torch.randn(max(n_out, n_in), min(n_out, n_in), generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))  # sign fix makes the law Haar
    q = q if n_out >= n_in else q.T
    with torch.no_grad():
        weight.copy_(gain * q.to(weight.dtype))
    return weight


def init_linear_(layer: nn.Linear, scheme: str, gen: torch.Generator, gain: float = 1.0) -> None:
    """Initialise ``layer`` in place with weight law ``scheme`` (one of ``INITS``)."""
    if scheme not in INITS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {INITS}")
    n_out, n_in = layer.weight.shape
    with torch.no_grad():
        if scheme in ("pytorch", "standard"):
            bound = 1.0 / math.sqrt(n_in)
            layer.weight.uniform_(-bound, bound, generator=gen)
        elif scheme == "xavier":
            bound = math.sqrt(6.0 / (n_in + n_out))
            layer.weight.uniform_(-bound, bound, generator=gen)
        elif scheme == "lecun":
            layer.weight.normal_(0.0, math.sqrt(1.0 / n_in), generator=gen)
        elif scheme == "he":
            layer.weight.normal_(0.0, math.sqrt(2.0 / n_in), generator=gen)
        else:
            orthogonal_(layer.weight, gen, gain)
        if layer.bias is not None:
            if scheme == "pytorch":
                layer.bias.uniform_(-1.0 / math.sqrt(n_in), 1.0 / math.sqrt(n_in), generator=gen)
            else:
                layer.bias.zero_()


def make_mlp(sizes: Sequence[int], activation: str = "relu", init: str = "pytorch",
             seed: int = 0, bias: bool = True) -> nn.Sequential:
    """An MLP ``sizes[0] -> ... -> sizes[-1]`` with ``activation`` after every hidden layer.

    The output layer is linear.  Weights follow ``init`` (see ``INITS``), drawn from a
    generator seeded with ``seed``.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"sizes must be >= 2 positive integers, got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
    gen = generator(seed)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out, bias=bias)
        init_linear_(linear, init, gen)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def hidden_outputs(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every activation module of an MLP (one tensor (N, width) per layer)."""
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
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0
    optimizer: str = "sgd"  # "sgd" or "adam"
    seed: int = 0  # minibatch order

    def __post_init__(self):
        if self.epochs < 0 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"invalid training settings: {self}")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")


@dataclass
class History:
    """Per-epoch record of a training run; index 0 is before the first epoch."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)


def _as_tensors(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"need x (N, ...) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains non-finite values")
    return x, y


@torch.no_grad()
def evaluate(model: nn.Module, x, y) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)``."""
    x, y = _as_tensors(x, y)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


def train_classifier(model: nn.Module, x, y, config: TrainConfig = TrainConfig(),
                     x_test=None, y_test=None) -> History:
    """Train ``model`` with cross-entropy by minibatch SGD (or Adam); return its history."""
    x, y = _as_tensors(x, y)
    gen = generator(config.seed)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=config.lr,
                               weight_decay=config.weight_decay)
    hist = History()

    def record():
        loss, acc = evaluate(model, x, y)
        hist.train_loss.append(loss)
        hist.train_acc.append(acc)
        if x_test is not None:
            hist.test_acc.append(evaluate(model, x_test, y_test)[1])

    record()
    n = len(y)
    for _ in range(config.epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, config.batch_size):
            idx = perm[start:start + config.batch_size]
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        record()
    return hist
