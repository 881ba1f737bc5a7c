"""Every public function, class and method of the package has a docstring.

The API appendix (``book/api.md``) is generated from them: an object without one would
appear there as a bare signature.  One test per module, so that a failure names it.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from hiddenunits.book.api import public_modules

MODULES = public_modules("hiddenunits")


def _own_doc(obj) -> str:
    """The docstring written for ``obj`` itself (not inherited, not generated)."""
    doc = obj.__doc__ if isinstance(getattr(obj, "__doc__", None), str) else ""
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""  # dataclasses invent "Name(field: type, ...)" when there is none
    return doc.strip()


def undocumented(module_name: str) -> list[str]:
    """Public functions, classes and methods of a module that have no docstring."""
    module = importlib.import_module(module_name)
    missing = [] if _own_doc(module) else [module_name]
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not _own_doc(obj):
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member) and not _own_doc(member):
                    missing.append(f"{module_name}.{name}.{attr}")
    return missing


@pytest.mark.parametrize("module_name", MODULES)
def test_public_objects_have_docstrings(module_name):
    missing = undocumented(module_name)
    assert not missing, "no docstring: " + ", ".join(missing)


def test_the_check_finds_a_missing_docstring(tmp_path, monkeypatch):
    (tmp_path / "hu_fixture_mod.py").write_text(
        '"""A module."""\n\n\ndef documented():\n    """Yes."""\n\n\n'
        "def bare():\n    pass\n\n\nclass Thing:\n    \"\"\"A thing.\"\"\"\n\n"
        "    def method(self):\n        pass\n\n    @property\n    def size(self):\n"
        '        """Its size."""\n        return 1\n\n\ndef _private():\n    pass\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert undocumented("hu_fixture_mod") == ["hu_fixture_mod.bare",
                                              "hu_fixture_mod.Thing.method"]


def test_the_api_page_covers_the_modules_the_test_checks():
    # the appendix documents the same modules, except the temporary shims it excludes
    text = (importlib.import_module("pathlib").Path(__file__).parents[1]
            / "book" / "api.md").read_text()
    assert "{api-modules} hiddenunits\n" in text and "{api-modules} hiddenunits.book\n" in text


def test_ours_knows_what_the_loaded_package_modules_define(monkeypatch):
    import sys
    import types

    from hiddenunits.book import api

    assert api._ours("public_modules")  # defined in hiddenunits.book.api
    assert not api._ours("SphinxDirective")  # imported there, defined by Sphinx
    late = types.ModuleType("hiddenunits._late_for_test")
    exec("def late_function():\n    pass", late.__dict__)
    late.late_function.__module__ = late.__name__
    monkeypatch.setitem(sys.modules, late.__name__, late)
    assert api._ours("late_function")  # a module loaded after the index was built
