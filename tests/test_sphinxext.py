"""Dependency-aware re-execution: a page's fingerprint follows the modules it imports."""

from hiddenunits import sphinxext

PAGE = """---
kernelspec:
  name: python3
---

# Title

```{code-cell} ipython3
from hiddenunits.claims import verify
import numpy as np
```
"""


def test_dependencies_follow_imports_transitively():
    names = {p.name for p in sphinxext.dependencies("from hiddenunits.claims import verify")}
    # claims imports chapters; every submodule import also runs the package __init__
    assert names == {"claims.py", "chapters.py", "__init__.py"}


def test_ledger_pages_depend_on_everything():
    deps = sphinxext.dependencies("from hiddenunits.claims import registered")
    assert {p.name for p in deps} >= {"claims.py", "nets.py", "data.py", "style.py"}


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
