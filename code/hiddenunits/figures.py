"""Registry of the book's figure functions, so the command line can redraw a chapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from hiddenunits.chapters import CHAPTERS, get_chapter


@dataclass(frozen=True)
class FigureSpec:
    """A ``fig_*`` function of a chapter; called with no arguments it draws the book's figure."""

    name: str
    chapter: str
    make: Callable[[], Figure]


_REGISTRY: dict[str, FigureSpec] = {}


def figure(chapter: str):
    """Register the decorated ``fig_<what>`` function as a figure of ``chapter``."""
    key = get_chapter(chapter).key

    def register(fn: Callable[[], Figure]) -> Callable[[], Figure]:
        if not fn.__name__.startswith("fig_"):
            raise ValueError(f"figure functions are named fig_<what>, got {fn.__name__!r}")
        _REGISTRY[fn.__name__] = FigureSpec(fn.__name__, key, fn)
        return fn

    return register


def registered(chapter: str | None = None) -> list[FigureSpec]:
    """The registered figures (of one chapter), in chapter order."""
    from hiddenunits.claims import load_all

    load_all()
    order = {c.key: c.number for c in CHAPTERS}
    specs = sorted(_REGISTRY.values(), key=lambda s: order[s.chapter])
    if chapter is not None:
        key = get_chapter(chapter).key
        specs = [s for s in specs if s.chapter == key]
    return specs


def save(fig: Figure, out: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out/name.png`` and ``out/name.pdf``; return the paths."""
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p)
    return paths
