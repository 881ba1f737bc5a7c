"""Tables of chapter 5, "The geometry of random vectors and initialization"."""

from __future__ import annotations

import math
from dataclasses import replace

from hiddenunits import initialization as ini
from hiddenunits import nets

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
    ("orthogonal", math.sqrt(2), r"orthogonal, gain $\sqrt{2}$"),
)
"""The deep network's training runs: (weight law, orthogonal gain, label)."""

CONTROL_NET = replace(ini.DEEP_NET, depth=9)
"""The shallower control: 9 hidden layers, i.e. 10 weight layers."""

# He et al. (2015), section 2.3, on ImageNet; keyed by (weight layers of ours, law).
PUBLISHED = {
    (CONTROL_NET.depth + 1, "xavier"): "22 layers: converges, later than He",
    (CONTROL_NET.depth + 1, "he"): "22 layers: converges, earlier",
    (ini.DEEP_NET.depth + 1, "xavier"): "30 layers: stalls completely",
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
        rows.append((INIT_LABELS[init], f"{v * n:.4g}/n", f"{n * v / 2:.4g}",
                     f"{(n * v / 2) ** steps:.2e}"))
    headers = ["initialisation", r"$\operatorname{Var}(w)$, square layer",
               r"factor on $q_\ell$ per ReLU layer", f"after {steps} layers"]
    return headers, rows


def training_table(net: nets.MLPConfig = ini.DEEP_NET,
                   train: nets.TrainConfig = ini.DEEP_TRAIN,
                   rng: int = 0) -> tuple[list[str], list[tuple[str, ...]]]:
    """Headers and rows: the control and the deep network's runs against He et al.'s."""
    runs = [(replace(CONTROL_NET, init="xavier"), 1.0, "Xavier"),
            (replace(CONTROL_NET, init="he"), 1.0, "He")]
    runs += [(replace(net, init=init), gain, label) for init, gain, label in TRAINING_RUNS]
    rows = []
    for config, gain, label in runs:
        h = ini.train_deep(config, train, gain, rng)
        rows.append((str(config.depth + 1), label,
                     PUBLISHED.get((config.depth + 1, config.init), "not reported"),
                     f"{h.train_loss[0]:.3f} to {h.train_loss[-1]:.3f}",
                     f"{h.test_acc[-1]:.3f}", ini.verdict(h)))
    headers = ["weight layers (ours)", "initialisation",
               "published {cite:p}`he2015delving`, ImageNet",
               "ours: training loss, start to end", "ours: test accuracy", "ours: verdict"]
    return headers, rows
