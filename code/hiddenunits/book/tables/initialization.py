"""Tables of chapter 5, "The geometry of random vectors and initialization"."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from functools import lru_cache

import numpy as np

from hiddenunits import initialization as ini
from hiddenunits import nets
from hiddenunits.book.notebook import math_number

INIT_LABELS = {
    "pytorch": "PyTorch default",
    "xavier": "Xavier (Glorot)",
    "lecun": "LeCun",
    "he": "He",
    "orthogonal": "orthogonal",
}
"""The weight laws compared in the chapter, with their names in figures and tables."""

TRAINING_RUNS = (
    ("lecun", 1.0, "LeCun, $1/n_{in}$"),
    ("xavier", 1.0, "Xavier, $2/(n_{in}+n_{out})$"),
    ("he", 1.0, "He, $2/n_{in}$"),
    ("orthogonal", 1.0, "orthogonal, gain 1"),
    ("orthogonal", math.sqrt(2), "orthogonal, gain √2"),
)
"""The deep network's training runs: (weight law, orthogonal gain, label)."""

CONTROL_NET = replace(ini.DEEP_NET, depth=9)
"""The shallower control: 9 hidden layers, i.e. 10 weight layers."""

CONTROL_RUNS = (("lecun", 1.0, "LeCun, $1/n_{in}$"), ("he", 1.0, "He, $2/n_{in}$"))
"""The control network's training runs: (weight law, orthogonal gain, label)."""

STUDY_LRS = (0.001, 0.01)
"""The learning rates on which every weight law is tuned (the grid of the training study)."""

RESCUE_LRS = (0.1, 1.0)
"""Larger learning rates tried on LeCun's law in the deep network, beyond ``STUDY_LRS``."""

STUDY_SEEDS = (0, 1, 2)
"""Seeds of the initial weights in the training study (the minibatch order is fixed)."""


RESCUE_RUNS = (("lecun", 1.0, "LeCun"),)
"""The deep network's rescue runs at ``RESCUE_LRS``: (weight law, orthogonal gain, label)."""

SHARED_GROUPS = ((TRAINING_RUNS, STUDY_LRS), (RESCUE_RUNS, RESCUE_LRS))
"""Groups (runs, learning rates) of one network trained in a single batch, whichever is
asked for first: the study and the rescue share the fixed cost of each step."""


def training_study(net: nets.MLPConfig = ini.DEEP_NET,
                   train: nets.TrainConfig = ini.DEEP_TRAIN,
                   runs: tuple = TRAINING_RUNS, lrs: tuple[float, ...] = STUDY_LRS,
                   seeds: tuple[int, ...] = STUDY_SEEDS) -> dict:
    """Histories of ``net`` for every (weight law, gain) of ``runs``, learning rate and seed.

    One batched call of :func:`~hiddenunits.initialization.train_deep_batch`; keys
    (init, gain, lr, seed).  Cached: the chapter's table and figure share the runs; a group
    (runs, lrs) of ``SHARED_GROUPS`` is trained in one batch with the other groups there.
    """
    group = (tuple(runs), tuple(lrs))
    groups = SHARED_GROUPS if group in SHARED_GROUPS else (group,)
    studies = _training_studies(net, train, groups, tuple(seeds))
    return dict(studies[groups.index(group)])


@lru_cache(maxsize=4)
def _training_studies(net: nets.MLPConfig, train: nets.TrainConfig, groups: tuple,
                      seeds: tuple[int, ...]) -> tuple:
    batches = [[ini.Run(init, gain, lr, seed) for init, gain, _ in runs for lr in lrs
                for seed in seeds] for runs, lrs in groups]
    histories = iter(ini.train_deep_batch([r for b in batches for r in b], net, train))
    return tuple(tuple(((r.init, r.gain, r.lr, r.seed), next(histories)) for r in batch)
                 for batch in batches)


