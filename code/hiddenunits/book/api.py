"""Sphinx extension: the API appendix, one section per module, generated from the package.

``{api-modules} hiddenunits`` in a MyST page documents every public module of the
package (autodoc: every public function, class and method, with its docstring, its
signature and a [source] link from viewcode), one section per module, in name order; a
module added to the package appears without editing the page.  ``:exclude:`` lists
modules or subpackages to leave out (space-separated).

Docstrings are plain text with a little reStructuredText (````literals````, ``:func:``);
their maths is written as in the code, so a bar is an absolute value, not a substitution
(:func:`escape_bars`), and an attribute's docstring is prose, not napoleon's
``type: description``.  Type hints name other projects' objects (NumPy, PyTorch,
matplotlib, the standard library): without intersphinx (nothing is fetched) these cannot
be linked and are printed as text (:func:`external_reference`), while a broken reference
to an object of this package still fails the nitpicky build.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
import typing

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective


def public_modules(package: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Dotted names of the public modules of ``package`` (itself included), sorted.

    Skips private modules (``_name``), ``__main__`` and everything under ``exclude``.
    """
    pkg = importlib.import_module(package)
    names = [package]
    if hasattr(pkg, "__path__"):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
            names.append(info.name)

    def keep(name: str) -> bool:
        parts = name.split(".")
        if any(p.startswith("_") for p in parts):
            return False
        return not any(name == e or name.startswith(e + ".") for e in exclude)

    return sorted(n for n in names if keep(n))


def module_data(name: str) -> list[str]:
    """Public names that module ``name`` assigns at top level (its constants), in order."""
    module = importlib.import_module(name)
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    found = []
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            if isinstance(t, ast.Name) and not t.id.startswith("_") and t.id not in found:
                found.append(t.id)
    return found


class ApiModules(SphinxDirective):
    """One section per public module of a package, each an ``automodule`` with members."""

    required_arguments = 1
    option_spec = {"exclude": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        """The sections, one per module."""
        exclude = tuple((self.options.get("exclude") or "").split())
        sections = []
        for name in public_modules(self.arguments[0], exclude):
            section = nodes.section(ids=[f"api-{name.replace('.', '-')}"], names=[name])
            section += nodes.title(name, "", nodes.literal(name, name))
            data = module_data(name)
            skip = f"   :exclude-members: {', '.join(data)}\n" if data else ""
            rst = (f".. automodule:: {name}\n   :members:\n   :undoc-members:\n"
                   f"   :show-inheritance:\n{skip}")
            # autodoc skips module constants without a docstring: name them one by one
            rst += "".join(f"\n.. autodata:: {name}.{d}\n   :no-value:\n" for d in data)
            text = f"```{{eval-rst}}\n{rst}```\n"
            self.state.nested_parse(text.splitlines(), self.content_offset, section)
            sections.append(section)
        return sections


PACKAGE = "hiddenunits"
_LITERAL = re.compile(r"(``.+?``|`[^`]+`)")


def escape_bars(line: str) -> str:
    """Escape ``|`` outside literals and roles: ``|cos theta|`` is maths, not a substitution."""
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts))


_SET_ASIDE: dict[int, list[str]] = {}


def _is_type_doc(obj, lines: list[str]) -> bool:
    """Whether ``lines`` is the docstring of ``obj``'s type (autodoc's fallback)."""
    from sphinx.util.docstrings import prepare_docstring

    inherited = getattr(type(obj), "__doc__", None)
    inherited = getattr(obj, "__doc__", None) if inherited is not None else None
    if not isinstance(inherited, str) or not inherited.strip() or not lines:
        return False
    first = next((ln for ln in prepare_docstring(inherited) if ln.strip()), "")
    return lines[0].strip() == first.strip()


def _process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    if what in ("data", "attribute") and _is_type_doc(obj, lines):
        lines[:] = []  # a constant without a docstring of its own, not its type's
    lines[:] = [escape_bars(line) for line in lines]
    if what in ("attribute", "property", "data"):
        # napoleon (next) would read "words (0: none)" as an attribute's "type: description"
        _SET_ASIDE[id(lines)] = list(lines)
        lines[:] = []


def _restore_attribute_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    if id(lines) in _SET_ASIDE:
        lines[:] = _SET_ASIDE.pop(id(lines))


_DEFINED: tuple[int, frozenset[str]] = (-1, frozenset())


def _ours(name: str) -> bool:
    """Whether a loaded module of this package defines a public object called ``name``.

    The names defined by the package's loaded modules are indexed once and indexed again
    only when a module is loaded (a missing reference used to scan every loaded module,
    torch's included, once per reference: a minute of the build).
    """
    global _DEFINED
    loaded = len(sys.modules)
    if _DEFINED[0] != loaded:
        defined = set()
        for mod_name, module in list(sys.modules.items()):
            if mod_name == PACKAGE or mod_name.startswith(PACKAGE + "."):
                defined.update(key for key, obj in list(vars(module).items())
                               if getattr(obj, "__module__", "") == mod_name)
        _DEFINED = (loaded, frozenset(defined))
    return name in _DEFINED[1]


def external_reference(app, env, node, contnode):
    """Print a reference to another project's object (or a type variable) as text.

    Without intersphinx, NumPy's, PyTorch's or the standard library's objects cannot be
    linked.  A reference to this package's objects is left unresolved, so that a broken
    one still fails the nitpicky build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if target == PACKAGE or target.startswith(PACKAGE + "."):
        head, _, attr = target.rpartition(".")
        obj = vars(sys.modules.get(head, object)).get(attr) if head in sys.modules else None
        return contnode if isinstance(obj, typing.TypeVar | typing.ParamSpec) else None
    head = target.split(".")[0]
    module = sys.modules.get(node.get("py:module") or "")
    obj = vars(module).get(head) if module is not None else None
    if isinstance(obj, typing.TypeVar | typing.ParamSpec):
        return contnode
    if obj is not None:
        origin = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", "")
        return None if (origin or "").startswith(PACKAGE) else contnode
    return None if _ours(head) else contnode


def setup(app):
    """Register the directive and the docstring and reference handlers."""
    app.add_directive("api-modules", ApiModules)
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("autodoc-process-docstring", _restore_attribute_docstring, priority=600)
    app.connect("missing-reference", external_reference, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
