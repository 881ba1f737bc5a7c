"""Tables of chapter 2, "Designing hidden units": MyST rows from the science's numbers.

Each ``*_table`` function returns ``(headers, rows)`` of strings with MyST markup;
:func:`show` displays one with a caption and a label that ``{numref}`` can cite.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hiddenunits import activations as act
from hiddenunits import conditioning as cond
from hiddenunits import saturation as sat
from hiddenunits.book.notebook import markdown_table

Table = tuple[list[str], list[list[str]]]


def captioned_table(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str,
                    name: str) -> str:
    """A MyST ``{table}`` directive holding a pipe table, with a caption and a label.

    Cell outputs are rendered as MyST, so ``{numref}`` can refer to ``name``
    (which must start with ``tab-``).
    """
    if not isinstance(name, str) or not name.startswith("tab-"):
        raise ValueError(f"table labels start with 'tab-', got {name!r}")
    return f"```{{table}} {caption}\n:name: {name}\n\n{markdown_table(headers, rows)}\n```"


def show(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str,
         name: str) -> None:
    """Display :func:`captioned_table` in a chapter."""
    from IPython.display import Markdown, display

    display(Markdown(captioned_table(headers, rows, caption, name)))


ONE_SIGNED_UNITS = ("sigmoid", "relu", "softplus", "tanh")
BATCH_SIZES = (1, 4, 16, 64)


def one_signed_table(units: Sequence[str] = ONE_SIGNED_UNITS,
                     batch_sizes: Sequence[int] = BATCH_SIZES) -> Table:
    """Fraction of one-signed rows of the minibatch gradient, per unit and batch size."""
    headers = ["units below"] + [f"$B = {b}$" for b in batch_sizes]
    rows = [[act.LABELS[a]] + [f"{cond.one_signed_fraction(a, b):.2f}" for b in batch_sizes]
            for a in units]
    return headers, rows


KAPPA_UNITS = ("sigmoid", "tanh", "relu", "softplus", "elu", "gelu", "silu")
KAPPA_WIDTHS = (10, 100, 1000)


def kappa_table(units: Sequence[str] = KAPPA_UNITS,
                widths: Sequence[int] = KAPPA_WIDTHS) -> Table:
    """Mean and variance of phi(Z) and the condition number 1 + n m^2 / v per width n."""
    headers = ["units", "mean $m$", "variance $v$"] + [f"$\\kappa$, $n = {n}$"
                                                         for n in widths]
    rows = []
    for a in units:
        m, v = cond.unit_output_moments(a)
        rows.append([act.LABELS[a], f"{m:.3f}", f"{v:.3f}"]
                    + [f"{cond.layer_input_condition(a, n):.1f}" for n in widths])
    return headers, rows


def property_table(names: Sequence[str] = act.NAMES) -> Table:
    """The property table: mean output, slopes, saturation, monotonicity and cost."""
    headers = ["$\\phi$", "$\\mathbb{E}\\,\\phi(Z)$", "$\\sup \\phi'$", "$\\phi'(0)$",
               "$\\phi' \\to 0$ on", "monotone", "ns/element (vs ReLU)"]
    relu_cost = act.activation_properties("relu").cost_ns
    rows = []
    for name in names:
        p = act.activation_properties(name)
        rows.append([act.LABELS[name], f"{p.mean_gauss:.3f}", f"{p.max_derivative:.3f}",
                     f"{p.derivative_at_0:.3g}", p.saturation,
                     "yes" if p.monotone else f"no ($\\min\\phi'={p.min_derivative:.3f}$)",
                     f"{p.cost_ns:.2f} ({p.cost_ns / relu_cost:.1f})"])
    return headers, rows


def glorot_summary_table(runs: dict[tuple[str, str], sat.RunRecord]) -> Table:
    """One row per run: final loss and test accuracy, and the top hidden layer's state."""
    headers = ["units", "init", "final loss", "test accuracy", "top layer: mean $h$",
               "mean $\\phi'/\\sup\\phi'$", "fraction saturated (ReLU: zero)"]
    rows = [[act.LABELS[a], init, f"{r.train_loss[-1]:.3g}", f"{r.test_acc[-1]:.3f}",
             f"{r.mean[-1, -1]:.3f}", f"{r.slope[-1, -1]:.3f}", f"{r.saturated[-1, -1]:.3f}"]
            for (a, init), r in runs.items()]
    return headers, rows


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def glorot_comparison_table(runs: dict[tuple[str, str], sat.RunRecord]) -> Table:
    """Published findings next to our measurements (:func:`hiddenunits.saturation.findings`),
    with the verdicts of its fixed numeric criteria."""
    f = sat.findings(runs)
    gb, gbb = "{cite:p}`glorot2010understanding`", "{cite:p}`glorot2011deep`"
    top = {"yes": "yes", "partly": "partly: it moves towards 0 but is not yet saturated",
           "no": "no"}[f.sigmoid_top_verdict]
    escape = "not within our epochs" if f.sigmoid_still_falling else "yes"
    if f.softplus_escapes:
        escape += "; an analogous escape for softplus"
    lo, hi = f.sigmoid_lower_range
    ts, tx = f.tanh_loss_epoch2
    tsf, txf = f.tanh_loss_final
    tsa, txa = f.tanh_acc
    most_saturated = 1 + int(np.argmin(f.tanh_layer_slopes))
    rows = [
        ["Sigmoid, standard init: the top hidden layer is driven towards 0 (saturation) "
         f"early in training while the layers below stay near 0.5 {gb}",
         f"top-layer mean {f.sigmoid_top_start:.2f} at the start, {f.sigmoid_top_end:.2f} "
         f"after {f.epochs} epochs (mean slope {f.sigmoid_top_slope:.2f} of its maximum); "
         f"layers below {lo:.2f} to {hi:.2f}", top],
        [f"The saturated top layer escapes slowly, much later in training {gb}",
         "sigmoid: the top-layer mean is "
         + (f"still falling at epoch {f.epochs}" if f.sigmoid_still_falling
            else "lowest before the last epoch")
         + f"; softplus with Xavier init: top-layer slope falls to {f.softplus_dip[0]:.2f} "
         f"(epoch {f.softplus_dip[1]}) and "
         + ("climbs back to" if f.softplus_escapes else "ends at")
         + f" {f.softplus_final_slope:.2f}", escape],
        [f"Sigmoid networks have the highest test error of the units compared {gb}",
         f"sigmoid test accuracy at most {f.sigmoid_best_acc:.3f} (chance is 0.1); tanh and "
         f"ReLU at least {f.tanh_relu_worst_acc:.3f}", _yes(f.sigmoid_worst)],
        ["Tanh, standard init: saturation starts in the first hidden layer and propagates "
         f"upwards {gb}",
         "mean slope per layer after the last epoch (layer 1 to top): "
         + ", ".join(f"{s:.2f}" for s in f.tanh_layer_slopes),
         "yes" if f.tanh_bottom_first else f"no: layer {most_saturated} saturates most"],
        [f"Normalised initialisation makes tanh networks train faster and better {gb}",
         f"tanh loss after 2 epochs {ts:.2f} (standard) vs {tx:.2f} (Xavier); after "
         f"{f.epochs}: {tsf:.2g} vs {txf:.2g}; test accuracy {tsa:.3f} vs {txa:.3f}",
         _yes(f.xavier_helps_tanh)],
        ["Rectifier networks find minima as good as or better than softplus networks, "
         f"despite the hard zero {gbb}",
         "test accuracy ReLU vs softplus: " + "; ".join(
             f"{i} {r:.3f} vs {s:.3f}"
             for i, (r, s) in zip(sat.INITS, f.relu_softplus_acc, strict=True)),
         _yes(f.relu_as_good)],
        [f"Rectifier hidden layers are sparse, with exact zeros {gbb}",
         "fraction of exact zeros per ReLU layer after training: "
         f"{f.relu_zero_range[0]:.2f} to {f.relu_zero_range[1]:.2f}", _yes(f.relu_sparse)],
    ]
    return ["published finding", "our measurement (digits, small scale)", "reproduced?"], rows
