"""Helpers for the book's code cells: kernel set-up, tables and glued numbers."""

from __future__ import annotations

import os
from collections.abc import Sequence

DARK_KEY = "hiddenunits/dark-png"
"""Key, in a PNG output's metadata, of the figure's rendering for the dark page theme."""


def setup() -> None:
    """Prepare a chapter's kernel: figure style, PNG for the web and PDF for LaTeX.

    A figure's PNG comes in two renderings: for the light page theme (the output itself,
    at twice the figure's resolution for sharp text on high-density screens) and for the
    dark one (:func:`hiddenunits.book.style.dark`, in the output's metadata under
    ``DARK_KEY``; the site shows the one that matches the theme).  The PDF edition gets
    the vector PDF.  Also fixes ``SOURCE_DATE_EPOCH`` in this kernel, so that the figures
    the build writes carry no date and two builds are byte-identical.
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
        shell.display_formatter.formatters["image/png"].for_type(Figure, png_light_and_dark)


def png_light_and_dark(fig) -> tuple[str, dict] | None:
    """Base64 PNG of ``fig`` and metadata with its width and its dark-theme rendering."""
    from base64 import b64decode

    from IPython.core.display import _pngxy
    from IPython.core.pylabtools import print_figure

    from hiddenunits.book import style

    dpi = 2 * fig.dpi
    light = print_figure(fig, "png", base64=True, dpi=dpi, metadata=style.METADATA["png"])
    if light is None:  # an empty figure shows nothing
        return None
    width, _ = _pngxy(b64decode(light))
    with style.dark(fig):
        dark = print_figure(fig, "png", base64=True, dpi=dpi, metadata=style.METADATA["png"])
    # the width alone: a narrow column scales the height with it
    return light, {"width": width // 2, DARK_KEY: dark}


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
