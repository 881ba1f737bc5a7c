"""Dependency-aware re-execution: a page's fingerprint follows the modules it imports."""

from hiddenunits.book import sphinxext

PAGE = """---
kernelspec:
  name: python3
---

# Title

```{code-cell} ipython3
from hiddenunits.book.claims import verify
import numpy as np
```
"""


def _rel(paths):
    return {str(p.relative_to(sphinxext.PACKAGE_DIR)) for p in paths}


def test_dependencies_follow_imports_transitively():
    deps = _rel(sphinxext.dependencies("from hiddenunits.book.claims import verify"))
    # claims imports chapters and the registry; a submodule import runs each package __init__
    assert deps == {"book/claims.py", "book/chapters.py", "book/registry.py",
                    "book/__init__.py", "__init__.py"}


def test_verify_on_a_chapter_page_depends_on_its_checks_and_their_science():
    code = "from hiddenunits.book.claims import verify\nverify('thm-angle-variance')"
    deps = _rel(sphinxext.dependencies(code, "book/initialization"))
    assert {"book/checks/initialization.py", "random_geometry.py", "validation.py"} <= deps
    assert not any("checks/rbm" in d for d in deps)
    # elsewhere, verify() alone names no chapter
    assert "book/checks/initialization.py" not in _rel(sphinxext.dependencies(code))


def test_ledger_pages_depend_on_everything():
    deps = _rel(sphinxext.dependencies("from hiddenunits.book.claims import registered"))
    assert {"book/claims.py", "nets.py", "data.py", "book/style.py",
            "book/checks/initialization.py"} <= deps


def test_no_package_import_no_dependency():
    assert sphinxext.dependencies("import numpy as np\nx = 1") == []


def test_inject_places_hidden_cell_after_front_matter():
    text, deps = sphinxext.inject(PAGE)
    assert deps
    head, rest = text.split("---\n", 2)[1:]
    assert rest.lstrip().startswith("```{code-cell} ipython3\n:tags: [remove-cell]")
    assert sphinxext.fingerprint(deps) in text


def test_fingerprint_changes_with_content(tmp_path):
    a = tmp_path / "a.py"
    a.write_text("x = 1\n")
    before = sphinxext.fingerprint([a])
    a.write_text("x = 2\n")
    assert sphinxext.fingerprint([a]) != before


def test_build_collects_between_pages_and_enables_the_collector_at_the_end():
    import gc

    assert gc.isenabled()
    try:
        sphinxext._on_builder_inited(None)
        assert not gc.isenabled()
        sphinxext._collect_between_pages()
        assert gc.get_freeze_count() > 0
        sphinxext._on_build_finished(None, None)
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
