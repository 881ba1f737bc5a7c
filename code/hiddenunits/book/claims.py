"""The book's verified claims: one check per labelled statement, and false variants of it.

A check is a function that measures the error of a statement; the statement (a formula,
an optimiser, a constant...) is one of its parameters, with the true statement as the
default.  Each claim also carries at least one *false variant*: the same check called with
a deliberately wrong statement (:func:`variant`).  A claim passes when

* the true statement's error is finite and at most the tolerance, and
* every false variant's error exceeds the rejection threshold: ``margin * tolerance``
  when the tolerance is positive, and ``0`` when it is zero (an exact check).

So the book shows, for every statement, both that it holds and that its check would have
caught a false one.  The chapters run each check right after its statement
(:func:`verify`), the tests run them all once per session, the verification ledger
(:func:`ledger_markdown`) and ``python -m hiddenunits claims`` list them.

Checks are registered with :func:`claim` in the modules ``hiddenunits.book.checks.<chapter>``
(the chapter is the module's name).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from hiddenunits.book.chapters import get_chapter
from hiddenunits.book.registry import Registry, chapter_of_module, origin_of

METHODS = ("symbolic", "exact", "numeric", "monte-carlo")
KINDS = {"thm": "theorem", "lem": "lemma", "prop": "proposition", "cor": "corollary"}
DEFAULT_MARGIN = 2.0


@dataclass(frozen=True)
class Variant:
    """A deliberately false version of a claim: its check called with ``arguments``."""

    description: str
    """One line saying what is false, e.g. ``"Adam instead of gradient descent"``."""
    arguments: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments that replace the true statement in the check."""


def variant(description: str, **arguments: Any) -> Variant:
    """A false variant: ``description`` and the keyword arguments that state it."""
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise ValueError("a variant needs a one-line description")
    if not arguments:
        raise ValueError(f"variant {description!r} must change at least one argument "
                         "of the check (the statement is a parameter of the check)")
    return Variant(description.strip(), dict(arguments))


@dataclass(frozen=True)
class Claim:
    """A labelled statement of the book, its check and its false variants."""

    id: str
    """The book label, e.g. ``"thm-trajectory-equivariance"``."""
    chapter: str
    """Key of the chapter that states it (see :mod:`hiddenunits.book.chapters`)."""
    statement: str
    """The statement in one line of plain text (for the command line)."""
    math: str
    """The statement as MyST markup with ``$...$`` mathematics (for the ledger)."""
    method: str
    """How it is checked: one of ``METHODS``."""
    tolerance: float
    """Largest error at which the true statement passes."""
    margin: float
    """A false variant is rejected when its error exceeds ``margin * tolerance``."""
    variants: tuple[Variant, ...]
    check: Callable[..., float]
    """The check: keyword arguments state the claim, defaults are the true statement."""

    @property
    def threshold(self) -> float:
        """The error a false variant must exceed to be rejected."""
        return self.margin * self.tolerance

    @property
    def source(self) -> str:
        """Dotted name of the check function."""
        return f"{self.check.__module__}.{self.check.__qualname__}"


@dataclass(frozen=True)
class VariantResult:
    """The check's error on one false variant, and whether it was rejected."""

    description: str
    error: float
    rejected: bool


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of running one claim's check on the statement and its variants."""

    id: str
    chapter: str
    statement: str
    math: str
    method: str
    tolerance: float
    margin: float
    error: float
    holds: bool
    """The true statement's error is finite and within the tolerance."""
    variants: tuple[VariantResult, ...]
    seconds: float
    source: str

    @property
    def passed(self) -> bool:
        """The statement holds and every false variant is rejected."""
        return self.holds and bool(self.variants) and all(v.rejected for v in self.variants)

    @property
    def threshold(self) -> float:
        """The error a false variant had to exceed to be rejected."""
        return self.margin * self.tolerance

    def to_dict(self) -> dict:
        """A JSON-ready dictionary (non-finite numbers as strings)."""
        d = asdict(self)
        d["passed"] = self.passed
        d["error"] = _json_number(d["error"])
        for v in d["variants"]:
            v["error"] = _json_number(v["error"])
        return d


