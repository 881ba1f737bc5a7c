"""The claims registry: every labelled statement has a check, every check is used, all pass."""

import json
import math
import re
from pathlib import Path

import pytest

from hiddenunits import claims
from hiddenunits.chapters import CHAPTERS

BOOK = Path(__file__).resolve().parents[1] / "book"
LABELLED = re.compile(
    r"\{prf:(theorem|lemma|proposition|corollary)\}[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*?"
    r"[ \t]*:label:[ \t]*(\S+)")
VERIFIED = re.compile(r"\bverify\(\s*[\"']([\w.-]+)[\"']")


def _pages():
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(BOOK.glob("*.md"))}


def labelled_claims() -> dict[str, str]:
    """Book label -> page stem, for every labelled theorem, lemma, proposition, corollary."""
    found = {}
    for stem, text in _pages().items():
        for _, label in LABELLED.findall(text):
            assert label not in found, f"label {label} appears twice"
            found[label] = stem
    return found


def verified_claims() -> dict[str, list[str]]:
    """Claim id -> page stems whose code runs ``verify(id)``."""
    used: dict[str, list[str]] = {}
    for stem, text in _pages().items():
        for label in VERIFIED.findall(text):
            used.setdefault(label, []).append(stem)
    return used


def test_label_regex_finds_both_fence_styles():
    text = ("```{prf:lemma} Gradient\n:label: lem-a\n:nonumber:\n\nbody\n```\n"
            ":::{prf:theorem}\n:class: x\n:label: thm-b\n:::\n{prf:definition}\n:label: def-c\n")
    assert [lbl for _, lbl in LABELLED.findall(text)] == ["lem-a", "thm-b"]


def test_every_labelled_claim_has_a_check():
    registered = {c.id for c in claims.registered()}
    missing = sorted(set(labelled_claims()) - registered)
    assert not missing, f"labelled in the book but no registered check: {missing}"


def test_every_check_belongs_to_a_labelled_claim():
    labelled = labelled_claims()
    orphans = sorted(c.id for c in claims.registered() if c.id not in labelled)
    assert not orphans, f"registered checks with no labelled statement in the book: {orphans}"


def test_every_check_runs_in_its_own_chapter():
    used = verified_claims()
    pages = {c.key: Path(c.docname).name for c in CHAPTERS}
    for c in claims.registered():
        assert c.id in used, f"check {c.id} is never run by verify() in the book"
        assert used[c.id] == [pages[c.chapter]], (
            f"check {c.id} must run once, in {pages[c.chapter]}.md; found in {used[c.id]}")
    unknown = sorted(set(used) - {c.id for c in claims.registered()})
    assert not unknown, f"verify() called on unregistered claims: {unknown}"


@pytest.mark.parametrize("claim_id", [c.id for c in claims.registered()])
def test_claim_passes(claim_id):
    result = claims.run_claim(claim_id)
    assert result.passed, f"{claim_id}: error {result.error} > tolerance {result.tolerance}"


def test_registry_rejects_bad_declarations():
    with pytest.raises(ValueError, match="must start with"):
        claims.claim("def-x", chapter="basis", statement="s", method="exact", tolerance=0)
    with pytest.raises(ValueError, match="unknown chapter"):
        claims.claim("thm-x", chapter="nope", statement="s", method="exact", tolerance=0)
    with pytest.raises(ValueError, match="method"):
        claims.claim("thm-x", chapter="basis", statement="s", method="vibes", tolerance=0)
    with pytest.raises(ValueError, match="tolerance"):
        claims.claim("thm-x", chapter="basis", statement="s", method="exact",
                     tolerance=math.nan)


def test_failing_check_is_reported_as_failed(monkeypatch):
    monkeypatch.setattr(claims, "_REGISTRY", dict(claims._REGISTRY))

    @claims.claim("thm-test-fails", chapter="basis", statement="s", method="numeric",
                  tolerance=1e-3)
    def _bad():
        return 0.5

    @claims.claim("thm-test-nan", chapter="basis", statement="s", method="numeric",
                  tolerance=1e-3)
    def _nan():
        return math.nan

    assert not claims.run_claim("thm-test-fails").passed
    r = claims.run_claim("thm-test-nan")
    assert not r.passed
    json.dumps(r.to_dict())  # non-finite errors still serialise


def test_latex_number():
    assert claims.latex_number(0.0) == "0"
    assert claims.latex_number(3.14159e-16) == r"3.1 \times 10^{-16}"
    assert claims.latex_number(1e-12) == "10^{-12}"
    assert claims.latex_number(0.25) == "0.25"


def test_ledger_rows_keep_eight_cells_whatever_the_statement():
    r = claims.ClaimResult("thm-x", "rbm", "p(h|v) = prod_j p(h_j|v), *not* `code` $x$",
                           "exact", 1e-16, 1e-12, True, 0.25)
    table = claims.ledger_markdown([r, r])
    rows = [line for line in table.splitlines() if line.startswith("| 4 ")]
    assert len(rows) == 2
    # unescaped pipes delimit cells: 9 of them for 8 columns
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 9 for row in rows)
    assert "{prf:ref}`thm-x`" in rows[0] and "yes" in rows[0]
