"""Checks of the book's labelled claims, one module per chapter (named by its key).

Each check takes the statement as parameters (true by default) and returns its measured
error; each claim lists false variants of its statement (see
:mod:`hiddenunits.book.claims`).
"""
