"""Figures of chapter 3, "Nonlinearity, linear separability and probes"."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hiddenunits import capacity, probes
from hiddenunits import xor as X
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure
from hiddenunits.data import xor


def _grid(n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = np.linspace(-0.25, 1.25, n)
    gx, gy = np.meshgrid(u, u)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])


def _points(ax: Axes, x: np.ndarray, y: np.ndarray) -> None:
    for label, color, marker in ((0, COLORS["blue"], "o"), (1, COLORS["vermillion"], "s")):
        sel = y == label
        ax.scatter(x[sel, 0], x[sel, 1], s=70, c=color, marker=marker, edgecolors="black",
                   zorder=3, label=f"XOR = {label}")


@figure
def fig_xor_fits() -> Figure:
    """Least-squares affine fit vs the exact two-unit ReLU net, over the unit square."""
    x, y = xor()
    fig, axes = new_figure(1, 2, width=6.4, height=3.0, sharey=True)
    gx, gy, grid = _grid()
    w, b = X.least_squares_affine(x, y.astype(float))
    panels = [(grid @ w + b, "least-squares affine fit"),
              (X.relu_net(grid, X.EXACT_W, X.EXACT_A), r"$|x_1 - x_2|$: two ReLU units")]
    for ax, (values, title) in zip(axes, panels, strict=True):
        # an image, not a mesh of 101 x 101 quads: cheap to draw and small in the PDF
        im = ax.imshow(values.reshape(gx.shape), origin="lower", vmin=0, vmax=1,
                       cmap="RdBu_r", extent=(gx.min(), gx.max(), gy.min(), gy.max()),
                       interpolation="nearest")
        _points(ax, x, y)
        ax.set_title(title)
        ax.set_xlabel("$x_1$")
        if "affine" in title:
            ax.text(0.5, 0.5, "$f = 1/2$ everywhere", ha="center", va="center", fontsize=9)
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel("$x_2$")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=7.5,
               bbox_to_anchor=(0.45, 1.08))
    fig.colorbar(im, ax=axes, shrink=0.8, label="model output")
    return fig


@figure
def fig_xor_gd_outcomes(config: X.GDConfig | None = None) -> Figure:
    """Outcomes of gradient descent over many seeds, split by the final loss they reach.

    ``config`` defaults to the book's runs, ``GDConfig()``.
    """
    res = X.xor_gd_runs(X.GDConfig() if config is None else config)
    outcome = X.classify_runs(res)
    plateau = X.loss_plateau(res.loss)
    fig, (ax0, ax1) = new_figure(1, 2, width=6.4, height=2.8)
    colors = [COLORS[c] for c in ("green", "vermillion", "orange", "grey")]
    frac = np.array([(outcome == k).mean() for k in range(len(X.OUTCOMES))])
    ax0.barh(range(len(X.OUTCOMES)), frac, color=colors)
    ax0.set_yticks(range(len(X.OUTCOMES)), X.OUTCOMES)
    ax0.invert_yaxis()
    ax0.axvline(float(X.dead_at_init_probability()), color=COLORS["black"], ls=":", lw=1)
    ax0.set_xlabel("fraction of runs")
    bottom = np.zeros(len(X.PLATEAUS))
    for k, name in enumerate(X.OUTCOMES):
        counts = np.array([((outcome == k) & (plateau == j)).mean()
                           for j in range(len(X.PLATEAUS))])
        ax1.bar(range(len(X.PLATEAUS)), counts, bottom=bottom, color=colors[k], label=name)
        bottom += counts
    ax1.set_xticks(range(len(X.PLATEAUS)), X.PLATEAU_NAMES)
    ax1.set_xlabel("final mean squared error")
    ax1.set_ylabel("fraction of runs")
    ax1.legend(fontsize=7)
    return fig


@figure
def fig_xor_hidden() -> Figure:
    """The four points in the hidden space relu(W x), with the output layer's line f = 1/2."""
    x, y = xor()
    nets = [(X.EXACT_W, X.EXACT_A, "exact solution"),
            (*X.article_weights("out_in"), "article's weights, (out, in)"),
            (*X.article_weights("in_out"), "article's weights, (in, out)")]
    fig, axes = new_figure(1, 3, width=6.4, height=2.6, sharex=True, sharey=True)
    t = np.linspace(-0.2, 1.4, 50)
    for ax, (w, a, title) in zip(axes, nets, strict=True):
        h = X.hidden(x, w)
        _points(ax, h, y)
        names: dict[tuple[float, float], list[str]] = {}
        for (hx, hy), name in zip(h, ("00", "01", "10", "11"), strict=True):
            names.setdefault((round(hx, 3), round(hy, 3)), []).append(name)
        for k, (pos, group) in enumerate(sorted(names.items())):
            ax.annotate(", ".join(group), pos, textcoords="offset points", fontsize=8,
                        xytext=(4, 7 if k in (0, 3) else -12))
        # output line a1 h1 + a2 h2 = 1/2
        ax.plot(t, (0.5 - a[0] * t) / a[1], color=COLORS["black"], lw=1.2, ls="--")
        ax.set_xlim(-0.2, 1.4)
        ax.set_ylim(-0.2, 1.4)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$h_1$")
    axes[0].set_ylabel("$h_2$")
    return fig


