"""Two layers, one direction: the science never imports the book, and nothing is circular.

Each science module is imported in a fresh interpreter, and the test fails if that loaded
a book module or a library that only the book needs.  The import graph of the whole
package (every import statement, also inside functions) must have no cycle.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "code" / "hiddenunits"
BOOK_ONLY = ("hiddenunits.book", "matplotlib", "myst_nb", "IPython", "sphinx", "docutils",
             "sympy")
# Science modules whose science is symbolic may import sympy: none today.
SYMBOLIC: dict[str, str] = {}


def science_modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py")
                  if p.stem not in {"__init__", "__main__"})


def test_science_modules_load_no_book_code_at_run_time():
    """Import every science module in one fresh interpreter; no book code may load."""
    imports = "; ".join(f"import hiddenunits.{m}" for m in science_modules())
    code = f"import sys, json; {imports}; print(json.dumps(sorted(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env={"MPLBACKEND": "Agg", "PATH": ""})
    assert r.returncode == 0, r.stderr
    loaded = json.loads(r.stdout)
    allowed = {"sympy"} if SYMBOLIC else set()
    bad = sorted({m for m in loaded for b in BOOK_ONLY
                  if b not in allowed and (m == b or m.startswith(b + "."))})
    assert not bad, f"importing the science loaded {bad[:8]}"


@pytest.mark.parametrize("module", science_modules())
def test_science_module_imports_no_book_code(module):
    """Statically: nothing the module imports, directly or through other package modules
    (imports inside functions included), is book code or a book-only library."""
    graph = import_graph()
    allowed = {"sympy"} if module in SYMBOLIC else set()
    seen, todo, bad = set(), [f"hiddenunits.{module}"], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for lib in external_imports(name):
            if lib in BOOK_ONLY and lib not in allowed:
                bad.append(f"{name} imports {lib}")
        todo.extend(graph.get(name, ()))
    bad += [f"reaches {m}" for m in seen if m.startswith("hiddenunits.book")]
    assert not bad, f"hiddenunits.{module}: {sorted(bad)}"


def external_imports(name: str) -> set[str]:
    """Top-level names of the non-package libraries that module ``name`` imports."""
    path = _path_of(name)
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out - {"hiddenunits"}


def _path_of(name: str) -> Path:
    rel = Path(*name.split(".")[1:])
    f = PACKAGE / rel.with_suffix(".py")
    return f if f.is_file() else PACKAGE / rel / "__init__.py"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports (anywhere in its source)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        current = name if is_pkg else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    root = current.rsplit(".", node.level - 1)[0] if node.level > 1 else current
                    base = f"{root}.{base}" if base else root
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for t in targets:
                # the most specific module named by the import
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name and t != "hiddenunits":
                    deps.add(t)
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour:
            found = visit(node)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_science_module_knows_the_book():
    """No chapter key, no book label, no registration decorator in the science."""
    import re

    from hiddenunits.book.chapters import CHAPTERS

    label = re.compile(r"""["'](thm|lem|prop|cor|fig|eq|sec|exc|ex)-[\w-]+["']""")
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bchapter\s*=", text), f"{path.name} names a chapter"
        assert not label.search(text), f"{path.name} names a book label"
        assert not re.search(r"^@(claim|figure|benchmark)\b", text, re.M), path.name
        for c in CHAPTERS:
            assert c.docname not in text, f"{path.name} names the page {c.docname}"
