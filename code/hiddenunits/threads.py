"""One place to limit the threads of torch and of the BLAS/OpenMP pools behind numpy."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import torch
from threadpoolctl import ThreadpoolController

_cached: tuple[int, ThreadpoolController] | None = None


def _controller() -> ThreadpoolController:
    # Finding the loaded BLAS/OpenMP libraries is the slow part (milliseconds), so it is
    # done again only when modules were imported since (a new extension module may have
    # brought its own thread pool, e.g. scikit-learn's OpenMP).
    global _cached
    if _cached is None or _cached[0] != len(sys.modules):
        _cached = (len(sys.modules), ThreadpoolController())
    return _cached[1]


@contextlib.contextmanager
def limited_threads(n: int = 1) -> Iterator[None]:
    """Run torch and numpy's BLAS/OpenMP with ``n`` threads inside the block, then restore.

    The book's matrices and networks are small: on a two-core machine one thread is
    faster, and it keeps torch's and BLAS's spinning pools from fighting over the cores
    (a 100 x 100 SVD went from 34 ms to 0.5 ms).  Cheap to enter (the thread pools are
    looked up again only after new imports), so it can sit inside loops.  Also usable as a
    decorator:
    ``@limited_threads()``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"thread count must be a positive integer, got {n!r}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with _controller().limit(limits=n):
            yield
    finally:
        torch.set_num_threads(old)
