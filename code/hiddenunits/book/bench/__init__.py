"""The book's benchmarks (``python -m hiddenunits bench NAME``), one module per chapter.

A benchmark function prints its own report and returns an exit status (0 when it met its
target).  Register it with :func:`benchmark` in ``bench/<chapter>.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hiddenunits.book.registry import Registry, chapter_of_module, origin_of


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark: what it compares, and the function that runs it."""

    name: str
    chapter: str
    summary: str
    run: Callable[[], int]


BENCHMARKS: Registry[Benchmark] = Registry("bench", "benchmark")


def benchmark(name: str, summary: str):
    """Register the decorated function as benchmark ``name`` of its module's chapter."""

    def register(fn: Callable[[], int]) -> Callable[[], int]:
        chapter = chapter_of_module(fn.__module__)
        BENCHMARKS.add(name, chapter, Benchmark(name, chapter, summary, fn), origin_of(fn))
        return fn

    return register


def registered(chapter: str | int | None = None) -> list[Benchmark]:
    """Every registered benchmark (of one chapter), in book order."""
    return BENCHMARKS.entries(chapter)
