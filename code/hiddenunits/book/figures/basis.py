"""Figures of chapter 1, "Linear hidden units have no privileged basis"."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from hiddenunits import balancedness as bal
from hiddenunits import interpretability as ip
from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry as sym
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure
from hiddenunits.data import digits_split
from hiddenunits.interpretability import TEST_FRACTION
from hiddenunits.validation import check_int, check_rng


@figure
def fig_orbit_loss(rng: int = 0) -> Figure:
    """The loss is constant along orbits and rises along a random direction."""
    ts, prof = sym.orbit_profiles(rng)
    fig, ax = new_figure(height=3.2)
    styles = {"O(k) orbit": ("blue", "-",
                             r"$\mathrm{O}(k)$-orbit $e^{s\Omega} \cdot \theta$"),
              "GL(k) orbit": ("green", "--", r"$\mathrm{GL}(k)$-orbit $e^{sX} \cdot \theta$"),
              "random direction": ("vermillion", "-", r"random line $\theta + s \delta$")}
    for key, values in prof.items():
        color, ls, label = styles[key]
        ax.plot(ts, values, color=COLORS[color], ls=ls, label=label)
    ax.set_xlabel("$s$")
    ax.set_ylabel("loss $L$")
    ax.legend()
    return fig


@figure
def fig_rotated_trajectories(rng: int = 3) -> Figure:
    """(a) hidden codes under GD from theta_0 and from P.theta_0; (b) deviations."""
    codes1, codes2, P = sym.hidden_code_paths(rng=rng)
    fig, (ax, bx) = new_figure(1, 2, height=4.6)
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for j, name in enumerate(("digit 0", "digit 1", "digit 6")):
        ax.plot(*codes1[:, :, j].T, color=colors[j], lw=1.3, label=name)
        ax.plot(*codes2[:, :, j].T, color=colors[j], lw=1.3, ls="--")
        rot = codes1[::12, :, j] @ P.T
        ax.plot(*rot.T, ls="none", marker="o", ms=4, mfc="none", mew=0.8, color=colors[j])
        ax.plot(*codes1[-1, :, j], marker="s", color=colors[j], ms=5)
        ax.plot(*codes2[-1, :, j], marker="s", mfc="white", color=colors[j], ms=5)
    ax.plot([], [], color=COLORS["grey"], label=r"run from $\theta_0$")
    ax.plot([], [], color=COLORS["grey"], ls="--", label=r"run from $P\theta_0$")
    ax.plot([], [], color=COLORS["grey"], ls="none", marker="o", mfc="none",
            label=r"$P$ times the first run")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("hidden unit 1")
    ax.set_ylabel("hidden unit 2")
    ax.set_title("(a) hidden codes $A_t x$ during training", loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    palette = {"gradient descent": "blue", "SGD, same minibatches": "sky",
               "heavy ball": "green", "Nesterov": "black", "GD + L2 weight decay": "yellow",
               "Adam": "vermillion", "RMSProp": "orange", "Adagrad": "purple",
               "GD + L1 penalty": "grey", "GD + dropout on hidden units": "green",
               "Adam, signed permutation": "vermillion"}
    for case in sym.CASES:
        dev = np.maximum(sym.compare(case).deviation, 1e-17)
        style = "-" if case.equivariant else "--"
        if case.group != "orthogonal":
            style = ":"
        bx.semilogy(dev, color=COLORS[palette[case.name]], ls=style, label=case.name, lw=1.2)
    bx.set_xlabel("step $t$")
    bx.set_ylabel("relative distance between the runs")
    bx.set_title("(b) distance between the two runs", loc="left")
    bx.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig


@figure
def fig_init_law(rng: int = 0) -> Figure:
    """Histograms of the learned hidden direction psi (mod pi/2) for Gaussian and uniform init."""
    fig, ax = new_figure(height=3.2)
    bins = np.linspace(0, math.pi / 2, 31)
    rows = [(sym.law_study("gaussian", rng=rng).psi, "Gaussian init, trained", "blue", "-"),
            (sym.law_study("uniform", rng=rng).psi0, "uniform init, at init", "grey", ":"),
            (sym.law_study("uniform", rng=rng).psi, "uniform init, trained", "vermillion", "-"),
            (sym.law_study("uniform", decoder_zero=True, rng=rng).psi,
             "uniform init, $B_0 = 0$, trained", "orange", "--")]
    for psi, label, color, ls in rows:
        h, _ = np.histogram(np.mod(psi, math.pi / 2), bins=bins, density=True)
        ax.stairs(h, bins, baseline=None, color=COLORS[color], ls=ls, label=label, lw=1.4)
    ax.axhline(2 / math.pi, color=COLORS["black"], lw=0.8, label="uniform angle")
    ax.set_xlabel(r"angle $\psi$ of the hidden vector $A e_1$, modulo $\pi/2$")
    ax.set_ylabel("density")
    ax.set_xticks([0, math.pi / 8, math.pi / 4, 3 * math.pi / 8, math.pi / 2],
                  ["0", r"$\pi/8$", r"$\pi/4$", r"$3\pi/8$", r"$\pi/2$"])
    ax.legend(fontsize=7.5, loc="upper right")
    return fig


@figure
def fig_balancedness_drift() -> Figure:
    """Drift of D at a fixed horizon against the step size, for three integrators."""
    table = bal.drift_table()
    fig, ax = new_figure(height=3.4)
    styles = {"gradient descent (Euler)": ("vermillion", "o"), "Runge-Kutta 4": ("blue", "s"),
              "implicit midpoint": ("green", "^")}
    for integrator, values in table.items():
        color, marker = styles[integrator]
        ax.loglog(bal.STEPS, np.maximum(values, 1e-17), color=COLORS[color], marker=marker,
                  label=integrator)  # NaN entries (not computed) are left out of the line
    hs = np.array(bal.STEPS)
    e0 = table["gradient descent (Euler)"][-1]
    ax.loglog(hs, e0 * hs / hs[-1], color=COLORS["grey"], ls=":", lw=1, label="slope 1")
    r0 = table["Runge-Kutta 4"][0]
    ax.loglog(hs, r0 * (hs / hs[0]) ** 4, color=COLORS["grey"], ls="--", lw=1,
              label="slope 4")
    ax.set_xticks(hs, [f"{h:g}" for h in hs])
    ax.set_xticks([], minor=True)
    ax.set_xlabel(r"step size $\eta$")
    ax.set_ylabel(r"$\|D(\tau) - D(0)\|_F \,/\, \|D(0)\|_F$")
    ax.legend(fontsize=8)
    return fig


@figure
def fig_unit_correlations(k: int = 4) -> Figure:
    """|corr| of hidden units with principal components, and between two seeds."""
    k = check_int("k", k, minimum=1, maximum=63)
    C = lae.digits_covariance()
    A0 = lae.train(lae.TrainSpec(k=k, seed=0))[0]
    A1 = lae.train(lae.TrainSpec(k=k, seed=1))[0]
    panels = [(np.abs(lae.unit_component_correlations(A0, C, k)), "principal component $j$",
               "hidden unit $i$ (seed 0)", "units vs. components"),
              (np.abs(lae.unit_unit_correlations(A0, A1, C)), "hidden unit $j$ (seed 1)",
               "hidden unit $i$ (seed 0)", "seed 0 vs. seed 1")]
    fig, axes = new_figure(1, 2, height=3.0)
    for ax, (M, xl, yl, title) in zip(axes, panels, strict=True):
        im = ax.imshow(M, vmin=0, vmax=1, cmap="Blues")
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if M[i, j] > 0.6 else COLORS["black"])
        ax.set_xticks(range(k), [str(j + 1) for j in range(k)])
        ax.set_yticks(range(k), [str(i + 1) for i in range(k)])
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.grid(False)
    fig.colorbar(im, ax=axes, shrink=0.8, label="$|$correlation$|$")
    return fig


@figure
def fig_relu_symmetry(rng: int = 0) -> Figure:
    """Loss of a trained ReLU classifier along a hidden rotation, a scaling and a line."""
    ts, prof = sym.relu_profiles(rng)
    fig, ax = new_figure(height=3.2)
    styles = {"rotation exp(tS)": ("blue", "-", r"rotation $e^{s\Omega}$"),
              "positive scaling exp(t diag(s))": (
                  "green", "--", r"positive scaling $e^{s\,\mathrm{diag}(c)}$"),
              "random direction": ("vermillion", "-", "random direction")}
    for key, values in prof.items():
        color, ls, label = styles[key]
        ax.plot(ts, values, color=COLORS[color], ls=ls, label=label)
    ax.set_xlabel("$s$")
    ax.set_ylabel("training cross-entropy")
    ax.legend()
    return fig


@figure
def fig_top_activations(rng: int = 0) -> Figure:
    """Top-activating test digits for four hidden units and four random directions."""
    net = ip.relu_classifier()
    split = digits_split(TEST_FRACTION, rng=0)
    H = ip.hidden_features(net, split.x_test)
    k = H.shape[1]
    V = check_rng(rng).normal(size=(4, k))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    rows = [(np.eye(k)[i], f"unit $e_{{{i + 1}}}$") for i in ip.active_units(H, 8)[:4]]
    rows += [(v, f"random $d_{{{j + 1}}}$") for j, v in enumerate(V)]
    cols = 8
    images = [[split.x_test[i].reshape(8, 8) for i in ip.top_activating(H, v, cols)]
              for v, _ in rows]
    fig, ax = new_figure(width=5.0, height=5.2)
    ax.imshow(ip.mosaic(images), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([4.5 + 9 * r for r in range(len(rows))], [label for _, label in rows])
    for r in range(len(rows)):
        color = COLORS["blue"] if r < 4 else COLORS["vermillion"]
        ax.get_yticklabels()[r].set_color(color)
        ax.add_patch(Rectangle((0.0, 9 * r), 9.0 * cols, 9.0, fill=False, edgecolor=color,
                               lw=1.2))
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig
