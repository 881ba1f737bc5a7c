"""Saturation of hidden units during training: a small Glorot & Bengio (2010) experiment.

Deep MLPs on the digits, with sigmoid, tanh, ReLU or softplus units and the "standard"
or the normalised ("xavier") initialisation of :mod:`hiddenunits.nets`.  After every
epoch we record, for every hidden layer, the mean activation and the distribution of the
relative slope phi'(z) / sup phi' (a unit is *saturated* where this is below 1 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure

from hiddenunits.data import digits_split
from hiddenunits.figures import figure
from hiddenunits.nets import TrainConfig, make_mlp, train_classifier
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
INITS = ("standard", "xavier")
SATURATED = 0.01  # relative slope below which a unit counts as saturated


def relative_slope(activation: str, h: torch.Tensor) -> torch.Tensor:
    """phi'(z) / sup phi', written in terms of the output h = phi(z).

    sigmoid: 4 h (1 - h); tanh: 1 - h^2; ReLU: 1[h > 0]; softplus: sigma(z) = 1 - e^{-h}.
    """
    match activation:
        case "sigmoid":
            return 4.0 * h * (1.0 - h)
        case "tanh":
            return 1.0 - h * h
        case "relu":
            return (h > 0).to(h.dtype)
        case "softplus":
            return -torch.expm1(-h)
        case _:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


@dataclass(frozen=True)
class GlorotConfig:
    """The experiment's settings (small enough to run in seconds on two CPU cores)."""

    depth: int = 5  # hidden layers, as in Glorot & Bengio (2010)
    width: int = 64
    epochs: int = 20
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    seed: int = 0  # weights and minibatch order
    split_seed: int = 0  # train/test split of the digits

    def __post_init__(self):
        if min(self.depth, self.width, self.epochs, self.batch_size) < 1:
            raise ValueError(f"depth, width, epochs and batch_size must be positive: {self}")
        if not (self.lr > 0 and 0 <= self.momentum < 1):
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1: {self}")


@dataclass(frozen=True)
class RunRecord:
    """One training run; arrays have one row per epoch, row 0 before training."""

    activation: str
    init: str
    train_loss: np.ndarray  # (E + 1,)
    test_acc: np.ndarray  # (E + 1,)
    mean: np.ndarray  # (E + 1, depth) mean activation h of each hidden layer
    std: np.ndarray  # (E + 1, depth) its standard deviation over units and examples
    slope: np.ndarray  # (E + 1, depth) mean relative slope phi'(z) / sup phi'
    saturated: np.ndarray  # (E + 1, depth) fraction of relative slopes below SATURATED


@lru_cache(maxsize=32)
def glorot_run(activation: str, init: str, config: GlorotConfig = GlorotConfig()
               ) -> RunRecord:
    """Train one MLP with :func:`hiddenunits.nets.train_classifier` and record its layers.

    The trainer evaluates the model on the whole training set after every epoch (without
    gradients); forward hooks on the activation modules read the hidden layers then.
    """
    if activation not in ACTIVATIONS or init not in INITS:
        raise ValueError(f"need activation in {ACTIVATIONS} and init in {INITS}")
    split = digits_split(seed=config.split_seed)
    n_train = len(split.y_train)
    if n_train == len(split.y_test):
        raise ValueError("train and test sets must differ in size (the hooks tell them apart)")
    model = make_mlp([split.x_train.shape[1]] + [config.width] * config.depth + [10],
                     activation, init, rng=config.seed)
    stats: list[list[tuple[float, float, float, float]]] = [[] for _ in range(config.depth)]

    def hook(layer):
        def record(module, inputs, h):
            if not torch.is_grad_enabled() and h.shape[0] == n_train:
                s = relative_slope(activation, h)
                stats[layer].append((h.mean().item(), h.std().item(), s.mean().item(),
                                     (s < SATURATED).float().mean().item()))
        return record

    acts = [m for m in model if not isinstance(m, torch.nn.Linear)]
    handles = [m.register_forward_hook(hook(k)) for k, m in enumerate(acts)]
    train = TrainConfig(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                        momentum=config.momentum, seed=config.seed)
    try:
        with limited_threads():
            hist = train_classifier(model, split.x_train, split.y_train, train,
                                    split.x_test, split.y_test)
    finally:
        for h in handles:
            h.remove()
    arr = np.array(stats).transpose(1, 0, 2)  # (E + 1, depth, 4)
    return RunRecord(activation, init, np.array(hist.train_loss), np.array(hist.test_acc),
                     arr[..., 0], arr[..., 1], arr[..., 2], arr[..., 3])


