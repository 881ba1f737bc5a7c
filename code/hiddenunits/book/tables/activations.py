"""Tables of chapter 2, "Designing hidden units": MyST rows from the science's numbers.

Each ``*_table`` function returns ``(headers, rows)`` of strings with MyST markup;
:func:`show` displays one with a caption and a label that ``{numref}`` can cite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from hiddenunits import activations as act
from hiddenunits import conditioning as cond
from hiddenunits import gradient_flow as gf
from hiddenunits import saturation as sat
from hiddenunits.book.notebook import markdown_table, math_number

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
    """Fraction of one-signed rows of the minibatch gradient, per unit and batch size M."""
    headers = ["units below"] + [f"$M = {b}$" for b in batch_sizes]
    rows = [[act.LABELS[a]] + [_m(cond.one_signed_fraction(a, b), ".2f") for b in batch_sizes]
            for a in units]
    return headers, rows


def _m(value: float, fmt: str | None = None, digits: int = 2) -> str:
    """A number as inline mathematics, as the prose's glued numbers are."""
    return f"${math_number(value, fmt, digits)}$"


KAPPA_UNITS = ("sigmoid", "tanh", "relu", "softplus", "elu", "gelu", "silu")
KAPPA_WIDTHS = (10, 100, 1000)
KAPPA_BIAS_WIDTH = 100


def kappa_table(units: Sequence[str] = KAPPA_UNITS, widths: Sequence[int] = KAPPA_WIDTHS,
                bias_width: int = KAPPA_BIAS_WIDTH) -> Table:
    """Mean m and variance v of phi(Z); the condition number of a linear unit reading n such
    units: without a bias (1 + n m^2 / v) for each width, and with a bias, raw and centred."""
    headers = (["units", "$m$", "$v$"] + [f"$n = {n}$" for n in widths]
               + [f"bias, $n = {bias_width}$", "bias, centred"])
    rows = []
    for a in units:
        m, v = cond.unit_output_moments(a)
        rows.append([act.LABELS[a], _m(m, ".3f"), _m(v, ".3f")]
                    + [_m(cond.layer_input_condition(a, n)) for n in widths]
                    + [_m(cond.layer_input_condition(a, bias_width, bias=True)),
                       _m(cond.layer_input_condition(a, bias_width, bias=True, centred=True))])
    return headers, rows


def property_table(names: Sequence[str] = act.NAMES) -> Table:
    """The shape of each activation: phi(0), slopes, where phi' tends to 0, monotonicity, cost."""
    headers = ["$\\phi$", "$\\phi(0)$", "$\\phi'(0)$", "$\\sup \\phi'$", "$\\phi' \\to 0$ on",
               "monotone", "ns/element (vs ReLU)"]
    relu_cost = act.activation_properties("relu").cost_ns
    rows = []
    for name in names:
        p = act.activation_properties(name)
        rows.append([act.LABELS[name], _m(p.value_at_0, ".3f"), _m(p.derivative_at_0, ".3g"),
                     _m(p.max_derivative, ".3f"), p.saturation,
                     "yes" if p.monotone else f"no ($\\min\\phi'={p.min_derivative:.3f}$)",
                     f"{_m(p.cost_ns, '.2f')} ({_m(p.cost_ns / relu_cost, '.1f')})"])
    return headers, rows


def gaussian_table(names: Sequence[str] = act.NAMES) -> Table:
    """Moments under a standard normal input and the size of the saturated region."""
    headers = (["$\\phi$", "$\\mathbb{E}\\,\\phi(Z)$", "$\\mathbb{E}\\,\\phi(Z)^2$",
                "$\\mathbb{E}\\,\\phi'(Z)^2$"]
               + [f"saturated, $s = {s:g}$" for s in act.SATURATION_SCALES])
    rows = []
    for name in names:
        p = act.activation_properties(name, with_cost=False)
        rows.append([act.LABELS[name], _m(p.mean_gauss, ".3f"), _m(p.second_moment, ".3f"),
                     _m(p.slope_second_moment, ".3f")]
                    + [_m(f) for f in p.saturated_fractions])
    return headers, rows


