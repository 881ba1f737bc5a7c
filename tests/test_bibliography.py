"""The bibliography parses, has no duplicate keys, and holds every work the book cites."""

import re
from pathlib import Path

import pybtex.database

ROOT = Path(__file__).resolve().parents[1]
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def test_every_cited_key_is_in_the_bibliography():
    entries = pybtex.database.parse_file(str(ROOT / "book" / "references.bib")).entries
    cited = {key.strip() for page in (ROOT / "book").glob("*.md")
             for group in CITE.findall(page.read_text(encoding="utf-8"))
             for key in group.split(",")}
    assert cited, "the book cites nothing?"
    missing = sorted(cited - set(entries))
    assert not missing, f"cited but not in references.bib: {missing}"


def test_no_key_is_defined_twice():
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", text, re.M)
    assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)
