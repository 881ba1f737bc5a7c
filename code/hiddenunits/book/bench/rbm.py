"""Benchmark of chapter 4: our CD/PCD loop against scikit-learn's BernoulliRBM."""

from __future__ import annotations

import math

import numpy as np

from hiddenunits import rbm as R
from hiddenunits.book.bench import benchmark


@benchmark("rbm", summary="our CD/PCD RBM vs scikit-learn BernoulliRBM")
def bench_rbm() -> int:
    """Print time per epoch and exact log-likelihood of both; 0 when the target is met."""
    cfg = R.BenchConfig()
    print(f"Binarised digits ({cfg.n_examples} x 64), {cfg.n_hidden} hidden units, "
          f"batch {cfg.batch_size}, lr {cfg.lr}, {cfg.epochs} epochs, seeds {list(cfg.seeds)}.")
    print("Both train with PCD-1 (persistent chains, one per batch row), W ~ N(0, 0.01^2).")
    r = R.benchmark_rbm(cfg)
    a, b = np.array(r.ours_ll), np.array(r.sklearn_ll)
    print(f"{'':22s}{'ms/epoch':>10s}{'exact mean log p(v)':>24s}")
    print(f"{'hiddenunits PCD-1':22s}{1e3 * r.ours_seconds:10.2f}"
          f"{a.mean():16.3f} +- {a.std(ddof=1) / math.sqrt(a.size):.3f}")
    print(f"{'sklearn BernoulliRBM':22s}{1e3 * r.sklearn_seconds:10.2f}"
          f"{b.mean():16.3f} +- {b.std(ddof=1) / math.sqrt(b.size):.3f}")
    diff, se = r.ll_difference
    print(f"speed-up {r.speedup:.2f}x (target >= 1.5x); log-likelihood ratio ours/sklearn "
          f"{a.mean() / b.mean():.4f}; difference {diff:+.3f} nats (standard error {se:.3f}; "
          f"target >= -2 SE)")
    print("target met" if r.target_met else "target NOT met")
    return 0 if r.target_met else 1
