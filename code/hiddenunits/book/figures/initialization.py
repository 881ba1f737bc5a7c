"""Figures of chapter 5, "The geometry of random vectors and initialization"."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from hiddenunits import initialization as ini
from hiddenunits import nets
from hiddenunits import random_geometry as rg
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure
from hiddenunits.book.tables.initialization import INIT_LABELS, TRAINING_RUNS, training_study
from hiddenunits.validation import check_rng


@figure
def fig_angle_density(mc_size: int = 20_000, rng: int = 0) -> Figure:
    """Angle densities against simulated angles, and the Gaussian limit of sqrt(n)(theta-pi/2)."""
    rng = check_rng(rng)
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    theta = np.linspace(0, math.pi, 400)
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for n, color in zip((3, 10, 50), colors, strict=True):
        ax1.hist(rg.sample_angles(n, mc_size, rng), bins=60, density=True, color=color,
                 histtype="stepfilled", alpha=0.3)
        ax1.plot(theta, rg.angle_pdf(theta, n), color=color, label=f"$n = {n}$")
    ax1.set_xlabel(r"angle $\theta$")
    ax1.set_ylabel("density")
    ax1.set_xticks([0, math.pi / 2, math.pi], ["0", r"$\pi/2$", r"$\pi$"])
    ax1.legend()
    u = np.linspace(-4, 4, 400)
    colors = [COLORS["vermillion"], COLORS["purple"], COLORS["sky"]]
    for n, color in zip((5, 500, 5000), colors, strict=True):
        a = math.sqrt(n) * (rg.sample_angles(n, mc_size, rng, method="chi2") - math.pi / 2)
        ax2.hist(a, bins=60, range=(-4, 4), density=True, color=color, alpha=0.3,
                 histtype="stepfilled")
        ax2.plot(u, rg.angle_pdf(math.pi / 2 + u / math.sqrt(n), n) / math.sqrt(n), color=color,
                 label=f"$n = {n}$")
    ax2.plot(u, stats.norm.pdf(u), color=COLORS["black"], lw=1, ls="--", label="$N(0, 1)$",
             zorder=5)
    ax2.set_xlabel(r"$\sqrt{n}\,(\theta - \pi/2)$")
    ax2.legend()
    return fig


@figure
def fig_singular_value_laws(n: int = 400, tall: int = 4, rng: int = 0) -> Figure:
    """Singular values of one square and one tall Gaussian matrix against their limit laws."""
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    s = rg.square_draw(n, rng)[1]
    grid = np.linspace(0, 2.2, 500)
    ax1.hist(s, bins=50, density=True, color=COLORS["blue"], alpha=0.35, histtype="stepfilled",
             label=f"one ${n}\\times{n}$ draw")
    ax1.plot(grid, rg.quarter_circle_pdf(grid), color=COLORS["blue"], label="quarter circle")
    ax1.axvline(1.0, color=COLORS["grey"], lw=1, ls=":")
    ax1.set_xlabel(r"singular value $\sigma$")
    ax1.set_ylabel("density")
    ax1.set_title("square, $m = n$")
    ax1.legend(loc="upper right")
    m = tall * n
    s = rg.tall_singular_values(n, tall, rng + 1)
    ax2.hist(s, bins=50, density=True, color=COLORS["orange"], alpha=0.35, histtype="stepfilled",
             label=f"one ${m}\\times{n}$ draw")
    ax2.plot(grid, rg.mp_singular_pdf(grid, n / m), color=COLORS["orange"],
             label="Marchenko-Pastur")
    for edge in rg.mp_edges(n / m):
        ax2.axvline(edge, color=COLORS["grey"], lw=1, ls="--")
    ax2.set_xlabel(r"singular value $\sigma$")
    ax2.set_title(f"tall, $m = {tall}n$")
    ax2.legend(loc="upper right")
    return fig


# --------------------------------------------------------------------------- initialization
_INIT_COLORS = {"pytorch": "grey", "xavier": "orange", "lecun": "blue", "he": "green",
                "orthogonal": "purple"}


@figure
def fig_depth_scales(net: nets.MLPConfig = ini.DEEP_NET, rng: int = 0) -> Figure:
    """RMS of each hidden layer at initialization, per activation and weight law."""
    fig, axes = new_figure(1, 3, height=3.0, sharey=True)
    layers = np.arange(1, net.depth + 1)
    for ax, act in zip(axes, ("linear", "tanh", "relu"), strict=True):
        for init, label in INIT_LABELS.items():
            scales = ini.activation_scales(replace(net, activation=act, init=init), rng=rng)
            ax.plot(layers, scales, color=COLORS[_INIT_COLORS[init]], label=label)
        ax.set_yscale("log")
        ax.set_title(act)
        ax.set_xlabel("hidden layer")
    axes[0].set_ylabel("RMS of the layer's output")
    axes[0].legend(fontsize=7)
    return fig


@figure
def fig_product_spectra(n: int = 64, depths: tuple[int, ...] = (1, 2, 4, 8),
                        net: nets.MLPConfig = ini.DEEP_NET, rng: int = 0) -> Figure:
    """Singular values of products of Gaussian or orthogonal layers, and of ReLU Jacobians."""
    fig, (ax1, ax2) = new_figure(1, 2, height=3.2)
    rank = (np.arange(n) + 0.5) / n
    gauss = ini.product_singular_values(n, depths, "gaussian", rng)
    orth = ini.product_singular_values(n, depths, "orthogonal", rng)
    shades = [COLORS[c] for c in ("sky", "blue", "purple", "black")]
    for depth, color in zip(depths, shades, strict=True):
        ax1.plot(rank, gauss[depth], color=color, label=f"Gaussian, $L = {depth}$")
    ax1.plot(rank, orth[max(depths)], color=COLORS["orange"], lw=2.5, ls="--",
             label=f"orthogonal, $L = {max(depths)}$")
    ax1.set_yscale("log")
    ax1.set_xlabel("rank / n")
    ax1.set_ylabel(r"singular value of $W_L\cdots W_1$")
    ax1.legend(fontsize=7)
    for init, gain, color, label in (
            ("he", 1.0, COLORS["green"], "He (Gaussian)"),
            ("orthogonal", math.sqrt(2), COLORS["orange"], r"orthogonal $\times\sqrt{2}$")):
        s = ini.relu_jacobian_singular_values(replace(net, init=init), gain, rng)
        k = ini.numerical_rank(s)
        ax2.plot(np.arange(1, k + 1), s[:k], color=color, marker=".",
                 label=f"{label}: rank {k} of {s.size}")
    ax2.set_yscale("log")
    ax2.set_xlabel("index of the singular value")
    ax2.set_ylabel("singular value of the Jacobian")
    ax2.set_title(f"ReLU MLP, {net.depth} hidden layers")
    ax2.legend(fontsize=7)
    return fig


@figure
def fig_training_curves(net: nets.MLPConfig = ini.DEEP_NET,
                        train: nets.TrainConfig = ini.DEEP_TRAIN) -> Figure:
    """Training loss of the deep ReLU MLP for each weight law of ``TRAINING_RUNS``.

    At the learning rate ``train.lr``; the first seed of the study in a full line, the
    others thin.
    """
    fig, ax = new_figure(height=3.2)
    study = training_study(net, train)
    for init, gain, label in TRAINING_RUNS:
        color = COLORS["vermillion"] if gain != 1.0 else COLORS[_INIT_COLORS[init]]
        runs = sorted((seed, h) for (i, g, r, seed), h in study.items()
                      if i == init and g == gain and r == train.lr)
        for k, (_, hist) in enumerate(runs):
            ax.plot(np.arange(len(hist.train_loss)), hist.train_loss, color=color,
                    label=label if k == 0 else None, lw=1.5 if k == 0 else 0.6,
                    ls=":" if init == "xavier" else "-")
    ax.axhline(math.log(10), color=COLORS["black"], lw=0.8, ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy")
    ax.set_title(f"ReLU MLP, {net.depth + 1} weight layers of width {net.width}, digits")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return fig
