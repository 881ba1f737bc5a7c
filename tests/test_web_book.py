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
import re
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
{glue:md}`fixture-small:myst` and a factor $1.4$ by {glue:md}`fixture-large:myst`; a quarter is
{glue:md}`fixture-plain:myst`. The moments of the angle come from
{py:func}`~hiddenunits.random_geometry.angle_variance`, and a single display:

$$
\operatorname{Var}\theta = \tfrac12\psi'(n/2)
$$ (eq-fixture-variance)

## Moments of the angle

````{prf:proposition} The first two moments of the cosine
:label: prop-cos-moments

For independent isotropic $x, y \in \mathbb{R}^n$, $\mathbb{E}\cos\theta_{xy} = 0$ and
$\mathbb{E}\cos^2\theta_{xy} = 1/n$, as in {eq}`eq-fixture-variance`.
````

```{code-cell} ipython3
:tags: [remove-input]
verify("prop-cos-moments");
```

````{prf:proof}
By symmetry $\cos\theta$ has the law of $-\cos\theta$, and the squared coordinates of a
uniform unit vector sum to one.
````

{numref}`fig-fixture-angles` shows the densities, {numref}`tab-fixture-moments` the
moments, and {prf:ref}`prop-cos-moments` is checked under its statement.

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
    for name in ("_static", "_latex", "_templates"):
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


# --------------------------------------------------------------------------- unit tests
def test_captioned_table_is_a_numbered_myst_table():
    from hiddenunits.book import notebook

    shown = []
    import IPython.display

    original = IPython.display.display
    IPython.display.display = shown.append
    try:
        notebook.show_table(["a"], [[1]], caption="A caption.", name="tab-x")
    finally:
        IPython.display.display = original
    text = shown[0].data
    assert text.startswith("```{table} A caption.\n:name: tab-x\n") and "| 1 |" in text
    with pytest.raises(ValueError):
        notebook.show_table(["a"], [[1]], name="tab-y")


def test_check_line_names_the_label_and_links_the_check():
    from hiddenunits.book.claims import ClaimResult, VariantResult, describe

    result = ClaimResult("thm-x", "basis", "s", "s", "exact", 0.0, 2.0, 0.0, True,
                         (VariantResult("wrong", 1.0, True),), 0.1,
                         "hiddenunits.book.checks.basis.check_x")
    line = describe(result)
    assert line.startswith("Check of `thm-x` by {py:func}`~hiddenunits.book.checks.basis."
                           "check_x` (exact)")
    assert "**" not in line


def test_dark_colors_mirror_greys_and_keep_hues():
    import colorsys

    import matplotlib.colors as mc

    from hiddenunits.book import style

    def hls(c):
        return colorsys.rgb_to_hls(*mc.to_rgb(c))

    assert mc.to_hex(style.dark_color((1, 1, 1, 1))) == style.DARK_BACKGROUND
    assert mc.to_hex(style.dark_color((0, 0, 0, 1))) == style.DARK_FOREGROUND
    for name, color in style.COLORS.items():
        if name in ("black", "grey"):
            continue
        h, light, s = hls(color)
        h2, light2, s2 = hls(style.dark_color(mc.to_rgba(color))[:3])
        assert abs(h - h2) < 1e-6 and abs(s - s2) < 1e-6 and light2 >= max(light, 0.55) - 1e-9


def test_dark_rendering_restores_the_figure():
    import matplotlib.colors as mc

    from hiddenunits.book import style

    with style.context():
        fig, ax = style.new_figure()
        ax.plot([0, 1], [0, 1], color=style.COLORS["blue"], label="a")
        ax.imshow([[0, 1], [1, 0]])
        ax.legend()
        ax.set_title("t")
    before = [(a, a.get_facecolor() if hasattr(a, "get_facecolor") else None,
               a.get_color() if hasattr(a, "get_color") else None) for a in fig.findobj()]
    with style.dark(fig):
        assert mc.to_hex(fig.patch.get_facecolor()) == style.DARK_BACKGROUND
        assert mc.to_hex(ax.title.get_color()) == style.DARK_FOREGROUND
        image = ax.get_images()[0]
        assert image.get_cmap().name == "viridis"
    after = [(a, a.get_facecolor() if hasattr(a, "get_facecolor") else None,
              a.get_color() if hasattr(a, "get_color") else None) for a in fig.findobj()]
    assert str(before) == str(after)


