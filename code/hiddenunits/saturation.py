"""Saturation of hidden units during training: a small Glorot & Bengio (2010) experiment.

Deep MLPs on the digits, with sigmoid, tanh, ReLU or softplus units and the "standard"
or the normalised ("xavier") initialisation of :mod:`hiddenunits.nets`, trained by SGD
with momentum for each learning rate of a grid and several seeds.  All the networks of
the experiment are trained at once, as one batch of independent models (a batched
matrix product per layer), which gives exactly the updates of
:func:`hiddenunits.nets.train_classifier` run on each network alone.  After every epoch
we record, for every hidden layer, the mean activation, the input-dependent spread of the
activations, and the distribution of the relative slope phi'(z) / sup phi' (a unit is
*saturated* on an example where this is below 1 %, and *dead* when it is saturated on
every training example).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

import numpy as np
import torch
from numpy.typing import ArrayLike

from hiddenunits import activations
from hiddenunits.data import digits_split
from hiddenunits.nets import MLPConfig, TrainConfig, make_mlp, torch_generator
from hiddenunits.threads import limited_threads
from hiddenunits.validation import check_choice, check_int, check_real

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
"""The units compared."""
INITS = ("standard", "xavier")
"""The initialisations compared (see ``nets.INITS``)."""
SATURATED = activations.SATURATED
"""Relative slope phi'(z) / sup phi' below which a unit counts as saturated."""

NET = MLPConfig(depth=5, width=32, activation="sigmoid", init="standard")
"""The networks: five hidden layers of 32 units (activation and init vary)."""
TRAIN = TrainConfig(epochs=10, batch_size=128, lr=0.1, momentum=0.9, seed=0)
"""The training (its learning rate and seed are replaced by those of the sweep)."""
LEARNING_RATES = (0.03, 0.1, 0.3)
"""The learning rates of the sweep, each tried for every unit and initialisation."""
SEEDS = (0, 1, 2)
"""Seeds of the sweep: each gives the initial weights and the minibatch order."""
MONITOR = 512
"""The records of every epoch are taken on the first MONITOR training examples (a fixed
random sample: the stratified split shuffles); the final loss and accuracies on all."""

_TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
          "softplus": torch.nn.functional.softplus}


def relative_slope(activation: str, h: torch.Tensor) -> torch.Tensor:
    """phi'(z) / sup phi', written in terms of the output h = phi(z).

    ``activation`` is one of ``ACTIVATIONS``: sigmoid 4 h (1 - h); tanh 1 - h^2;
    ReLU 1[h > 0]; softplus sigma(z) = 1 - e^{-h}.
    """
    check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(h, torch.Tensor):
        raise ValueError(f"h must be a torch.Tensor, got {type(h).__name__}")
    match activation:
        case "sigmoid":
            return 4.0 * h * (1.0 - h)
        case "tanh":
            return 1.0 - h * h
        case "relu":
            return (h > 0).to(h.dtype)
        case _:  # softplus
            return -torch.expm1(-h)


def _read_only(x: ArrayLike) -> np.ndarray:
    a = np.array(x, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class RunRecord:
    """One training run; the arrays (read-only) have one row per epoch, row 0 before
    training, and (the per-layer ones) one column per hidden layer."""

    net: MLPConfig
    """The network trained (its activation and initialisation included)."""
    lr: float
    """Its learning rate."""
    seed: int
    """Seed of its initial weights and of its minibatch order."""
    train_loss: np.ndarray
    """(E + 1,) mean cross-entropy on the monitored training examples (inf where it is
    not finite)."""
    train_acc: np.ndarray
    """(E + 1,) accuracy on the monitored training examples."""
    final_loss: float
    """Mean cross-entropy on the whole training set after the last epoch (inf if not
    finite)."""
    final_train_acc: float
    """Accuracy on the whole training set after the last epoch."""
    test_acc: float
    """Accuracy on the test set after the last epoch."""
    mean: np.ndarray
    """(E + 1, depth) mean activation h of each hidden layer on the monitored examples."""
    std: np.ndarray
    """(E + 1, depth) its standard deviation over units and examples."""
    spread: np.ndarray
    """(E + 1, depth) input-dependent spread: the root mean square over units of each
    unit's standard deviation over the monitored examples."""
    slope: np.ndarray
    """(E + 1, depth) mean relative slope phi'(z) / sup phi'."""
    saturated: np.ndarray
    """(E + 1, depth) fraction of relative slopes below ``SATURATED`` (ReLU: exact zeros)."""
    dead: np.ndarray
    """(E + 1, depth) fraction of units saturated on every monitored example (ReLU: units
    that output 0 on every example, which therefore receive no gradient from them)."""

    def __post_init__(self):
        for name in ("final_loss", "final_train_acc", "test_acc"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("train_loss", "train_acc", "mean", "std", "spread",
                     "slope", "saturated", "dead"):
            object.__setattr__(self, name, _read_only(getattr(self, name)))

    @property
    def activation(self) -> str:
        """The hidden units."""
        return self.net.activation

    @property
    def init(self) -> str:
        """The initialisation."""
        return self.net.init

    @property
    def epochs(self) -> int:
        """Epochs trained."""
        return self.train_loss.size - 1


@dataclass(frozen=True)
class RunSpec:
    """One network of a batched training: its configuration, learning rate and seed."""

    net: MLPConfig
    """Activation (one of ``ACTIVATIONS``), initialisation (one of ``INITS``) and shape."""
    lr: float
    """Learning rate (> 0)."""
    seed: int
    """Seed of the initial weights (``make_mlp``) and of the minibatch order."""

    def __post_init__(self):
        if not isinstance(self.net, MLPConfig):
            raise ValueError(f"net must be an MLPConfig, got {type(self.net).__name__}")
        check_choice("net.activation", self.net.activation, ACTIVATIONS)
        check_choice("net.init", self.net.init, INITS)
        if self.net.depth < 1:
            raise ValueError("net.depth must be at least 1 (a hidden layer to watch)")
        if not self.net.bias:
            raise ValueError("net.bias must be True (the experiment's networks have biases)")
        object.__setattr__(self, "lr", check_real("lr", self.lr, low=0.0, low_open=True))
        object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0))


