"""Figures of chapter 5, "The geometry of random vectors and initialization"."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from hiddenunits import random_geometry as rg
from hiddenunits.book.figures import figure
from hiddenunits.book.style import COLORS, new_figure
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
