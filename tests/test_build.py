"""The strict build fails on a failing cell, a failing claim check or a broken reference.

Each case builds a one-page book in a temporary folder with the project's own
configuration, exactly as ``make test`` builds the real one (``--all -W -n``).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).with_name("jupyter-book")

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A page

```{code-cell} ipython3
:tags: [remove-cell]
from hiddenunits.book.claims import claim, variant, verify

@claim("thm-sample", chapter="basis", statement="two is two", method="exact", tolerance=0.0,
       variants=[variant("two is three", three=VARIANT)])
def check_sample(three=2.0):
    return abs(three - 2.0) + abs(ERROR)
```

```{prf:theorem} Sample
:label: thm-sample

Two is two.
```

```{code-cell} ipython3
:tags: [remove-input]
verify("thm-sample");
```

See {prf:ref}`REF`.
"""


def page(error="0.0", ref="thm-sample", extra="", variant="3.0"):
    return (HEADER.replace("ERROR", error).replace("VARIANT", variant).replace("REF", ref)
            + extra)


def build(book: Path, text: str) -> subprocess.CompletedProcess:
    (book / "book" / "page.md").write_text(text)
    return subprocess.run([str(JB), "build", str(book), "--all", "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    book = tmp_path_factory.mktemp("book")
    shutil.copy(ROOT / "_config.yml", book)
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/page\n")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    shutil.copy(ROOT / "book" / "references.bib", book / "book")
    return book


@pytest.mark.slow
def test_good_page_builds(book):
    r = build(book, page())
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("text, expect", [
    (page(extra="\n```{code-cell} ipython3\n1 / 0\n```\n"), "ZeroDivisionError"),
    (page(error="0.5"), "ClaimFailed"),
    (page(variant="2.0"), "not rejected"),
    (page(ref="thm-missing"), "thm-missing"),
    (page(extra="\nSee {numref}`fig-nowhere` and {cite:p}`nobody2099`.\n"), "nobody2099"),
])
def test_defects_fail_the_build_and_name_the_page(book, text, expect):
    r = build(book, text)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert expect in out and "page" in out
    # a rebuild without the fix must fail again, not pass on a stale environment
    again = build(book, text)
    assert again.returncode != 0


@pytest.mark.slow
def test_fixed_page_builds_again(book):
    r = build(book, page())
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
