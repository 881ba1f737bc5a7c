"""The claims: every labelled statement has a check and a rejected false variant, in book order."""

import json
import math
import re
from pathlib import Path

import pytest

from hiddenunits.book import claims
from hiddenunits.book.chapters import CHAPTERS
from hiddenunits.book.claims import CLAIMS

BOOK = Path(__file__).resolve().parents[1] / "book"
LABELLED = re.compile(
    r"\{prf:(theorem|lemma|proposition|corollary)\}[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*?"
    r"[ \t]*:label:[ \t]*(\S+)")
VERIFIED = re.compile(r"\bverify\(\s*[\"']([\w.-]+)[\"']")
ALL_IDS = [c.id for c in claims.registered()]


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
    missing = sorted(set(labelled_claims()) - set(ALL_IDS))
    assert not missing, f"labelled in the book but no registered check: {missing}"


def test_every_check_belongs_to_a_labelled_claim():
    labelled = labelled_claims()
    orphans = sorted(i for i in ALL_IDS if i not in labelled)
    assert not orphans, f"registered checks with no labelled statement in the book: {orphans}"


def test_every_check_runs_in_its_own_chapter():
    used = verified_claims()
    pages = {c.key: Path(c.docname).name for c in CHAPTERS}
    for c in claims.registered():
        assert c.id in used, f"check {c.id} is never run by verify() in the book"
        assert used[c.id] == [pages[c.chapter]], (
            f"check {c.id} must run once, in {pages[c.chapter]}.md; found in {used[c.id]}")
    unknown = sorted(set(used) - set(ALL_IDS))
    assert not unknown, f"verify() called on unregistered claims: {unknown}"


@pytest.mark.parametrize("chapter", [c.key for c in CHAPTERS])
def test_registry_order_is_book_order(chapter):
    text = _pages()[Path(next(c.docname for c in CHAPTERS if c.key == chapter)).name]
    in_book = [label for _, label in LABELLED.findall(text)]
    assert CLAIMS.names(chapter) == [i for i in in_book if i in set(ALL_IDS)]


@pytest.mark.parametrize("chapter", [c.key for c in CHAPTERS])
def test_declared_listing_matches_the_registry(chapter):
    """``hiddenunits list`` reads the sources; it must agree with what is registered."""
    assert [d.name for d in CLAIMS.declared(chapter)] == CLAIMS.names(chapter)
    assert ([d.summary for d in CLAIMS.declared(chapter)]
            == [c.statement for c in claims.registered(chapter)])


@pytest.mark.parametrize("claim_id", ALL_IDS)
def test_claim_holds_and_rejects_its_false_variants(claim_id, claim_results):
    r = claim_results[claim_id]
    assert r.holds, f"{claim_id}: error {r.error} > tolerance {r.tolerance}"
    assert r.variants, f"{claim_id} has no false variant"
    for v in r.variants:
        assert v.rejected, (f"{claim_id}: false variant '{v.description}' not rejected "
                            f"(error {v.error}, threshold {r.threshold})")
    assert r.passed


def test_registry_rejects_bad_declarations():
    ok = dict(statement="s", method="exact", tolerance=0, chapter="basis",
              variants=[claims.variant("wrong", x=1)])
    with pytest.raises(ValueError, match="must start with"):
        claims.claim("def-x", **ok)
    with pytest.raises(ValueError, match="unknown chapter"):
        claims.claim("thm-x", **{**ok, "chapter": "nope"})(lambda: 0.0)
    with pytest.raises(ValueError, match="method"):
        claims.claim("thm-x", **{**ok, "method": "vibes"})
    with pytest.raises(ValueError, match="tolerance"):
        claims.claim("thm-x", **{**ok, "tolerance": math.nan})
    with pytest.raises(ValueError, match="false variant"):
        claims.claim("thm-x", **{**ok, "variants": []})
    with pytest.raises(ValueError, match="margin"):
        claims.claim("thm-x", **{**ok, "margin": 0.5})
    with pytest.raises(ValueError, match="change at least one argument"):
        claims.variant("wrong")
    with pytest.raises(ValueError, match="one-line"):
        claims.variant("two\nlines", x=1)


def test_a_name_is_registered_only_once(monkeypatch):
    monkeypatch.setattr(CLAIMS, "_entries", dict(CLAIMS._entries))
    first = ALL_IDS[0]
    with pytest.raises(ValueError, match="registered twice"):
        claims.claim(first, statement="s", method="exact", tolerance=0, chapter="basis",
                     variants=[claims.variant("w", x=1)])(lambda x=0: 0.0)


def _result(monkeypatch, check, tolerance=1e-3, margin=2.0):
    monkeypatch.setattr(CLAIMS, "_entries", dict(CLAIMS._entries))
    claims.claim("thm-test-rule", statement="s", method="numeric", tolerance=tolerance,
                 margin=margin, chapter="basis",
                 variants=[claims.variant("wrong", x=1.0)])(check)
    return claims.run_claim("thm-test-rule")


