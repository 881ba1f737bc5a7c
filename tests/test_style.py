"""The figure style's shared mathtext cache: faster renderings, the same bytes."""

from __future__ import annotations

import functools
from io import BytesIO

import matplotlib
import pytest
from matplotlib.mathtext import MathTextParser

from hiddenunits.book import style

matplotlib.use("Agg")

PARSE = MathTextParser._parse_cached.__wrapped__  # matplotlib's uncached parse


def _figure():
    with style.context():
        fig, ax = style.new_figure()
        ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10], label=r"$\|\delta_\ell\|$")
        ax.set_xlabel(r"layer $\ell$ of $L$")
        ax.set_title(r"$\sigma'(t) \leq 1/4$")
        ax.legend()
    return fig


def _render(fig) -> list[bytes]:
    out = []
    for fmt in ("png", "pdf"):
        buf = BytesIO()
        with style.context():
            fig.savefig(buf, format=fmt, metadata=style.METADATA[fmt])
        out.append(buf.getvalue())
    return out


@pytest.fixture
def parse_method(monkeypatch):
    """Install a ``_parse_cached`` for one test (the book's is restored afterwards)."""
    monkeypatch.setattr(style, "share_mathtext_parses", lambda: True)

    def install(method):
        monkeypatch.setattr(MathTextParser, "_parse_cached", method)
    return install


def test_shared_cache_renders_the_same_bytes(parse_method):
    parse_method(functools.lru_cache(50)(PARSE))  # matplotlib's own, per parser
    before = _render(_figure())
    parse_method(style.shared_parse_cache(PARSE))
    assert _render(_figure()) == before


def test_a_second_rendering_parses_nothing_again(parse_method):
    calls = []

    def counting(parser, s, *args):
        calls.append(s)
        return PARSE(parser, s, *args)

    parse_method(functools.lru_cache(50)(counting))
    fig = _figure()
    _render(fig)
    first = len(calls)
    _render(fig)  # new renderers make new parsers: matplotlib's cache misses
    assert first > 0 and len(calls) > first

    calls.clear()
    parse_method(style.shared_parse_cache(counting))
    _render(fig)
    first = len(calls)
    _render(fig)
    assert first > 0 and len(calls) == first


def test_installed_by_the_style():
    assert style.share_mathtext_parses()
    assert MathTextParser._parse_cached.shared_by_parsers
