"""A small book with the project's configuration, for testing the web and paper editions.

The real chapters are rewritten in other branches while this infrastructure is built, so
the tests of the site build a reduced book instead: the preface, the notation, the API
appendix and the bibliography of the real book, plus one fixture chapter that holds one of
everything a chapter uses (import and glue cells, a figure and a table shown with a
"Show code" toggle, glued numbers as mathematics, a theorem with its check, a proof, an
exercise with a solution, a numbered equation and references to all of them).

``build_fixture(root)`` lays the book out under ``root``; the tests below build it and
look at what a reader gets.  ``tests/test_site.py`` drives a browser over the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).with_name("jupyter-book")

FIXTURE_CHAPTER = r"""---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
(chapter-fixture)=
# A fixture chapter

```{code-cell} ipython3
:tags: [remove-cell]
from hiddenunits.book.claims import verify
from hiddenunits.book.notebook import glue_math, setup

setup()
```

```{code-cell} ipython3
:tags: [hide-input]
import numpy as np

from hiddenunits import random_geometry
from hiddenunits.book.figures import initialization as figures
from hiddenunits.book.notebook import show_table
```

```{code-cell} ipython3
:tags: [remove-cell]
glue_math("fixture-small", 0.7 ** 30)
glue_math("fixture-large", 1.4 ** 30)
glue_math("fixture-plain", 0.25)
```

With $L = 30$ layers a factor $0.7$ per layer multiplies a signal by
{glue:md}`fixture-small` and a factor $1.4$ by {glue:md}`fixture-large`; a quarter is
{glue:md}`fixture-plain`. The moments of the angle come from
{py:func}`~hiddenunits.random_geometry.angle_variance`, and a single display:

$$
\operatorname{Var}\theta = \tfrac12\psi'(n/2)
$$ (eq-fixture-variance)

## Moments of the angle

````{prf:corollary} The published table
:label: cor-angle-variance-table

For independent isotropic $x, y \in \mathbb{R}^n$, $\mathbb{E}\cos\theta_{xy} = 0$ and
$\mathbb{E}\cos^2\theta_{xy} = 1/n$, as in {eq}`eq-fixture-variance`.
````

```{code-cell} ipython3
:tags: [remove-input]
verify("cor-angle-variance-table");
```

````{prf:proof}
By symmetry $\cos\theta$ has the law of $-\cos\theta$, and the squared coordinates of a
uniform unit vector sum to one.
````

{numref}`fig-fixture-angles` shows the densities, {numref}`tab-fixture-moments` the
moments, and {prf:ref}`cor-angle-variance-table` is checked under its statement.

```{code-cell} ipython3
:tags: [hide-input]
:mystnb:
:  figure:
:    caption: 'Angle densities against simulated angles, and the Gaussian limit.'
:    name: fig-fixture-angles
:  image:
:    alt: Two panels of densities of the angle between two random vectors.
figures.fig_angle_density(mc_size=2_000)
```

```{code-cell} ipython3
:tags: [hide-input]
dims = [3, 10, 100, 1000]
show_table(["$n$", r"$\operatorname{Var}\theta$", "$1/n$", "relative gap"],
           [[n, f"{random_geometry.angle_variance(n):.6f}", f"{1 / n:.6f}",
             f"{random_geometry.angle_variance(n) * n - 1:+.3f}"] for n in dims],
           caption="The variance of the angle against its leading term $1/n$.",
           name="tab-fixture-moments")
```

## Exercises

```{exercise}
:label: ex-fixture-uniform

Show that for $n = 3$ the cosine of the angle is uniform on $[-1, 1]$.
```

```{solution-start} ex-fixture-uniform
:class: dropdown
```

The density of $c = \cos\theta$ is $\frac12$ on $(-1, 1)$. Numerically:

```{code-cell} ipython3
theta = np.linspace(0.1, 3.0, 4)
print(random_geometry.angle_cdf(theta, 3) - (1 - np.cos(theta)) / 2)
```

```{solution-end}
```
"""

FIXTURE_TOC = """format: jb-book
root: book/intro
parts:
  - caption: Chapters
    numbered: true
    chapters:
      - file: book/fixture
  - caption: Appendices
    chapters:
      - file: book/notation
      - file: book/ledger
      - file: book/api
      - file: book/bibliography
"""


def build_fixture(root: Path) -> Path:
    """Lay out the fixture book under ``root`` (the real configuration and appendices)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_config.yml", root)
    (root / "_toc.yml").write_text(FIXTURE_TOC)
    book = root / "book"
    book.mkdir(exist_ok=True)
    for name in ("_static", "_latex"):
        shutil.rmtree(book / name, ignore_errors=True)
        shutil.copytree(ROOT / "book" / name, book / name)
    for name in ("intro.md", "notation.md", "api.md", "bibliography.md", "references.bib"):
        shutil.copy(ROOT / "book" / name, book)
    (book / "fixture.md").write_text(FIXTURE_CHAPTER)
    # the real ledger runs every claim of the book; the preface only needs the page
    (book / "ledger.md").write_text("(ledger)=\n# Verification ledger\n\nNot in the fixture.\n")
    return root


def jb(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``jupyter-book build ROOT ARGS -W -n --keep-going`` (as the Makefile runs it)."""
    return subprocess.run([str(JB), "build", str(root), *args, "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": _pythonpath()})


def _pythonpath() -> str:
    """This checkout's package first, so that kernels import the code under test."""
    extra = entry_points_dir(ROOT / "_build" / "entry-points")
    paths = [str(ROOT / "code"), str(extra or ""), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in paths if p)


def entry_points_dir(folder: Path) -> Path | None:
    """A folder that declares this checkout's entry points, if the install lacks them.

    The MyST-NB render plugin is found through an entry point, which exists once the
    package is installed from this checkout (``make install``, as CI does).  A virtual
    environment installed from an older checkout lacks it; this writes a minimal
    distribution record declaring the entry points of ``pyproject.toml`` into ``folder``
    (for ``PYTHONPATH``), so that the tests exercise the plugin either way.
    """
    import tomllib
    from importlib.metadata import entry_points

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project.get("entry-points", {})
    missing = {group: eps for group, eps in declared.items()
               if any(not entry_points(group=group, name=name) for name in eps)}
    if not missing:
        return None
    info = folder / "hiddenunits_checkout-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hiddenunits-checkout\n"
                                   "Version: 0.0.0\n")
    lines = []
    for group, eps in missing.items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return folder
