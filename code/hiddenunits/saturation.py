"""Saturation of hidden units during training: a small Glorot & Bengio (2010) experiment.

Deep MLPs on the digits, with sigmoid, tanh, ReLU or softplus units and the "standard"
or the normalised ("xavier") initialisation of :mod:`hiddenunits.nets`.  After every
epoch we record, for every hidden layer, the mean activation and the distribution of the
relative slope phi'(z) / sup phi' (a unit is *saturated* where this is below 1 %).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
from numpy.typing import ArrayLike

from hiddenunits.data import digits_split
from hiddenunits.nets import MLPConfig, TrainConfig, train_classifier
from hiddenunits.threads import limited_threads
from hiddenunits.validation import check_choice, check_int

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
"""The units compared."""
INITS = ("standard", "xavier")
"""The initialisations compared (see ``nets.INITS``)."""
SATURATED = 0.01
"""Relative slope phi'(z) / sup phi' below which a unit counts as saturated."""

NET = MLPConfig(depth=5, width=64, activation="sigmoid", init="standard")
"""The networks: five hidden layers, as in Glorot & Bengio (2010), of 64 units."""
TRAIN = TrainConfig(epochs=20, batch_size=128, lr=0.1, momentum=0.9, seed=0)
"""The training: small enough to run in seconds on two CPU cores."""


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
    training, and one column per hidden layer."""

    net: MLPConfig
    """The network trained (its activation and initialisation included)."""
    train_loss: np.ndarray
    """(E + 1,) mean cross-entropy on the training set."""
    test_acc: np.ndarray
    """(E + 1,) accuracy on the test set."""
    mean: np.ndarray
    """(E + 1, depth) mean activation h of each hidden layer on the training set."""
    std: np.ndarray
    """(E + 1, depth) its standard deviation over units and examples."""
    slope: np.ndarray
    """(E + 1, depth) mean relative slope phi'(z) / sup phi'."""
    saturated: np.ndarray
    """(E + 1, depth) fraction of relative slopes below ``SATURATED`` (ReLU: exact zeros)."""

    def __post_init__(self):
        for name in ("train_loss", "test_acc", "mean", "std", "slope", "saturated"):
            object.__setattr__(self, name, _read_only(getattr(self, name)))

    @property
    def activation(self) -> str:
        """The hidden units."""
        return self.net.activation

    @property
    def init(self) -> str:
        """The initialisation."""
        return self.net.init


@lru_cache(maxsize=32)
def _run(net: MLPConfig, train: TrainConfig, seed: int, split_seed: int) -> RunRecord:
    split = digits_split(rng=split_seed)
    n_train = len(split.y_train)
    if n_train == len(split.y_test):
        raise ValueError("train and test sets must differ in size (the hooks tell them apart)")
    model = net.build(split.x_train.shape[1], 10, rng=seed)
    stats: list[list[tuple[float, float, float, float]]] = [[] for _ in range(net.depth)]

    def hook(layer):
        def record(module, inputs, h):
            # the trainer evaluates the whole training set without gradients after each
            # epoch: those are the passes to record (minibatches and the test set differ)
            if not torch.is_grad_enabled() and h.shape[0] == n_train:
                s = relative_slope(net.activation, h)
                stats[layer].append((h.mean().item(), h.std().item(), s.mean().item(),
                                     (s < SATURATED).float().mean().item()))
        return record

    acts = [m for m in model if not isinstance(m, torch.nn.Linear)]
    handles = [m.register_forward_hook(hook(k)) for k, m in enumerate(acts)]
    try:
        with limited_threads():
            hist = train_classifier(model, split.x_train, split.y_train, train,
                                    split.x_test, split.y_test)
    finally:
        for h in handles:
            h.remove()
    arr = np.array(stats).transpose(1, 0, 2)  # (E + 1, depth, 4)
    return RunRecord(net, hist.train_loss, hist.test_acc, arr[..., 0], arr[..., 1],
                     arr[..., 2], arr[..., 3])


