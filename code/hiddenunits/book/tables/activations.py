"""Tables of chapter 2, "Designing hidden units": MyST rows from the science's numbers.

Each ``*_table`` function returns ``(headers, rows)`` of strings with MyST markup; the
chapter displays them with :func:`hiddenunits.book.notebook.show_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from hiddenunits import activations as act
from hiddenunits import conditioning as cond
from hiddenunits import gradient_flow as gf
from hiddenunits import saturation as sat
from hiddenunits.book.notebook import math_number

Table = tuple[list[str], list[list[str]]]


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
               + [f"saturated, $\\tau = {s:g}$" for s in act.SATURATION_SCALES])
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
    gains), and the top layer's input-dependent spread."""
    headers = ["$\\phi$", "init", "mean $\\chi_\\ell$", "$\\delta$: measured (predicted)",
               "spread: measured (predicted)", "spread, top"]
    rows = []
    for init in inits:
        for name in names:
            p = gf.layer_profile(replace(gf.LAYER_GRADIENT_NET, activation=name, init=init))
            (dm, dp), (sm, spr) = p.delta_decay(), p.spread_decay()
            rows.append([act.LABELS[name], init, _m(float(p.gain.mean()), ".3f"),
                         f"{_m(dm, '.2f')} ({_m(dp, '.2f')})",
                         f"{_m(sm, '.2f')} ({_m(spr, '.2f')})",
                         _m(float(p.spread[-1]))])
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
    standard error over the seeds), the top hidden layer's mean relative slope (monitored
    digits), and the fraction of dead units (on every training digit) of the worst layer."""
    headers = ["units", "init", "$\\eta$", "final loss", "test accuracy",
               "top layer: mean $\\phi'/\\sup\\phi'$", "dead units, worst layer"]
    rows = []
    for (a, i), rs in sat.tuned_runs(runs).items():
        loss = sat.mean_and_error([r.final_loss for r in rs])
        acc = sat.mean_and_error([r.test_acc for r in rs])
        slope = float(np.mean([r.slope[-1, -1] for r in rs]))
        dead = float(np.mean([r.final_dead.max() for r in rs]))
        rows.append([act.LABELS[a], i, _m(rs[0].lr, "g"), _pm(loss, ".2f"), _pm(acc),
                     _m(slope, ".2f"), _m(dead, ".2f")])
    return headers, rows


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def control_table(outcomes: Sequence[sat.Outcome]) -> Table:
    """One row per arm (:func:`hiddenunits.saturation.outcomes`): the unit, its
    initialisation and weight factor, ``phi(0)``, the gain and the top layer's
    input-dependent spread at initialisation, the chosen rate, and the final training and
    test accuracy there (mean and standard error over the seeds)."""
    headers = ["units", "init", "$\\phi(0)$", "$\\chi$ at init", "spread, top, at init",
               "$\\eta$", "training accuracy", "test accuracy"]
    rows = []
    for o in outcomes:
        a = o.arm
        unit = act.LABELS[a.activation] + (" $- \\phi(0)$" if a.shifted else "")
        init = a.init + (f" $\\times {a.gain:g}$" if a.gain != 1.0 else "")
        rows.append([unit, init, _m(o.value_at_0, ".2f"), _m(o.chi, ".3f"),
                     _m(o.spread_top), _m(o.lr, "g"), _pm(o.train_acc, ".2f"),
                     _pm(o.test_acc, ".2f")])
    return headers, rows


def glorot_comparison_table(runs: dict[sat.SweepKey, sat.RunRecord],
                            comparison: sat.Comparison) -> Table:
    """Published findings next to our measurements (:func:`hiddenunits.saturation.findings`
    on the sweep, :func:`hiddenunits.saturation.compare` on the long runs of the
    rectifier-versus-softplus row), with the verdicts of fixed numeric criteria."""
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
    th_lr = max(f.lrs)  # where the saturation findings are measured
    others = [x for lr, x in zip(f.lrs, f.tanh_peak_saturated, strict=True) if lr != th_lr]
    onsets = "; ".join(", ".join("never" if e is None else str(e) for e in seed)
                       for seed in f.tanh_onsets_by_seed)
    final = f.tanh_final_saturated
    if f.tanh_bottom_first:
        tanh_verdict = "yes"
    elif f.tanh_onsets[0] is not None and f.tanh_onsets[0] == max(
            e for e in f.tanh_onsets if e is not None) and final[0] == min(final):
        tanh_verdict = ("no: layer 1 starts last and ends least saturated; the layers "
                        "above start within one epoch of each other"
                        if max(x for x in f.tanh_onsets[1:] if x is not None)
                        - min(x for x in f.tanh_onsets[1:] if x is not None) <= 1
                        else "no: layer 1 starts last and ends least saturated")
    else:
        tanh_verdict = "no"
    sig_best = max(acc[("sigmoid", i)][0] for i in sat.INITS)
    c = comparison
    relu_cell = (f"after {c.epochs} epochs, {sat.LONG_INIT} init, each unit at its best "
                 f"$\\eta$ of {{{', '.join(f'{lr:g}' for lr in c.lrs)}}}, {c.num_seeds} "
                 f"seeds: test accuracy ReLU {_pm(c.test_acc['relu'])}, softplus "
                 f"{_pm(c.test_acc['softplus'])} (training accuracy "
                 f"{_m(c.train_acc['relu'][0], '.2f')} and "
                 f"{_m(c.train_acc['softplus'][0], '.2f')})")
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
         ("yes, in the extreme: ours do not leave chance" if f.sigmoid_worst
          and sig_best < 0.15 else _yes(f.sigmoid_worst))],
        ["Tanh, standard init: saturation starts in the first hidden layer and propagates "
         f"upwards during training {gb}",
         f"at $\\eta = {th_lr:g}$, per seed, the epoch at which each layer (1 to top) first "
         f"has more than {_m(100 * sat.ONSET, 'g')} % saturated slopes: {onsets}; final "
         "fractions (mean over the seeds) " + ", ".join(_m(x, ".2f") for x in final)
         + ("; at the other rates no layer exceeds " + _m(max(others), ".2f")
            if others else ""), tanh_verdict],
        [f"Normalised initialisation makes tanh networks train faster and better {gb}",
         f"tuned final loss standard {_pm((ts, tse))}, Xavier {_pm((tx, txe))}; test "
         f"accuracy {_pm(acc[('tanh', 'standard')])} and {_pm(acc[('tanh', 'xavier')])}",
         _yes(f.xavier_helps_tanh)],
        ["Rectifier networks reach solutions as good as or better than softplus networks, "
         f"despite the hard zero {gbb}", relu_cell,
         "not comparable" if not c.comparable else _yes(bool(c.relu_as_good))],
        [f"Rectifier hidden layers are sparse, with exact zeros {gbb}",
         f"fraction of exact zeros per ReLU layer after training (monitored digits): "
         f"{_m(f.relu_zero_range[0], '.2f')} to {_m(f.relu_zero_range[1], '.2f')}; dead "
         f"units (zero on every training digit): {_m(f.relu_dead_range[0], '.2f')} to "
         f"{_m(f.relu_dead_range[1], '.2f')}", _yes(f.relu_sparse)],
    ]
    return ["published finding", "our measurement (digits, small scale)", "reproduced?"], rows
