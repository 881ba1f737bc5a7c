"""TEMPORARY shim while the science modules move their figures to hiddenunits.book.figures."""

from hiddenunits.book.style import COLORS, new_figure  # noqa: F401