def _small_figure():
    from hiddenunits.book import style

    with style.context():
        fig, ax = style.new_figure()
        ax.plot([1, 10], [1, 100], label=r"$\sigma$")
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("t")
    return fig


def test_one_layout_renders_what_a_tight_save_renders():
    from base64 import b64decode
    from io import BytesIO

    from PIL import Image

    from hiddenunits.book import notebook, style

    fig = _small_figure()
    engine = fig.get_layout_engine()
    light, meta = notebook.png_light_and_dark(fig)
    assert fig.get_layout_engine() is engine  # the layout engine is given back
    tight = BytesIO()
    with style.context():
        _small_figure().savefig(tight, format="png", dpi=2 * fig.dpi, bbox_inches="tight")
    size = Image.open(BytesIO(b64decode(light))).size
    assert abs(size[0] - Image.open(tight).size[0]) <= 2
    assert abs(size[1] - Image.open(tight).size[1]) <= 2
    assert meta["width"] == size[0] // 2
    assert Image.open(BytesIO(b64decode(meta[notebook.DARK_KEY]))).size == size
    assert b64decode(notebook.pdf_of(fig)).startswith(b"%PDF")
    with pytest.raises(TypeError, match="needs a matplotlib Figure, not str"):
        with notebook.laid_out("figure"):
            pass


def test_pdf_is_rendered_again_when_the_figure_changed(monkeypatch):
    from IPython.core import pylabtools

    from hiddenunits.book import notebook

    calls = []
    real = pylabtools.print_figure
    monkeypatch.setattr(pylabtools, "print_figure",
                        lambda fig, fmt, **kw: calls.append(fmt) or real(fig, fmt, **kw))
    fig = _small_figure()
    notebook.png_light_and_dark(fig)
    assert calls == ["png", "png", "pdf"]
    handed = notebook.pdf_of(fig)  # the PDF rendered with the PNGs, unchanged figure
    assert calls == ["png", "png", "pdf"] and handed is not None
    notebook.png_light_and_dark(fig)
    fig.axes[0].set_title("changed")
    notebook.pdf_of(fig)
    assert calls[-1] == "pdf" and len(calls) == 7  # stale: rendered again
    assert notebook.pdf_of(fig) is not None and len(calls) == 8  # nothing left to hand over


def test_clean_notebook_drops_build_only_content():
    from hiddenunits.book.notebook import DARK_KEY
    from hiddenunits.book.sphinxext import FINGERPRINT
    from hiddenunits.book.web import clean_notebook

    nb = {"metadata": {"source_map": [1], "kernelspec": {}}, "cells": [
        {"cell_type": "code", "source": FINGERPRINT + "abc", "outputs": []},
        {"cell_type": "code", "source": "x = 1", "outputs": [
            {"output_type": "display_data", "data": {"image/png": "AAA"},
             "metadata": {"image/png": {DARK_KEY: "BBB", "width": 3}}}]}]}
    out = clean_notebook(nb)
    assert [c["source"] for c in out["cells"]] == ["x = 1"]
    assert out["cells"][0]["outputs"][0]["metadata"] == {"image/png": {"width": 3}}
    assert "source_map" not in out["metadata"] and "source_map" in nb["metadata"]


def test_clean_notebook_ids_do_not_depend_on_the_read():
    from hiddenunits.book.web import clean_notebook

    def read(ids):
        return {"metadata": {}, "cells": [
            {"cell_type": "markdown", "id": ids[0], "source": "# Title"},
            {"cell_type": "code", "id": ids[1], "source": "x = 1", "outputs": []},
            {"cell_type": "code", "id": ids[2], "source": "x = 1", "outputs": []}]}

    first = clean_notebook(read(["a1", "b2", "c3"]))
    again = clean_notebook(read(["zz", "yy", "xx"]))
    ids = [c["id"] for c in first["cells"]]
    assert ids == [c["id"] for c in again["cells"]]
    assert len(set(ids)) == 3  # unique, also for cells with the same text


