"""Sphinx extension for the web edition: downloads, the PDF link, a clean page, two editions.

* Each page's download menu offers the executed notebook (the build's own execution, as
  MyST-NB wrote it, without the fingerprint cell of :mod:`hiddenunits.book.sphinxext`),
  the MyST source and, when the build has it, the PDF edition; it replaces the theme's
  menu (the source and the browser's print dialog).
* The ``{pdf-download}`` directive links the PDF only when it has been built.
* sphinx-thebe's script block (declared twice on every page by Sphinx, a console error)
  and its script, which name a public CDN, are dropped: the book has no live kernels.
* ``HIDDENUNITS_EDITION=student`` builds the student edition: exercise solutions hidden.
* Markup that assistive technology misreads is fixed where it is written (axe-core, in
  ``tests/test_site.py``, checks every page): the "Show code" toggles are named by their
  visible text, bibliography entries are list items of their list, and the index of the
  source pages is one list (Sphinx nests lists directly in lists there).
* The source pages (``_modules``) are written afresh whenever a page is read again:
  viewcode keeps a page that is newer than its module, even when the documentation it
  links back to has changed, so that its back-links and anchors would go stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from html import escape
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from hiddenunits.book.notebook import DARK_KEY
from hiddenunits.book.sphinxext import is_fingerprint_cell

EDITIONS = ("full", "student")
NOTEBOOKS = "_notebooks"
"""Folder of the site that holds the executed notebooks offered for download."""
PDF_IN_SITE = "_static/hidden-units.pdf"


def edition() -> str:
    """The edition being built, from ``HIDDENUNITS_EDITION`` (default ``"full"``)."""
    name = os.environ.get("HIDDENUNITS_EDITION", "full").strip() or "full"
    if name not in EDITIONS:
        raise ValueError(f"HIDDENUNITS_EDITION={name!r}: choose one of {EDITIONS}")
    return name


def pdf_path(app) -> Path:
    """Where ``make pdf`` writes the PDF edition of the book in ``app.srcdir``."""
    target = app.config.latex_documents[0][1] if app.config.latex_documents else "book.tex"
    return Path(app.srcdir) / "_build" / "latex" / Path(target).with_suffix(".pdf").name


def clean_notebook(nb: dict) -> dict:
    """The executed notebook as a reader gets it: no build-only cell, output or metadata.

    Drops the fingerprint cell, the dark renderings of figures (site only) and MyST-NB's
    map of cells to source lines.  Cell ids are made from each cell's position and text
    (the build reads the page with random ones), so that two builds offer the same file.
    """
    nb = json.loads(json.dumps(nb))
    nb["cells"] = [c for c in nb["cells"] if not is_fingerprint_cell(c)]
    nb["metadata"].pop("source_map", None)
    for i, cell in enumerate(nb["cells"]):
        if "id" in cell:
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            cell["id"] = f"{i}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
        for output in cell.get("outputs", ()):
            png = output.get("metadata", {}).get("image/png", {})
            png.pop(DARK_KEY, None)
            if "image/png" in output.get("metadata", {}) and not png:
                del output["metadata"]["image/png"]
    return nb


def _executed(app) -> Path:
    """MyST-NB's folder of executed notebooks and their outputs."""
    return Path(app.env.mystnb_config.output_folder)


def _notebook_pages(app) -> list[str]:
    return sorted(d for d in app.env.found_docs
                  if (_executed(app) / f"{d}.ipynb").is_file()
                  and "kernelspec" in app.env.metadata.get(d, {}))


# --------------------------------------------------------------------------- config
def _on_config_inited(app, config) -> None:
    # pydata-sphinx-theme logs "Got invalid theme mode" on every page without a default
    config.html_context.setdefault("default_mode", "auto")
    config.hu_edition = edition()
    if config.hu_edition == "student":
        # Not sphinx-exercise's hide_solutions: with it, a gated solution (solution-start /
        # solution-end) leaves its end node and its content behind, and the HTML writer
        # fails on the end node.  The solutions are dropped after the gated ones are merged.
        # built into its own folder, it executes nothing: the full edition's cache serves
        if not config.nb_execution_cache_path:
            config.nb_execution_cache_path = str(Path(app.srcdir) / "_build" / ".jupyter_cache")
    config.hu_pdf_available = pdf_path(app).is_file()


# --------------------------------------------------------------------------- page
def _is_thebe(asset) -> bool:
    name = os.fspath(getattr(asset, "filename", "") or "")
    body = getattr(asset, "attributes", {}).get("body", "") or ""
    return "thebe" in name or "THEBE_JS_URL" in body