class _Group:
    """R independent MLPs with the same activation and shape as stacked tensors:
    W_l (R, out, in), b_l (R, out), built by ``make_mlp`` from each model's seed."""

    def __init__(self, specs: Sequence[RunSpec], n_inputs: int, n_outputs: int):
        self.activation = specs[0].net.activation
        self.depth = specs[0].net.depth
        models = [make_mlp(s.net.sizes(n_inputs, n_outputs), s.net.activation, s.net.init,
                           rng=s.seed) for s in specs]
        linears = [[m for m in model if isinstance(m, torch.nn.Linear)] for model in models]
        self.weights = [torch.stack([ls[k].weight.detach() for ls in linears]).requires_grad_()
                        for k in range(self.depth + 1)]
        self.biases = [torch.stack([ls[k].bias.detach() for ls in linears]).requires_grad_()
                       for k in range(self.depth + 1)]

    @property
    def params(self) -> list[torch.Tensor]:
        return self.weights + self.biases

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (R, N, out) and hidden outputs h_l (R, N, width) for inputs x (R, N, in)."""
        h, hidden = x, []
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))  # (R, N, out)
            if k == self.depth:
                return z, hidden
            h = _TORCH[self.activation](z)
            hidden.append(h)
        raise AssertionError("unreachable")


def _losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(R,) mean cross-entropy of each model; logits (R, N, K), labels y (R, N)."""
    r, n, k = logits.shape
    ce = torch.nn.functional.cross_entropy(logits.reshape(r * n, k), y.reshape(r * n),
                                           reduction="none")
    return ce.view(r, n).mean(dim=1)


@torch.no_grad()
def _evaluate(group: _Group, x: torch.Tensor, y: torch.Tensor
              ) -> tuple[np.ndarray, np.ndarray]:
    """(R,) loss (inf where not finite) and (R,) accuracy of every model of a group on
    inputs x (N, in) with labels y (N,)."""
    r = group.weights[0].shape[0]
    logits, _ = group.forward(x.expand(r, *x.shape))
    loss = _losses(logits, y.expand(r, *y.shape))
    loss = torch.where(torch.isfinite(loss), loss, torch.inf)
    return loss.double().numpy(), (logits.argmax(-1) == y).double().mean(-1).numpy()


