"""Stepped sigmoid units, softplus and noisy rectified linear units (Nair & Hinton 2010).

A stepped sigmoid unit (SSU) is an infinite set of binary logistic units with one shared
input ``x`` and biases offset by ``-1/2, -3/2, -5/2, ...``.  Its expected total output is
``S(x) = sum_{n>=1} sigma(x - n + 1/2)`` and, the copies being independent given ``x``, its
variance is ``V(x) = sum_{n>=1} sigma'(x - n + 1/2)``.  Both sums are midpoint rules, for
``softplus(x) = int_0^inf sigma(x - u) du`` and ``sigma(x) = int_0^inf sigma'(x - u) du``;
the book bounds their errors.  A noisy ReLU replaces the SSU by ``max(0, x + N(0, sigma(x)))``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from matplotlib.figure import Figure
from scipy.special import expit
from scipy.stats import norm

from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure

# Constants of the error bounds (proved in the book):
#   max |P| of the periodised midpoint Peano kernel's primitive      = 1 / (72 sqrt 3)
#   int |sigma'''| = 2 / (3 sqrt 3),  int |sigma''''| = 5 / 12
#   sup |sigma'| = 1/4,               sup |sigma''| = 1 / (6 sqrt 3)
PEANO_MAX = 1.0 / (72.0 * math.sqrt(3.0))
SOFTPLUS_REMAINDER = PEANO_MAX * 2.0 / (3.0 * math.sqrt(3.0))  # = 1/324
VARIANCE_REMAINDER = PEANO_MAX * 5.0 / 12.0  # = 5 / (864 sqrt 3)
SOFTPLUS_BOUND = 1.0 / 96.0 + SOFTPLUS_REMAINDER  # sup|sigma'|/24 + remainder
VARIANCE_BOUND = 1.0 / (144.0 * math.sqrt(3.0)) + VARIANCE_REMAINDER  # = 11/(864 sqrt 3)
TAIL_RATIO = math.exp(0.5) / (math.e - 1.0)  # lim_{x -> -inf} S/softplus = V/sigma


def _as_finite(x, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def sigmoid(x) -> np.ndarray:
    """sigma(x) = 1 / (1 + e^{-x})."""
    return expit(_as_finite(x))


def softplus(x) -> np.ndarray:
    """softplus(x) = log(1 + e^x), computed without overflow."""
    return np.logaddexp(0.0, _as_finite(x))


def sigmoid_derivatives(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sigma', sigma'', sigma''') at ``x``: s(1-s), s'(1-2s), s'(1-6s+6s^2)."""
    s = sigmoid(x)
    d1 = s * (1.0 - s)
    return d1, d1 * (1.0 - 2.0 * s), d1 * (1.0 - 6.0 * s + 6.0 * s * s)


def _n_terms(x: np.ndarray) -> int:
    # Terms with n > x + 40 add less than e^{-39} / (1 - 1/e) < 1e-16 in total.
    return int(math.ceil(max(float(np.max(x, initial=0.0)), 0.0))) + 41


def _shifted(x, chunk: int = 4096):
    """Yield (slice, sigma(x_k - n + 1/2) for n = 1..N) in row chunks: (chunk, N)."""
    x = _as_finite(x).ravel()
    n = np.arange(1, _n_terms(x) + 1, dtype=np.float64)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        yield sl, expit(x[sl, None] - n + 0.5)


def stepped_sigmoid_mean(x) -> np.ndarray:
    """S(x) = sum_{n>=1} sigma(x - n + 1/2), the expected output of a stepped sigmoid unit."""
    arr = _as_finite(x)
    out = np.empty(arr.size)
    for sl, s in _shifted(arr):
        out[sl] = s.sum(axis=1)
    return out.reshape(arr.shape)


