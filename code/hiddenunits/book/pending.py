"""How a build that runs beside the book's executor learns which pages are still executing.

The executor (:mod:`hiddenunits.book.execute`, with ``--then``) writes one marker file per
page it is about to execute into a fresh folder, and the order in which it starts them;
it passes the folder to the build in ``PENDING_ENV`` and removes a page's marker when the
page is done.  The build's Sphinx extension (:mod:`hiddenunits.book.sphinxext`) reads the
pages that need no kernel first (:func:`reading_order`) and waits for a page's marker to
go before it reads that page (:func:`wait_for_page`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PENDING_ENV = "HIDDENUNITS_PENDING"
"""Environment variable of a build started by ``--then``: the folder of the markers of the
pages that are still executing (one file per page, removed when the page is done)."""


def marker(folder: Path, docname: str) -> Path:
    """The file that says that page ``docname`` is still executing."""
    return Path(folder) / (docname.replace("/", "--") + ".executing")


ORDER_FILE = "order"
"""File, in the markers' folder, of the executing pages in the order they were started."""


def reading_order(docnames: list[str]) -> list[str]:
    """The order in which a build beside the executor should read ``docnames``.

    First the pages that need no kernel (the API appendix, the notation, pages already
    cached), in the given order, so that they are read while the chapters execute; then
    the executing pages in the order they were started, which is about the order in which
    they finish.  Outside such a build, the given order.
    """
    folder = os.environ.get(PENDING_ENV)
    try:
        started = (Path(folder) / ORDER_FILE).read_text(encoding="utf-8").split()
    except (TypeError, FileNotFoundError):
        return list(docnames)
    rank = {d: i for i, d in enumerate(started)}
    return sorted(docnames, key=lambda d: (d in rank, rank.get(d, 0)))


def wait_for_page(docname: str, poll: float = 0.1) -> bool:
    """In a build started by ``--then``: wait while ``docname`` executes; True if it had to.

    Returns at once outside such a build, or when the page is not being executed.  Stops
    waiting, too, when the driver that wrote the marker is gone (the build then executes
    the page itself, as Jupyter Book does, and a failure still fails the build).
    """
    if not poll > 0:
        raise ValueError(f"poll must be a positive number of seconds, got {poll!r}")
    folder = os.environ.get(PENDING_ENV)
    if not folder:
        return False
    path = marker(Path(folder), docname)
    waited = False
    while True:
        try:
            pid = int(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return waited
        if not _alive(pid):
            return waited
        waited = True
        time.sleep(poll)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
