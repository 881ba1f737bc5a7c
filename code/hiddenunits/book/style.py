"""One figure style for the book: sizes, fonts and colours.

Figures have an opaque white face so that they read the same on the light and the
dark page theme; the PDF gets them as vector graphics (see
:mod:`hiddenunits.book.notebook`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

# Okabe & Ito's colour-blind-safe palette.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}
CYCLE = ["blue", "orange", "green", "vermillion", "purple", "sky", "black", "grey"]

WIDTH = 6.4  # inches: the text width of the PDF; the web scales it to the column
HEIGHT = 3.6

RC = {
    "figure.figsize": (WIDTH, HEIGHT),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(color=[COLORS[c] for c in CYCLE]),
    "pdf.fonttype": 42,  # embed TrueType so text stays text in the PDF
    "svg.fonttype": "none",
    "image.cmap": "viridis",
}


def context():
    """The book's style as a context manager: ``with context(): fig = ...``.

    Every ``fig_*`` function runs inside it (see :func:`hiddenunits.book.figures.figure`),
    so drawing a figure leaves the caller's global matplotlib settings unchanged.
    """
    # fontTools logs font-subsetting notes on stderr while writing PDFs; stderr in a
    # chapter cell fails the build, and these notes are not problems.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return mpl.rc_context(RC)


def apply() -> None:
    """Set the book's style globally, for a chapter's kernel (the build calls this)."""
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    mpl.rcParams.update(RC)


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = WIDTH,
               height: float = HEIGHT, **subplot_kw):
    """A ``Figure`` with its axes, outside pyplot (so nothing is shown twice).

    Returns ``(fig, axes)``; ``axes`` is a single Axes when ``nrows == ncols == 1``.
    Called inside :func:`context` (as every figure function is), it has the book's style.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


# Metadata without dates, so that two builds write byte-identical files.
METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "ModDate": None}}


def save(fig: Figure, out: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out/name.png`` and ``out/name.pdf`` (reproducibly); return the paths."""
    paths = []
    for fmt in ("png", "pdf"):
        path = out / f"{name}.{fmt}"
        with context():
            fig.savefig(path, format=fmt, metadata=METADATA[fmt])
        paths.append(path)
    return paths
