"""One registry mechanism for the book's claims, figures and benchmarks, in book order.

Entries are registered by decorators in the modules ``hiddenunits.book.<kind>.<chapter>``
(one module per chapter, named by the chapter's key, e.g. ``book/checks/rbm.py``).  A
chapter's module is imported only when that chapter's entries are asked for.  Book order
is chapter order, then the order in which the module defines its entries; a test checks
that this is the order in which the chapter's page uses them.

Names are unique within a registry: registering a second entry under a name already taken
raises ``ValueError`` (re-importing the same module replaces its own entries).

:meth:`Registry.declared` lists a chapter's entries without importing anything, by reading
the module's decorators with :mod:`ast`, so that ``hiddenunits list`` answers at once.
"""

from __future__ import annotations

import ast
import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from hiddenunits.book.chapters import CHAPTERS, Chapter, get_chapter

T = TypeVar("T")
BOOK_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Declared:
    """An entry as its module's source declares it (found without importing)."""

    name: str
    summary: str


@dataclass(frozen=True)
class _Entry(Generic[T]):
    chapter: str
    item: T
    origin: str  # "module:qualname" of the decorated function
    order: int


class Registry(Generic[T]):
    """Entries of one kind (``checks``, ``figures``, ``bench``), keyed by a unique name."""

    def __init__(self, kind: str, decorator: str, name_from: str = "argument") -> None:
        # kind: the subpackage of hiddenunits.book holding one module per chapter;
        # decorator: the decorator's name there; name_from: "argument" (its first positional
        # argument) or "function" (the decorated function's name)
        self.kind = kind
        self.decorator = decorator
        self.name_from = name_from
        self._entries: dict[str, _Entry[T]] = {}
        self._counter = itertools.count()

    # ----------------------------------------------------------------- registering
    def add(self, name: str, chapter: str, item: T, origin: str) -> None:
        """Register ``item`` under ``name`` in ``chapter``; a name is taken only once."""
        key = get_chapter(chapter).key
        old = self._entries.get(name)
        if old is not None:
            if old.origin != origin:
                raise ValueError(f"{self.kind}: {name!r} is registered twice "
                                 f"({old.origin} and {origin})")
            self._entries[name] = _Entry(key, item, origin, old.order)  # module re-imported
            return
        self._entries[name] = _Entry(key, item, origin, next(self._counter))

    def remove(self, name: str) -> None:
        """Forget ``name`` (tests that register temporary entries clean up with this)."""
        self._entries.pop(name, None)

    # ----------------------------------------------------------------- loading
    def module_name(self, chapter: Chapter) -> str:
        """Dotted name of the chapter's module of this kind (``hiddenunits.book.checks.rbm``)."""
        return f"hiddenunits.book.{self.kind}.{chapter.key}"

    def module_path(self, chapter: Chapter) -> Path:
        """Source file of the chapter's module of this kind."""
        return BOOK_DIR / self.kind / f"{chapter.key}.py"

    def load(self, chapter: str | int | None = None) -> None:
        """Import the module(s) that register this kind's entries (of one chapter)."""
        chapters = CHAPTERS if chapter is None else (get_chapter(chapter),)
        for c in chapters:
            if self.module_path(c).is_file():
                importlib.import_module(self.module_name(c))

    # ----------------------------------------------------------------- reading
    def entries(self, chapter: str | int | None = None) -> list[T]:
        """The registered entries (of one chapter), in book order."""
        self.load(chapter)
        numbers = {c.key: c.number for c in CHAPTERS}
        keep = None if chapter is None else get_chapter(chapter).key
        chosen = [e for e in self._entries.values() if keep is None or e.chapter == keep]
        return [e.item for e in sorted(chosen, key=lambda e: (numbers[e.chapter], e.order))]

    def names(self, chapter: str | int | None = None) -> list[str]:
        """The registered names (of one chapter), in book order."""
        self.load(chapter)
        items = {id(e.item): n for n, e in self._entries.items()}
        return [items[id(i)] for i in self.entries(chapter)]

    def get(self, name: str) -> T:
        """The entry registered as ``name``; ``KeyError`` names the known ones if absent."""
        if name not in self._entries:
            chapter = self.find(name)
            if chapter is not None:
                self.load(chapter)
        if name not in self._entries:
            raise KeyError(f"no {self.kind} entry named {name!r}")
        return self._entries[name].item

    def chapter_of(self, name: str) -> str:
        """The key of the chapter that registers ``name``."""
        self.get(name)
        return self._entries[name].chapter

    # ----------------------------------------------------------------- without importing
    def declared(self, chapter: str | int) -> list[Declared]:
        """The entries a chapter's module declares, read from its source (no import)."""
        path = self.module_path(get_chapter(chapter))
        if not path.is_file():
            return []
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = []
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                func = call.func if call else dec
                fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if fname != self.decorator:
                    continue
                found.append(Declared(self._declared_name(node, call),
                                      _declared_summary(node, call)))
        return found

    def find(self, name: str) -> str | None:
        """The key of the chapter whose module declares ``name`` (None if none does)."""
        for c in CHAPTERS:
            if any(d.name == name for d in self.declared(c.key)):
                return c.key
        return None

    def _declared_name(self, node: ast.FunctionDef, call: ast.Call | None) -> str:
        if self.name_from == "function":
            return node.name
        if call is None or not call.args or not isinstance(call.args[0], ast.Constant):
            raise ValueError(f"{self.kind}: {node.name} must name its entry with a string")
        return str(call.args[0].value)


def _declared_summary(node: ast.FunctionDef, call: ast.Call | None) -> str:
    for kw in call.keywords if call else ():
        if kw.arg in ("statement", "summary") and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    doc = ast.get_docstring(node) or ""
    return doc.splitlines()[0] if doc else ""


def chapter_of_module(module: str) -> str:
    """The chapter key a registering module is named after (``...checks.rbm`` -> ``rbm``)."""
    key = module.rsplit(".", 1)[-1]
    return get_chapter(key).key


def origin_of(fn: Callable) -> str:
    """Where ``fn`` is defined, ``module:qualname`` (names a duplicate registration)."""
    return f"{fn.__module__}:{fn.__qualname__}"
