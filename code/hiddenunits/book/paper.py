"""Sphinx extension for the PDF edition: what the web hides behind a toggle, paper omits.

* Code that the site shows behind "Show code" (cells tagged ``hide-input`` or
  ``hide-cell``) is left out of the PDF: the figure, table or number it makes is printed,
  and the code is one click away in the web edition and in the chapter's notebook.
* Statements carry the web's numbers: sphinx-proof numbers them per chapter in HTML
  ("Theorem 1.1") but per section in LaTeX ("Theorem 1.4.1"); :func:`number_like_the_web`
  renumbers them per chapter, in order, for the LaTeX builder (boxes and references).
* A proof prints as a paragraph that starts with *Proof.*, without the empty title bar of
  an untitled admonition box.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

HIDDEN_INPUT = ("input", "input+output", "all")


class DropHiddenInput(SphinxPostTransform):
    """Remove the source of code cells that the web shows only on demand (LaTeX only)."""

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        """Drop the source of hidden-input cells from the document."""
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code" or cell.get("hide_mode") not in HIDDEN_INPUT:
                continue
            for child in list(cell.children):
                if child.get("nb_element") == "cell_code_source":
                    cell.remove(child)
            if not cell.children:
                cell.parent.remove(cell)


def number_like_the_web(app, env) -> list[str]:
    """For LaTeX, number each chapter's statements ``chapter.k`` in reading order, as HTML.

    Runs on ``env-get-updated`` after Sphinx's own handler, which assigns every number
    afresh on each build (``env-updated`` comes before it, so a change made there is
    overwritten: the PDF printed "Theorem 1.4.1").  Returns no documents to re-read.
    """
    if app.builder.format != "latex":
        return []
    kinds = {p["countertype"] for p in getattr(env, "proof_list", {}).values()}
    for numbers in env.toc_fignumbers.values():
        for kind in kinds & numbers.keys():
            ordered = sorted(numbers[kind].items(), key=lambda item: item[1])
            numbers[kind] = {key: (num[0], k) for k, (key, num) in enumerate(ordered, 1)}
    return []


class PlainProofs(SphinxPostTransform):
    """Print a proof as its paragraphs (LaTeX): an untitled box shows an empty title bar."""

    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        """Replace each proof's admonition box by a plain container of its content."""
        from sphinx_proof.nodes import proof_node

        for box in list(self.document.findall(nodes.admonition)):
            if "proof" in box["classes"] and isinstance(box.parent, proof_node):
                plain = nodes.container(classes=["proof"])
                plain += box.children
                box.replace_self(plain)


def setup(app):
    """Register the PDF edition's transforms with Sphinx."""
    app.add_post_transform(DropHiddenInput)
    app.add_post_transform(PlainProofs)
    # after the toctree collector (priority 500) has assigned the numbers
    app.connect("env-get-updated", number_like_the_web, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