def test_rejection_rule(monkeypatch):
    # the variant's error must exceed margin * tolerance
    assert _result(monkeypatch, lambda x=0.0: x * 2.5e-3).passed
    assert not _result(monkeypatch, lambda x=0.0: x * 1.5e-3).passed
    assert _result(monkeypatch, lambda x=0.0: x * 1.5e-3, margin=1.0).passed
    # tolerance 0: any positive error rejects, zero does not
    assert _result(monkeypatch, lambda x=0.0: x * 1e-300, tolerance=0).passed
    assert not _result(monkeypatch, lambda x=0.0: 0.0, tolerance=0).passed
    # a NaN proves nothing: neither the statement nor a variant
    assert not _result(monkeypatch, lambda x=0.0: math.nan if x else 0.0).passed
    r = _result(monkeypatch, lambda x=0.0: 0.5 - x)
    assert not r.holds and not r.passed
    json.dumps(r.to_dict())


def test_variants_run_through_the_same_check(monkeypatch):
    seen = []

    def check(formula=lambda n: 1 / n):
        seen.append(formula(4))
        return abs(formula(4) - 0.25)

    monkeypatch.setattr(CLAIMS, "_entries", dict(CLAIMS._entries))
    claims.claim("thm-test-path", statement="s", method="numeric", tolerance=1e-12,
                 chapter="basis",
                 variants=[claims.variant("1/(n+1)", formula=lambda n: 1 / (n + 1))])(check)
    r = claims.run_claim("thm-test-path")
    assert seen == [0.25, 0.2] and r.passed and r.variants[0].error == pytest.approx(0.05)


def test_non_finite_errors_serialise(monkeypatch):
    r = _result(monkeypatch, lambda x=0.0: math.inf if x else math.nan)
    d = r.to_dict()
    assert d["error"] == "nan" and d["variants"][0]["error"] == "inf"
    json.dumps(d)


def test_latex_number():
    assert claims.latex_number(0.0) == "0"
    assert claims.latex_number(3.14159e-16) == r"3.1 \times 10^{-16}"
    assert claims.latex_number(1e-12) == "10^{-12}"
    assert claims.latex_number(0.25) == "0.25"
    assert claims.latex_number(math.nan) == r"\mathrm{NaN}"
    assert claims.latex_number(5000.0) == "5000" and claims.latex_number(999.4) == "999"


def test_plain_numbers_keep_their_digits():
    assert claims.plain_number(1.95) == "1.95"
    assert claims.plain_number(2.7e-15) == "2.7e-15"


def _sample_result(**kw):
    base = dict(id="thm-x", chapter="rbm", statement="p(h|v) = prod_j p(h_j|v), *not* `x`",
                math=r"$p(h \mid v) = \prod_j p(h_j \mid v)$, $|x|$", method="exact",
                tolerance=1e-12, margin=2.0, error=1e-16, holds=True,
                variants=(claims.VariantResult("sign | flipped", 0.5, True),), seconds=0.25,
                source="m.check_x")
    base.update(kw)
    return claims.ClaimResult(**base)


def test_ledger_rows_keep_their_cells_whatever_the_statement():
    r = _sample_result()
    table = claims.ledger_markdown([r, r])
    rows = [line for line in table.splitlines() if line.startswith("| 4 ")]
    assert len(rows) == 2
    # unescaped pipes delimit cells: 8 of them for 7 columns
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 8 for row in rows)
    assert "{prf:ref}`thm-x`" in rows[0] and "yes" in rows[0]
    assert r"\vert x\vert" in rows[0]  # a | inside the math no longer ends the cell
    assert "sign \\| flipped" in rows[0]


def test_book_line_shows_check_and_variants():
    text = claims.describe(_sample_result())
    assert "thm-x" in text and r"10^{-16} \le 10^{-12}" in text
    assert "False variant (sign \\| flipped)" in text and "rejected" in text
    assert "**" not in text  # measured numbers in plain type, not bold


def test_verify_outside_a_notebook_prints_plain_text(monkeypatch, capsys):
    monkeypatch.setattr(claims, "run_claim", lambda cid: _sample_result(id=cid))
    claims.verify("thm-x")
    out = capsys.readouterr().out
    assert out.startswith("ok   thm-x") and "IPython" not in out and "$" not in out
    monkeypatch.setattr(claims, "run_claim", lambda cid: _sample_result(id=cid, holds=False,
                                                                         error=0.5))
    with pytest.raises(claims.ClaimFailed, match="exceeds tolerance"):
        claims.verify("thm-x")


def test_math_numbers_for_the_prose():
    from hiddenunits.book.notebook import math_number

    assert math_number(2.3e-5) == r"2.3 \times 10^{-5}"
    assert math_number(28, "d") == "28"
    assert math_number(95.123, ".1f") == "95.1"
    assert math_number(1.2e7, ".3g") == r"1.2 \times 10^{7}"  # no "1.2e+07" in the prose