def _curve_axes(ax: Axes, curves: dict[str, probes.ProbeCurve], colors: dict[str, str],
                error: bool = True) -> None:
    for name, c in curves.items():
        values = c.test_error if error else c.test_acc
        layers = np.arange(len(values))
        ax.errorbar(layers, values, yerr=2 * c.test_se, color=colors[name], marker="o",
                    ms=4, capsize=2, label=name)
    first = next(iter(curves.values()))
    ax.set_xticks(range(len(first.site_names)), first.site_names, rotation=40, ha="right")


def _controls(ax: Axes, curve: probes.ProbeCurve, control: probes.ControlCurve) -> None:
    """Random ReLU features of each hidden site's width: mean test error, min-max bars."""
    sites = [i for i, w in enumerate(curve.widths)
             if w in control.widths and 0 < i < len(curve.widths) - 1]
    err = [1.0 - control.at(curve.widths[i]) for i in sites]
    mean = np.array([e.mean() for e in err])
    spread = np.array([[m - e.min() for m, e in zip(mean, err, strict=True)],
                       [e.max() - m for m, e in zip(mean, err, strict=True)]])
    ax.errorbar(sites, mean, yerr=spread, color=COLORS["orange"], marker="D", ms=4,
                ls="none", capsize=2, label="random features, same width")


@figure
def fig_probe_errors() -> Figure:
    """Probe test error per site, MLP and CNN on MNIST-1D, at init, trained, and against
    random ReLU features of the same width."""
    fig, axes = new_figure(1, 2, width=6.4, height=3.6, sharey=True)
    control = probes.random_feature_curve()
    for ax, arch in zip(axes, ("MLP", "CNN"), strict=True):
        curves = {f"{arch} {when}": probes.probe_curve(probes.MODELS[f"{arch} {when}"])
                  for when in ("at init", "trained")}
        colors = {f"{arch} at init": COLORS["grey"], f"{arch} trained": COLORS["blue"]}
        _curve_axes(ax, curves, colors)
        _controls(ax, curves[f"{arch} trained"], control)
        ax.set_title(arch)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("probe test error")
    handles, labels = axes[1].get_legend_handles_labels()
    labels = [lab.replace("CNN ", "") for lab in labels]
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=7.5,
               bbox_to_anchor=(0.5, 1.06))
    return fig


@figure
def fig_cover_capacity() -> Figure:
    """Cover's fraction of separable dichotomies C(N, p) / 2^N against N / p."""
    fig, ax = new_figure(1, 1, width=4.8, height=3.0)
    ratio = np.linspace(0.05, 4.0, 400)
    colors = (COLORS["grey"], COLORS["orange"], COLORS["blue"], COLORS["purple"])
    for p, color in zip((3, 11, 101, 641), colors, strict=True):
        n = np.unique(np.maximum(1, np.round(ratio * p)).astype(int))
        ax.plot(n / p, capacity.separable_fraction(n, p), color=color,
                label=f"$p = {p}$")
    ax.axvline(2.0, color=COLORS["black"], lw=0.8, ls=":")
    ax.set_xlabel("points per parameter, $N / p$")
    ax.set_ylabel("separable fraction $C(N, p) / 2^N$")
    ax.legend(fontsize=7.5, loc="lower left")
    return fig


def concept_models() -> tuple[tuple[str, probes.ModelConfig], ...]:
    """The trained models probed for concepts, with their names."""
    return (("MLP", probes.TRAINED_MLP), ("CNN", probes.TRAINED_CNN))


CONCEPT_COLORS = {"energy": "orange", "parity": "purple", "mean": "green"}


@figure
def fig_concept_depth(slack: float = probes.CONCEPT_SLACK) -> Figure:
    """Probe test accuracy per layer of three properties, trained MLP and CNN; stars mark
    the concept depth with ``slack``."""
    fig, axes = new_figure(1, 2, width=6.4, height=3.3, sharey=True)
    colors = {c: COLORS[v] for c, v in CONCEPT_COLORS.items()}
    for ax, (arch, model) in zip(axes, concept_models(), strict=True):
        curves = {c: probes.probe_curve(model, c) for c in colors}
        _curve_axes(ax, curves, colors, error=False)
        for c, curve in curves.items():
            depth = probes.concept_depth(curve.test_acc, slack)
            ax.plot(depth, curve.test_acc[depth], marker="*", ms=12, color=colors[c],
                    markeredgecolor="black")
        ax.axhline(0.5, color=COLORS["black"], lw=0.8, ls=":")
        ax.set_title(f"trained {arch}")
        ax.set_ylim(0.45, 1.02)
    axes[0].set_ylabel("probe test accuracy")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=7.5,
               bbox_to_anchor=(0.5, 1.06))
    return fig