def _download_buttons(app, pagename: str, context: dict) -> list[dict]:
    pathto = context["pathto"]
    buttons = []
    if pagename in _notebook_pages(app):
        buttons.append({"type": "link", "url": pathto(f"{NOTEBOOKS}/{pagename}.ipynb", 1),
                        "text": ".ipynb", "icon": "fas fa-code",
                        "tooltip": "Download the executed notebook",
                        "label": "download-notebook-button"})
    if context.get("sourcename") and context.get("page_source_suffix"):
        buttons.append({"type": "link", "url": f"{pathto('_sources', 1)}/{context['sourcename']}",
                        "text": context["page_source_suffix"], "icon": "fas fa-file",
                        "tooltip": "Download the MyST source",
                        "label": "download-source-button"})
    if app.config.hu_pdf_available:
        buttons.append({"type": "link", "url": pathto(PDF_IN_SITE, 1), "text": ".pdf",
                        "icon": "fas fa-file-pdf", "tooltip": "Download the book as PDF",
                        "label": "download-pdf-button"})
    return buttons


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    if pagename == "_modules/index" and "body" in context:
        # viewcode writes the source pages before their index
        pages = Path(app.outdir) / "_modules"
        context["body"] = flat_module_index(context["body"],
                                            exists=lambda href: (pages / href).is_file())
    if "script_files" in context:
        context["script_files"][:] = [a for a in context["script_files"] if not _is_thebe(a)]
    if "css_files" in context:
        context["css_files"][:] = [a for a in context["css_files"] if not _is_thebe(a)]
    header = context.get("header_buttons")
    if header is None:
        return
    header[:] = [b for b in header if b.get("label") != "download-buttons"]
    buttons = _download_buttons(app, pagename, context)
    if buttons:
        header.insert(0, {"type": "group", "tooltip": "Download this page",
                          "icon": "fas fa-download", "buttons": buttons,
                          "label": "download-buttons"})


# --------------------------------------------------------------------------- markup
def visit_hide_code(self, node) -> None:
    """Open a "Show code" toggle, named by its visible text.

    MyST-NB labels the ``<summary>`` "Toggle hidden content", which leaves its visible text
    ("Show code cell source") out of its accessible name (WCAG 2.5.3).
    """
    self.body.append(f'<details class="admonition hide {" ".join(node["classes"])}">\n'
                     "<summary>\n"
                     f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n'
                     f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n'
                     "</summary>\n")


def depart_hide_code(self, node) -> None:
    """Close a "Show code" toggle."""
    self.body.append("</details>\n")


def visit_citation(self, node) -> None:
    """Open a bibliography entry as an item of the list that docutils wraps the entries in.

    Docutils gives an entry the role ``doc-biblioentry``, deprecated in DPUB-ARIA 1.1, so
    that the list (``role="list"``) seems to hold the entries' links directly.
    """
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self, node) -> None:
    """Close a bibliography entry (and the list after the last one)."""
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


_MODULE_ITEM = re.compile(r'<li><a href="([^"]*)">[^<]*</a></li>')


def flat_module_index(body: str, exists=lambda href: True) -> str:
    """The index of source pages as one list, of the pages that ``exists``.

    viewcode nests ``<ul>`` directly in ``<ul>``, and lists every module it ever looked
    at, also one without a source page (a stale entry of an incremental build's
    environment, e.g. ``builtins``), which would be a broken link.
    """
    items = [m.group(0) for m in _MODULE_ITEM.finditer(body) if exists(m.group(1))]
    if not items:
        return body
    head = body[:body.index("<ul>")] if "<ul>" in body else ""
    return head + "<ul>\n" + "\n".join(items) + "\n</ul>\n"


def _fresh_source_pages(app, env, docnames) -> None:
    """Before pages are read again, drop the source pages, so viewcode writes them afresh.

    Their back-links and anchors come from the documentation, so they go stale only when
    some page is read again; a build that reads nothing keeps them (viewcode still writes
    the page of a module that changed), which keeps the no-change rebuild fast.
    """
    if app.builder.format == "html" and docnames:
        shutil.rmtree(Path(app.outdir) / "_modules", ignore_errors=True)


# --------------------------------------------------------------------------- files
def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for docname in _notebook_pages(app):
        nb = json.loads((_executed(app) / f"{docname}.ipynb").read_text(encoding="utf-8"))
        target = out / NOTEBOOKS / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(clean_notebook(nb), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    pdf = pdf_path(app)
    if app.config.hu_pdf_available and pdf.is_file():
        (out / PDF_IN_SITE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, out / PDF_IN_SITE)


# --------------------------------------------------------------------------- directive
class PdfDownload(SphinxDirective):
    """``{pdf-download}``: a link to the PDF edition on the web, when it has been built.

    Without a PDF (``make pdf`` not run) it says how to build one; in the PDF itself it
    writes nothing.  The directive's content is the link text.
    """

    has_content = True

    def run(self) -> list[nodes.Node]:
        """The link, or how to build the PDF, as raw HTML."""
        text = " ".join(self.content).strip() or "Download the PDF edition"
        # no dependency on the PDF file: the page shows only whether it exists, and
        # hu_pdf_available is an "env" setting, so a PDF built later re-reads every page
        if self.config.hu_pdf_available:
            html = (f'<p><a class="reference download" href="{{root}}{PDF_IN_SITE}" '
                    f'download>{text}</a>.</p>')
        else:
            html = ("<p>(This copy of the site was built without the PDF: <code>make pdf"
                    "</code> builds it, and the site links it from then on.)</p>")
        depth = self.env.docname.count("/")
        return [nodes.raw("", html.replace("{root}", "../" * depth), format="html")]


def _drop_solutions(app, doctree) -> None:
    """Student edition: remove every exercise solution (gated ones already merged)."""
    if app.config.hu_edition != "student":
        return
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def setup(app):
    """Register the web edition's configuration, handlers and directive."""
    app.add_config_value("hu_edition", "full", "env", types=[str])
    app.add_config_value("hu_pdf_available", False, "env", types=[bool])
    app.connect("config-inited", _on_config_inited)
    app.connect("doctree-read", _drop_solutions)
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("build-finished", _on_build_finished)
    app.connect("env-before-read-docs", _fresh_source_pages)
    app.add_directive("pdf-download", PdfDownload)
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_code, depart_hide_code))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
