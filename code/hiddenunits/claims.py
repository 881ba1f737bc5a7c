"""TEMPORARY shim while the science modules move their checks to hiddenunits.book.checks.

Registers an old-style check (no false variants) in the new registry; such a claim does
not pass (it has no variant).  Deleted once every chapter is migrated.
"""

from hiddenunits.book.chapters import get_chapter
from hiddenunits.book.claims import (  # noqa: F401
    CLAIMS,
    Claim,
    latex_number,
    registered,
    run_claim,
    verify,
)
from hiddenunits.book.registry import origin_of


def claim(id, *, chapter, statement, method, tolerance):
    def register(fn):
        key = get_chapter(chapter).key
        CLAIMS.add(id, key, Claim(id, key, statement, statement, method, float(tolerance),
                                  2.0, (), fn), origin_of(fn))
        return fn

    return register