def test_every_config_key_is_read():
    """Removing any key of _config.yml changes the configuration Jupyter Book hands Sphinx."""
    import yaml
    from jupyter_book.config import get_final_config

    config = yaml.safe_load((ROOT / "_config.yml").read_text())

    def final(cfg):
        sphinx, meta = get_final_config(user_yaml=cfg, cli_config={"latex_individualpages":
                                                                   False}, validate=False)
        return repr(sorted(sphinx.items(), key=str)), repr(meta)

    reference = final(json.loads(json.dumps(config)))

    def leaves(d, path=()):
        for k, v in d.items():
            if isinstance(v, dict) and v and path + (k,) != ("sphinx", "config"):
                yield from leaves(v, path + (k,))
            else:
                yield path + (k,)

    dead = []
    for path in leaves(config):
        cfg = json.loads(json.dumps(config))
        d = cfg
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
        if final(cfg) == reference:
            dead.append(".".join(path))
    assert not dead, f"keys that change nothing: {dead}"


def test_pdf_numbers_statements_per_chapter_like_the_web():
    """LaTeX's per-section numbers (1.4.1, 1.2.1) become the web's per-chapter 1.k."""
    from types import SimpleNamespace

    from hiddenunits.book import paper

    env = SimpleNamespace(
        proof_list={"a": {"countertype": "theorem"}},
        toc_fignumbers={"book/basis": {"theorem": {"thm-a": (1, 4, 1), "thm-b": (1, 2, 1),
                                                   "thm-c": (1, 7, 2)},
                                       "figure": {"fig-a": (1, 3)}}})
    latex = SimpleNamespace(builder=SimpleNamespace(format="latex"))
    assert paper.number_like_the_web(latex, env) == []
    numbers = env.toc_fignumbers["book/basis"]
    assert numbers["theorem"] == {"thm-b": (1, 1), "thm-a": (1, 2), "thm-c": (1, 3)}
    assert numbers["figure"] == {"fig-a": (1, 3)}
    # Sphinx assigns every number afresh on env-get-updated (its toctree collector, at
    # the default priority 500): the renumbering must come after it, not on env-updated
    calls = []
    app = SimpleNamespace(add_post_transform=lambda *a: None,
                          connect=lambda event, f, priority=500: calls.append((event, f,
                                                                               priority)))
    paper.setup(app)
    assert ("env-get-updated", paper.number_like_the_web, 900) in calls


def test_source_index_is_one_list():
    """viewcode's index nests a package's modules as a list directly inside a list."""
    from hiddenunits.book.web import flat_module_index

    body = ('<h1>All modules</h1>\n<ul><li><a href="a.html">a</a></li>\n'
            '<ul><li><a href="a/b.html">a.b</a></li>\n</ul><li><a href="c.html">c</a></li>\n'
            '</ul>\n')
    flat = flat_module_index(body)
    assert flat.startswith("<h1>All modules</h1>")
    assert flat.count("<ul>") == 1 and flat.count("<li>") == 3
    assert re.search(r"<ul>\s*<li>.*</li>\s*</ul>", flat, re.S)
    assert "<ul><ul>" not in flat.replace("\n", "") and "</ul><li>" not in flat
    assert "a/b.html" not in flat_module_index(body, exists=lambda href: href != "a/b.html")


