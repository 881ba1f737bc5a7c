"""Registry of the book's verified claims: one check per labelled statement.

A check is a function of no arguments that returns the measured error of the
claim (a non-negative float).  It passes when the error is finite and at most the
claim's tolerance.  The book runs each check right after its statement
(:func:`verify`), the tests run them all, and the verification ledger lists them.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from hiddenunits.chapters import CHAPTERS, get_chapter

METHODS = ("symbolic", "exact", "numeric", "monte-carlo")
KINDS = {"thm": "theorem", "lem": "lemma", "prop": "proposition", "cor": "corollary"}


@dataclass(frozen=True)
class Claim:
    """A labelled statement of the book and the function that checks it."""

    id: str  # the book label, e.g. "thm-trajectory-equivariance"
    chapter: str  # chapter key, see hiddenunits.chapters
    statement: str  # one line
    method: str  # one of METHODS
    tolerance: float
    check: Callable[[], float]


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of running one check."""

    id: str
    chapter: str
    statement: str
    method: str
    error: float
    tolerance: float
    passed: bool
    seconds: float

    def to_dict(self) -> dict:
        d = asdict(self)
        if not math.isfinite(d["error"]):
            d["error"] = str(d["error"])  # JSON has no inf/nan
        return d


class ClaimFailed(AssertionError):
    """A check measured an error above its tolerance."""


_REGISTRY: dict[str, Claim] = {}


def claim(id: str, *, chapter: str, statement: str, method: str, tolerance: float):
    """Register the decorated function as the check of book label ``id``."""
    prefix = id.split("-", 1)[0]
    if prefix not in KINDS or "-" not in id:
        raise ValueError(f"claim id {id!r} must start with one of {sorted(KINDS)} and a dash")
    chapter = get_chapter(chapter).key
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {METHODS}")
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance of {id} must be a finite number >= 0, got {tolerance!r}")

    def register(fn: Callable[[], float]) -> Callable[[], float]:
        old = _REGISTRY.get(id)
        if old is not None and old.check.__qualname__ != fn.__qualname__:
            raise ValueError(f"claim {id!r} is registered twice")
        _REGISTRY[id] = Claim(id, chapter, statement, method, float(tolerance), fn)
        return fn

    return register


def load_all() -> None:
    """Import every module of the package, so that every claim is registered."""
    import hiddenunits

    for info in pkgutil.iter_modules(hiddenunits.__path__):
        if not info.name.startswith("_") and info.name not in {"cli", "sphinxext", "pdfcheck"}:
            importlib.import_module(f"hiddenunits.{info.name}")


def registered(chapter: str | None = None) -> list[Claim]:
    """All registered claims (of one chapter), in book order."""
    load_all()
    order = {c.key: c.number for c in CHAPTERS}
    claims = sorted(_REGISTRY.values(), key=lambda c: order[c.chapter])
    if chapter is not None:
        key = get_chapter(chapter).key
        claims = [c for c in claims if c.chapter == key]
    return claims


def get_claim(id: str) -> Claim:
    """The claim with book label ``id``."""
    if id not in _REGISTRY:
        load_all()
    if id not in _REGISTRY:
        raise KeyError(f"no check is registered for claim {id!r}")
    return _REGISTRY[id]


def run_claim(id: str) -> ClaimResult:
    """Run the check of claim ``id`` and time it."""
    c = get_claim(id)
    start = time.perf_counter()
    error = float(c.check())
    seconds = time.perf_counter() - start
    passed = math.isfinite(error) and 0.0 <= error <= c.tolerance
    return ClaimResult(c.id, c.chapter, c.statement, c.method, error, c.tolerance, passed,
                       seconds)


def latex_number(x: float, digits: int = 2) -> str:
    """Format ``x`` for LaTeX math: ``3.1 \\times 10^{-16}``, ``0``, ``0.25``."""
    if not math.isfinite(x):
        return r"\infty" if x > 0 else str(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits + 1}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if mantissa in {"1", "1.0", "-1", "-1.0"}:
        return ("-" if x < 0 else "") + f"10^{{{exponent}}}"
    return f"{mantissa} \\times 10^{{{exponent}}}"


def describe(result: ClaimResult) -> str:
    """One MyST sentence reporting a check, for the book."""
    verdict = "passed" if result.passed else "**FAILED**"
    return (f"**Check** ({result.method}): measured error "
            f"${latex_number(result.error)}$, tolerance ${latex_number(result.tolerance)}$; "
            f"{verdict} in {result.seconds:.2f} s.")


def verify(id: str) -> ClaimResult:
    """Run claim ``id`` in a chapter: glue its error, show the check, fail if it fails.

    Glues ``<id>-error`` (float) and ``<id>-tolerance`` for ``{glue:text}`` in the prose.
    """
    from IPython.display import Markdown, display
    from myst_nb import glue

    result = run_claim(id)
    glue(f"{id}-error", result.error, display=False)
    glue(f"{id}-tolerance", result.tolerance, display=False)
    display(Markdown(describe(result)))
    if not result.passed:
        raise ClaimFailed(f"claim {id}: error {result.error:.3g} exceeds tolerance "
                          f"{result.tolerance:.3g}")
    return result


def _escape_markdown(text: str) -> str:
    """Escape the characters MyST would read as markup (a bare | ends a table cell)."""
    return re.sub(r"([\\`*_{}\[\]<>$|])", r"\\\1", text)


def ledger_markdown(results: list[ClaimResult]) -> str:
    """The verification ledger as a MyST table, one row per claim."""
    # Column widths for LaTeX (the statement column wraps); the web ignores this directive.
    rows = ["```{tabularcolumns} \\X{1}{20}\\X{3}{20}\\X{7}{20}\\X{2}{20}\\X{2}{20}"
            "\\X{2}{20}\\X{2}{20}\\X{1}{20}",
            "```", "",
            "| Ch. | Claim | Statement | Method | Tolerance | Error | Time (s) | Pass |",
            "|---|---|---|---|---|---|---|---|"]
    numbers = {c.key: c.number for c in CHAPTERS}
    for r in results:
        statement = _escape_markdown(r.statement)
        rows.append(
            f"| {numbers[r.chapter]} | {{prf:ref}}`{r.id}` | {statement} | {r.method} "
            f"| ${latex_number(r.tolerance)}$ | ${latex_number(r.error)}$ "
            f"| {r.seconds:.2f} | {'yes' if r.passed else '**NO**'} |")
    return "\n".join(rows)
