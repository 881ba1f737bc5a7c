"""The book's figures: one module per chapter (``figures/<chapter>.py``) of ``fig_*`` functions.

A figure function builds and returns a ``matplotlib.figure.Figure`` from the science
modules' results; it never shows or saves it.  :func:`figure` registers it (so that the
command line can redraw a chapter) and runs it inside the book's style
(:func:`hiddenunits.book.style.context`), so that calling it leaves the caller's
matplotlib settings as they were.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

from hiddenunits.book.registry import Registry, chapter_of_module, origin_of

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not to list them
    from matplotlib.figure import Figure

P = ParamSpec("P")


@dataclass(frozen=True)
class FigureSpec:
    """A ``fig_*`` function of a chapter; called with no arguments it draws the book's figure."""

    name: str
    chapter: str
    make: Callable[[], Figure]


FIGURES: Registry[FigureSpec] = Registry("figures", "figure", name_from="function")


def figure(fn: Callable[P, Figure]) -> Callable[P, Figure]:
    """Register ``fn`` (named ``fig_<what>``) as a figure of the chapter its module names."""
    if not fn.__name__.startswith("fig_"):
        raise ValueError(f"figure functions are named fig_<what>, got {fn.__name__!r}")

    @functools.wraps(fn)
    def styled(*args: P.args, **kwargs: P.kwargs) -> Figure:
        from hiddenunits.book import style

        with style.context():
            return fn(*args, **kwargs)

    chapter = chapter_of_module(fn.__module__)
    FIGURES.add(fn.__name__, chapter, FigureSpec(fn.__name__, chapter, styled),
                origin_of(fn))
    return styled


def registered(chapter: str | int | None = None) -> list[FigureSpec]:
    """The registered figures (of one chapter), in book order."""
    return FIGURES.entries(chapter)


def save(fig: Figure, out: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out/name.png`` and ``out/name.pdf``; return the paths."""
    from hiddenunits.book import style

    return style.save(fig, out, name)
