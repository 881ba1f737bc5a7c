"""Figures of chapter 4, "RBMs, rectified units and infinite belief nets"."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from hiddenunits import belief_net as bn
from hiddenunits import rbm as R
from hiddenunits import stepped_sigmoid as ssu
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure


@figure
def fig_stepped_sigmoid() -> Figure:
    """Top: means and variances of a stepped sigmoid unit and its approximations.  Bottom:
    the errors S - softplus and V - sigma with their leading terms -sigma'/24, -sigma''/24.

    One figure with three panels rather than two figures: each figure costs about a second
    to render (PNG and PDF) when the chapter is built.
    """
    x = np.linspace(-6.0, 6.0, 1201)
    mean_nrelu, var_nrelu = ssu.noisy_relu_moments(x)
    fig, axes = new_figure(2, 2, height=5.6)
    ax1, ax2 = axes[0]
    grid = axes[1, 0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    ax3 = fig.add_subplot(grid[1, :])
    ax1.plot(x, ssu.stepped_sigmoid_mean(x), color=COLORS["blue"], label=r"SSU mean $S(x)$")
    ax1.plot(x, ssu.softplus(x), "--", color=COLORS["orange"],
             label=r"softplus $\log(1+e^x)$")
    ax1.plot(x, ssu.relu(x), ":", color=COLORS["black"], label=r"$\max(0,x)$")
    ax1.plot(x, mean_nrelu, "-.", color=COLORS["green"], label="noisy ReLU mean")
    ax1.set_xlabel("total input $x$")
    ax1.set_ylabel("expected output")
    ax1.legend(loc="upper left")
    ax2.plot(x, ssu.stepped_sigmoid_variance(x), color=COLORS["blue"], label=r"SSU $V(x)$")
    ax2.plot(x, ssu.sigmoid(x), "--", color=COLORS["orange"], label=r"$\sigma(x)$")
    ax2.plot(x, var_nrelu, "-.", color=COLORS["green"], label="noisy ReLU")
    ax2.set_xlabel("total input $x$")
    ax2.set_ylabel("variance of the output")
    ax2.legend(loc="upper left")  # short labels: the box stays left of the rising curves
    xe = np.linspace(-8.0, 8.0, 1601)
    d1, d2, _ = ssu.sigmoid_derivatives(xe)
    ax3.plot(xe, ssu.stepped_sigmoid_mean(xe) - ssu.softplus(xe), color=COLORS["blue"],
             label=r"$S(x) - \mathrm{softplus}(x)$")
    ax3.plot(xe, -d1 / 24.0, "--", color=COLORS["sky"],
             label=r"$-\frac{1}{24}\,\frac{d\sigma}{dx}$")
    ax3.plot(xe, ssu.stepped_sigmoid_variance(xe) - ssu.sigmoid(xe), color=COLORS["vermillion"],
             label=r"$V(x) - \sigma(x)$")
    ax3.plot(xe, -d2 / 24.0, "--", color=COLORS["orange"],
             label=r"$-\frac{1}{24}\,\frac{d^2\sigma}{dx^2}$")
    ax3.axhline(0.0, color=COLORS["grey"], lw=0.8)
    ax3.set_xlabel("total input $x$")
    ax3.set_ylabel("error")
    ax3.legend(loc="upper left", ncol=2)  # the curves are near 0 there
    return fig


@figure
def fig_tied_net_depth() -> Figure:
    """TV distance between the depth-L tied net's p(v) and the RBM's, versus L."""
    depths, curves, rates = bn.depth_curves()
    fig, ax = new_figure(height=3.2)
    colors = [COLORS[c] for c in ("blue", "orange", "green", "vermillion")]
    for (s, tv), col in zip(curves.items(), colors, strict=False):
        ax.semilogy(depths, np.maximum(tv, 1e-17), "o-", ms=2.5, color=col,
                    label=f"weight scale {s:g}")
        ax.semilogy(depths, tv[1] * rates[s] ** ((depths - depths[1]) / 2.0), ":",
                    color=col, lw=1.0)
    ax.set_ylim(1e-16, 2)
    ax.set_xlabel("depth $L$ of the tied net (layers above $v^0$)")
    ax.set_ylabel(r"$\mathrm{TV}(p_L(v),\ p_{\mathrm{RBM}}(v))$")
    ax.legend(loc="lower left")
    return fig


@figure
def fig_cd_bias() -> Figure:
    """Relative bias of CD-k against the exact gradient (left) and the chain's lambda_2."""
    scales, rel, lam = bn.cd_bias_curves()
    fig, (ax1, ax2) = new_figure(1, 2, height=3.0)
    for k, col in zip(rel, ("vermillion", "orange", "blue"), strict=False):
        ax1.plot(scales, rel[k], "o-", ms=3, color=COLORS[col], label=f"CD-{k}")
    ax1.set_xlabel("weight scale $s$ ($W = s\\,W_0$)")
    ax1.set_ylabel(r"$\|E[\Delta W_{\mathrm{CD}}] - \nabla\|_F \,/\, \|\nabla\|_F$")
    ax1.legend(loc="upper left")
    ax2.plot(scales, lam, "o-", ms=3, color=COLORS["green"])
    ax2.set_xlabel("weight scale $s$")
    ax2.set_ylabel(r"$\lambda_2$ of the chain $v \to h \to v$")
    ax2.set_ylim(0, 1.02)
    return fig


