"""Tables of chapter 4, "RBMs, rectified units and infinite belief nets" (MyST cells).

Each function returns ``(headers, rows)`` for :func:`hiddenunits.book.notebook.show_table`;
the numbers come from the science modules' (cached) experiments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hiddenunits import belief_net as bn
from hiddenunits import rbm as R
from hiddenunits import stepped_sigmoid as ssu

Table = tuple[list[str], list[list[str]]]


def _mean_se(values: Sequence[float]) -> str:
    a = np.array(values)
    return f"{a.mean():.3f} $\\pm$ {a.std(ddof=1) / math.sqrt(a.size):.3f}"


def benchmark_table(bench: R.BenchResult) -> Table:
    """Time per epoch and exact mean log-likelihood (mean +- standard error over seeds)."""
    return (["Implementation (PCD-1)", "ms per epoch (median)", "exact mean log p(v)"],
            [["hiddenunits `train_rbm`", f"{1e3 * bench.ours_seconds:.2f}",
              _mean_se(bench.ours_ll)],
             ["scikit-learn `BernoulliRBM`", f"{1e3 * bench.sklearn_seconds:.2f}",
              _mean_se(bench.sklearn_ll)]])


def gaussian_rbm_table(s: float = 1.0, exp: R.GBExperiment | None = None) -> Table:
    """Test reconstruction error and read-out accuracy of binary and noisy-ReLU Gaussian
    RBMs at visible standard deviation ``s`` (mean +- standard error over seeds), and the
    read-out from the raw pixels; ``exp`` defaults to the book's experiment."""
    exp = R.GBExperiment() if exp is None else exp
    rows = []
    for hidden, name in (("binary", "binary (logistic)"), ("nrelu", "noisy ReLU")):
        rec, rec_se = R.gb_summary(hidden, s, "recon", exp)
        acc, acc_se = R.gb_summary(hidden, s, "accuracy", exp)
        rows.append([name, f"{rec:.3f} $\\pm$ {rec_se:.3f}",
                     f"{100 * acc:.1f} $\\pm$ {100 * acc_se:.1f}"])
    rows.append(["raw pixels (no RBM)", "", f"{100 * R.raw_pixel_readout_accuracy():.1f}"])
    return ["Hidden units", "test reconstruction error", "read-out test accuracy (%)"], rows


def published_table() -> Table:
    """The papers' qualitative findings beside what the chapter measured."""
    dbn = bn.greedy_dbn()
    scales, rel, _ = bn.cd_bias_curves()
    i1, i6 = int(np.argmin(np.abs(scales - 1.0))), int(np.argmin(np.abs(scales - 6.0)))
    runs = R.digits_runs()
    grid = np.linspace(-10, 10, 20001)
    err_mean = float(np.abs(ssu.stepped_sigmoid_mean(grid) - ssu.softplus(grid)).max())
    err_var = float(np.abs(ssu.stepped_sigmoid_variance(grid) - ssu.sigmoid(grid)).max())
    smallest = R.GBExperiment().scales[-1]

    def accuracy(hidden: str, s: float) -> float:
        return 100 * R.gb_summary(hidden, s, "accuracy")[0]

    rows = [
        ["{cite:t}`hinton2006fast`",
         "An RBM is an infinite logistic belief net with tied weights; its complementary prior "
         "makes the posterior factorial.",
         "Exact on tiny models: {prf:ref}`thm-tied-net-gibbs`, "
         "{prf:ref}`prop-complementary-prior` (errors at round-off)."],
        ["{cite:t}`hinton2006fast`",
         "Adding a layer initialised with the transposed weights and training it improves a "
         "variational lower bound on the log-probability of the data.",
         f"DBN on digits: bound {dbn.bound[0]:.3f} $\\to$ {dbn.bound[-1]:.3f}, exact "
         f"log-likelihood {dbn.log_lik_rbm1:.3f} $\\to$ {dbn.log_lik[-1]:.3f} nats."],
        ["{cite:t}`hinton2002training`; lecture",
         "CD-1 works when weights are small; larger weights need more steps.",
         f"Relative bias of CD-1 {100 * rel[1][i1]:.1f}% at scale 1, "
         f"{100 * rel[1][i6]:.1f}% at scale 6 (CD-10: {100 * rel[10][i6]:.1f}%)."],
        ["{cite:t}`sutskever2010convergence`",
         "The CD update is not the gradient of any objective function.",
         f"1-by-1 RBM: curl {bn.curl_value(0.5):.4f} at $\\rho = 1/2$ "
         f"({{prf:ref}}`prop-cd-not-gradient`)."],
        ["{cite:t}`tieleman2008pcd`",
         "PCD learns better density models than CD-1.",
         f"Not reproduced in our short runs: PCD-1 {runs['PCD-1'].log_likelihood[-1]:.2f} "
         f"vs CD-1 {runs['CD-1'].log_likelihood[-1]:.2f} nats."],
        ["{cite:t}`nair2010rectified`",
         "Stepped sigmoid units are approximated by softplus, and by noisy ReLUs with "
         "noise variance $\\sigma(x)$.",
         f"Error $\\le 0.0136$ proved, {err_mean:.4f} measured; "
         f"variance error {err_var:.4f}; noisy ReLU much coarser near 0."],
        ["{cite:t}`nair2010rectified`",
         "Rectified hidden units learn features that are better for recognition than binary "
         "units.",
         f"At $s = 1$: read-out {accuracy('nrelu', 1.0):.1f}% vs "
         f"{accuracy('binary', 1.0):.1f}% (small margin); "
         f"at $s = {smallest:g}$: {accuracy('nrelu', smallest):.1f}% "
         f"vs {accuracy('binary', smallest):.1f}%."],
        ["{cite:t}`nair2010rectified`",
         "Rectified units preserve relative intensities across layers.",
         "Exact for bias-free networks ({prf:ref}`cor-relu-net-homogeneous`), false with "
         "biases."]]
    return ["Source", "Published finding (qualitative)", "Reproduced here (measured)"], rows
