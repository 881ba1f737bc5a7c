"""Registry of the book's benchmarks (``python -m hiddenunits bench NAME``)."""

from __future__ import annotations

from collections.abc import Callable

_REGISTRY: dict[str, tuple[str, Callable[[], int]]] = {}


def benchmark(name: str, summary: str):
    """Register the decorated function as benchmark ``name``.

    The function prints its own report and returns an exit status (0 when it met its
    target).
    """

    def register(fn: Callable[[], int]) -> Callable[[], int]:
        _REGISTRY[name] = (summary, fn)
        return fn

    return register


def registered() -> dict[str, tuple[str, Callable[[], int]]]:
    """Every registered benchmark: name -> (summary, function)."""
    from hiddenunits.claims import load_all

    load_all()
    return dict(sorted(_REGISTRY.items()))
