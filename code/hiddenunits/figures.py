"""TEMPORARY shim while the science modules move their figures to hiddenunits.book.figures."""

import functools

from hiddenunits.book import style
from hiddenunits.book.chapters import get_chapter
from hiddenunits.book.figures import FIGURES, FigureSpec
from hiddenunits.book.registry import origin_of


def figure(chapter):
    def register(fn):
        @functools.wraps(fn)
        def styled(*args, **kwargs):
            with style.context():
                return fn(*args, **kwargs)

        key = get_chapter(chapter).key
        FIGURES.add(fn.__name__, key, FigureSpec(fn.__name__, key, styled), origin_of(fn))
        return styled

    return register
