"""The book's chapters: key, number, title and page, in reading order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``key`` names it on the command line and in the registries."""

    key: str
    number: int
    title: str
    docname: str  # page path without suffix, relative to the repository root


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("basis", 1, "Linear hidden units have no privileged basis", "book/basis"),
    Chapter("activations", 2, "Designing hidden units", "book/activations"),
    Chapter("separability", 3, "Nonlinearity, linear separability and probes",
            "book/separability"),
    Chapter("rbm", 4, "RBMs, rectified units and infinite belief nets", "book/rbm"),
    Chapter("initialization", 5, "The geometry of random vectors and initialization",
            "book/initialization"),
)

_BY_KEY = {c.key: c for c in CHAPTERS}


def get_chapter(name: str | int) -> Chapter:
    """Return the chapter named by its key (``"basis"``) or number (``1`` or ``"1"``)."""
    text = str(name).strip().lower()
    if text in _BY_KEY:
        return _BY_KEY[text]
    if text.isdigit() and 1 <= int(text) <= len(CHAPTERS):
        return CHAPTERS[int(text) - 1]
    choices = ", ".join(f"{c.number}/{c.key}" for c in CHAPTERS)
    raise ValueError(f"unknown chapter {name!r}; choose one of {choices}")
