"""One figure style for the book: sizes, fonts and colours.

Figures are drawn once, on an opaque white face, in the colours below; the PDF gets them
as vector graphics and the web as PNG (see :mod:`hiddenunits.book.notebook`).  For the
web's dark theme the same figure is also rendered by :func:`dark`: text, axes and other
greys are mirrored in lightness onto the theme's dark background, the palette colours keep
their hue and are lightened just enough to stand out, and images (colour maps) are left
as they are.
"""

from __future__ import annotations

import colorsys
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
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
    # Type 3 fonts: vector glyphs, and text that stays text.  Type 42 (embedded TrueType)
    # made matplotlib subset every font with fontTools for every figure: about 1 s a
    # figure on this machine, a third of a chapter's time budget.
    "pdf.fonttype": 3,
    "svg.fonttype": "none",
    "image.cmap": "viridis",
}


def share_mathtext_parses() -> bool:
    """Let every renderer reuse earlier parses of the same mathtext (a speed-up only).

    Matplotlib caches a parsed formula per *parser*, and every renderer makes a new parser,
    so each rendering of a figure (the PNG, its dark twin, the PDF, and the extra pass of
    ``bbox_inches="tight"`` for each) parses every label and log-scale tick label again:
    about a fifth of a figure's rendering time in this book.  This installs one cache
    shared by the parsers (:func:`shared_parse_cache`).  Returns whether it is installed:
    False on a matplotlib whose parser lacks the method, which then runs as it always did.
    """
    from matplotlib.mathtext import MathTextParser

    method = getattr(MathTextParser, "_parse_cached", None)
    if method is not None and getattr(method, "shared_by_parsers", False):
        return True
    parse = getattr(method, "__wrapped__", None)
    if parse is None:
        return False
    MathTextParser._parse_cached = shared_parse_cache(parse)
    return True


def shared_parse_cache(parse):
    """``MathTextParser._parse_cached`` with one cache for all parsers of an output type.

    ``parse(parser, s, dpi, prop, antialiased, load_glyph_flags)`` is matplotlib's uncached
    method.  A parse depends only on the parser's output type (the rest of the parser is
    class state) and on the arguments, all of which are in the key; the renderers only read
    the result.  So the figures are byte-identical to matplotlib's own per-parser cache
    (``tests/test_style.py``).
    """
    parsers = {}

    @functools.lru_cache(maxsize=2048)
    def cached(output_type, s, dpi, prop, antialiased, load_glyph_flags):
        return parse(parsers[output_type], s, dpi, prop, antialiased, load_glyph_flags)

    def parse_cached(self, s, dpi, prop, antialiased, load_glyph_flags):
        parsers.setdefault(self._output_type, self)
        return cached(self._output_type, s, dpi, prop, antialiased, load_glyph_flags)

    parse_cached.shared_by_parsers = True
    parse_cached.__wrapped__ = parse
    return parse_cached


def context():
    """The book's style as a context manager: ``with context(): fig = ...``.

    Every ``fig_*`` function runs inside it (see :func:`hiddenunits.book.figures.figure`),
    so drawing a figure leaves the caller's global matplotlib settings unchanged.
    """
    # fontTools logs font-subsetting notes on stderr while writing PDFs; stderr in a
    # chapter cell fails the build, and these notes are not problems.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    share_mathtext_parses()
    return mpl.rc_context(RC)


def apply() -> None:
    """Set the book's style globally, for a chapter's kernel (the build calls this)."""
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    share_mathtext_parses()
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


# --------------------------------------------------------------------------- dark theme
DARK_BACKGROUND = "#14181e"  # pydata-sphinx-theme's dark page background
DARK_FOREGROUND = "#e6e6e6"  # text and axes on it (contrast ratio about 14)
MIN_DARK_LIGHTNESS = 0.55  # palette colours are lifted to at least this HLS lightness


def dark_color(rgba: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The colour that plays the role of ``rgba`` on the dark page (alpha unchanged).

    Greys (saturation below 0.2) are mirrored: white becomes the dark background, black
    the light foreground.  Colours keep hue and saturation; a dark one is lightened to
    ``MIN_DARK_LIGHTNESS``.
    """
    r, g, b, a = (float(v) for v in rgba)
    h, light, sat = colorsys.rgb_to_hls(r, g, b)
    if sat < 0.2 or max(r, g, b) - min(r, g, b) < 0.08:
        # white -> the page's background, black -> its text colour, greys in between
        lo = mpl.colors.to_rgb(DARK_BACKGROUND)
        hi = mpl.colors.to_rgb(DARK_FOREGROUND)
        return (*(x + (1.0 - light) * (y - x) for x, y in zip(lo, hi, strict=True)), a)
    return (*colorsys.hls_to_rgb(h, max(light, MIN_DARK_LIGHTNESS), sat), a)


def _swap(changes: list, getter, setter, convert) -> None:
    """Set a colour property to its dark counterpart, remembering how to undo it."""
    old = getter()
    changes.append((setter, old))
    setter(convert(old))


def _one(c):
    if isinstance(c, str) and c.lower() == "none":
        return c
    rgba = mpl.colors.to_rgba(c)
    return c if rgba[3] == 0 else dark_color(rgba)


def _many(colors):
    import numpy as np

    arr = np.asarray(mpl.colors.to_rgba_array(colors), dtype=float)
    if arr.size == 0:
        return colors
    return np.array([dark_color(tuple(c)) if c[3] > 0 else tuple(c) for c in arr])


@contextmanager
def dark(fig: Figure) -> Iterator[Figure]:
    """Recolour ``fig`` for the dark page theme inside the ``with`` block, then restore it.

    Text, lines, patches (faces, spines, legend frames) and collections get
    :func:`dark_color`; colour-mapped artists (images, meshes, scatter plots coloured by
    value) keep their colours, since their colour map carries data.
    """
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage, FigureImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    changes: list = []
    try:
        for artist in fig.findobj():
            if isinstance(artist, AxesImage | FigureImage):
                continue
            if isinstance(artist, Text):
                _swap(changes, artist.get_color, artist.set_color, _one)
                patch = artist.get_bbox_patch()
                if patch is not None:
                    _swap(changes, patch.get_facecolor, patch.set_facecolor, _one)
                    _swap(changes, patch.get_edgecolor, patch.set_edgecolor, _one)
            elif isinstance(artist, Line2D):
                _swap(changes, artist.get_color, artist.set_color, _one)
                _swap(changes, artist.get_markerfacecolor, artist.set_markerfacecolor, _one)
                _swap(changes, artist.get_markeredgecolor, artist.set_markeredgecolor, _one)
            elif isinstance(artist, Patch):
                _swap(changes, artist.get_facecolor, artist.set_facecolor, _one)
                _swap(changes, artist.get_edgecolor, artist.set_edgecolor, _one)
            elif isinstance(artist, Collection):
                if artist.get_array() is not None:
                    continue  # colour-mapped: the colours are data
                _swap(changes, artist.get_facecolor, artist.set_facecolor, _many)
                _swap(changes, artist.get_edgecolor, artist.set_edgecolor, _many)
        yield fig
    finally:
        for setter, old in reversed(changes):
            setter(old)