def all_runs(config: GlorotConfig = GlorotConfig()) -> dict[tuple[str, str], RunRecord]:
    """Every (activation, init) run of the experiment (cached)."""
    return {(a, i): glorot_run(a, i, config) for i in INITS for a in ACTIVATIONS}


_COLOR = {"sigmoid": "blue", "tanh": "orange", "relu": "green", "softplus": "vermillion"}
_LABEL = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "softplus": "softplus"}


@figure("activations")
def fig_glorot_training() -> Figure:
    """Training loss per epoch: standard (left) and normalised (right) initialisation."""
    fig, axes = new_figure(1, 2, height=3.0, sharey=True)
    runs = all_runs()
    for ax, init, title in zip(axes, INITS, ("standard init", "normalised (Xavier) init"),
                               strict=True):
        for a in ACTIVATIONS:
            r = runs[(a, init)]
            ax.plot(np.arange(r.train_loss.size), r.train_loss, color=COLORS[_COLOR[a]],
                    label=_LABEL[a])
        ax.set(xlabel="epoch", title=title, yscale="log")
    axes[0].set_ylabel("training cross-entropy")
    axes[0].legend(loc="lower left")
    return fig


@figure("activations")
def fig_glorot_saturation() -> Figure:
    """Left: mean activation of each layer of the sigmoid net (standard init) per epoch, with
    a one-standard-deviation band.  Right: mean relative slope of the top hidden layer."""
    fig, (ax0, ax1) = new_figure(1, 2, height=3.2)
    runs = all_runs()
    r = runs[("sigmoid", "standard")]
    epochs = np.arange(r.train_loss.size)
    shades = ["sky", "green", "orange", "purple", "vermillion", "blue", "black", "grey"]
    depth = r.mean.shape[1]
    for k in range(depth):
        c = COLORS[shades[k % len(shades)]]
        ax0.plot(epochs, r.mean[:, k], color=c, label=f"layer {k + 1}" +
                 (" (top)" if k == depth - 1 else ""))
        ax0.fill_between(epochs, r.mean[:, k] - r.std[:, k], r.mean[:, k] + r.std[:, k],
                         color=c, alpha=0.12, lw=0)
    ax0.set(xlabel="epoch", ylabel="mean activation $h$", ylim=(0, 1),
            title="sigmoid, standard init")
    ax0.legend(loc="lower left", ncol=2, fontsize=7.5)
    for a in ACTIVATIONS:
        for init, ls in zip(INITS, ("-", "--"), strict=True):
            rr = runs[(a, init)]
            ax1.plot(epochs, rr.slope[:, -1], ls, color=COLORS[_COLOR[a]],
                     label=f"{_LABEL[a]}" if init == "standard" else None)
    ax1.set(xlabel="epoch", ylabel="mean $\\phi'(z) / \\sup \\phi'$", ylim=(0, 1.05),
            title="top hidden layer (dashed: Xavier)")
    ax1.legend(loc="lower left", fontsize=7.5)
    return fig


# ---------------------------------------------------------------------------------------
# Tables for the chapter.
# ---------------------------------------------------------------------------------------

SUMMARY_HEADERS = ["units", "init", "final loss", "test accuracy", "top layer: mean $h$",
                   "mean $\\phi'/\\sup\\phi'$", "fraction saturated (ReLU: zero)"]


def summary_rows(config: GlorotConfig = GlorotConfig()) -> list[list[str]]:
    """One row per run: final training loss and test accuracy, and the top hidden layer."""
    rows = []
    for (a, init), r in all_runs(config).items():
        rows.append([_LABEL[a], init, f"{r.train_loss[-1]:.3g}", f"{r.test_acc[-1]:.3f}",
                     f"{r.mean[-1, -1]:.3f}", f"{r.slope[-1, -1]:.3f}",
                     f"{r.saturated[-1, -1]:.3f}"])
    return rows


COMPARISON_HEADERS = ["published finding", "our measurement (digits, small scale)",
                      "reproduced?"]