def verdict_counts(study: dict, init: str, gain: float, lr: float | None = None) -> Counter:
    """Count the verdicts of the runs of ``study`` for (init, gain), at ``lr`` or at all rates."""
    return Counter(ini.verdict(h) for (i, g, r, _), h in study.items()
                   if i == init and g == gain and (lr is None or r == lr))


def best_lr(study: dict, init: str, gain: float) -> float:
    """The learning rate of the grid with the lowest mean final training loss over seeds."""
    finals: dict[float, list[float]] = {}
    for (i, g, r, _), h in study.items():
        if i == init and g == gain:
            finals.setdefault(r, []).append(h.train_loss[-1])
    return min(finals, key=lambda r: float(np.mean(finals[r])))

# He et al. (2015), on ImageNet; keyed by (weight layers of ours, law).  Their "Xavier" is
# the forward condition n_in Var(w) = 1 with Gaussian weights: our LeCun.
PUBLISHED = {
    (CONTROL_NET.depth + 1, "lecun"): "22 layers, their \u201cXavier\u201d: converges, later",
    (CONTROL_NET.depth + 1, "he"): "22 layers: converges, earlier",
    (ini.DEEP_NET.depth + 1, "lecun"): "30 layers, their \u201cXavier\u201d: stalls completely",
    (ini.DEEP_NET.depth + 1, "he"): "30 layers: converges",
}


def variance_table(n: int = 64, net: nets.MLPConfig = ini.DEEP_NET
                   ) -> tuple[list[str], list[tuple[str, ...]]]:
    """Headers and rows: each law's variance on an n x n layer and its factor on q_l.

    The last column is the factor after the ``net.depth - 1`` steps from the first hidden
    layer to the last.
    """
    steps = net.depth - 1
    rows = []
    for init in ("pytorch", "lecun", "xavier", "orthogonal", "he"):
        v = ini.weight_variance(init, n, n)
        label = INIT_LABELS[init] + (" (zero bias)" if init == "pytorch" else "")
        rows.append((label, f"${v * n:.4g}/n$", f"${n * v / 2:.4g}$",
                     f"${math_number((n * v / 2) ** steps, digits=2)}$"))
    headers = ["initialization", r"$\operatorname{Var}(w)$, square layer",
               r"factor on $q_\ell$ per ReLU layer", f"after {steps} layers"]
    return headers, rows


def _verdict_text(counts: Counter) -> str:
    return ", ".join(f"{v} {counts[v]}" for v in ini.VERDICTS if counts[v])


def training_table(net: nets.MLPConfig = ini.DEEP_NET,
                   train: nets.TrainConfig = ini.DEEP_TRAIN
                   ) -> tuple[list[str], list[tuple[str, ...]]]:
    """Headers and rows: the control and the deep network's study against He et al.'s.

    For each weight law: the best learning rate of ``STUDY_LRS``, the final training loss
    there (mean and range over ``STUDY_SEEDS``), the mean final test accuracy there, and
    the verdicts of every run at each learning rate.
    """
    rows = []
    for config, runs in ((CONTROL_NET, CONTROL_RUNS), (net, TRAINING_RUNS)):
        study = training_study(config, train, runs)
        for init, gain, label in runs:
            lr = best_lr(study, init, gain)
            hists = [h for (i, g, r, _), h in study.items()
                     if i == init and g == gain and r == lr]
            finals = [h.train_loss[-1] for h in hists]
            verdicts = "; ".join(f"${r:g}$: {_verdict_text(verdict_counts(study, init, gain, r))}"
                                 for r in STUDY_LRS)
            rows.append((str(config.depth + 1), label,
                         PUBLISHED.get((config.depth + 1, init), "not reported"),
                         f"${lr:g}$",
                         f"${np.mean(finals):.2f}$ (${min(finals):.2f}$ to ${max(finals):.2f}$)",
                         f"${np.mean([h.test_acc[-1] for h in hists]):.2f}$", verdicts))
    headers = ["weight layers", "initialization",
               "published {cite:p}`he2015delving`, ImageNet", "best rate",
               "final training loss", "test accuracy", "verdicts per rate"]
    return headers, rows