def test_code_cells_fit_the_line_length():
    """No line of a code cell in book/*.md is longer than ruff's 99 characters."""
    import re
    import tomllib

    limit = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["line-length"]
    cell = re.compile(r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
    long = []
    for page in sorted((ROOT / "book").glob("*.md")):
        text = page.read_text()
        for m in cell.finditer(text):
            first = text[:m.start(2)].count("\n") + 1
            for i, line in enumerate(m.group(2).splitlines()):
                if len(line) > limit:
                    long.append(f"{page.name}:{first + i}: {len(line)} characters")
    assert not long, "\n".join(long)


# --------------------------------------------------------------------------- builds
@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    root = build_fixture(tmp_path_factory.mktemp("fixture"))
    result = jb(root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root, result.stdout + result.stderr


@pytest.mark.slow
def test_build_log_has_no_kernel_noise(fixture_site):
    _, log = fixture_site
    assert "without encryption" not in log


@pytest.mark.slow
def test_chapter_page_offers_downloads_and_no_thebe(fixture_site):
    root, _ = fixture_site
    html = (root / "_build" / "html" / "book" / "fixture.html").read_text()
    assert 'href="../_notebooks/book/fixture.ipynb"' in html
    assert 'href="../_sources/book/fixture.md"' in html
    assert "window.print()" not in html  # the theme's "print to PDF"
    assert "hidden-units.pdf" not in html  # no PDF was built
    assert "THEBE_JS_URL" not in html and "unpkg" not in html and "sphinx-thebe" not in html
    intro = (root / "_build" / "html" / "book" / "intro.html").read_text()
    assert "make pdf" in intro and "hidden-units.pdf" not in intro


@pytest.mark.slow
def test_markup_for_assistive_technology(fixture_site):
    """What axe-core flagged on the real site, fixed in the markup the build writes."""
    root, _ = fixture_site
    html = root / "_build" / "html"
    bib = (html / "book" / "bibliography.html").read_text()
    assert 'class="citation-list"' in bib and 'role="listitem"' in bib
    assert "doc-biblioentry" not in bib
    page = (html / "book" / "fixture.html").read_text()
    assert "<summary>" in page and 'aria-label="Toggle hidden content"' not in page
    assert 'class="btn search-button-field' in page
    assert not re.search(r'search-button-field[^>]*aria-label', page)
    switch = page[page.index("theme-switch-button"):]
    switch = switch[:switch.index("</button>")]
    assert switch.count('aria-hidden="true"') == 3 and " title=" not in switch
    index = (html / "_modules" / "index.html").read_text()
    assert "builtins" not in index and index.count("<ul>") == 1
    api = (html / "book" / "api.html").read_text()
    ids = set(re.findall(r'id="([^"]+)"', api))
    for source in (html / "_modules").rglob("*.html"):
        for target in re.findall(r'class="viewcode-back" href="[^"#]*api\.html#([^"]+)"',
                                 source.read_text()):
            assert target in ids, f"{source.name}: back-link to a missing #{target}"


@pytest.mark.slow
def test_figures_have_a_dark_rendering_and_keep_their_caption(fixture_site):
    root, _ = fixture_site
    html = (root / "_build" / "html" / "book" / "fixture.html").read_text()
    figure = html[html.index('<figure class="align-default" id="fig-fixture-angles">'):]
    figure = figure[:figure.index("</figure>")]
    assert 'class="only-light"' in figure and 'class="only-dark"' in figure
    assert "<figcaption>" in figure
    light, dark = re.findall(r'<img [^>]*src="\.\./(_images/[^"]+)"', figure)
    assert (root / "_build" / "html" / light).read_bytes() != \
        (root / "_build" / "html" / dark).read_bytes()


@pytest.mark.slow
def test_check_line_links_to_the_api_entry_of_the_check(fixture_site):
    root, _ = fixture_site
    html = (root / "_build" / "html" / "book" / "fixture.html").read_text()
    assert ('href="api.html#hiddenunits.book.checks.initialization.check_cos_moments"' in html)
    api = (root / "_build" / "html" / "book" / "api.html").read_text()
    assert 'id="hiddenunits.book.checks.initialization.check_cos_moments"' in api
    assert "_modules/hiddenunits/book/checks/initialization.html" in api  # [source]


@pytest.mark.slow
def test_glued_numbers_are_mathematics_and_hidden_code_is_on_demand(fixture_site):
    root, _ = fixture_site
    html = (root / "_build" / "html" / "book" / "fixture.html").read_text()
    assert r'<span class="math notranslate nohighlight">\(2.3 \times 10^{-5}\)</span>' in html
    assert r"\(2.4 \times 10^{4}\)" in html and r"\(0.25\)" in html
    # one "Show code" toggle per hide-input cell of the fixture chapter
    hidden = FIXTURE_CHAPTER.count(":tags: [hide-input]")
    assert hidden >= 3 and html.count('<details class="admonition hide above-input">') == hidden
    assert '<span class="caption-number">Table 1.1 </span>' in html


@pytest.mark.slow
def test_downloaded_notebook_runs_in_a_fresh_kernel(fixture_site, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    root, _ = fixture_site
    path = root / "_build" / "html" / "_notebooks" / "book" / "fixture.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert not any("sources of hiddenunits" in c.source for c in nb.cells)
    assert "hiddenunits/dark-png" not in path.read_text()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.slow
def test_student_edition_hides_the_solutions(fixture_site, tmp_path):
    root, _ = fixture_site
    full = (root / "_build" / "html" / "book" / "fixture.html").read_text()
    assert "The density of" in full
    out = tmp_path / "student"
    env = {**os.environ, "HIDDENUNITS_EDITION": "student", "PYTHONPATH": _pythonpath()}
    result = subprocess.run([str(JB), "build", str(root), "--path-output", str(out), "-W", "-n",
                             "--keep-going"], capture_output=True, text=True, timeout=900,
                            env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    student = (out / "_build" / "html" / "book" / "fixture.html").read_text()
    assert "Show that for" in student and "The density of" not in student
