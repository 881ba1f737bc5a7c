"""The PDF quality gate recognises what LaTeX logs when a reference or glyph is missing."""

from hiddenunits.book import pdfcheck

CLEAN_LOG = """This is XeTeX, Version 3.141592653
Package hyperref Info: Link coloring OFF on input line 12.
LaTeX Font Info:    Trying to load font information for TU+lmr on input line 3.
Output written on hidden-units.pdf (31 pages).
"""


def test_clean_log_passes():
    assert pdfcheck.log_problems(CLEAN_LOG) == []


def test_each_problem_is_reported():
    log = "\n".join([
        "LaTeX Warning: Reference `book/basis:fig-x' on page 3 undefined on input line 9.",
        "LaTeX Warning: Hyper reference `book/ledger::doc' on page 1 undefined on input line 7.",
        "LaTeX Warning: Citation `nobody2020' on page 4 undefined on input line 11.",
        "LaTeX Warning: There were undefined references.",
        "Missing character: There is no \u4e2d (U+4E2D) in font FreeSerif:mode=node;!",
        "! LaTeX Error: File `bbm.sty' not found.",
    ])
    kinds = [p.split(" (")[0] for p in pdfcheck.log_problems(log)]
    assert kinds == ["undefined reference", "undefined reference", "undefined citation",
                     "undefined references remain", "missing glyph", "missing file",
                     "LaTeX error"]


def test_question_marks_in_text_are_reported():
    assert pdfcheck.text_problems("See Exercise ??.\nfine line\n") == [
        '"??" in the PDF text: See Exercise ??.']
    assert pdfcheck.text_problems("no problem here") == []


def test_missing_files(tmp_path):
    assert pdfcheck.check(tmp_path / "x.log", tmp_path / "x.pdf") == [
        f"no PDF at {tmp_path / 'x.pdf'}"]
    assert pdfcheck.main(["only-one"]) == 2