def stepped_sigmoid_variance(x) -> np.ndarray:
    """V(x) = sum_{n>=1} sigma(x-n+1/2)(1 - sigma(x-n+1/2)): variance of the SSU's output."""
    arr = _as_finite(x)
    out = np.empty(arr.size)
    for sl, s in _shifted(arr):
        out[sl] = (s * (1.0 - s)).sum(axis=1)
    return out.reshape(arr.shape)


def sample_stepped_sigmoid(x, rng: np.random.Generator, n_terms: int = 64) -> np.ndarray:
    """One sample of the SSU: the number of its first ``n_terms`` binary copies that fire."""
    arr = _as_finite(x)
    if n_terms < 1:
        raise ValueError(f"n_terms must be >= 1, got {n_terms}")
    n = np.arange(1, n_terms + 1, dtype=np.float64)
    p = expit(arr[..., None] - n + 0.5)  # (..., n_terms)
    return (rng.random(p.shape) < p).sum(axis=-1).astype(np.float64)


def noisy_relu(x, rng: np.random.Generator) -> np.ndarray:
    """A noisy ReLU sample max(0, x + eps), eps ~ N(0, sigma(x)) (variance sigma(x))."""
    arr = _as_finite(x)
    return np.maximum(0.0, arr + np.sqrt(expit(arr)) * rng.standard_normal(arr.shape))