def _json_number(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


class ClaimFailed(AssertionError):
    """A check measured an error above its tolerance, or let a false variant pass."""


CLAIMS: Registry[Claim] = Registry("checks", "claim")


def claim(id: str, *, statement: str, method: str, tolerance: float,
          variants: list[Variant] | tuple[Variant, ...], math: str | None = None,
          margin: float = DEFAULT_MARGIN, chapter: str | None = None):
    """Register the decorated function as the check of book label ``id``.

    ``variants`` (at least one) are false versions of the statement, run through the same
    check.  ``chapter`` defaults to the name of the registering module.
    """
    kind = id.split("-", 1)[0]
    if kind not in KINDS or "-" not in id:
        raise ValueError(f"claim id {id!r} must start with one of {sorted(KINDS)} and a dash")
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {METHODS}")
    if not (isinstance(tolerance, int | float) and _finite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance of {id} must be a finite number >= 0, got {tolerance!r}")
    if not (isinstance(margin, int | float) and _finite(margin) and margin >= 1):
        raise ValueError(f"margin of {id} must be a finite number >= 1, got {margin!r}")
    variants = tuple(variants)
    if not variants or not all(isinstance(v, Variant) for v in variants):
        raise ValueError(f"claim {id} needs at least one false variant (see variant())")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"claim {id} needs a one-line statement")

    def register(fn: Callable[..., float]) -> Callable[..., float]:
        key = get_chapter(chapter).key if chapter is not None else chapter_of_module(
            fn.__module__)
        c = Claim(id, key, statement, math if math is not None else _escape(statement),
                  method, float(tolerance), float(margin), variants, fn)
        CLAIMS.add(id, key, c, origin_of(fn))
        return fn

    return register


def _finite(x: float) -> bool:
    return math.isfinite(x)


# --------------------------------------------------------------------------- running
def registered(chapter: str | int | None = None) -> list[Claim]:
    """All registered claims (of one chapter), in book order."""
    return CLAIMS.entries(chapter)


def get_claim(id: str) -> Claim:
    """The claim with book label ``id``."""
    try:
        return CLAIMS.get(id)
    except KeyError:
        raise KeyError(f"no check is registered for claim {id!r}") from None


def _rejected(error: float, tolerance: float, margin: float) -> bool:
    if math.isnan(error):
        return False
    return error > (margin * tolerance if tolerance > 0 else 0.0)


def run_claim(id: str) -> ClaimResult:
    """Run the check of claim ``id`` on its statement and on every false variant."""
    c = get_claim(id)
    start = time.perf_counter()
    error = float(c.check())
    results = tuple(VariantResult(v.description, e := float(c.check(**v.arguments)),
                                  _rejected(e, c.tolerance, c.margin)) for v in c.variants)
    seconds = time.perf_counter() - start
    holds = math.isfinite(error) and 0.0 <= error <= c.tolerance
    return ClaimResult(c.id, c.chapter, c.statement, c.math, c.method, c.tolerance,
                       c.margin, error, holds, results, seconds, c.source)


# --------------------------------------------------------------------------- reporting
def latex_number(x: float, digits: int = 2) -> str:
    """Format ``x`` for LaTeX math: ``3.1 \\times 10^{-16}``, ``0``, ``0.25``."""
    if not math.isfinite(x):
        return r"\infty" if x > 0 else (r"-\infty" if x < 0 else r"\mathrm{NaN}")
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e3:
        return f"{x:.{digits + 1}g}"
    if 1e3 <= abs(x) < 1e4:
        return f"{x:.0f}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if mantissa in {"1", "1.0", "-1", "-1.0"}:
        return ("-" if x < 0 else "") + f"10^{{{exponent}}}"
    return f"{mantissa} \\times 10^{{{exponent}}}"


def plain_number(x: float) -> str:
    """Format ``x`` for a terminal with enough digits (``1.95``, ``2.7e-15``, ``0``)."""
    if x == 0:
        return "0"
    return f"{x:.3g}"


def describe(result: ClaimResult) -> str:
    """One MyST paragraph reporting a check and its false variants, for the book.

    It names the claim's label and links to the check function's entry in the API
    appendix (which links to its source); the measured numbers are mathematics.
    """
    verdict = "holds" if result.holds else "FAILED"
    relation = r"\le" if result.holds else ">"
    parts = [f"Check of `{result.id}` by {{py:func}}`~{result.source}` ({result.method}): error "
             f"${latex_number(result.error)} {relation} "
             f"{latex_number(result.tolerance)}$, {verdict}."]
    for v in result.variants:
        parts.append(f"False variant ({_escape(v.description)}): error "
                     f"${latex_number(v.error)}$, "
                     f"{'rejected' if v.rejected else 'NOT rejected'}.")
    return " ".join(parts)


def describe_plain(result: ClaimResult) -> str:
    """The same report as :func:`describe`, as plain text for a terminal."""
    lines = [f"{'ok  ' if result.passed else 'FAIL'} {result.id}: {result.statement}",
             f"     check ({result.method}): error {plain_number(result.error)} "
             f"{'<=' if result.holds else '>'} tolerance {plain_number(result.tolerance)}"]
    for v in result.variants:
        lines.append(f"     false variant ({v.description}): error {plain_number(v.error)}, "
                     f"{'rejected' if v.rejected else 'NOT REJECTED'} "
                     f"(needs > {plain_number(result.threshold)})")
    return "\n".join(lines)


def failure_message(result: ClaimResult) -> str:
    """Why a claim failed, in one line."""
    if not result.holds:
        return (f"claim {result.id}: error {plain_number(result.error)} exceeds tolerance "
                f"{plain_number(result.tolerance)}")
    if not result.variants:
        return f"claim {result.id}: no false variant"
    bad = [v.description for v in result.variants if not v.rejected]
    return f"claim {result.id}: false variant(s) not rejected: {'; '.join(bad)}"


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def verify(id: str) -> ClaimResult:
    """Run claim ``id`` where it is stated: show the check, glue the error, fail if it fails.

    In a notebook it glues ``<id>-error`` and ``<id>-tolerance`` for ``{glue:text}`` and
    displays the report under the statement; elsewhere it prints the plain-text report.
    Raises :class:`ClaimFailed` if the statement fails or a false variant passes.
    """
    result = run_claim(id)
    if _in_notebook():
        from IPython.display import Markdown, display
        from myst_nb import glue

        glue(f"{id}-error", result.error, display=False)
        glue(f"{id}-tolerance", result.tolerance, display=False)
        display(Markdown(describe(result)))
    else:
        print(describe_plain(result))
    if not result.passed:
        raise ClaimFailed(failure_message(result))
    return result


def _escape(text: str) -> str:
    """Escape the characters MyST would read as markup (a bare | ends a table cell)."""
    return re.sub(r"([\\`*_{}\[\]<>$|])", r"\\\1", text)


def _table_math(text: str) -> str:
    """MyST math markup made safe for a table cell: a bare | would end the cell."""
    return re.sub(r"(?<!\\)\|", r"\\vert ", text)


def ledger_markdown(results: list[ClaimResult]) -> str:
    """The verification ledger as a MyST table, one row per claim, in the given order."""
    from hiddenunits.book.chapters import CHAPTERS

    # Column widths for LaTeX (the statement column wraps); the web ignores this directive.
    rows = ["```{tabularcolumns} \\X{1}{24}\\X{3}{24}\\X{7}{24}\\X{2}{24}\\X{3}{24}"
            "\\X{7}{24}\\X{1}{24}",
            "```", "",
            "| Ch. | Claim | Statement | Method | Tolerance, error | False variants: "
            "error (rejected above) | Pass |",
            "|---|---|---|---|---|---|---|"]
    numbers = {c.key: c.number for c in CHAPTERS}
    for r in results:
        variants = "; ".join(
            f"{_escape(v.description)}: ${latex_number(v.error)}$"
            f"{'' if v.rejected else ' **not rejected**'}" for v in r.variants)
        bound = r"\le" if r.holds else ">"
        threshold = f" (rejected above ${latex_number(r.threshold)}$)"
        rows.append(
            f"| {numbers[r.chapter]} | {{prf:ref}}`{r.id}` | {_table_math(r.math)} | {r.method} "
            f"| ${latex_number(r.error)} {bound} {latex_number(r.tolerance)}$ "
            f"| {variants or '**none**'}{threshold} | {'yes' if r.passed else '**NO**'} |")
    return "\n".join(rows)
