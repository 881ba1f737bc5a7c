"""Sphinx extension: re-execute a chapter when a package module it uses changes.

MyST-NB's execution cache keys a notebook on the text of its code cells only, so
editing ``hiddenunits/symmetry.py`` would not re-run the chapter that imports it.
Before a page is parsed, this extension finds the package modules its code cells
import (and, transitively, what those import), hashes their sources, and inserts
the hash as a hidden code cell: a changed module changes the cell text, hence the
cache key, of exactly the chapters that use it.  It also registers the module
files as the page's dependencies, so that Sphinx re-reads the page when they change.
Kernels it starts use the quiet profile of :mod:`hiddenunits.book.kernel`.  In a build
that runs beside the book's executor (:mod:`hiddenunits.book.pending`), it reads the pages
that need no kernel first and waits before reading a page that is still executing.

It also sets how the build process collects cyclic garbage.  That process holds torch,
the environment and large doctrees (0.7 GB at the peak), and each of CPython's full
collections walks all of it, though most of it lives until the end: 43 of them took 63 s
of a 133 s build.  The
build therefore collects only at page boundaries (before a page is read, after a page is
resolved for writing), and freezes (:func:`gc.freeze`) what survives, so that the next
collection walks only the newer objects.  When the build ends the collector runs again;
what was frozen stays frozen (walking it at the process's exit took 4 s).
"""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
import re
from pathlib import Path

PACKAGE = "hiddenunits"
PACKAGE_DIR = Path(__file__).resolve().parents[1]

# A page whose code calls one of these reaches every module (the claims ledger).
_ALL_MODULES = re.compile(r"\b(ledger_markdown|registered)\b")
# verify("label") imports the chapter's checks module by name, not by an import statement
_VERIFY = re.compile(r"\bverify\(")
_CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
FINGERPRINT = f"# sources of {PACKAGE} used here: "
"""How the hidden fingerprint cell starts (a changed text would re-execute every page)."""


def _module_file(name: str) -> Path | None:
    """The source file of ``hiddenunits.<name>`` (or the package ``__init__``)."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    rel = Path(*parts[1:]) if len(parts) > 1 else Path()
    for candidate in (PACKAGE_DIR / rel.with_suffix(".py") if parts[1:] else None,
                      PACKAGE_DIR / rel / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _imported_modules(source: str, current: str = PACKAGE) -> set[str]:
    """Package modules named by the import statements of ``source``."""
    return set(_parsed_imports(source, current))


@functools.cache
def _parsed_imports(source: str, current: str) -> frozenset[str]:
    """:func:`_imported_modules`, parsed once per text (every page re-reads the modules)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # notebook cells may hold IPython magics; keep the lines that parse
        lines = [ln for ln in source.splitlines() if re.match(r"\s*(from|import)\s", ln)]
        tree = ast.parse("\n".join(ln.strip() for ln in lines))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import inside the package
                parent = current.rsplit(".", node.level)[0] if node.level else current
                base = f"{parent}.{base}" if base else parent
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found.update(n for n in names if n == PACKAGE or n.startswith(PACKAGE + "."))
    return frozenset(n for n in found if _module_file(n) is not None)


def dependencies(code: str, docname: str | None = None) -> list[Path]:
    """Source files of the package that ``code`` uses, directly or through other modules.

    ``docname`` (the page, e.g. ``book/rbm``) adds the chapter's checks module when the
    code calls ``verify``, since that module is imported by the claim's label.
    """
    if _ALL_MODULES.search(code):
        return sorted(PACKAGE_DIR.rglob("*.py"))
    roots = _imported_modules(code)
    chapter = _chapter_key(docname)
    if chapter is not None and _VERIFY.search(code):
        roots.add(f"{PACKAGE}.book.checks.{chapter}")
    todo = sorted(n for n in roots if _module_file(n) is not None)
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        seen[name] = path
        # a submodule's package __init__ runs on import too
        parent = name.rsplit(".", 1)[0]
        if parent != name and parent not in seen:
            todo.append(parent)
        current = name if path.name == "__init__.py" else parent
        todo.extend(_imported_modules(path.read_text(encoding="utf-8"), current) - seen.keys())
    return sorted(set(seen.values()))


def _chapter_key(docname: str | None) -> str | None:
    from hiddenunits.book.chapters import CHAPTERS

    return next((c.key for c in CHAPTERS if c.docname == docname), None)


def code_of(page: str) -> str:
    """The concatenated code cells of a MyST notebook page."""
    return "\n".join(m.group(2) for m in _CODE_CELL.finditer(page))


def fingerprint(paths: list[Path]) -> str:
    """SHA-256 of the given files' names and contents."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def inject(page: str, docname: str | None = None) -> tuple[str, list[Path]]:
    """Insert a hidden cell carrying the fingerprint of the modules ``page`` uses."""
    deps = dependencies(code_of(page), docname)
    if not deps:
        return page, []
    cell = (f"```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n"
            f"{FINGERPRINT}{fingerprint(deps)}\n```\n\n")
    m = _FRONT_MATTER.match(page)
    cut = m.end() if m else 0
    return page[:cut] + "\n" + cell + page[cut:], deps


def is_fingerprint_cell(cell) -> bool:
    """Whether a notebook cell (a dict) is the fingerprint cell that :func:`inject` adds."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    return cell.get("cell_type") == "code" and source.startswith(FINGERPRINT)


def _on_source_read(app, docname: str, source: list[str]) -> None:
    if "{code-cell}" not in source[0]:
        return
    from hiddenunits.book.pending import wait_for_page

    # in a build beside the executor (``execute --then``): read the page once it is cached
    wait_for_page(docname)
    source[0], deps = inject(source[0], docname)
    for path in deps:
        app.env.note_dependency(str(path))


def _on_env_before_read_docs(app, env, docnames: list[str]) -> None:
    from hiddenunits.book.pending import reading_order

    # beside the executor: the pages that need no kernel first, then in execution order
    docnames[:] = reading_order(docnames)


def _on_config_inited(app, config) -> None:
    from hiddenunits.book.kernel import one_thread_kernels, quiet_kernels

    quiet_kernels(Path(app.outdir).parent)
    one_thread_kernels()


def _collect_between_pages(*_args) -> None:
    """Free the garbage of the page just done and freeze what survives it."""
    gc.collect()
    gc.freeze()


def _on_builder_inited(app) -> None:
    gc.disable()


def _on_build_finished(app, exception) -> None:
    # The collector runs again.  What the build froze stays frozen: mostly objects that
    # live until the process ends, and unfrozen they made the collection at exit take 4 s.
    gc.enable()


def setup(app):
    """Register the fingerprinting, the quiet, one-thread kernels and the collection policy."""
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    app.connect("env-before-read-docs", _on_env_before_read_docs)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("source-read", _collect_between_pages)
    app.connect("doctree-resolved", _collect_between_pages)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
