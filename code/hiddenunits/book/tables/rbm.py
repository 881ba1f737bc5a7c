"""Tables of chapter 4, "RBMs, rectified units and infinite belief nets" (MyST cells).

Each ``*_table`` function returns ``(headers, rows)``; :func:`show` displays one as a
numbered, captioned MyST table.  The numbers come from the science modules' (cached)
experiments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hiddenunits import belief_net as bn
from hiddenunits import rbm as R
from hiddenunits import stepped_sigmoid as ssu
from hiddenunits.book.claims import latex_number
from hiddenunits.book.notebook import markdown_table

Table = tuple[list[str], list[list[str]]]


def show(table: Table, caption: str, name: str) -> None:
    """Display ``table`` as a MyST ``{table}`` with ``caption``, labelled ``name`` (so that
    it is numbered, "Table 4.n", and ``{numref}`` can point at it)."""
    from IPython.display import Markdown, display

    if not caption.strip() or not name.strip():
        raise ValueError("a table needs a caption and a name")
    display(Markdown(f"```{{table}} {caption}\n:name: {name}\n\n{markdown_table(*table)}\n```"))


def glue_values(name: str, values: Sequence[float], fmt: str = "g") -> str:
    """Glue ``values`` under ``name`` as a list in mathematics, "$0.1, 0.3, 1$", for
    ``{glue:md}`name:myst```; return the Markdown."""
    from IPython.display import Markdown
    from myst_nb import glue

    text = "$" + ", ".join(format(v, fmt) for v in values) + "$"
    glue(name, Markdown(text), display=False)
    return text


def _pm(mean: float, se: float, fmt: str = ".3f", scale: float = 1.0) -> str:
    """``mean ± se`` in maths (the standard error left out when it is NaN; with one
    significant digit when it would round to zero in ``fmt``)."""
    if not math.isfinite(se):
        return f"${scale * mean:{fmt}}$"
    error = f"{scale * se:{fmt}}"
    if float(error) == 0.0:
        error = latex_number(scale * se, 1)
    return f"${scale * mean:{fmt}} \\pm {error}$"


def _mean_se(values: Sequence[float]) -> str:
    a = np.array(values)
    return _pm(float(a.mean()), float(a.std(ddof=1) / math.sqrt(a.size)))


def _rate(lr: float) -> str:
    return f"${lr:g}$"


def benchmark_table(bench: R.BenchResult) -> Table:
    """Time per epoch and exact mean log-likelihood (mean +- standard error over seeds)."""
    return (["Implementation (PCD-1)", "ms per epoch (median)", "exact mean log p(v)"],
            [["{py:func}`~hiddenunits.rbm.train_rbm`", f"${1e3 * bench.ours_seconds:.2f}$",
              _mean_se(bench.ours_ll)],
             ["scikit-learn `BernoulliRBM`", f"${1e3 * bench.sklearn_seconds:.2f}$",
              _mean_se(bench.sklearn_ll)]])


def cd_comparison_table(exps: Sequence[R.CDComparison] | None = None) -> Table:
    """Per training budget and method: the tuned rate and the exact log-likelihoods there
    (mean +- SE over seeds)."""
    exps = (R.CDComparison(),) if exps is None else tuple(exps)
    rows = []
    for exp in exps:
        for method in exp.methods:
            best = R.cd_best(method, exp)
            rows.append([f"${exp.epochs}$", f"${len(exp.seeds)}$", method, _rate(best.lr),
                         _pm(*best.train_ll, ".2f"), _pm(*best.test_ll, ".2f")])
    return (["epochs", "seeds", "method", "tuned rate", "training log-likelihood",
             "test log-likelihood"], rows)


def ais_table(model: R.RBM, n_betas: Sequence[int], n_runs: int, n_groups: int,
              base_bias: np.ndarray, rng: int = 0) -> Table:
    """AIS estimates of log Z against the exact value: per number of intermediate
    distributions K, the error of the estimate from all runs, its stated standard error,
    and how many of ``n_groups`` independent groups lie within two of their standard
    errors of the exact value."""
    exact = R.log_partition(model)
    rows = []
    for k, n in enumerate(n_betas):
        res = R.ais_log_partition(model, n, n_runs, rng + k, base_bias)
        groups = res.split(n_groups)
        inside = sum(abs(g.log_z - exact) <= 2 * g.standard_error for g in groups)
        rows.append([f"${n}$", f"${res.log_z - exact:+.3f}$", f"${res.standard_error:.3f}$",
                     f"${inside}$ of ${n_groups}$"])
    return (["K", "estimate minus exact log Z", "standard error",
             f"groups of {n_runs // n_groups} within 2 SE"], rows)


def _diverged(counts: dict[float, int], n_seeds: int) -> str:
    """The smallest rate at which some seed diverged, and how many did ('none' if none)."""
    bad = [lr for lr, k in counts.items() if k > 0]
    if not bad:
        return "none"
    lr = min(bad)
    return f"{_rate(lr)} (${counts[lr]}$ of ${n_seeds}$)"


def gaussian_rbm_table(exp: R.GBExperiment | None = None) -> Table:
    """Per s and unit type: the rate tuned for reconstruction with the test reconstruction
    error and read-out accuracy there, the rate tuned for accuracy with its test accuracy
    (mean +- standard error over seeds), and the slowest rate of the grid at which some
    seed diverged."""
    exp = R.GBExperiment() if exp is None else exp
    rows = []
    for s in exp.scales:
        for hidden, name in (("binary", "binary"), ("nrelu", "noisy ReLU")):
            rec = R.gb_best(hidden, s, "recon", exp)
            acc_there = R.gb_summary(hidden, s, rec.lr, "accuracy", exp)
            acc = R.gb_best(hidden, s, "accuracy", exp)
            rows.append([f"${s:g}$", name, _rate(rec.lr), _pm(*rec.test),
                         _pm(*acc_there, ".1f", 100), _rate(acc.lr), _pm(*acc.test, ".1f", 100),
                         _diverged(R.gb_diverged(hidden, s, exp), len(exp.seeds))])
    return (["$s$", "hidden units", "rate (tuned for reconstruction)",
             "reconstruction error", "accuracy (%)", "rate (tuned for accuracy)",
             "accuracy (%)", "slowest rate with a diverged seed"], rows)


def ahead(gap: float, se: float) -> str:
    """Words for a paired CD-1 minus PCD-1 difference: which method leads by more than two
    standard errors, if either."""
    who = "CD-1 ahead" if gap > 2 * se else "PCD-1 ahead" if gap < -2 * se else \
        "no difference resolved"
    return f"{who}, ${gap:+.2f} \\pm {se:.2f}$ nats"


def published_table(cd_exps: Sequence[R.CDComparison] | None = None) -> Table:
    """The papers' qualitative findings beside what the chapter measured; ``cd_exps``: a
    short and a long training budget of the CD/PCD comparison."""
    dbn = bn.greedy_dbn()
    scales, rel, _ = bn.cd_bias_curves()
    i1, i6 = int(np.argmin(np.abs(scales - 1.0))), int(np.argmin(np.abs(scales - 6.0)))
    short, long = (R.CDComparison(), R.CDComparison(epochs=200, lrs=(0.3, 1.0, 3.0))
                   ) if cd_exps is None else tuple(cd_exps)
    gaps = {exp.epochs: R.cd_gap(exp)[:2] for exp in (short, long)}
    grid = np.linspace(-10, 10, 20001)
    err_mean = float(np.abs(ssu.stepped_sigmoid_mean(grid) - ssu.softplus(grid)).max())
    err_var = float(np.abs(ssu.stepped_sigmoid_variance(grid) - ssu.sigmoid(grid)).max())
    exp = R.GBExperiment()
    small = exp.scales[-1]

    def recon(hidden: str, s: float) -> str:
        return f"${R.gb_best(hidden, s, 'recon', exp).test[0]:.2f}$"

    def accuracy(hidden: str) -> str:
        values = [100 * R.gb_summary(hidden, s, R.gb_best(hidden, s, "recon", exp).lr,
                                     "accuracy", exp)[0] for s in exp.scales]
        return f"${min(values):.1f}$ to ${max(values):.1f}\\%$"

    rows = [
        ["{cite:t}`hinton2006fast`",
         "An RBM is an infinite logistic belief net with tied weights; its complementary prior "
         "makes the posterior factorial.",
         "Exact on tiny models: {prf:ref}`thm-tied-net-gibbs`, "
         "{prf:ref}`prop-complementary-prior`, {prf:ref}`prop-tied-posterior` (errors at "
         "round-off)."],
        ["{cite:t}`hinton2006fast`",
         "Adding a layer initialised with the transposed weights and training it improves a "
         "variational lower bound on the log-probability of the data.",
         f"DBN on digits: bound ${dbn.bound[0]:.3f} \\to {dbn.bound[-1]:.3f}$, exact "
         f"log-likelihood ${dbn.log_lik_rbm1:.3f} \\to {dbn.log_lik[-1]:.3f}$ nats."],
        ["{cite:t}`bengio2009justifying`",
         "The log-likelihood gradient expands along the Gibbs chain; CD-k keeps its first "
         "terms, and the rest shrink as the chain mixes.",
         "{prf:ref}`thm-telescoping` exact on tiny models; bias bounded in "
         "{prf:ref}`prop-cd-bias`."],
        ["{cite:t}`carreira2005contrastive`; {cite:t}`hinton2010practical`",
         "CD-1 is biased, and more so as the weights grow; more Gibbs steps reduce the bias.",
         f"Relative bias of CD-1 ${100 * rel[1][i1]:.1f}\\%$ at scale 1, "
         f"${100 * rel[1][i6]:.1f}\\%$ at scale 6 (CD-10: ${100 * rel[10][i6]:.1f}\\%$)."],
        ["{cite:t}`sutskever2010convergence`",
         "The CD update is not the gradient of any objective function.",
         f"1-by-1 RBM: curl ${bn.curl_value(0.5):.4f}$ at $\\rho = 1/2$ "
         f"({{prf:ref}}`prop-cd-not-gradient`)."],
        ["{cite:t}`tieleman2008pcd`",
         "PCD learns better density models than CD-1.",
         "; ".join(f"after ${e}$ epochs {ahead(*gaps[e])}" for e in gaps)
         + " (rates tuned; test log-likelihood CD-1 minus PCD-1, mean and standard error "
         "over seeds)."],
        ["{cite:t}`salakhutdinov2008quantitative`",
         "Annealed importance sampling estimates the partition function of an RBM.",
         "Unbiased for $Z$ ({prf:ref}`prop-ais-unbiased`); agrees with enumeration within "
         "its error bar ({numref}`tab-rbm-ais`)."],
        ["{cite:t}`nair2010rectified`",
         "Stepped sigmoid units are approximated by softplus, and by noisy ReLUs with "
         "noise variance $\\sigma(x)$.",
         "Error $\\le \\tfrac{1}{96} + \\tfrac{1}{324}$ proved, "
         f"${err_mean:.4f}$ measured; variance error ${err_var:.4f}$; the noisy ReLU "
         "agrees only for clearly positive inputs, and is silent for negative ones."],
        ["{cite:t}`nair2010rectified`",
         "Rectified hidden units learn features that are better for recognition than binary "
         "units.",
         f"Yes at this scale, rates tuned: linear read-out {accuracy('nrelu')} from noisy "
         f"ReLUs, {accuracy('binary')} from binary units, "
         f"${100 * R.raw_pixel_readout_accuracy(exp.validation_fraction):.1f}\\%$ from the "
         f"raw pixels; test reconstruction error {recon('nrelu', 1.0)} vs "
         f"{recon('binary', 1.0)} at $s = 1$, {recon('nrelu', small)} vs "
         f"{recon('binary', small)} at $s = {small:g}$ (the models are improper)."],
        ["{cite:t}`nair2010rectified`",
         "Rectified units preserve relative intensities across layers.",
         "Exact for bias-free networks ({prf:ref}`lem-relu-homogeneous`), false with "
         "biases."]]
    return ["Source", "Published finding (qualitative)", "Reproduced here (measured)"], rows
