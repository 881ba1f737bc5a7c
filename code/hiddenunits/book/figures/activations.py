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
    fig, (ax0, ax1) = new_figure(1, 2, height=3.5)
    data = gf.escape_curves(net)  # (S, 3)
    ax0.loglog(gf.ESCAPE_SCALES, data[:, 0], "o-", color=COLORS["blue"],
               label="measured $\\|\\delta_1\\| / \\|\\delta_D\\|$ (median)")
    ax0.loglog(gf.ESCAPE_SCALES, data[:, 1], "s--", color=COLORS["orange"],
               label="bound $\\prod_{\\ell\\geq 2} \\|W_\\ell\\|_{op}/4$")
    ax0.axhline(1.0, color=COLORS["grey"], lw=0.8)
    ax0.set(xlabel="weight scale $g$", ylabel="ratio",
            title=f"sigmoid, $D = {net.depth}$, $n = {net.width}$")
    # below the panel: inside, the legend would cover one of the two rising curves
    ax0.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=7.5)
    ax1.semilogx(gf.ESCAPE_SCALES, data[:, 2], "o-", color=COLORS["vermillion"])
    ax1.set(xlabel="weight scale $g$", ylabel="fraction saturated",
            title=f"units with $\\sigma'(z) < {act.SATURATED:g} \\cdot \\frac{{1}}{{4}}$",
            ylim=(0, 1))
    return fig


PROFILE_UNITS = ("sigmoid", "tanh", "relu", "softplus")
"""The units of the per-layer profiles (those of the Glorot-Bengio experiment)."""


@figure
def fig_layer_profiles(rng: int = 0) -> Figure:
    """Per-layer ||delta_l||, spread of h_l and ||dL/dW_l|| at initialisation, with the
    decay the gains predict (dotted), for the standard (top) and Xavier (bottom) init.

    ``rng`` seeds the weights.
    """
    fig, axes = new_figure(2, 3, height=4.6, sharex=True)
    for row, init in zip(axes, ("standard", "xavier"), strict=True):
        for name in PROFILE_UNITS:
            p = gf.layer_profile(replace(gf.LAYER_GRADIENT_NET, activation=name, init=init),
                                 rng=rng)
            c, ls = COLORS[_COLORS[name]], _STYLES[name]
            layers = np.arange(1, p.delta.size + 1)
            root = np.sqrt(p.gain)
            # predictions: delta_l = delta_D prod_{k=l}^{D-1} sqrt(chi_k) and
            # spread_l = spread_1 prod_{k=2}^{l} sqrt(chi_k)
            pred_delta = p.delta[-1] * np.append(np.cumprod(root[:-1][::-1])[::-1], 1.0)
            pred_spread = p.spread[0] * np.append(1.0, np.cumprod(root[1:]))
            for ax, y, pred in ((row[0], p.delta, pred_delta), (row[1], p.spread, pred_spread)):
                ax.semilogy(layers, y, ls, color=c, marker=".", label=act.LABELS[name])
                ax.semilogy(layers, pred, ":", color=c, lw=1.0)
            row[2].semilogy(np.arange(1, p.weight_grad.size + 1), p.weight_grad, ls, color=c,
                            marker=".")
        row[0].set_ylabel(f"{init} init")
    for ax, title in zip(axes[0], ("$\\|\\delta_\\ell\\|$", "spread of $h_\\ell$ over inputs",
                                   "$\\|\\partial L/\\partial W_\\ell\\|_F$"), strict=True):
        ax.set_title(title)
    for ax in axes[1]:
        ax.set_xlabel("layer $\\ell$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(PROFILE_UNITS))
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


def _band(ax, x, runs, what, color, label=None, ls="-"):
    """Mean over the runs (one per seed) with a band from the lowest to the highest."""
    y = np.array([what(r) for r in runs])  # (seeds, len(x))
    ax.plot(x, y.mean(axis=0), ls, color=color, label=label)
    ax.fill_between(x, y.min(axis=0), y.max(axis=0), color=color, alpha=0.15, lw=0)


@figure
def fig_glorot_training() -> Figure:
    """Training loss per epoch at each unit's chosen learning rate, mean over the seeds
    with a band from the lowest to the highest: standard (left) and Xavier (right) init."""
    fig, axes = new_figure(1, 2, height=3.4, sharey=True)
    tuned = sat.tuned_runs(sat.sweep())
    for ax, init, title in zip(axes, sat.INITS, ("standard init", "normalised (Xavier) init"),
                               strict=True):
        for a in sat.ACTIVATIONS:
            rs = tuned[(a, init)]
            _band(ax, np.arange(rs[0].epochs + 1), rs, lambda r: r.train_loss,
                  COLORS[_COLORS[a]], f"{act.LABELS[a]}, $\\eta = {rs[0].lr:g}$")
        ax.set(xlabel="epoch", title=title, yscale="log")
        # below the panel: inside, the legend would cover the flat curves or the falling ones
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=7.5)
    axes[0].set_ylabel("training cross-entropy")
    return fig


LAYER_SHADES = ("sky", "green", "orange", "purple", "vermillion", "blue", "black", "grey")


@figure
def fig_glorot_saturation() -> Figure:
    """Per layer and epoch, means over the seeds: (left) the mean activation of the sigmoid
    nets, standard init, largest rate; (middle) the saturated fraction of the tanh nets,
    standard init, largest rate; (right) the dead fraction of the ReLU nets, standard init,
    chosen rate."""
    fig, axes = new_figure(1, 3, height=3.1)
    runs = sat.sweep()
    tuned = sat.tuned_runs(runs)
    lr_max = max(k[2] for k in runs)
    panels = [
        ([runs[("sigmoid", "standard", lr_max, s)] for s in sat.SEEDS], lambda r: r.mean,
         "mean activation $h$", f"sigmoid, $\\eta = {lr_max:g}$", (0, 1)),
        ([runs[("tanh", "standard", lr_max, s)] for s in sat.SEEDS], lambda r: r.saturated,
         "fraction saturated", f"tanh, $\\eta = {lr_max:g}$", None),
        (tuned[("relu", "standard")], lambda r: r.dead, "fraction of dead units",
         f"ReLU, $\\eta = {tuned[('relu', 'standard')][0].lr:g}$", None),
    ]
    for ax, (rs, what, ylabel, title, ylim) in zip(axes, panels, strict=True):
        y = np.mean([what(r) for r in rs], axis=0)  # (E + 1, depth)
        for k in range(y.shape[1]):
            top = " (top)" if k == y.shape[1] - 1 else ""
            ax.plot(np.arange(y.shape[0]), y[:, k], color=COLORS[LAYER_SHADES[k % 8]],
                    label=f"layer {k + 1}{top}")
        ax.set(xlabel="epoch", ylabel=ylabel, title=title + ", standard init")
        if ylim:
            ax.set_ylim(*ylim)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    return fig