def glorot_run(net: MLPConfig = NET, train: TrainConfig = TRAIN, rng: int = 0,
               split_rng: int = 0) -> RunRecord:
    """Train one MLP with :func:`hiddenunits.nets.train_classifier` and record its layers.

    ``net`` (activation one of ``ACTIVATIONS``, init one of ``INITS``) is built with
    weights from seed ``rng`` and trained with ``train`` on the stratified digits split of
    seed ``split_rng``.  Both are seeds (integers), so that the cache is sound: a run is
    computed once per arguments.  Forward hooks on the activation modules read the hidden
    layers when the trainer evaluates the training set after every epoch.
    """
    if not isinstance(net, MLPConfig):
        raise ValueError(f"net must be an MLPConfig, got {type(net).__name__}")
    if not isinstance(train, TrainConfig):
        raise ValueError(f"train must be a TrainConfig, got {type(train).__name__}")
    check_choice("net.activation", net.activation, ACTIVATIONS)
    check_choice("net.init", net.init, INITS)
    if net.depth < 1:
        raise ValueError("net.depth must be at least 1 (a hidden layer to watch)")
    return _run(net, train, check_int("rng", rng, minimum=0),
                check_int("split_rng", split_rng, minimum=0))


def all_runs(net: MLPConfig = NET, train: TrainConfig = TRAIN, rng: int = 0,
             split_rng: int = 0) -> dict[tuple[str, str], RunRecord]:
    """Every (activation, init) run of the experiment: ``net`` with each of
    ``ACTIVATIONS`` and ``INITS`` (cached)."""
    if not isinstance(net, MLPConfig):
        raise ValueError(f"net must be an MLPConfig, got {type(net).__name__}")
    return {(a, i): glorot_run(replace(net, activation=a, init=i), train, rng, split_rng)
            for i in INITS for a in ACTIVATIONS}


# ---------------------------------------------------------------------------------------
# The published findings, measured.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Findings:
    """Our measurements of the published findings of Glorot & Bengio (2010) and Glorot,
    Bordes & Bengio (2011), each with the verdict of a fixed numeric criterion."""

    epochs: int
    """Epochs trained."""
    sigmoid_top_start: float
    """Sigmoid, standard init: mean activation of the top hidden layer before training."""
    sigmoid_top_end: float
    """... and after the last epoch."""
    sigmoid_top_slope: float
    """... its mean relative slope after the last epoch."""
    sigmoid_lower_range: tuple[float, float]
    """(min, max) mean activation of the layers below the top after the last epoch."""
    sigmoid_top_verdict: str
    """Finding 1 (top layer driven to saturation): ``"yes"`` if the top layer's mean
    relative slope is below 0.1; ``"partly"`` if its mean activation fell by more than
    0.2; else ``"no"``."""
    sigmoid_still_falling: bool
    """The sigmoid top layer's mean activation is lowest at the last epoch."""
    softplus_dip: tuple[float, int]
    """Softplus, Xavier init: the lowest top-layer mean relative slope and its epoch."""
    softplus_final_slope: float
    """... that slope after the last epoch."""
    softplus_escapes: bool
    """Finding 2 (escape from saturation), seen for softplus: the slope climbed back by
    more than 0.05 from its lowest value."""
    sigmoid_best_acc: float
    """Best test accuracy of the sigmoid nets (either init)."""
    tanh_relu_worst_acc: float
    """Worst test accuracy of the tanh and ReLU nets."""
    sigmoid_worst: bool
    """Finding 3 (sigmoid worst): ``sigmoid_best_acc < tanh_relu_worst_acc``."""
    tanh_layer_slopes: tuple[float, ...]
    """Tanh, standard init: mean relative slope per hidden layer (first to top) at the end."""
    tanh_bottom_first: bool
    """Finding 4 (tanh saturates from the bottom): layer 1 has the lowest slope."""
    tanh_loss_epoch2: tuple[float, float]
    """Tanh: training loss after 2 epochs, (standard, Xavier)."""
    tanh_loss_final: tuple[float, float]
    """Tanh: final training loss, (standard, Xavier)."""
    tanh_acc: tuple[float, float]
    """Tanh: final test accuracy, (standard, Xavier)."""
    xavier_helps_tanh: bool
    """Finding 5: Xavier gives tanh a lower training loss after 2 epochs and at the end."""
    relu_softplus_acc: tuple[tuple[float, float], ...]
    """(ReLU, softplus) final test accuracy, one pair per init of ``INITS``."""
    relu_as_good: bool
    """Finding 6: for both inits ReLU's final loss <= softplus's and its accuracy >=."""
    relu_zero_range: tuple[float, float]
    """(min, max) fraction of exact zeros per ReLU hidden layer after training."""
    relu_sparse: bool
    """Finding 7 (sparsity): every ReLU layer has more than 20 % exact zeros."""


