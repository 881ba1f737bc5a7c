"""Code behind *Hidden Units: Symmetry, Nonlinearity and Initialization*.

Each module holds one idea of the book; chapters import them, tests check them
against independent references, and ``python -m hiddenunits`` runs them from the
command line.
"""

__version__ = "0.1.0"
