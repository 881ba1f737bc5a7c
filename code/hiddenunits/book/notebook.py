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


def glue_number(name: str, value: float, fmt: str = ".3g") -> str:
    """Glue ``value`` formatted with ``fmt`` under ``name`` for ``{glue:text}`` and return it."""
    from myst_nb import glue

    text = format(value, fmt)
    glue(name, text, display=False)
    return text