def findings(runs: dict[tuple[str, str], RunRecord]) -> Findings:
    """Measure the published findings on the runs of :func:`all_runs` (plain numbers and
    verdicts; the book sets them next to the published statements)."""
    need = {(a, i) for i in INITS for a in ACTIVATIONS}
    if not isinstance(runs, dict) or not need <= set(runs):
        raise ValueError("runs must map every (activation, init) pair to a RunRecord")
    sig = runs[("sigmoid", "standard")]
    epochs = sig.train_loss.size - 1
    if epochs < 2:
        raise ValueError("the findings compare epoch 2 with the end: train >= 2 epochs")
    top0, top1 = float(sig.mean[0, -1]), float(sig.mean[-1, -1])
    verdict = ("yes" if sig.slope[-1, -1] < 0.1 else
               "partly" if top1 < top0 - 0.2 else "no")
    sp = runs[("softplus", "xavier")]
    j = int(np.argmin(sp.slope[:, -1]))
    acc = {k: float(r.test_acc[-1]) for k, r in runs.items()}
    sig_best = max(acc[("sigmoid", i)] for i in INITS)
    other_worst = min(v for (a, _), v in acc.items() if a in ("tanh", "relu"))
    th = runs[("tanh", "standard")].slope[-1]
    ts, tx = runs[("tanh", "standard")], runs[("tanh", "xavier")]
    pairs = [(runs[("relu", i)], runs[("softplus", i)]) for i in INITS]
    zeros = np.concatenate([runs[("relu", i)].saturated[-1] for i in INITS])
    return Findings(
        epochs=epochs,
        sigmoid_top_start=top0, sigmoid_top_end=top1,
        sigmoid_top_slope=float(sig.slope[-1, -1]),
        sigmoid_lower_range=(float(sig.mean[-1, :-1].min()), float(sig.mean[-1, :-1].max())),
        sigmoid_top_verdict=verdict,
        sigmoid_still_falling=int(np.argmin(sig.mean[:, -1])) == epochs,
        softplus_dip=(float(sp.slope[j, -1]), j),
        softplus_final_slope=float(sp.slope[-1, -1]),
        softplus_escapes=bool(sp.slope[-1, -1] > sp.slope[j, -1] + 0.05),
        sigmoid_best_acc=sig_best, tanh_relu_worst_acc=other_worst,
        sigmoid_worst=sig_best < other_worst,
        tanh_layer_slopes=tuple(float(s) for s in th),
        tanh_bottom_first=int(np.argmin(th)) == 0,
        tanh_loss_epoch2=(float(ts.train_loss[2]), float(tx.train_loss[2])),
        tanh_loss_final=(float(ts.train_loss[-1]), float(tx.train_loss[-1])),
        tanh_acc=(float(ts.test_acc[-1]), float(tx.test_acc[-1])),
        xavier_helps_tanh=bool(tx.train_loss[-1] < ts.train_loss[-1]
                               and tx.train_loss[2] < ts.train_loss[2]),
        relu_softplus_acc=tuple((float(r.test_acc[-1]), float(s.test_acc[-1]))
                                for r, s in pairs),
        relu_as_good=all(r.train_loss[-1] <= s.train_loss[-1]
                         and r.test_acc[-1] >= s.test_acc[-1] for r, s in pairs),
        relu_zero_range=(float(zeros.min()), float(zeros.max())),
        relu_sparse=bool(zeros.min() > 0.2))
