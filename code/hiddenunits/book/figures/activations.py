"""Figures of chapter 2, "Designing hidden units"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure

from hiddenunits import activations as act
from hiddenunits import conditioning as cond
from hiddenunits import gradient_flow as gf
from hiddenunits import saturation as sat
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure

# one colour and line style per activation, in the order of activations.NAMES
_COLORS = dict(zip(act.NAMES, ("blue", "orange", "green", "sky", "vermillion", "purple",
                               "black", "grey"), strict=True))
_STYLES = dict(zip(act.NAMES, ("-", "-", "-", ":", "--", "-.", "-", "--"), strict=True))


@figure
def fig_zigzag_paths(rng: int = 1) -> Figure:
    """GD and single-example SGD on the two-weight problem, non-centred vs centred inputs.

    ``rng`` seeds the inputs SGD draws.
    """
    fig, axes = new_figure(1, 2, height=3.3, sharey=True)
    w0 = np.array(cond.ZIGZAG_START)
    for ax, centred in zip(axes, (False, True), strict=True):
        prob = cond.sigmoid_like_problem(centred)
        m, s = prob.mean, prob.std
        title = "centred, $m = 0$" if centred else f"non-centred, $m = {m:g}$"
        g1, g2 = np.meshgrid(np.linspace(-1.5, 2.0, 200), np.linspace(-2.0, 1.5, 200))
        levels = prob.loss(w0) * np.array([0.01, 0.04, 0.1, 0.25, 0.5, 1.0, 1.6])
        ax.contour(g1, g2, prob.loss(np.stack([g1, g2], -1)), levels=levels,
                   colors=COLORS["grey"], linewidths=0.6)
        gd = cond.gd_path(prob.hessian, prob.w_star, w0, prob.best_step(), 25)
        sgd = cond.sgd_path(prob, w0, lr=0.5 / (2 * m * m + 2 * s * s), steps=60, rng=rng)
        ax.plot(sgd[:, 0], sgd[:, 1], "-", color=COLORS["orange"], lw=1.0,
                label="SGD, one example per step")
        ax.plot(gd[:, 0], gd[:, 1], "o-", color=COLORS["blue"], ms=3, lw=1.2,
                label="GD, best step")
        ax.plot(*prob.w_star, "*", color=COLORS["vermillion"], ms=10)
        kappa = cond.condition_number(prob.hessian)
        ax.set(xlabel="$w_1$", title=f"{title}, $\\kappa = {kappa:.1f}$", aspect="equal")
    axes[0].set_ylabel("$w_2$")
    axes[0].legend(loc="lower left")
    return fig


@figure
def fig_sigmoid_escape(rng: int = 0) -> Figure:
    """Gradient ratio, its bound and the saturated fraction vs the weight scale g.

    ``rng`` seeds the random nets.
    """
    net = replace(gf.ESCAPE_NET, seed=rng)
    fig, (ax0, ax1) = new_figure(1, 2, height=3.0)
    data = gf.escape_curves(net)  # (S, 3)
    ax0.loglog(gf.ESCAPE_SCALES, data[:, 0], "o-", color=COLORS["blue"],
               label="measured $\\|\\delta_1\\| / \\|\\delta_D\\|$ (median)")
    ax0.loglog(gf.ESCAPE_SCALES, data[:, 1], "s--", color=COLORS["orange"],
               label="bound $\\prod_{\\ell\\geq 2} \\|W_\\ell\\|_{op}/4$")
    ax0.axhline(1.0, color=COLORS["grey"], lw=0.8)
    ax0.set(xlabel="weight scale $g$", ylabel="ratio",
            title=f"sigmoid, $D = {net.depth}$, $n = {net.width}$")
    ax0.legend(loc="upper left")
    ax1.semilogx(gf.ESCAPE_SCALES, data[:, 2], "o-", color=COLORS["vermillion"])
    ax1.set(xlabel="weight scale $g$", ylabel="fraction saturated",
            title="units with $\\sigma'(z) < 0.01 \\cdot \\frac{1}{4}$", ylim=(0, 1))
    return fig


@figure
def fig_layer_gradients(rng: int = 0) -> Figure:
    """Per-layer weight-gradient norms at initialisation, standard vs normalised init.

    ``rng`` seeds the weights.
    """
    fig, axes = new_figure(1, 2, height=3.4, sharey=True)
    for ax, init, title in zip(axes, ("standard", "xavier"),
                               ("standard init", "normalised (Xavier) init"), strict=True):
        for name in act.NAMES:
            config = replace(gf.LAYER_GRADIENT_NET, activation=name, init=init)
            g = gf.layer_gradient_norms(config, rng=rng)
            ax.semilogy(np.arange(1, g.size + 1), g, _STYLES[name], color=COLORS[_COLORS[name]],
                        marker=".", label=act.LABELS[name])
        ax.set(xlabel="layer $\\ell$ (1 = nearest the input)", title=title)
    axes[0].set_ylabel("$\\|\\partial L / \\partial W_\\ell\\|_F$")
    axes[1].legend(ncol=2, loc="lower right", fontsize=7.5)
    return fig


@figure
def fig_activation_shapes() -> Figure:
    """The eight activations (left) and their derivatives (right) on [-4, 4]."""
    fig, (ax0, ax1) = new_figure(1, 2, height=3.3)
    t = np.linspace(-4, 4, 801)
    for name in act.NAMES:
        c, ls = COLORS[_COLORS[name]], _STYLES[name]
        ax0.plot(t, act.phi(name, t), color=c, ls=ls, label=act.LABELS[name])
        ax1.plot(t, act.dphi(name, t), color=c, ls=ls)
    ax0.set(xlabel="$t$", ylabel="$\\phi(t)$", ylim=(-1.2, 4))
    ax1.set(xlabel="$t$", ylabel="$\\phi'(t)$", ylim=(-0.2, 1.2))
    ax1.axhline(0.25, color=COLORS["grey"], lw=0.8)
    ax0.legend(ncol=2, loc="upper left")
    return fig


@figure
def fig_glorot_training(rng: int = 0) -> Figure:
    """Training loss per epoch: standard (left) and normalised (right) initialisation.

    ``rng`` seeds the weights (the runs of :func:`hiddenunits.saturation.all_runs`).
    """
    fig, axes = new_figure(1, 2, height=3.0, sharey=True)
    runs = sat.all_runs(rng=rng)
    for ax, init, title in zip(axes, sat.INITS, ("standard init", "normalised (Xavier) init"),
                               strict=True):
        for a in sat.ACTIVATIONS:
            r = runs[(a, init)]
            ax.plot(np.arange(r.train_loss.size), r.train_loss, color=COLORS[_COLORS[a]],
                    label=act.LABELS[a])
        ax.set(xlabel="epoch", title=title, yscale="log")
    axes[0].set_ylabel("training cross-entropy")
    axes[0].legend(loc="lower left")
    return fig


@figure
def fig_glorot_saturation(rng: int = 0) -> Figure:
    """Left: mean activation of each layer of the sigmoid net (standard init) per epoch, with
    a one-standard-deviation band.  Right: mean relative slope of the top hidden layer.

    ``rng`` seeds the weights.
    """
    fig, (ax0, ax1) = new_figure(1, 2, height=3.2)
    runs = sat.all_runs(rng=rng)
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
    for a in sat.ACTIVATIONS:
        for init, ls in zip(sat.INITS, ("-", "--"), strict=True):
            rr = runs[(a, init)]
            ax1.plot(epochs, rr.slope[:, -1], ls, color=COLORS[_COLORS[a]],
                     label=act.LABELS[a] if init == "standard" else None)
    ax1.set(xlabel="epoch", ylabel="mean $\\phi'(z) / \\sup \\phi'$", ylim=(0, 1.05),
            title="top hidden layer (dashed: Xavier)")
    ax1.legend(loc="lower left", fontsize=7.5)
    return fig