@figure
def fig_dbn_bound() -> Figure:
    """Greedy second layer: the exact DBN log-likelihood, its variational bound, RBM1's."""
    res = bn.greedy_dbn()
    fig, ax = new_figure(height=3.0)
    ax.plot(res.steps, res.log_lik, color=COLORS["blue"], label=r"DBN: exact $\log p(v)$")
    ax.plot(res.steps, res.bound, "--", color=COLORS["orange"],
            label="variational bound, $Q$ = RBM1 posterior")
    ax.axhline(res.log_lik_rbm1, color=COLORS["grey"], ls=":",
               label=r"RBM1 alone: $\log p_1(v)$")
    ax.set_xlabel("gradient steps of the second-layer RBM")
    ax.set_ylabel("mean over the digits (nats)")
    ax.legend(loc="lower right")
    return fig


@figure
def fig_cd_comparison() -> Figure:
    """Exact log-likelihood of the digits after CD-1 and PCD-1 training, against the rate."""
    exp = R.CDComparison()
    fig, ax = new_figure(height=3.2)
    for method, col in zip(exp.methods, ("blue", "vermillion", "green"), strict=False):
        out = [o for o in R.cd_comparison(exp) if o.method == method]
        for split, style, label in (("test_ll", "o-", "test"), ("train_ll", "s--", "training")):
            values = np.array([[getattr(o, split) for o in out if o.lr == lr] for lr in exp.lrs])
            ax.errorbar(exp.lrs, values.mean(axis=1),
                        yerr=values.std(axis=1, ddof=1) / np.sqrt(values.shape[1]),
                        fmt=style, ms=3.5, capsize=2, color=COLORS[col],
                        label=f"{method}, {label} digits")
    ax.set_xscale("log")
    ax.set_xlabel("initial learning rate (decaying linearly to 0)")
    ax.set_ylabel(r"mean exact $\log p(v)$ (nats)")
    # below the axes: inside, it would sit on the falling curves
    fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=2,
               bbox_to_anchor=(0.5, 0.0))
    return fig


SAMPLE_STEPS = 1000
"""Gibbs steps of the chains whose samples :func:`fig_rbm_filters_samples` shows."""


def _tile(images: np.ndarray, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile (rows*cols, 64) images of 8x8 pixels into one array with NaN padding."""
    out = np.full((rows * (8 + pad) - pad, cols * (8 + pad) - pad), np.nan)
    for k, img in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        out[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img.reshape(8, 8)
    return out


@figure
def fig_rbm_filters_samples(rng: int = 0) -> Figure:
    """Filters (columns of W) of the tuned CD-1 digits RBM, and samples from Gibbs chains."""
    rbm = R.cd_best("CD-1").outcomes[0].rbm
    rows, cols = 3, rbm.n_hidden // 3
    fig, (ax1, ax2) = new_figure(1, 2, height=2.6)
    lim = np.abs(rbm.W).max()
    ax1.imshow(_tile(rbm.W.T, rows, cols), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax1.set_title("filters $W_{:,j}$ (red > 0, blue < 0)")
    ax2.imshow(_tile(R.rbm_samples(rbm, rows * cols, SAMPLE_STEPS, rng), rows, cols),
               cmap="gray_r", vmin=0, vmax=1)
    ax2.set_title(rf"$p(v \mid h)$ after {SAMPLE_STEPS} Gibbs steps")
    for ax in (ax1, ax2):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
    return fig


@figure
def fig_gb_hidden_units() -> Figure:
    """Binary vs noisy-ReLU hidden units as the model's visible s shrinks, each at its tuned
    rate (solid) and at the first edition's rate GB_BASE_RATE s^2 (dotted, first seed)."""
    exp = R.GBExperiment()
    fig, (ax1, ax2) = new_figure(1, 2, height=3.0)
    for hidden, col, label in (("binary", "blue", "binary"), ("nrelu", "vermillion",
                                                              "noisy ReLU")):
        rec = [R.gb_best(hidden, s, "recon", exp).test for s in exp.scales]
        acc = [R.gb_best(hidden, s, "accuracy", exp).test for s in exp.scales]
        old = [next(o.recon for o in R.gb_experiment(exp) if o.hidden == hidden and o.s == s
                    and o.seed == exp.seeds[0] and math.isclose(o.lr, R.GB_BASE_RATE * s * s))
               for s in exp.scales]
        ax1.errorbar(exp.scales, [m for m, _ in rec], yerr=[e for _, e in rec], fmt="o-",
                     capsize=2, color=COLORS[col], label=f"{label}, tuned rate")
        ax1.plot(exp.scales, old, "o:", ms=3, color=COLORS[col],
                 label=f"{label}, rate $\\eta_0 s^2$")
        ax2.errorbar(exp.scales, [100 * m for m, _ in acc], yerr=[100 * e for _, e in acc],
                     fmt="o-", capsize=2, color=COLORS[col], label=f"{label}, tuned rate")
    ax2.axhline(100 * R.raw_pixel_readout_accuracy(), color=COLORS["grey"], ls=":",
                label="raw pixels")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("model's visible standard deviation $s$")
    ax1.set_ylim(0, 1.05)
    ax1.set_ylabel("test relative reconstruction error")
    ax2.set_ylabel("linear read-out test accuracy (%)")
    # one legend below both panels: inside, it would cover points at the smallest s
    handles, labels = ax1.get_legend_handles_labels()
    for handle, label in zip(*ax2.get_legend_handles_labels(), strict=True):
        if label == "raw pixels":
            handles, labels = [*handles, handle], [*labels, label]
    fig.legend(handles, labels, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 0.0))
    return fig