def comparison_rows(config: GlorotConfig = GlorotConfig()) -> list[list[str]]:
    """Published findings of Glorot & Bengio (2010) and Glorot, Bordes & Bengio (2011) next
    to our measurements; the verdicts follow the stated numeric criteria."""
    runs = all_runs(config)
    e = config.epochs
    sig = runs[("sigmoid", "standard")]
    top0, top1 = sig.mean[0, -1], sig.mean[-1, -1]
    lower = sig.mean[-1, :-1]
    # 1: the top layer is driven towards 0 (saturated: mean slope below 0.1)
    v1 = ("yes" if sig.slope[-1, -1] < 0.1 else
          "partly: it moves towards 0 but is not yet saturated" if top1 < top0 - 0.2 else "no")
    row1 = ["Sigmoid, standard init: the top hidden layer is driven towards 0 (saturation) "
            "early in training while the layers below stay near 0.5 "
            "{cite:p}`glorot2010understanding`",
            f"top-layer mean {top0:.2f} at the start, {top1:.2f} after {e} epochs (mean slope "
            f"{sig.slope[-1, -1]:.2f} of its maximum); layers below {lower.min():.2f} to "
            f"{lower.max():.2f}", v1]
    # 2: the saturated layer escapes later
    k_min = int(np.argmin(sig.mean[:, -1]))
    sp = runs[("softplus", "xavier")]
    j = int(np.argmin(sp.slope[:, -1]))
    v2 = ("not within our epochs" if k_min == e else "yes")
    row2 = ["The saturated top layer escapes slowly, much later in training "
            "{cite:p}`glorot2010understanding`",
            f"sigmoid: the top-layer mean is still falling at epoch {e}; softplus with Xavier "
            f"init: top-layer slope falls to {sp.slope[j, -1]:.2f} (epoch {j}) and climbs "
            f"back to {sp.slope[-1, -1]:.2f}", v2 + ("; an analogous escape for softplus"
                                                    if sp.slope[-1, -1] > sp.slope[j, -1] + 0.05
                                                    else "")]
    # 3: sigmoid is the worst
    acc = {k: r.test_acc[-1] for k, r in runs.items()}
    sig_best = max(acc[("sigmoid", i)] for i in INITS)
    other_worst = min(v for (a, _), v in acc.items() if a not in ("sigmoid", "softplus"))
    row3 = ["Sigmoid networks have the highest test error of the units compared "
            "{cite:p}`glorot2010understanding`",
            f"sigmoid test accuracy at most {sig_best:.3f} (chance is 0.1); tanh and ReLU at "
            f"least {other_worst:.3f}", "yes" if sig_best < other_worst else "no"]
    # 4: tanh saturates layer by layer from the bottom
    th = runs[("tanh", "standard")]
    slopes = th.slope[-1]
    row4 = ["Tanh, standard init: saturation starts in the first hidden layer and propagates "
            "upwards {cite:p}`glorot2010understanding`",
            "mean slope per layer after the last epoch (layer 1 to top): "
            + ", ".join(f"{s:.2f}" for s in slopes),
            "yes" if int(np.argmin(slopes)) == 0 else "no: the top layer saturates most"]
    # 5: normalised initialisation helps tanh
    ts, tx = runs[("tanh", "standard")], runs[("tanh", "xavier")]
    ok5 = tx.train_loss[-1] < ts.train_loss[-1] and tx.train_loss[2] < ts.train_loss[2]
    row5 = ["Normalised initialisation makes tanh networks train faster and better "
            "{cite:p}`glorot2010understanding`",
            f"tanh loss after 2 epochs {ts.train_loss[2]:.2f} (standard) vs "
            f"{tx.train_loss[2]:.2f} (Xavier); after {e}: {ts.train_loss[-1]:.2g} vs "
            f"{tx.train_loss[-1]:.2g}; test accuracy {ts.test_acc[-1]:.3f} vs "
            f"{tx.test_acc[-1]:.3f}", "yes" if ok5 else "no"]
    # 6: rectifier at least as good as softplus
    pairs = [(runs[("relu", i)], runs[("softplus", i)]) for i in INITS]
    ok6 = all(r.train_loss[-1] <= s.train_loss[-1] and r.test_acc[-1] >= s.test_acc[-1]
              for r, s in pairs)
    row6 = ["Rectifier networks find minima as good as or better than softplus networks, "
            "despite the hard zero {cite:p}`glorot2011deep`",
            "test accuracy ReLU vs softplus: " + "; ".join(
                f"{i} {r.test_acc[-1]:.3f} vs {s.test_acc[-1]:.3f}"
                for i, (r, s) in zip(INITS, pairs, strict=True)), "yes" if ok6 else "no"]
    # 7: exact sparsity
    zeros = np.concatenate([runs[("relu", i)].saturated[-1] for i in INITS])
    row7 = ["Rectifier hidden layers are sparse, with exact zeros {cite:p}`glorot2011deep`",
            f"fraction of exact zeros per ReLU layer after training: {zeros.min():.2f} to "
            f"{zeros.max():.2f}", "yes" if zeros.min() > 0.2 else "no"]
    return [row1, row2, row3, row4, row5, row6, row7]
