"""Quality gate of the PDF edition: fail on what LaTeX only logs.

Sphinx's ``-W`` does not see LaTeX's own problems: an undefined reference or citation
prints two question marks in the PDF, a missing glyph silently drops a character, a
missing figure file stops nothing in non-stop mode.  This module reads the final LaTeX log and the
PDF's text and reports each of them.

``python -m hiddenunits.pdfcheck LOG PDF`` prints the problems and exits 1 if any.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

# (what it means, pattern in the LaTeX log). TeX wraps log lines at 79 characters, so
# each pattern matches only the start of its message.
LOG_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("undefined reference", re.compile(r"LaTeX Warning: (Hyper r|R)eference `")),
    ("undefined citation", re.compile(r"(LaTeX|Package natbib) Warning: Citation `")),
    ("undefined references remain", re.compile(r"LaTeX Warning: There were undefined ")),
    ("missing glyph", re.compile(r"Missing character: There is no ")),
    ("missing file", re.compile(r"(LaTeX|Package \w+) (Error|Warning): File `[^']*' not found")),
    ("LaTeX error", re.compile(r"^! ")),
)


def log_problems(log_text: str) -> list[str]:
    """Problems found in a LaTeX log: one line each, with the log line that shows it."""
    problems = []
    for number, line in enumerate(log_text.splitlines(), 1):
        for what, pattern in LOG_PATTERNS:
            if pattern.search(line):
                problems.append(f"{what} (log line {number}): {line.strip()}")
    return problems


def pdf_text(pdf: Path) -> str:
    """The PDF's text, extracted with poppler's ``pdftotext``."""
    if shutil.which("pdftotext") is None:
        raise RuntimeError("pdftotext not found: install Debian's poppler-utils")
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def text_problems(text: str) -> list[str]:
    """Lines of the PDF's text that show an unresolved reference (two question marks)."""
    return [f'"??" in the PDF text: {line.strip()}' for line in text.splitlines()
            if "??" in line]


def check(log: Path, pdf: Path) -> list[str]:
    """Every problem of a built PDF (empty when it passes the gate)."""
    if not pdf.is_file():
        return [f"no PDF at {pdf}"]
    if not log.is_file():
        return [f"no LaTeX log at {log}"]
    text = log.read_text(encoding="utf-8", errors="replace")
    return log_problems(text) + text_problems(pdf_text(pdf))


def main(argv: list[str] | None = None) -> int:
    """``python -m hiddenunits.book.pdfcheck LOG PDF``: exit 1 if the PDF has a defect."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m hiddenunits.pdfcheck LOG PDF", file=sys.stderr)
        return 2
    log, pdf = map(Path, args)
    problems = check(log, pdf)
    for p in problems:
        print(f"pdfcheck: {p}", file=sys.stderr)
    if problems:
        print(f"pdfcheck: {len(problems)} problem(s) in {pdf}", file=sys.stderr)
        return 1
    print(f"pdfcheck: {pdf} passed (no undefined references or citations, missing glyphs, "
          f"missing files or '??')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
