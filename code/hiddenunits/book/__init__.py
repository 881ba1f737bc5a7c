"""The book layer: what turns the science of :mod:`hiddenunits` into *Hidden Units*.

It holds the claim checks (``checks/``, one module per chapter), the figures
(``figures/``), the tables and text output (``tables/``, :mod:`~hiddenunits.book.notebook`),
the benchmarks (``bench/``), the registries that list them in book order
(:mod:`~hiddenunits.book.registry`), the figure style, the command line, the Sphinx
extension and the PDF gate.  It imports the science; the science never imports it.
"""