def noisy_relu_moments(x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of max(0, Y), Y ~ N(x, s^2) with s^2 = sigma(x) (rectified Gaussian).

    E = x Phi(x/s) + s phi(x/s);  E[max(0,Y)^2] = (x^2 + s^2) Phi(x/s) + x s phi(x/s).
    """
    arr = _as_finite(x)
    s = np.sqrt(expit(arr))
    z = arr / s
    cdf, pdf = norm.cdf(z), norm.pdf(z)
    mean = arr * cdf + s * pdf
    second = (arr * arr + s * s) * cdf + arr * s * pdf
    return mean, np.maximum(second - mean * mean, 0.0)


def relu(x) -> np.ndarray:
    """max(0, x)."""
    return np.maximum(0.0, _as_finite(x))


# ---------------------------------------------------------------------------- checks

def _grid() -> np.ndarray:
    # Step 1e-3 resolves the error curves, whose features have width ~1; beyond |x| = 40
    # every term is below e^{-39} (both sides of each bound are then ~0).
    return np.linspace(-40.0, 40.0, 80001)


@claim("thm-ssu-softplus", chapter="rbm",
       statement="|S(x) - softplus(x) + sigma'(x)/24| <= 1/324 for all x",
       method="numeric", tolerance=SOFTPLUS_REMAINDER)
def check_ssu_softplus() -> float:
    """Largest |S - softplus + sigma'/24| on a grid; the tolerance is the proved bound."""
    x = _grid()
    return float(np.max(np.abs(stepped_sigmoid_mean(x) - softplus(x)
                               + sigmoid_derivatives(x)[0] / 24.0)))


@claim("cor-ssu-softplus-bound", chapter="rbm",
       statement="|S(x) - softplus(x)| <= 1/96 + 1/324 < 0.0136 for all x",
       method="numeric", tolerance=SOFTPLUS_BOUND)
def check_ssu_softplus_bound() -> float:
    """Largest |S - softplus| on a grid; the tolerance is the proved bound 1/96 + 1/324."""
    x = _grid()
    return float(np.max(np.abs(stepped_sigmoid_mean(x) - softplus(x))))


@claim("prop-ssu-variance", chapter="rbm",
       statement="|V(x) - sigma(x) + sigma''(x)/24| <= 5/(864 sqrt 3), hence "
                 "|V - sigma| <= 11/(864 sqrt 3) < 0.0074",
       method="numeric", tolerance=VARIANCE_REMAINDER)
def check_ssu_variance() -> float:
    """Largest |V - sigma + sigma''/24| on a grid, and the corollary's slack if violated."""
    x = _grid()
    v, s = stepped_sigmoid_variance(x), sigmoid(x)
    remainder = float(np.max(np.abs(v - s + sigmoid_derivatives(x)[1] / 24.0)))
    # the corollary |V - sigma| <= VARIANCE_BOUND must hold too: add any excess
    excess = max(0.0, float(np.max(np.abs(v - s))) - VARIANCE_BOUND)
    return remainder + 1e3 * excess


def tail_ratio_symbolic() -> sp.Expr:
    """lim_{x->-inf} S(x)/softplus(x) = sum_{n>=1} e^{1/2-n}, summed by sympy."""
    n = sp.symbols("n", integer=True, positive=True)
    r = sp.symbols("r", positive=True)
    geometric = sp.summation(r**n, (n, 1, sp.oo))  # Piecewise: r/(1-r) for r < 1
    return sp.exp(sp.Rational(1, 2)) * geometric.subs(r, sp.exp(-1))


@claim("prop-ssu-tail", chapter="rbm",
       statement="S/softplus and V/sigma tend to e^{1/2}/(e-1) ~ 0.96 as x -> -inf",
       method="symbolic", tolerance=1e-12)
def check_ssu_tail() -> float:
    """sympy sums the geometric series; then the ratios at x = -40 must match it."""
    limit = tail_ratio_symbolic()
    difference = sp.cancel(sp.together(limit - sp.exp(sp.Rational(1, 2)) / (sp.E - 1)))
    residual = 0.0 if difference == 0 else 1.0 + float(abs(difference))
    x = np.array([-40.0])
    # at x = -40 the ratios differ from their limits by O(e^{-40}) ~ 4e-18
    r1 = stepped_sigmoid_mean(x)[0] / softplus(x)[0]
    r2 = stepped_sigmoid_variance(x)[0] / sigmoid(x)[0]
    return residual + abs(r1 - TAIL_RATIO) + abs(r2 - TAIL_RATIO)


def relu_homogeneity_residuals() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """sympy residuals of relu(a x) - a relu(x) for a > 0 on x > 0 and x < 0, and of the
    biased unit relu(a x + b) - a relu(x + b) at x = 0 (which is not zero)."""
    a, t = sp.symbols("a t", positive=True)
    b = sp.symbols("b", positive=True)
    relu_s = lambda z: sp.Max(0, z)  # noqa: E731
    pos = sp.simplify(relu_s(a * t) - a * relu_s(t))  # x = t > 0
    neg = sp.simplify(relu_s(-a * t) - a * relu_s(-t))  # x = -t < 0
    biased = sp.simplify(relu_s(b) - a * relu_s(b))  # x = 0, bias b > 0
    return pos, neg, biased


@claim("prop-relu-homogeneous", chapter="rbm",
       statement="relu(a x) = a relu(x) for all a >= 0 and x (scale equivariance, degree 1)",
       method="symbolic", tolerance=0.0)
def check_relu_homogeneous() -> float:
    """sympy simplifies both branches to 0; a = 0 is immediate (both sides are 0)."""
    pos, neg, _ = relu_homogeneity_residuals()
    return 0.0 if (pos == 0 and neg == 0) else 1.0


def bias_free_relu_net(x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """A bias-free ReLU network: x -> W_L relu(... relu(W_1 x)); ``x`` (N, n_in)."""
    h = _as_finite(x)
    for i, w in enumerate(weights):
        h = h @ np.asarray(w, dtype=np.float64).T
        if i < len(weights) - 1:
            h = np.maximum(0.0, h)
    return h


@claim("cor-relu-net-homogeneous", chapter="rbm",
       statement="a bias-free ReLU network satisfies f(a x) = a f(x) for a >= 0; "
                 "with biases it does not",
       method="numeric", tolerance=1e-12)
def check_relu_net_homogeneous() -> float:
    """Relative residual of f(ax) - a f(x) over random nets and scales (float64 round-off
    ~1e-15 per layer); fails if the biased control network is homogeneous as well."""
    rng = np.random.default_rng(0)
    sizes = [8, 16, 16, 4]
    weights = [rng.standard_normal((m, n)) / math.sqrt(n)
               for n, m in zip(sizes[:-1], sizes[1:], strict=True)]
    x = rng.standard_normal((50, 8))
    worst = 0.0
    for a in (0.0, 0.3, 1.0, 2.5, 100.0):
        fx, fax = bias_free_relu_net(x, weights), bias_free_relu_net(a * x, weights)
        worst = max(worst, float(np.max(np.abs(fax - a * fx)) / (1.0 + np.max(np.abs(a * fx)))))
    # control: one bias breaks the property (relative violation of order 1)
    biased = [np.hstack([w, rng.standard_normal((w.shape[0], 1))]) for w in weights]
    xb = np.hstack([x, np.ones((50, 1))])
    f1 = bias_free_relu_net(xb, [biased[0]])
    f2 = bias_free_relu_net(np.hstack([2.5 * x, np.ones((50, 1))]), [biased[0]])
    control = float(np.max(np.abs(f2 - 2.5 * f1)))
    return worst + (1.0 if control < 1e-3 else 0.0)


# ---------------------------------------------------------------------------- figures

@figure("rbm")
def fig_stepped_sigmoid() -> Figure:
    """Means (left) and variances (right) of a stepped sigmoid unit and its approximations."""
    x = np.linspace(-6.0, 6.0, 1201)
    mean_nrelu, var_nrelu = noisy_relu_moments(x)
    fig, (ax1, ax2) = new_figure(1, 2, height=3.0)
    ax1.plot(x, stepped_sigmoid_mean(x), color=COLORS["blue"], label=r"SSU mean $S(x)$")
    ax1.plot(x, softplus(x), "--", color=COLORS["orange"], label=r"softplus $\log(1+e^x)$")
    ax1.plot(x, relu(x), ":", color=COLORS["black"], label=r"$\max(0,x)$")
    ax1.plot(x, mean_nrelu, "-.", color=COLORS["green"], label="noisy ReLU mean")
    ax1.set_xlabel("total input $x$")
    ax1.set_ylabel("expected output")
    ax1.legend(loc="upper left")
    ax2.plot(x, stepped_sigmoid_variance(x), color=COLORS["blue"], label=r"SSU variance $V(x)$")
    ax2.plot(x, sigmoid(x), "--", color=COLORS["orange"], label=r"$\sigma(x)$")
    ax2.plot(x, var_nrelu, "-.", color=COLORS["green"], label="noisy ReLU variance")
    ax2.set_xlabel("total input $x$")
    ax2.set_ylabel("variance of the output")
    ax2.legend(loc="upper left")
    return fig


@figure("rbm")
def fig_stepped_sigmoid_error() -> Figure:
    """The errors S - softplus and V - sigma with their leading terms -sigma'/24, -sigma''/24."""
    x = np.linspace(-8.0, 8.0, 1601)
    d1, d2, _ = sigmoid_derivatives(x)
    fig, ax = new_figure(height=3.0)
    ax.plot(x, stepped_sigmoid_mean(x) - softplus(x), color=COLORS["blue"],
            label=r"$S(x) - \mathrm{softplus}(x)$")
    ax.plot(x, -d1 / 24.0, "--", color=COLORS["sky"],
            label=r"$-\frac{1}{24}\,\frac{d\sigma}{dx}$")
    ax.plot(x, stepped_sigmoid_variance(x) - sigmoid(x), color=COLORS["vermillion"],
            label=r"$V(x) - \sigma(x)$")
    ax.plot(x, -d2 / 24.0, "--", color=COLORS["orange"],
            label=r"$-\frac{1}{24}\,\frac{d^2\sigma}{dx^2}$")
    ax.axhline(0.0, color=COLORS["grey"], lw=0.8)
    ax.set_xlabel("total input $x$")
    ax.set_ylabel("error")
    ax.legend(loc="lower right")
    return fig
