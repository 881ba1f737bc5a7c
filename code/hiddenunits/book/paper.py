"""Sphinx extension for the PDF edition: what the web hides behind a toggle, paper omits.

* Code that the site shows behind "Show code" (cells tagged ``hide-input`` or
  ``hide-cell``) is left out of the PDF: the figure, table or number it makes is printed,
  and the code is one click away in the web edition and in the chapter's notebook.
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


def setup(app):
    """Register the PDF edition's transforms with Sphinx."""
    app.add_post_transform(DropHiddenInput)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
