"""Tables of chapter 1, "Linear hidden units have no privileged basis" (MyST/LaTeX cells).

Each function returns ``(headers, rows)`` for :func:`hiddenunits.book.notebook.show_table`.
"""

from __future__ import annotations

import numpy as np

from hiddenunits import balancedness as bal
from hiddenunits import interpretability as ip
from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry as sym
from hiddenunits.book.claims import latex_number
from hiddenunits.validation import check_int

Table = tuple[list[str], list[list[str]]]


def trajectory_rows(steps: int = 300) -> Table:
    """The equivariance table: one row per procedure of ``symmetry.CASES``."""
    steps = check_int("steps", steps, minimum=1)
    headers = ["Procedure", "Predicted equivariant", "Deviation", r"$L(\theta_T)$",
               r"$\vert L(\theta_T) - L(\theta'_T) \vert$"]
    rows = []
    for case in sym.CASES:
        r = sym.compare(case, steps=steps)
        rows.append([case.name, "yes" if case.equivariant else "no",
                     f"${latex_number(float(r.deviation.max()))}$", f"{r.loss[-1]:.6f}",
                     f"${latex_number(abs(float(r.loss[-1] - r.loss_rotated[-1])))}$"])
    return headers, rows


def critical_rows(k: int = 4, top: int = 6) -> Table:
    """The critical points (U_S^T, U_S) of the digits autoencoder, with 1-based index sets."""
    headers = ["$S$", "$L$", r"$\Vert\nabla L\Vert$", r"$\lambda_{\min}(H)$",
               r"$\min_{i \in S, j \notin S} (\lambda_i - \lambda_j)/2$"]
    points = lae.critical_points(k, top)
    rows = [["$\\{" + ",".join(str(i + 1) for i in cp.S) + "\\}$", f"{cp.loss:.4f}",
             f"${latex_number(cp.grad_norm)}$", f"${latex_number(cp.min_eig, 3)}$",
             "(global minimum)" if cp.S == tuple(range(k)) else f"${latex_number(cp.bound, 3)}$"]
            for cp in points]
    return headers, rows


def published_rows(trajectory_error: float) -> Table:
    """Published (qualitative) results against what the chapter reproduces.

    ``trajectory_error`` is the error measured by the check of trajectory equivariance.
    """
    study = lae.unit_study()
    saddles = [cp for cp in lae.critical_points() if cp.S != (0, 1, 2, 3)]
    adam = sym.compare(sym.CASES[5])
    table = bal.drift_table()
    hs = bal.STEPS
    ds = ip.direction_study()
    rows = [
        ["{cite:t}`baldi1989pca`", "global minimum = projection on the principal subspace, "
         "weights only up to $\\mathrm{GL}(k)$, other critical points saddles",
         f"loss gap ${latex_number(max(study.loss_gaps))}$; data-norm error of $BA$ "
         f"${latex_number(max(study.weighted_errors))}$; "
         f"{sum(cp.min_eig < 0 for cp in saddles)} of {len(saddles)} other critical points "
         "saddles"],
        ["{cite:t}`wilson2016linear`", "rotated initialisation gives the rotated solution "
         "(gradient descent and SGD)", f"exact: deviation ${latex_number(trajectory_error)}$; "
         f"false for Adam (${latex_number(float(adam.deviation.max()))}$)"],
        ["{cite:t}`du2018balanced`", "$AA^\\top - B^\\top B$ conserved by gradient flow",
         f"midpoint drift ${latex_number(float(np.nanmax(table['implicit midpoint'])))}$; "
         f"gradient descent drifts with order "
         f"{bal.order(hs[1:], table['gradient descent (Euler)'][1:]):.2f} in $\\eta$"],
        ["{cite:t}`szegedy2014intriguing`", "MNIST: top images of random directions as "
         "coherent as those of units", f"digits: purity {ds.unit.mean():.3f} (units) vs "
         f"{ds.random.mean():.3f} (random), chance {ds.chance:.3f}"],
    ]
    return ["Source", "Published (qualitative)", "Reproduced here"], rows
