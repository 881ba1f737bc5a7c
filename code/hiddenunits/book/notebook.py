"""Helpers for the book's code cells: kernel set-up, tables and glued numbers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager

DARK_KEY = "hiddenunits/dark-png"
"""Key, in a PNG output's metadata, of the figure's rendering for the dark page theme."""


def setup() -> None:
    """Prepare a chapter's kernel: figure style, PNG for the web and PDF for LaTeX.

    A figure's PNG comes in two renderings: for the light page theme (the output itself,
    at twice the figure's resolution for sharp text on high-density screens) and for the
    dark one (:func:`hiddenunits.book.style.dark`, in the output's metadata under
    ``DARK_KEY``; the site shows the one that matches the theme).  The PDF edition gets
    the vector PDF.  Each rendering uses one layout of the figure (:func:`laid_out`).
    Also fixes ``SOURCE_DATE_EPOCH`` in this kernel, so that the figures the build writes
    carry no date and two builds are byte-identical.
    """
    from IPython import get_ipython
    from matplotlib.figure import Figure
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    from hiddenunits.book import style

    os.environ["SOURCE_DATE_EPOCH"] = "0"
    style.apply()
    set_matplotlib_formats("png", "pdf")
    shell = get_ipython()
    if shell is not None:
        formatters = shell.display_formatter.formatters
        formatters["image/png"].for_type(Figure, png_light_and_dark)
        formatters["application/pdf"].for_type(Figure, pdf_of)


_PDF_ATTR = "_hiddenunits_pdf"
"""Attribute under which :func:`png_light_and_dark` leaves the PDF for :func:`pdf_of`."""


@contextmanager
def laid_out(fig):
    """Inside the block, ``fig`` keeps one layout; yields its tight bounding box (inches).

    Saving with ``bbox_inches="tight"`` draws a figure twice, once to measure it, and a
    layout engine (the book's figures are constrained) lays it out again at each draw.
    This lays the figure out and measures it once, and holds that layout while it is
    saved (the engine is restored afterwards), so that each rendering is one draw.  The
    box is the one ``"tight"`` computes, with the same padding.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"laid_out needs a matplotlib Figure, not {type(fig).__name__}")
    fig.draw_without_rendering()
    box = fig.get_tightbbox().padded(mpl.rcParams["savefig.pad_inches"])
    engine = fig.get_layout_engine()
    fig.set_layout_engine("none")
    try:
        yield box
    finally:
        fig.set_layout_engine(engine)


def png_light_and_dark(fig) -> tuple[str, dict] | None:
    """Base64 PNG of ``fig`` and metadata with its width and its dark-theme rendering.

    The three renderings of a figure (the two PNGs and the PDF) share one layout
    (:func:`laid_out`): about a fifth less CPU than three tight saves.  IPython asks
    for the PNG first, so the PDF is rendered here too and handed to :func:`pdf_of`.
    """
    from base64 import b64decode

    from IPython.core.display import _pngxy
    from IPython.core.pylabtools import print_figure

    from hiddenunits.book import style

    if not fig.axes and not fig.lines:  # an empty figure shows nothing (as in IPython)
        return None
    dpi = 2 * fig.dpi
    with laid_out(fig) as box:
        light = print_figure(fig, "png", base64=True, dpi=dpi, bbox_inches=box,
                             metadata=style.METADATA["png"])
        with style.dark(fig):
            dark = print_figure(fig, "png", base64=True, dpi=dpi, bbox_inches=box,
                                metadata=style.METADATA["png"])
        pdf = print_figure(fig, "pdf", base64=True, bbox_inches=box)
    # saving restores the figure's resolution and colours, which marks it stale; it is as
    # drawn, and a change from now on marks it stale again, which pdf_of then sees
    fig.stale = False
    setattr(fig, _PDF_ATTR, pdf)
    width, _ = _pngxy(b64decode(light))
    # the width alone: a narrow column scales the height with it
    return light, {"width": width // 2, DARK_KEY: dark}


def pdf_of(fig) -> str | None:
    """Base64 vector PDF of ``fig`` for the PDF edition, on the PNGs' layout.

    The PDF that :func:`png_light_and_dark` rendered, if the figure has not changed
    since (it is not stale); otherwise rendered here.
    """
    from IPython.core.pylabtools import print_figure

    done = fig.__dict__.pop(_PDF_ATTR, None)
    if done is not None and not fig.stale:
        return done
    if not fig.axes and not fig.lines:
        return None
    with laid_out(fig) as box:
        return print_figure(fig, "pdf", base64=True, bbox_inches=box)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A MyST pipe table; cells are converted with ``str``."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row needs one cell per header")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def show_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
               caption: str | None = None, name: str | None = None) -> None:
    """Display a table in a chapter (rendered as MyST, so roles and math work).

    With a ``caption`` the table is numbered like a figure ("Table 4.2") in both editions,
    and ``name`` labels it for ``{numref}`` (e.g. ``tab-probes-speed``).
    """
    from IPython.display import Markdown, display

    table = markdown_table(headers, rows)
    if caption is not None:
        label = f":name: {name}\n" if name else ""
        table = f"```{{table}} {caption}\n{label}\n{table}\n```"
    elif name is not None:
        raise ValueError("a named table needs a caption (it is numbered by its caption)")
    display(Markdown(table))


def math_number(value: float, fmt: str | None = None, digits: int = 2) -> str:
    """``value`` as LaTeX for inline maths: ``2.3 \\times 10^{-5}``, ``0.25``, ``1797``.

    ``fmt`` (a format spec such as ``"d"`` or ``".1f"``) fixes the notation; without it
    the number gets ``digits`` significant digits, with a power of ten when it is very
    small or large (:func:`hiddenunits.book.claims.latex_number`).
    """
    from hiddenunits.book.claims import latex_number

    if fmt is None:
        return latex_number(float(value), digits)
    text = format(value, fmt)
    if "e" in text.lower() and not text.lower().startswith(("inf", "nan")):
        return latex_number(float(value), digits)
    return text.replace("inf", "\\infty")


def glue_math(name: str, value: float, fmt: str | None = None, digits: int = 2) -> str:
    """Glue ``value`` typeset as inline maths under ``name``; return the LaTeX.

    Use it in the prose as ``{glue:md}`name:myst```: every measured number of the book
    is glued this way, so that numbers read as mathematics (2.3 x 10^-5), not as
    program output (2.3e-05).  ``fmt`` and ``digits`` as in :func:`math_number`.
    """
    from IPython.display import Markdown
    from myst_nb import glue

    latex = math_number(value, fmt, digits)
    glue(name, Markdown(f"${latex}$"), display=False)
    return latex


def glue_number(name: str, value: float, fmt: str = ".3g") -> str:
    """Glue ``value`` formatted with ``fmt`` under ``name`` for ``{glue:text}`` and return it.

    For a measured number in the prose use :func:`glue_math`, which typesets it as
    mathematics; this plain form is for text that is not a number (a name, a setting).
    """
    from myst_nb import glue

    text = format(value, fmt)
    glue(name, text, display=False)
    return text
