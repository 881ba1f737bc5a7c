"""Benchmark of chapter 3: the batched probe fit against scikit-learn."""

from __future__ import annotations

from hiddenunits import probes
from hiddenunits.book.bench import benchmark


@benchmark("probes", "batched torch probes vs one scikit-learn LogisticRegression per layer")
def bench_probes() -> int:
    """Print time and probe test accuracy of both methods; 0 when torch is >= 5x faster
    with accuracy within 1 percentage point on every layer (see
    :func:`hiddenunits.probes.compare_with_sklearn`)."""
    r = probes.compare_with_sklearn()
    cfg = r["config"]
    print(f"Probes: multinomial logistic regression, C = {cfg.C} (lam = 1/(C N)), "
          f"stop at max|grad| <= {cfg.tol}; features standardised with training statistics;")
    print(f"scikit-learn LogisticRegression(solver='lbfgs') per layer in float64 vs "
          f"batched torch L-BFGS ({cfg.dtype}); {r['threads']} thread(s) each; "
          f"best of {r['repeats']}.")
    head = (f"{'layer':<18}{'D':>5}{'it sk':>7}{'it torch':>9}{'acc sk':>8}{'acc torch':>10}"
            f"{'diff pp':>9}{'F sk':>10}{'F torch':>10}")
    print(head)
    print("-" * len(head))
    diffs = 100 * (r["acc_torch"] - r["acc_sklearn"])
    for i, name in enumerate(r["names"]):
        print(f"{name:<18}{r['widths'][i]:>5}{r['iter_sklearn'][i]:>7}{r['iter_torch'][i]:>9}"
              f"{r['acc_sklearn'][i]:>8.3f}{r['acc_torch'][i]:>10.3f}{diffs[i]:>+9.2f}"
              f"{r['obj_sklearn'][i]:>10.5f}{r['obj_torch'][i]:>10.5f}")
    print("-" * len(head))
    print(f"time: scikit-learn {r['t_sklearn']:.2f} s, torch {r['t_torch']:.2f} s, "
          f"speed ratio {r['ratio']:.1f}x (target >= {probes.SPEED_TARGET:g}x)")
    print(f"largest accuracy difference {r['worst_pp']:.2f} percentage points "
          f"(target <= {probes.ACCURACY_TARGET_PP:g}); all fits converged: {r['converged']}")
    met = r["met"]
    print("target met" if met else "target NOT met")
    return 0 if met else 1
