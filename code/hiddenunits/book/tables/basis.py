"""Tables of chapter 1, "Linear hidden units have no privileged basis" (MyST/LaTeX cells).

Each ``*_rows`` function returns ``(headers, rows)``; :func:`show` displays such a table with a
caption and a label, numbered like the figures ("Table 1.2").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hiddenunits import balancedness as bal
from hiddenunits import interpretability as ip
from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry as sym
from hiddenunits.book.claims import latex_number
from hiddenunits.book.notebook import markdown_table
from hiddenunits.validation import check_int

Table = tuple[list[str], list[list[str]]]


def captioned(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str,
              name: str) -> str:
    """A MyST ``{table}`` directive: the pipe table with ``caption``, labelled ``name``."""
    if not caption.strip() or "\n" in caption:
        raise ValueError("a table needs a one-line caption")
    if not name.startswith("tab-"):
        raise ValueError(f"table labels start with 'tab-', got {name!r}")
    return f"```{{table}} {caption}\n:name: {name}\n\n{markdown_table(headers, rows)}\n```"


def show(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str,
         name: str) -> None:
    """Display a captioned, numbered table in a chapter (rendered as MyST)."""
    from IPython.display import Markdown, display

    display(Markdown(captioned(headers, rows, caption, name)))


def _m(x: float, digits: int = 2) -> str:
    return f"${latex_number(float(x), digits)}$"


def trajectory_rows(steps: int = sym.COMPARE_STEPS) -> Table:
    """The equivariance table: one row per procedure of ``symmetry.CASES``."""
    steps = check_int("steps", steps, minimum=1)
    headers = ["Procedure", "Predicted equivariant", "Deviation", "final $L$",
               r"$\vert L - L' \vert$ at the end"]
    rows = []
    for case in sym.CASES:
        r = sym.compare(case, steps=steps)
        rows.append([case.name, "yes" if case.equivariant else "no",
                     _m(r.deviation.max()), f"${r.loss[-1]:.6f}$",
                     _m(abs(float(r.loss[-1] - r.loss_rotated[-1])))])
    return headers, rows


def critical_rows(k: int = 4, top: int = 6) -> Table:
    """The critical points (U_S^T, U_S) of the digits autoencoder, with 1-based index sets."""
    headers = ["$S$", "$L$", r"$\Vert\nabla L\Vert$", r"$\lambda_{\min}(H)$",
               r"$\min_{i \in S, j \notin S} (\lambda_i - \lambda_j)/2$",
               r"$\lambda_{\max}(H)$"]
    points = lae.critical_points(k, top)
    rows = [["$\\{" + ",".join(str(i + 1) for i in cp.S) + "\\}$", f"${cp.loss:.4f}$",
             _m(cp.grad_norm), _m(cp.min_eig, 3),
             "(global minimum)" if cp.S == tuple(range(k)) else _m(cp.bound, 3),
             _m(cp.max_eig, 3)]
            for cp in points]
    return headers, rows


def spectrum_rows() -> Table:
    """Balancedness and the two spectra at the end of the runs of ``SPECTRUM_RUNS``."""
    headers = ["Run", r"$\Vert D \Vert_F / \Vert AA^\top \Vert_F$",
               r"hidden spectrum: error against $\lambda_i - \gamma$",
               r"reconstruction spectrum: error against $(1 - \gamma/\lambda_i)^2 \lambda_i$",
               r"$L - \min L$"]
    rows = []
    for spec in bal.SPECTRUM_RUNS.values():
        r = bal.spectrum_run(spec)
        label = (f"${spec.init_scale:g}$ times PyTorch's scale" if spec.init_scale != 1
                 else "PyTorch's scale")
        gamma = float(np.max(spec.decays))
        label += rf", $\gamma = {gamma:g}$"
        rows.append([label, _m(r.balancedness), _m(r.hidden_error), _m(r.output_error),
                     _m(r.loss_gap)])
    return headers, rows


def similarity_rows() -> Table:
    """Seed-to-seed similarity of hidden layers: unit matching against CCA and CKA."""
    study = lae.unit_study()
    sims = ip.seed_similarities()
    top = ip.TOP_CANONICAL

    def mean_se(values):
        m, se = ip.mean_and_standard_error(np.asarray(values, dtype=np.float64))
        return f"${latex_number(m, 2)} \\pm {latex_number(se, 2)}$"

    headers = ["Hidden layer", "Pairs of seeds", "Unit matching",
               "Canonical correlations", "Linear CKA"]
    rows = [
        [f"linear autoencoder, $k = {study.k}$", f"${len(study.unit_unit)}$",
         mean_se(study.unit_unit),
         "one minus the smallest: " + mean_se([1 - c for c in study.canonical_min]),
         "one minus CKA: " + mean_se([1 - c for c in study.cka])],
        [f"ReLU classifier, ${len(ip.relu_classifiers()[0].b1)}$ units",
         f"${len(sims)}$", mean_se([s.unit_match for s in sims]),
         f"mean of the top {top}: " + mean_se([s.canonical[:top].mean() for s in sims]),
         mean_se([s.cka for s in sims])],
    ]
    return headers, rows


def published_rows(trajectory_error: float) -> Table:
    """Published (qualitative) results against what the chapter reproduces.

    ``trajectory_error`` is the error measured by the check of trajectory equivariance.
    """
    study = lae.unit_study()
    saddles = [cp for cp in lae.critical_points() if cp.S != (0, 1, 2, 3)]
    adaptive = {name: float(sym.compare(sym.case(name)).deviation.max())
                for name in ("Adam", "RMSProp", "Adagrad")}
    table = bal.drift_table()
    hs = bal.STEPS
    studies = ip.direction_studies()
    diff, diff_se = ip.mean_and_standard_error([s.difference for s in studies])
    kunin = bal.decay_run(bal.DECAY_RUNS["uniform decay"])
    bao = bal.decay_run(bal.DECAY_RUNS["per-unit decay"])
    bao_long = bal.decay_run(bal.DECAY_RUNS["per-unit decay, longer"])
    tied = sym.stabiliser_run("relu")
    dropped = sym.stabiliser_run("relu", dropout=sym.STABILISER_DROPOUT)
    rows = [
        ["{cite:t}`baldi1989pca`", "global minimum = projection on the principal subspace, "
         "weights only up to $\\mathrm{GL}(k)$, other critical points saddles",
         f"loss gap {_m(max(study.loss_gaps))}; data-norm error of $BA$ "
         f"{_m(max(study.weighted_errors))}; "
         f"${sum(cp.min_eig < 0 < cp.max_eig for cp in saddles)}$ of ${len(saddles)}$ other "
         "critical points have curvature of both signs"],
        ["{cite:t}`wilson2016linear`", "rotated initialisation gives the rotated solution "
         "(gradient descent and SGD)", f"exact: deviation {_m(trajectory_error)}; "
         "false for Adam, RMSProp and Adagrad ("
         + ", ".join(_m(v) for v in adaptive.values()) + ")"],
        ["{cite:t}`goodfellow2016deep` (sec. 8.4), {cite:t}`zhang2023dive`",
         "initial parameters must break the symmetry between hidden units",
         f"two units that start equal are still equal after "
         f"${len(tied.deviation) - 1}$ SGD steps (distance {_m(tied.deviation.max())}); "
         f"dropout separates them ({_m(dropped.deviation.max())})"],
        ["{cite:t}`du2018balanced`", "$AA^\\top - B^\\top B$ conserved by gradient flow",
         f"midpoint drift {_m(float(np.nanmax(table['implicit midpoint'])))}; "
         f"gradient descent drifts with order "
         f"${bal.order(hs[1:], table['gradient descent (Euler)'][1:]):.2f}$ in $\\eta$"],
        ["{cite:t}`kunin2019regularized`", "with an L2 penalty, encoder and decoder are "
         "transposes at every critical point, and the decoder's left singular vectors are "
         "the principal directions",
         f"$\\Vert A - B^\\top \\Vert / \\Vert A \\Vert$ = {_m(kunin.transpose_gap)}; "
         f"$\\max_i (1 - \\vert \\langle \\hat u_i, u_i \\rangle \\vert)$ = "
         f"{_m(kunin.direction_error)}; units against components "
         f"{_m(kunin.unit_pc, 3)}"],
        ["{cite:t}`bao2020regularized`", "a different L2 penalty on each unit recovers the "
         "ordered principal components as the units, slowly",
         f"units against components {_m(bao.unit_pc, 3)} after "
         f"${bao.spec.steps}$ steps, {_m(bao_long.unit_pc, 3)} after "
         f"${bao_long.spec.steps}$"],
        ["{cite:t}`szegedy2014intriguing`", "MNIST: top images of random directions as "
         "coherent as those of units",
         f"digits, ${len(studies)}$ seeds: purity of units minus purity of random directions "
         f"${latex_number(diff, 2)} \\pm {latex_number(diff_se, 2)}$ (mean $\\pm$ standard "
         "error)"],
    ]
    return ["Source", "Published (qualitative)", "Reproduced here"], rows
