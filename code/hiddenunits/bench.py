"""TEMPORARY shim while the science modules move their benchmarks to hiddenunits.book.bench."""

from hiddenunits.book.bench import BENCHMARKS, Benchmark
from hiddenunits.book.registry import origin_of

_CHAPTER = {"probes": "separability", "rbm": "rbm"}


def benchmark(name, summary):
    def register(fn):
        chapter = _CHAPTER[name]
        BENCHMARKS.add(name, chapter, Benchmark(name, chapter, summary, fn), origin_of(fn))
        return fn

    return register