def gain_table(names: Sequence[str] = act.NAMES, inits: Sequence[str] = ("standard", "xavier")
               ) -> Table:
    """Per activation and init: the mean gain chi = g^2 E[phi'(z)^2] over the layers, the
    decades by which ||delta|| and the spread of h decay (measured, and predicted from the
    gains), and the top layer's relative spread."""
    headers = ["$\\phi$", "init", "mean $\\chi_\\ell$", "$\\delta$: measured (predicted)",
               "spread: measured (predicted)", "relative spread, top"]
    rows = []
    for init in inits:
        for name in names:
            p = gf.layer_profile(replace(gf.LAYER_GRADIENT_NET, activation=name, init=init))
            (dm, dp), (sm, spr) = p.delta_decay(), p.spread_decay()
            rows.append([act.LABELS[name], init, _m(float(p.gain.mean()), ".3f"),
                         f"{_m(dm, '.2f')} ({_m(dp, '.2f')})",
                         f"{_m(sm, '.2f')} ({_m(spr, '.2f')})",
                         _m(float(p.spread[-1] / p.rms[-1]))])
    return headers, rows


def _pm(pair: tuple[float, float], fmt: str = ".3f") -> str:
    return f"${math_number(pair[0], fmt)} \\pm {math_number(pair[1], fmt)}$"


def learning_rate_table(runs: dict[sat.SweepKey, sat.RunRecord]) -> Table:
    """The sweep: mean (and standard error) over the seeds of the final training loss per
    (unit, init) and learning rate, and the rate chosen."""
    lrs = sorted({k[2] for k in runs})
    seeds = sorted({k[3] for k in runs})
    best = sat.best_learning_rates(runs)
    headers = ["units", "init"] + [f"$\\eta = {lr:g}$" for lr in lrs] + ["chosen $\\eta$"]
    rows = []
    for a in sat.ACTIVATIONS:
        for i in sat.INITS:
            cells = []
            for lr in lrs:
                losses = [runs[(a, i, lr, s)].final_loss for s in seeds]
                cells.append(_pm(sat.mean_and_error(losses), ".2f")
                             if np.isfinite(losses).all() else "diverged")
            rows.append([act.LABELS[a], i, *cells, _m(best[(a, i)], "g")])
    return headers, rows


