"""MyST-NB renderer of the book: each figure in a light and a dark rendering on the web.

A chapter's kernel (:func:`hiddenunits.book.notebook.setup`) stores with each PNG figure
its rendering for the dark page theme.  This renderer, registered as the MyST-NB render
plugin ``hiddenunits`` (entry point group ``myst_nb.renderers``; ``nb_render_plugin`` in
``_config.yml``), writes that rendering next to the figure and emits both images, with the
classes ``only-light`` and ``only-dark`` that pydata-sphinx-theme shows in one theme each
(and does not dim).  Other builders (LaTeX takes the PDF rendering) are unchanged.
"""

from __future__ import annotations

import hashlib
from binascii import a2b_base64

from docutils import nodes
from myst_nb.core.render import MimeData, NbElementRenderer

from hiddenunits.book.notebook import DARK_KEY


class Renderer(NbElementRenderer):
    """MyST-NB's renderer, plus the dark rendering of figures in HTML."""

    def render_image(self, data: MimeData) -> list[nodes.Element]:
        """The image, and for a PNG figure with a dark rendering, that one too (HTML)."""
        images = super().render_image(data)
        dark = data.output_metadata.get(data.mime_type, {}).get(DARK_KEY)
        if (dark is None or data.mime_type != "image/png" or len(images) != 1
                or not self._html()):
            return images
        light = images[0]
        content = a2b_base64(dark)
        uri = self.write_file([f"{hashlib.sha256(content).hexdigest()}.png"], content,
                              overwrite=False, exists_ok=True)
        shadow = light.deepcopy()
        shadow["uri"] = uri
        light["classes"].append("only-light")
        shadow["classes"].append("only-dark")
        return [light, shadow]

    def _html(self) -> bool:
        env = self.renderer.sphinx_env
        builder = getattr(getattr(env, "app", None), "builder", None)
        return builder is not None and builder.format == "html"