def _relative_slope_(activation: str, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """:func:`relative_slope` written into ``out`` (same shape as h), without allocating."""
    out.copy_(h)
    match activation:
        case "sigmoid":  # 4 h (1 - h)
            return out.neg_().add_(1.0).mul_(h).mul_(4.0)
        case "tanh":  # 1 - h^2
            return out.mul_(h).neg_().add_(1.0)
        case "relu":  # 1[h > 0], as h >= 0
            return out.sign_()
        case _:  # softplus: 1 - e^{-h}
            return out.neg_().expm1_().neg_()


@torch.no_grad()
def _record(group: _Group, x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, ...]:
    """Loss, accuracy (R,) and per-layer statistics (R, depth) of every model of a group
    on the monitored examples x (N, in), y (N,)."""
    r = group.weights[0].shape[0]
    logits, hidden = group.forward(x.expand(r, *x.shape))
    loss = _losses(logits, y.expand(r, *y.shape))
    acc = (logits.argmax(-1) == y).double().mean(-1)
    stats = np.empty((6, r, group.depth))
    # two work buffers for all layers: large temporaries are what costs time here
    work = torch.empty_like(hidden[0])
    low = torch.empty(work.shape, dtype=torch.bool)
    for k, h in enumerate(hidden):  # h: (R, N, width)
        unit_mean = h.mean(dim=1, keepdim=True)  # (R, 1, width)
        unit_var = torch.sub(h, unit_mean, out=work).square_().mean(dim=1)  # two passes
        means = unit_mean.squeeze(1)
        # variance over units and examples = mean within-unit + between-unit variance
        total = unit_var.mean(dim=1) + means.var(dim=1, unbiased=False)
        slope = _relative_slope_(group.activation, h, work)
        torch.lt(slope, SATURATED, out=low)
        stats[:, :, k] = torch.stack([
            means.mean(dim=1), total.sqrt(), unit_var.mean(dim=1).sqrt(),
            slope.mean(dim=(1, 2)), low.sum(dim=(1, 2)) / low[0].numel(),
            (slope.amax(dim=1) < SATURATED).sum(dim=1) / h.shape[2]]).double().numpy()
    loss = torch.where(torch.isfinite(loss), loss, torch.inf)
    return (loss.double().numpy(), acc.numpy(), *stats)


@lru_cache(maxsize=8)
def _train(specs: tuple[RunSpec, ...], train: TrainConfig, split_seed: int
           ) -> tuple[RunRecord, ...]:
    split = digits_split(rng=split_seed)
    x, y = torch.as_tensor(split.x_train), torch.as_tensor(split.y_train)
    x_test, y_test = torch.as_tensor(split.x_test), torch.as_tensor(split.y_test)
    members = {a: [i for i, s in enumerate(specs) if s.net.activation == a]
               for a in ACTIVATIONS}
    members = {a: m for a, m in members.items() if m}
    n = len(y)
    with limited_threads():
        groups = [_Group([specs[i] for i in m], x.shape[1], int(y.max()) + 1)
                  for m in members.values()]
        params = [p for g in groups for p in g.params]
        buffers = [torch.zeros_like(p) for p in params]
        steps = []  # the learning rate of each model, shaped to broadcast over a parameter
        for g, m in zip(groups, members.values(), strict=True):
            lr = torch.tensor([specs[i].lr for i in m], dtype=x.dtype)
            steps += [lr.view(len(m), *([1] * (p.dim() - 1))) for p in g.params]
        gens = [[torch_generator(specs[i].seed) for i in m] for m in members.values()]
        x_mon, y_mon = x[:MONITOR], y[:MONITOR]
        history = [[_record(g, x_mon, y_mon)] for g in groups]
        for _ in range(train.epochs):
            perms = [torch.stack([torch.randperm(n, generator=q) for q in gs]) for gs in gens]
            for start in range(0, n, train.batch_size):
                # the models are independent: the gradient of the sum is each model's own
                total = sum(_losses(g.forward(x[idx])[0], y[idx]).sum()
                            for g, idx in ((g, p[:, start:start + train.batch_size])
                                           for g, p in zip(groups, perms, strict=True)))
                grads = torch.autograd.grad(total, params)
                with torch.no_grad():  # torch.optim.SGD with momentum, one lr per model
                    for p, grad, buf, step in zip(params, grads, buffers, steps, strict=True):
                        buf.mul_(train.momentum).add_(grad)
                        p.sub_(step * buf)
            for g, h in zip(groups, history, strict=True):
                h.append(_record(g, x_mon, y_mon))
        final = [(*_evaluate(g, x, y), _evaluate(g, x_test, y_test)[1]) for g in groups]
    records: list[RunRecord | None] = [None] * len(specs)
    for m, h, (loss, acc, test) in zip(members.values(), history, final, strict=True):
        cols = [np.stack(c) for c in zip(*h, strict=True)]  # each (E + 1, R[, depth])
        for j, i in enumerate(m):
            records[i] = RunRecord(specs[i].net, specs[i].lr, specs[i].seed, cols[0][:, j],
                                   cols[1][:, j], loss[j], acc[j], test[j],
                                   *(c[:, j] for c in cols[2:]))
    return tuple(records)  # type: ignore[arg-type]


def train_runs(specs: Sequence[RunSpec], train: TrainConfig = TRAIN, split_rng: int = 0
               ) -> tuple[RunRecord, ...]:
    """Train every network of ``specs`` at once and record it after every epoch.

    Each network is built by ``make_mlp`` with its seed and trained on the stratified
    digits split of seed ``split_rng`` (its first ``MONITOR`` training examples are the
    ones recorded after every epoch) by SGD with ``train``'s epochs, batch size and
    momentum, its own learning rate, and a minibatch order drawn from its own seed, as
    :func:`hiddenunits.nets.train_classifier` would (``train.lr``, ``train.seed`` and
    ``train.weight_decay`` are not used; the optimizer must be SGD).  The networks must
    share depth and width.  Cached per arguments; the records are read-only.
    """
    specs = tuple(specs)
    if not specs or not all(isinstance(s, RunSpec) for s in specs):
        raise ValueError("specs must be a non-empty sequence of RunSpec")
    shapes = {(s.net.depth, s.net.width) for s in specs}
    if len(shapes) > 1:
        raise ValueError(f"the networks must share depth and width, got {sorted(shapes)}")
    if not isinstance(train, TrainConfig):
        raise ValueError(f"train must be a TrainConfig, got {type(train).__name__}")
    if train.optimizer != "sgd" or train.weight_decay != 0.0:
        raise ValueError("train must be plain SGD (optimizer 'sgd', weight_decay 0)")
    return _train(specs, train, check_int("split_rng", split_rng, minimum=0))


SweepKey = tuple[str, str, float, int]
"""(activation, init, learning rate, seed)."""


def sweep(net: MLPConfig = NET, train: TrainConfig = TRAIN,
          lrs: Sequence[float] = LEARNING_RATES, seeds: Sequence[int] = SEEDS,
          split_rng: int = 0) -> dict[SweepKey, RunRecord]:
    """Every (activation, init, learning rate, seed) run of the experiment (cached).

    ``net`` gives depth and width (its activation and init are replaced by each of
    ``ACTIVATIONS`` and ``INITS``); see :func:`train_runs` for the training.
    """
    if not isinstance(net, MLPConfig):
        raise ValueError(f"net must be an MLPConfig, got {type(net).__name__}")
    lrs = tuple(check_real("lr", a, low=0.0, low_open=True) for a in lrs)
    seeds = tuple(check_int("seed", s, minimum=0) for s in seeds)
    if not lrs or not seeds:
        raise ValueError("lrs and seeds must be non-empty")
    keys = [(a, i, lr, s) for a in ACTIVATIONS for i in INITS for lr in lrs for s in seeds]
    specs = [RunSpec(replace(net, activation=a, init=i), lr, s) for a, i, lr, s in keys]
    return dict(zip(keys, train_runs(specs, train, split_rng), strict=True))


def _grid(runs: dict[SweepKey, RunRecord]) -> tuple[tuple[float, ...], tuple[int, ...]]:
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be the dict returned by sweep")
    lrs = tuple(sorted({k[2] for k in runs}))
    seeds = tuple(sorted({k[3] for k in runs}))
    need = {(a, i, lr, s) for a in ACTIVATIONS for i in INITS for lr in lrs for s in seeds}
    if set(runs) != need:
        raise ValueError("runs must hold every (activation, init, lr, seed) of a grid")
    return lrs, seeds


def best_learning_rates(runs: dict[SweepKey, RunRecord]) -> dict[tuple[str, str], float]:
    """For each (activation, init), the learning rate of lowest mean final training loss
    over the seeds (a diverged run counts as infinite loss)."""
    lrs, seeds = _grid(runs)
    best = {}
    for a in ACTIVATIONS:
        for i in INITS:
            means = [np.mean([runs[(a, i, lr, s)].final_loss for s in seeds]) for lr in lrs]
            best[(a, i)] = lrs[int(np.argmin(means))]
    return best


def tuned_runs(runs: dict[SweepKey, RunRecord]) -> dict[tuple[str, str], tuple[RunRecord, ...]]:
    """For each (activation, init), its runs (one per seed) at its best learning rate."""
    _, seeds = _grid(runs)
    return {(a, i): tuple(runs[(a, i, lr, s)] for s in seeds)
            for (a, i), lr in best_learning_rates(runs).items()}


def mean_and_error(values: ArrayLike) -> tuple[float, float]:
    """(mean, standard error of the mean) of a 1-d sample of at least two values."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2:
        raise ValueError("values must be a 1-d sample of at least two values")
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))


# ---------------------------------------------------------------------------------------
# The published findings, measured.
# ---------------------------------------------------------------------------------------

TRAINED = 0.9
"""A unit and initialisation *train* when their tuned runs reach this mean final training
accuracy; only networks that train are compared for the quality of what they learn."""
ONSET = 0.01
"""A layer starts to saturate at the first epoch where this fraction of its units'
relative slopes (on all training examples) is below ``SATURATED``."""
SPARSE = 0.2
"""A rectifier layer counts as sparse when more than this fraction of its outputs is 0."""


def onset_epochs(record_saturated: ArrayLike) -> tuple[int | None, ...]:
    """For a (E + 1, depth) array of saturated fractions, the first epoch at which each
    layer's fraction exceeds ``ONSET`` (None if it never does)."""
    a = np.asarray(record_saturated, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError("record_saturated must have shape (E + 1, depth)")
    out = []
    for col in a.T:
        above = np.flatnonzero(col > ONSET)
        out.append(int(above[0]) if above.size else None)
    return tuple(out)


def _mean(runs: Sequence[RunRecord], what) -> np.ndarray:
    return np.mean([what(r) for r in runs], axis=0)


@dataclass(frozen=True)
class Findings:
    """Our measurements of the published findings of Glorot & Bengio (2010) and Glorot,
    Bordes & Bengio (2011) on a learning-rate sweep, each with a fixed numeric criterion.
    Means are over the seeds; "tuned" runs use each unit's and init's best rate."""

    epochs: int
    """Epochs trained."""
    lrs: tuple[float, ...]
    """The learning-rate grid."""
    sigmoid_top: tuple[tuple[float, float, float], ...]
    """Sigmoid, standard init, per rate: (top-layer mean activation before training, after
    the last epoch, its mean relative slope after the last epoch)."""
    sigmoid_lower_range: tuple[float, float]
    """(min, max) final mean activation of the layers below the top, over the rates."""
    sigmoid_top_saturated: float
    """Largest final fraction of saturated top-layer slopes of the sigmoid nets."""
    sigmoid_still_falling: bool
    """At the largest rate, the sigmoid top layer's mean is lowest at the last epoch."""
    accuracy: dict[tuple[str, str], tuple[float, float]]
    """Tuned runs: (mean, standard error) of the test accuracy per (unit, init)."""
    train_accuracy: dict[tuple[str, str], float]
    """Tuned runs: mean final training accuracy per (unit, init)."""
    sigmoid_worst: bool
    """Finding: the best sigmoid accuracy is below the worst tanh and ReLU accuracy."""
    tanh_onsets: tuple[int | None, ...]
    """Tanh, standard init, tuned: the epoch at which each layer starts to saturate."""
    tanh_final_saturated: tuple[float, ...]
    """... and each layer's saturated fraction after the last epoch."""
    tanh_bottom_first: bool
    """Finding: saturation starts in layer 1 and spreads upwards (onsets non-decreasing
    with the layer and layer 1 starts)."""
    tanh_loss: tuple[tuple[float, float], tuple[float, float]]
    """Tanh, tuned: (mean, standard error) of the final training loss, (standard, Xavier)."""
    xavier_helps_tanh: bool
    """Finding: Xavier's tuned tanh runs end with a lower training loss and a higher test
    accuracy than the standard init's."""
    comparable: tuple[bool, ...]
    """Per init of ``INITS``: both ReLU and softplus train (``TRAINED``)."""
    relu_as_good: tuple[bool | None, ...]
    """Per init: ReLU's tuned accuracy is at least softplus's (None: not comparable)."""
    relu_zero_range: tuple[float, float]
    """(min, max) final fraction of exact zeros per ReLU layer, tuned runs of both inits."""
    relu_dead_range: tuple[float, float]
    """(min, max) final fraction of dead ReLU units per layer, tuned runs of both inits."""
    relu_sparse: bool
    """Finding: every ReLU layer has more than ``SPARSE`` exact zeros."""


def findings(runs: dict[SweepKey, RunRecord]) -> Findings:
    """Measure the published findings on the runs of :func:`sweep` (plain numbers and
    verdicts; the book sets them next to the published statements)."""
    lrs, seeds = _grid(runs)
    tuned = tuned_runs(runs)
    epochs = next(iter(runs.values())).epochs
    if epochs < 1:
        raise ValueError("the findings need at least one epoch of training")
    sig = [[runs[("sigmoid", "standard", lr, s)] for s in seeds] for lr in lrs]
    sigmoid_top = tuple((float(_mean(rs, lambda r: r.mean[0, -1])),
                         float(_mean(rs, lambda r: r.mean[-1, -1])),
                         float(_mean(rs, lambda r: r.slope[-1, -1]))) for rs in sig)
    lower = np.array([_mean(rs, lambda r: r.mean[-1, :-1]) for rs in sig])
    top_sat = max(float(r.saturated[-1, -1]) for (a, *_), r in runs.items() if a == "sigmoid")
    fastest = _mean(sig[-1], lambda r: r.mean[:, -1])
    acc = {k: mean_and_error([r.test_acc for r in rs]) for k, rs in tuned.items()}
    train_acc = {k: float(np.mean([r.final_train_acc for r in rs])) for k, rs in tuned.items()}
    sig_best = max(acc[("sigmoid", i)][0] for i in INITS)
    other_worst = min(acc[(a, i)][0] for a in ("tanh", "relu") for i in INITS)
    th = tuned[("tanh", "standard")]
    onsets = onset_epochs(_mean(th, lambda r: r.saturated))
    # layer 1 starts, and no layer starts before (or without) the layer below it
    bottom_first = onsets[0] is not None and all(
        b is None or (a is not None and a <= b) for a, b in pairwise(onsets))
    loss = tuple(mean_and_error([r.final_loss for r in tuned[("tanh", i)]])
                 for i in INITS)
    comparable = tuple(train_acc[("relu", i)] >= TRAINED and train_acc[("softplus", i)]
                       >= TRAINED for i in INITS)
    as_good = tuple(acc[("relu", i)][0] >= acc[("softplus", i)][0] if c else None
                    for i, c in zip(INITS, comparable, strict=True))
    relu = [r for i in INITS for r in tuned[("relu", i)]]
    zeros = np.concatenate([r.saturated[-1] for r in relu])
    dead = np.concatenate([r.dead[-1] for r in relu])
    return Findings(
        epochs=epochs, lrs=lrs, sigmoid_top=sigmoid_top,
        sigmoid_lower_range=(float(lower.min()), float(lower.max())),
        sigmoid_top_saturated=top_sat,
        sigmoid_still_falling=int(np.argmin(fastest)) == epochs,
        accuracy=acc, train_accuracy=train_acc, sigmoid_worst=sig_best < other_worst,
        tanh_onsets=onsets,
        tanh_final_saturated=tuple(float(x) for x in _mean(th, lambda r: r.saturated[-1])),
        tanh_bottom_first=bottom_first,
        tanh_loss=loss,  # type: ignore[arg-type]
        xavier_helps_tanh=bool(loss[1][0] < loss[0][0]
                               and acc[("tanh", "xavier")][0] > acc[("tanh", "standard")][0]),
        comparable=comparable, relu_as_good=as_good,
        relu_zero_range=(float(zeros.min()), float(zeros.max())),
        relu_dead_range=(float(dead.min()), float(dead.max())),
        relu_sparse=bool(zeros.min() > SPARSE))