def glorot_summary_table(runs: dict[sat.SweepKey, sat.RunRecord]) -> Table:
    """One row per (unit, init) at its chosen rate: final loss and test accuracy (mean and
    standard error over the seeds), and the top hidden layer's slope and dead units."""
    headers = ["units", "init", "$\\eta$", "final loss", "test accuracy",
               "top layer: mean $\\phi'/\\sup\\phi'$", "dead units, worst layer"]
    rows = []
    for (a, i), rs in sat.tuned_runs(runs).items():
        loss = sat.mean_and_error([r.final_loss for r in rs])
        acc = sat.mean_and_error([r.test_acc for r in rs])
        slope = float(np.mean([r.slope[-1, -1] for r in rs]))
        dead = float(np.mean([r.dead[-1].max() for r in rs]))
        rows.append([act.LABELS[a], i, _m(rs[0].lr, "g"), _pm(loss, ".2f"), _pm(acc),
                     _m(slope, ".2f"), _m(dead, ".2f")])
    return headers, rows


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def glorot_comparison_table(runs: dict[sat.SweepKey, sat.RunRecord]) -> Table:
    """Published findings next to our measurements (:func:`hiddenunits.saturation.findings`),
    with the verdicts of its fixed numeric criteria."""
    f = sat.findings(runs)
    gb, gbb = "{cite:p}`glorot2010understanding`", "{cite:p}`glorot2011deep`"
    start = f.sigmoid_top[0][0]
    ends = ", ".join(f"{_m(e, '.2f')} at $\\eta = {lr:g}$"
                     for lr, (_, e, _) in zip(f.lrs, f.sigmoid_top, strict=True))
    lo, hi = f.sigmoid_lower_range
    fastest = f.sigmoid_top[-1]
    moved = fastest[1] < start - 0.2
    top_verdict = ("partly: the mean moves towards 0 at the larger rates, but the slope "
                   "stays far from 0 (attenuated, not saturated)"
                   if moved and f.sigmoid_top_saturated < 0.5 else _yes(moved))
    (ts, tse), (tx, txe) = f.tanh_loss
    acc = f.accuracy
    onsets = ", ".join("never" if e is None else str(e) for e in f.tanh_onsets)
    first = [k + 1 for k, e in enumerate(f.tanh_onsets)
             if e is not None and e == min(x for x in f.tanh_onsets if x is not None)]
    tanh_verdict = ("yes" if f.tanh_bottom_first else
                    "no: layer" + ("s " if len(first) > 1 else " ")
                    + ", ".join(map(str, first)) + " first")
    relu_cells, relu_verdicts = [], []
    for i, comparable, good in zip(sat.INITS, f.comparable, f.relu_as_good, strict=True):
        relu_cells.append(f"{i}: ReLU {_pm(acc[('relu', i)])}, softplus "
                          f"{_pm(acc[('softplus', i)])} (training accuracy "
                          f"{_m(f.train_accuracy[('relu', i)], '.2f')} and "
                          f"{_m(f.train_accuracy[('softplus', i)], '.2f')})")
        relu_verdicts.append(f"{i}: " + ("not comparable" if not comparable else _yes(good)))
    rows = [
        ["Sigmoid, standard init: the top hidden layer is driven towards 0 early in training "
         f"while the layers below stay near 0.5 {gb}",
         f"top-layer mean {_m(start, '.2f')} before training; after {f.epochs} epochs {ends}; "
         f"its mean slope at the largest rate {_m(fastest[2], '.2f')} of its maximum; the "
         f"layers below {_m(lo, '.2f')} to {_m(hi, '.2f')}", top_verdict],
        [f"The saturated top layer escapes slowly, much later in training {gb}",
         "at the largest rate the sigmoid top-layer mean is "
         + ("still falling at the last epoch" if f.sigmoid_still_falling
            else "lowest before the last epoch"),
         "not within our epochs" if f.sigmoid_still_falling else "yes"],
        [f"Sigmoid networks have the highest test error of the units compared {gb}",
         "tuned test accuracy, sigmoid: "
         + "; ".join(f"{i} {_pm(acc[('sigmoid', i)])}" for i in sat.INITS)
         + " (chance is $0.1$); tanh and ReLU: at least "
         + _m(min(acc[(a, i)][0] for a in ('tanh', 'relu') for i in sat.INITS), ".3f"),
         _yes(f.sigmoid_worst)],
        ["Tanh, standard init: saturation starts in the first hidden layer and propagates "
         f"upwards during training {gb}",
         f"epoch at which each layer (1 to top) first has more than "
         f"{_m(100 * sat.ONSET, 'g')} % saturated slopes: {onsets}; final fractions "
         + ", ".join(_m(x, ".2f") for x in f.tanh_final_saturated), tanh_verdict],
        [f"Normalised initialisation makes tanh networks train faster and better {gb}",
         f"tuned final loss standard {_pm((ts, tse))}, Xavier {_pm((tx, txe))}; test "
         f"accuracy {_pm(acc[('tanh', 'standard')])} and {_pm(acc[('tanh', 'xavier')])}",
         _yes(f.xavier_helps_tanh)],
        ["Rectifier networks reach solutions as good as or better than softplus networks, "
         f"despite the hard zero {gbb}", "tuned test accuracy; " + "; ".join(relu_cells),
         "; ".join(relu_verdicts)],
        [f"Rectifier hidden layers are sparse, with exact zeros {gbb}",
         f"fraction of exact zeros per ReLU layer after training: "
         f"{_m(f.relu_zero_range[0], '.2f')} to {_m(f.relu_zero_range[1], '.2f')}; dead "
         f"units (zero on every training example): {_m(f.relu_dead_range[0], '.2f')} to "
         f"{_m(f.relu_dead_range[1], '.2f')}", _yes(f.relu_sparse)],
    ]
    return ["published finding", "our measurement (digits, small scale)", "reproduced?"], rows
