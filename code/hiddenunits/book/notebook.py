"""Helpers for the book's code cells: kernel set-up, tables and glued numbers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from hiddenunits.book import style


def setup() -> None:
    """Prepare a chapter's kernel: figure style, PNG for the web and PDF for LaTeX.

    Also fixes ``SOURCE_DATE_EPOCH`` in this kernel, so that the figures the build writes
    carry no date and two builds are byte-identical.
    """
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    os.environ["SOURCE_DATE_EPOCH"] = "0"
    style.apply()
    set_matplotlib_formats("png", "pdf")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A MyST pipe table; cells are converted with ``str``."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row needs one cell per header")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def show_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Display a table in a chapter (rendered as MyST, so roles and math work)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(headers, rows)))


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
    """Glue ``value`` formatted with ``fmt`` under ``name`` for ``{glue:text}`` and return it."""
    from myst_nb import glue

    text = format(value, fmt)
    glue(name, text, display=False)
    return text
