"""Checks of chapter 4, "RBMs, rectified units and infinite belief nets".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.  The
models are tiny, so most checks are exact: they enumerate every state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.special import expit, logsumexp

from hiddenunits import belief_net as bn
from hiddenunits import rbm as R
from hiddenunits import stepped_sigmoid as ssu
from hiddenunits.book.claims import claim, variant
from hiddenunits.data import binarized_digits


def _enumerated_joint(model: R.RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All states V (2^n_v, n_v), H (2^n_h, n_h) and log exp(-E(v, h)) (2^n_v, 2^n_h),
    written out from the energy -E = b.v + c.h + v^T W h."""
    V, H = R.all_states(model.n_visible), R.all_states(model.n_hidden)
    neg_e = (V @ model.b)[:, None] + (H @ model.c)[None, :] + V @ model.W @ H.T
    return V, H, neg_e


def _product(probs: np.ndarray, states: np.ndarray) -> np.ndarray:
    """prod_i p_ai^{s_i} (1 - p_ai)^{1 - s_i} for every row a of ``probs`` and state s."""
    return np.prod(np.where(states[None] == 1, probs[:, None, :], 1 - probs[:, None, :]),
                   axis=2)


# --------------------------------------------------------------------------- binary RBMs
SQUARE_MODELS = ((4, 0), (5, 1))  # (units per layer, seed): W^T and W have the same shape


@claim("prop-rbm-conditionals",
       statement="p(h|v) = prod_j sigma(c_j + (W^T v)_j), p(v|h) = prod_i sigma(b_i + (W h)_i) "
                 "and F(v) = -b.v - sum_j softplus(c_j + (W^T v)_j)",
       math=r"$p(h\mid v) = \prod_j \sigma(c_j + (W^\top v)_j)$, "
            r"$p(v\mid h) = \prod_i \sigma(b_i + (Wh)_i)$ and "
            r"$F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + (W^\top v)_j)$",
       method="exact", tolerance=1e-12,
       variants=[variant("p(h_j = 1 | v) = sigma(c_j + (W v)_j): W for W^T",
                         hidden=lambda m, v: expit(v @ m.W.T + m.c)),
                 variant("p(v_i = 1 | h) = sigma(b_i + (W^T h)_i): W^T for W",
                         visible=lambda m, h: expit(h @ m.W + m.b)),
                 variant("F(v) with sigma in place of softplus",
                         free=lambda m, v: -(v @ m.b) - expit(v @ m.W + m.c).sum(axis=1))])
def check_rbm_conditionals(hidden: Callable = R.p_h_given_v, visible: Callable = R.p_v_given_h,
                           free: Callable = R.free_energy) -> float:
    """Conditionals of the enumerated joint vs the product formulas, and -log sum_h e^{-E}
    vs ``free``; square random RBMs (4 and 5 units per layer), float64 round-off."""
    err = 0.0
    for n, seed in SQUARE_MODELS:
        model = R.random_rbm(n, n, 1.0, seed)
        V, H, neg_e = _enumerated_joint(model)
        joint = np.exp(neg_e - logsumexp(neg_e))
        err = max(err,
                  np.abs(joint / joint.sum(axis=1, keepdims=True)
                         - _product(hidden(model, V), H)).max(),
                  np.abs((joint / joint.sum(axis=0, keepdims=True)).T
                         - _product(visible(model, H), V)).max(),
                  np.abs(free(model, V) + logsumexp(neg_e, axis=1)).max())
    return float(err)


def _log_z_formula(model: R.RBM, hidden_bias: bool = True) -> float:
    H = R.all_states(model.n_hidden)
    terms = np.logaddexp(0.0, H @ model.W.T + model.b).sum(axis=1)
    return float(logsumexp(terms + (H @ model.c if hidden_bias else 0.0)))


LOG_Z_MODELS = ((5, 4), (3, 7), (6, 6))


@claim("lem-rbm-log-partition",
       statement="log Z = log sum_h exp(c.h + sum_i softplus(b_i + (W h)_i)), enumerating only "
                 "the smaller layer; the resulting log p(v) sums to one",
       math=r"$\log Z = \log \sum_h \exp\big(c^\top h + \sum_i "
            r"\operatorname{softplus}(b_i + (Wh)_i)\big)$, enumerating only the smaller "
            r"layer; the resulting $\log p(v)$ sums to one",
       method="exact", tolerance=1e-12,
       variants=[variant("the hidden-bias term c.h left out",
                         log_z=lambda m: _log_z_formula(m, hidden_bias=False)),
                 variant("log Z of the model without weights: sum softplus(b) + sum "
                         "softplus(c)",
                         log_z=lambda m: float(np.logaddexp(0.0, m.b).sum()
                                               + np.logaddexp(0.0, m.c).sum()))])
def check_rbm_log_partition(log_z: Callable[[R.RBM], float] = R.log_partition) -> float:
    """``log_z`` (both orientations of each model) vs the sum of e^{-E} over all 2^(n_v+n_h)
    pairs, and |sum_v e^{-F(v)} / Z - 1|; float64 round-off on values ~10."""
    err = 0.0
    for seed, (nv, nh) in enumerate(LOG_Z_MODELS):
        model = R.random_rbm(nv, nh, 1.5, seed)
        V, _, neg_e = _enumerated_joint(model)
        brute = logsumexp(neg_e)
        free = -(V @ model.b) - np.logaddexp(0.0, V @ model.W + model.c).sum(axis=1)
        err = max(err, abs(log_z(model) - brute), abs(log_z(model.swap()) - brute),
                  abs(np.exp(-free - log_z(model)).sum() - 1.0))
    return float(err)


def _independent_model_term(model: R.RBM, data: np.ndarray):
    dW, db, dc = R.data_statistics(model, data)
    _, v_mean, h_mean = R.model_statistics(model)
    return dW - np.outer(v_mean, h_mean), db - v_mean, dc - h_mean


def _flipped_gradient(model: R.RBM, data: np.ndarray):
    return tuple(-g for g in R.exact_gradient(model, data))


@claim("prop-rbm-gradient",
       statement="d/dW (1/N) sum_n log p(v_n) = <v h^T>_data - <v h^T>_model (and likewise "
                 "for b and c)",
       math=r"$\partial \ell / \partial W = \langle v h^\top\rangle_{\text{data}} - "
            r"\langle v h^\top\rangle_{\text{model}}$ (and likewise for $b$ and $c$)",
       method="numeric", tolerance=1e-7,
       variants=[variant("model term <v><h>^T (units independent under the model)",
                         gradient=_independent_model_term),
                 variant("sign flipped: model minus data", gradient=_flipped_gradient)])
def check_rbm_gradient(gradient: Callable = R.exact_gradient) -> float:
    """``gradient`` vs central differences of the exact mean log-likelihood (6 visible,
    3 hidden units, 15 rows; step 1e-5: truncation ~1e-10, round-off ~1e-16 * 10 / 1e-5 =
    1e-10; tolerance 1e-7)."""
    model = R.random_rbm(6, 3, 1.0, 1)
    rng = np.random.default_rng(1)
    data = (rng.random((15, 6)) < 0.4).astype(np.float64)
    grads = dict(zip("Wbc", gradient(model, data), strict=True))
    eps, err = 1e-5, 0.0
    for name, grad in grads.items():
        base = getattr(model, name)
        for idx in np.ndindex(base.shape):
            vals = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[idx] += sign * eps
                params = {"W": model.W, "b": model.b, "c": model.c, name: shifted}
                vals.append(R.mean_log_likelihood(R.RBM(**params), data))
            err = max(err, abs((vals[0] - vals[1]) / (2 * eps) - grad[idx]))
    return float(err)


# --------------------------------------------------------------------------- Gaussian RBMs
def _tiny_gaussian(seed: int = 0, n_visible: int = 2, n_hidden: int = 3) -> R.GaussianRBM:
    rng = np.random.default_rng(seed)
    return R.GaussianRBM(rng.normal(0, 0.8, (n_visible, n_hidden)), rng.normal(0, 1, n_visible),
                         rng.normal(0, 1, n_hidden), rng.uniform(0.5, 1.5, n_visible))


def _gb_log_z_without_scales(m: R.GaussianRBM) -> float:
    H = R.all_states(m.c.size)
    wh = H @ m.W.T
    return float(0.5 * m.b.size * math.log(2 * math.pi)
                 + logsumexp(H @ m.c + wh @ (m.b / m.s) + 0.5 * (wh * wh).sum(axis=1)))


@lru_cache(maxsize=4)
def _gb_quadrature(lo: tuple[float, ...], hi: tuple[float, ...]) -> tuple:
    """The grid of :func:`check_gb_conditionals` on the box [lo, hi] (241 points a side)
    and, for every hidden state h, exp(-E(v, h)) on it and its trapezoidal integral;
    cached, since the statement and most false variants use the same box."""
    model = _tiny_gaussian()
    g0, g1 = (np.linspace(lo[i], hi[i], 241) for i in range(2))
    d0, d1 = g0[1] - g0[0], g1[1] - g1[0]
    grid = np.stack(np.meshgrid(g0, g1, indexing="ij"), -1).reshape(-1, 2)
    out = []
    for h in R.all_states(model.c.size):
        dens = np.exp(-R.gb_energy(model, grid, np.repeat(h[None], len(grid), 0)))
        dens = dens.reshape(len(g0), len(g1))
        dens.setflags(write=False)
        out.append((dens, np.trapezoid(np.trapezoid(dens, dx=d1, axis=1), dx=d0)))
    grid.setflags(write=False)
    return grid, tuple(out)


@claim("prop-gb-conditionals",
       statement="Gaussian-Bernoulli RBM: p(h_j=1|v) = sigma(c_j + sum_i v_i W_ij / s_i), "
                 "p(v|h) = N(b + s W h, diag s^2), and log Z in closed form",
       math=r"Gaussian-Bernoulli RBM: $p(h_j = 1\mid v) = \sigma(c_j + \sum_i v_i W_{ij}/s_i)$, "
            r"$p(v\mid h) = \mathcal{N}(b + s\odot Wh, \operatorname{diag}(s^2))$, and "
            r"$\log Z$ in closed form",
       method="numeric", tolerance=1e-9,
       variants=[variant("p(v|h) has mean b + W h (the factor s left out)",
                         v_mean=lambda m, h: m.b + h @ m.W.T),
                 variant("hidden input c + W^T v (v not divided by s)",
                         hidden=lambda m, v: expit(v @ m.W + m.c)),
                 variant("log Z without the term sum_i log s_i",
                         log_z=_gb_log_z_without_scales)])
def check_gb_conditionals(hidden: Callable = R.gb_p_h_given_v,
                          v_mean: Callable = R.gb_v_mean_given_h,
                          log_z: Callable = R.gb_log_partition) -> float:
    """Against the unnormalised joint exp(-E): p(h|v) by enumeration at random v; p(v|h) and
    Z by trapezoidal quadrature on a 2-D grid of +-12 standard deviations (spectrally
    accurate for Gaussian integrands; observed error ~1e-13, tolerance 1e-9)."""
    model = _tiny_gaussian()
    rng = np.random.default_rng(2)
    H = R.all_states(model.c.size)
    v = rng.normal(0, 2, (7, model.b.size))
    neg_e = -np.stack([R.gb_energy(model, v, np.repeat(h[None], len(v), 0)) for h in H], 1)
    post = np.exp(neg_e - logsumexp(neg_e, axis=1, keepdims=True))  # (7, 2^n_h)
    err = np.abs(post - _product(hidden(model, v), H)).max()
    # quadrature over v in R^2, for every h
    centre = np.stack([v_mean(model, h[None])[0] for h in H])  # (2^n_h, 2)
    exact_centre = np.stack([model.b + model.s * (model.W @ h) for h in H])
    lo = np.minimum(centre, exact_centre).min(0) - 12 * model.s
    hi = np.maximum(centre, exact_centre).max(0) + 12 * model.s
    grid, quadrature = _gb_quadrature(tuple(lo), tuple(hi))
    log_z_terms = []
    for k, (dens, mass) in enumerate(quadrature):
        log_z_terms.append(np.log(mass))
        # normalised quadrature density vs the Gaussian N(centre, s^2) at every grid point
        gauss = np.exp(-(((grid - centre[k]) / model.s) ** 2).sum(1) / 2) / (
            2 * np.pi * np.prod(model.s))
        err = max(err, np.abs(dens.ravel() / mass - gauss).max())
    err = max(err, abs(logsumexp(log_z_terms) - log_z(model)))
    return float(err)


@claim("prop-gb-scale",
       statement="bottom-up input scales as 1/s and top-down mean shift as s; with rectified "
                 "hidden units and c = 0 the mean-field reconstruction does not depend on s",
       math=r"the bottom-up input scales as $1/s$ and the top-down mean shift as $s$; with "
            r"rectified hidden units and $c = 0$ the mean-field reconstruction does not "
            r"depend on $s$",
       method="numeric", tolerance=1e-12,
       variants=[variant("bottom-up input scales as 1/s^2", up_power=2),
                 variant("top-down mean shift scales as 1/s", down_power=-1),
                 variant("binary (logistic) hidden units in place of rectified ones",
                         hidden="binary")])
def check_gb_scale(up_power: int = 1, down_power: int = 1, hidden: str = "nrelu") -> float:
    """Relative errors of x(alpha s) = x(s) / alpha^up_power and shift(alpha s) =
    alpha^down_power shift(s) (alpha = 0.3), and of the reconstruction b + s W h(W^T v / s)
    with ``hidden`` units for s in {1, 0.3, 0.05} (6 visible, 4 hidden units)."""
    rng = np.random.default_rng(3)
    W = rng.normal(0, 0.5, (6, 4))
    b = rng.normal(0, 1, 6)
    v = rng.normal(0, 1, (20, 6))
    h = (rng.random((20, 4)) < 0.5).astype(np.float64)
    alpha = 0.3
    one, small = (R.GaussianRBM(W, b, np.zeros(4), np.full(6, s)) for s in (1.0, alpha))
    x1, xa = R.gb_hidden_input(one, v), R.gb_hidden_input(small, v)
    m1, ma = R.gb_v_mean_given_h(one, h) - b, R.gb_v_mean_given_h(small, h) - b
    scaling = max(np.abs(xa - x1 / alpha**up_power).max() / np.abs(x1).max(),
                  np.abs(ma - alpha**down_power * m1).max() / np.abs(m1).max())
    rec = {}
    for s in (1.0, 0.3, 0.05):
        model = R.GaussianRBM(W, b, np.zeros(4), np.full(6, s))
        rec[s] = R.gb_v_mean_given_h(model, R.gb_hidden_mean(model, v, hidden))
    invariance = max(np.abs(rec[s] - rec[1.0]).max() / np.abs(rec[1.0]).max() for s in rec)
    return float(scaling + invariance)


# --------------------------------------------------------------------------- stepped sigmoid
def _grid() -> np.ndarray:
    # Step 1e-3 resolves the error curves, whose features have width ~1; beyond |x| = 40
    # every term is below e^{-39} (both sides of each bound are then ~0).
    return np.linspace(-40.0, 40.0, 80001)


@lru_cache(maxsize=8)
def _on_grid(name: str, shift: float = 0.0) -> np.ndarray:
    """``ssu.<name>(x + shift)`` at the points x of the check grid (read-only); cached, since
    the claims below and their false variants need the same slow sums several times."""
    x = _grid()
    y = getattr(ssu, name)(x + shift if shift else x)
    y.setflags(write=False)
    return y


def _d1(x: np.ndarray) -> np.ndarray:
    return ssu.sigmoid_derivatives(x)[0]


def _d2(x: np.ndarray) -> np.ndarray:
    return ssu.sigmoid_derivatives(x)[1]


# Variants of the sum S = sum_{n>=1} sigma(x - n + 1/2), written through S itself (the
# ``shift`` of the checks below: the sum at x is S(x + shift)):
#   sum_{n>=0} sigma(x - n + 1/2) = S(x + 1);  sum_{n>=1} sigma(x - n + 1) = S(x + 1/2);
#   sum_{n>=1} sigma(x - n) = S(x - 1/2).
@claim("thm-ssu-softplus",
       statement="|S(x) - softplus(x) + sigma'(x)/24| <= 1/324 for all x",
       math=r"$\lvert S(x) - \operatorname{softplus}(x) + \sigma'(x)/24\rvert \le 1/324$ "
            r"for all $x$",
       method="numeric", tolerance=ssu.SOFTPLUS_REMAINDER,
       variants=[variant("the sum taken over n >= 0", shift=1.0),
                 variant("offsets 0, -1, -2, ... (x - n + 1 for x - n + 1/2)", shift=0.5),
                 variant("leading term -sigma'/12", leading=lambda x: -_d1(x) / 12.0)])
def check_ssu_softplus(shift: float = 0.0,
                       leading: Callable = lambda x: -_d1(x) / 24.0) -> float:
    """Largest |S(x + shift) - softplus(x) - leading(x)| on a grid of step 1e-3 over
    [-40, 40]; the tolerance is the proved bound 1/324."""
    x = _grid()
    mean = _on_grid("stepped_sigmoid_mean", shift)
    return float(np.max(np.abs(mean - ssu.softplus(x) - leading(x))))


@claim("cor-ssu-softplus-bound",
       statement="|S(x) - softplus(x)| <= 1/96 + 1/324 < 0.0136 for all x",
       math=r"$\lvert S(x) - \operatorname{softplus}(x)\rvert \le 1/96 + 1/324 < 0.0136$ "
            r"for all $x$",
       method="numeric", tolerance=ssu.SOFTPLUS_BOUND,
       variants=[variant("offsets -1, -2, ... (a right-endpoint rule)", shift=-0.5),
                 variant("the sum taken over n >= 0", shift=1.0)])
def check_ssu_softplus_bound(shift: float = 0.0) -> float:
    """Largest |S(x + shift) - softplus(x)| on the grid; the tolerance is the proved
    bound."""
    x = _grid()
    return float(np.max(np.abs(_on_grid("stepped_sigmoid_mean", shift) - ssu.softplus(x))))


@claim("prop-ssu-variance",
       statement="|V(x) - sigma(x) + sigma''(x)/24| <= 5/(864 sqrt 3), hence "
                 "|V - sigma| <= 11/(864 sqrt 3) < 0.0074",
       math=r"$\lvert V(x) - \sigma(x) + \sigma''(x)/24\rvert \le 5/(864\sqrt3)$, hence "
            r"$\lvert V - \sigma\rvert \le 11/(864\sqrt3) < 0.0074$",
       method="numeric", tolerance=ssu.VARIANCE_REMAINDER,
       variants=[variant("V close to sigma(x)(1 - sigma(x)), the variance of one copy",
                         target=_d1),
                 variant("leading term +sigma''/24", leading=lambda x: _d2(x) / 24.0)])
def check_ssu_variance(target: Callable = ssu.sigmoid,
                       leading: Callable = lambda x: -_d2(x) / 24.0) -> float:
    """max of |V - target - leading| and |V - target| x (5/(864 sqrt 3)) / (11/(864 sqrt 3))
    on the grid: each part is within the tolerance iff its inequality holds there."""
    x = _grid()
    v, t = _on_grid("stepped_sigmoid_variance"), target(x)
    remainder = float(np.max(np.abs(v - t - leading(x))))
    deviation = float(np.max(np.abs(v - t)))
    return max(remainder, deviation * ssu.VARIANCE_REMAINDER / ssu.VARIANCE_BOUND)


@lru_cache(maxsize=1)
def tail_ratio_symbolic() -> sp.Expr:
    """lim_{x->-inf} S(x)/softplus(x) = sum_{n>=1} e^{1/2-n}, summed by sympy."""
    n = sp.symbols("n", integer=True, positive=True)
    return sp.summation(sp.exp(sp.Rational(1, 2) - n), (n, 1, sp.oo))


TAIL_LIMIT = sp.exp(sp.Rational(1, 2)) / (sp.E - 1)


@claim("prop-ssu-tail",
       statement="S/softplus and V/sigma tend to e^{1/2}/(e-1) ~ 0.96 as x -> -inf",
       math=r"$S/\operatorname{softplus}$ and $V/\sigma$ tend to "
            r"$e^{1/2}/(e-1) \approx 0.96$ as $x \to -\infty$",
       method="symbolic", tolerance=1e-12,
       variants=[variant("limit 1/(e - 1) (offsets -1, -2, ...)", limit=1 / (sp.E - 1)),
                 variant("limit 1 (no relative error in the tail)", limit=sp.Integer(1))])
def check_ssu_tail(limit: sp.Expr = TAIL_LIMIT) -> float:
    """|sympy's sum of the geometric series - limit| (0 when it simplifies to 0), plus the
    distances of the ratios at x = -40 (within O(e^-40) of their limits) from ``limit``."""
    difference = sp.simplify(tail_ratio_symbolic() - limit)
    symbolic = 0.0 if difference == 0 else abs(float(difference))
    x = -40.0
    r1 = ssu.stepped_sigmoid_mean(x) / ssu.softplus(x)
    r2 = ssu.stepped_sigmoid_variance(x) / ssu.sigmoid(x)
    return symbolic + abs(r1 - float(limit)) + abs(r2 - float(limit))


@lru_cache(maxsize=1)
def _psi_values() -> tuple[np.ndarray, np.ndarray]:
    """x on a grid of step 1e-3 over [-40, 60] and Psi(x) (read-only).  Below -40 every
    term is < e^{-39}; above 60, Psi - x^2/2 has long settled (it changes by less than
    1e-8 beyond x = 20)."""
    x = np.linspace(-40.0, 60.0, 100001)
    psi = np.asarray(ssu.stepped_softplus(x))
    x.setflags(write=False)
    psi.setflags(write=False)
    return x, psi


@claim("lem-ssu-free-energy",
       statement="0 < Psi(x) - max(0, x)^2 / 2 < pi^2 / 6 for all x, Psi(x) = "
                 "sum_{n>=1} softplus(x - n + 1/2)",
       math=r"$0 < \Psi(x) - \tfrac12 \max(0, x)^2 < \pi^2/6$ for all $x$, where "
            r"$\Psi(x) = \sum_{n \ge 1} \operatorname{softplus}(x - n + \tfrac12)$",
       method="numeric", tolerance=1e-9,
       variants=[variant("the constant 1 in place of pi^2/6", gap=1.0),
                 variant("x^2/2 in place of max(0, x)^2/2 (the negative side grows too)",
                         square=lambda x: x * x / 2.0)])
def check_ssu_free_energy(gap: float = ssu.PSI_GAP,
                          square: Callable = lambda x: np.maximum(x, 0.0) ** 2 / 2.0) -> float:
    """Largest violation of square(x) < Psi(x) < square(x) + gap on a grid of step 1e-3
    over [-40, 60] (Psi summed term by term; round-off ~1e-12 on values up to 1800)."""
    x, psi = _psi_values()
    d = psi - square(x)
    return float(max(0.0, -d.min(), d.max() - gap))


# Gaussian RBMs with SSU hidden units and two visible units, W (2, n_h) by columns w_j:
# kappa = max_u |max(0, W^T u)|^2 over unit vectors u, against the tempting conditions.
SSU_MODELS = (
    # two units of norm 0.9, 30 degrees apart: every |w_j|^2 = 0.81 but kappa = 1.51
    ((0.9, 0.9 * math.cos(math.pi / 6)), (0.0, 0.9 * math.sin(math.pi / 6))),
    # opposite units: ||W||_op^2 = 1.62 but only one is ever on, kappa = 0.81
    ((0.9, -0.9), (0.0, 0.0)),
    # one unit of norm 1.2 (kappa = 1.44) and a weak one
    ((1.2, 0.0), (0.0, -0.5)),
    # three units in different directions, kappa = 0.50
    ((0.5, 0.3, -0.7), (0.5, -0.6, 0.1)),
    # near the threshold (zero biases, so that the quadratic decides by radius 30):
    # two units 60 degrees apart with kappa = 1.5 a^2 = 0.95, and a third, opposite to
    # their bisector, that is off where they are on (||W||_op^2 > 1)
    ((0.7958224257542215, 0.3979112128771107, -0.6892024376045111),
     (0.0, 0.6892024376045111, -0.3979112128771108)),
    # the same with kappa = 1.05, just above the threshold
    ((0.8366600265340756, 0.4183300132670378, -0.7245688373094719),
     (0.0, 0.7245688373094719, -0.41833001326703785)),
)
SSU_ZERO_BIAS = 2
"""The last SSU_ZERO_BIAS models of SSU_MODELS have zero biases."""


def _kappa_2d(W: np.ndarray) -> float:
    """kappa(W) for two visible units, by a scan of 36000 directions (exact to ~1e-8)."""
    t = np.linspace(0.0, 2 * np.pi, 36000, endpoint=False)
    u = np.stack([np.cos(t), np.sin(t)], axis=1)
    return float((np.maximum(u @ W, 0.0) ** 2).sum(axis=1).max())


@lru_cache(maxsize=1)
def _ssu_growth() -> tuple[tuple[np.ndarray, float], ...]:
    """For every model of SSU_MODELS (biases and standard deviations drawn once): its W and
    Delta = log of the integral of exp(-F) over the disc |v / s| <= 60 minus that over
    |v / s| <= 30, by polar quadrature (-F from the SSU free energy, Psi interpolated
    linearly from a grid of step 0.01: error < 1e-4 in -F, since Psi'' <= 1)."""
    rng = np.random.default_rng(11)
    xs = np.linspace(-80.0, 80.0, 16001)  # |c_j + w_j . v/s| < 80 on the discs
    psi = ssu.stepped_softplus(xs)
    t = np.linspace(0.0, 2 * np.pi, 180, endpoint=False)
    r = np.linspace(0.0, 60.0, 601)[1:]
    z = (r[:, None, None] * np.stack([np.cos(t), np.sin(t)], axis=1)[None]).reshape(-1, 2)
    out = []
    for i, columns in enumerate(SSU_MODELS):
        W = np.array(columns, dtype=np.float64)
        b, c = rng.normal(0.0, 0.5, 2), rng.normal(0.0, 0.5, W.shape[1])
        s = rng.uniform(0.5, 1.5, 2)
        if i >= len(SSU_MODELS) - SSU_ZERO_BIAS:
            b, c = 0.0 * b, 0.0 * c
        x = c + z @ W  # hidden inputs at v = s z
        neg_f = -(((s * z - b) / s) ** 2).sum(axis=1) / 2 + np.interp(x, xs, psi).sum(axis=1)
        log_terms = (neg_f.reshape(len(r), len(t)) + np.log(r)[:, None]).ravel()
        inner = np.repeat(r <= 30.0, len(t))
        out.append((W, float(logsumexp(log_terms) - logsumexp(log_terms[inner]))))
    return tuple(out)


@claim("prop-ssu-rbm-proper",
       statement="a Gaussian RBM with stepped sigmoid hidden units is normalisable if "
                 "kappa(W) = max_|u|=1 |max(0, W^T u)|^2 < 1 and improper if kappa(W) > 1",
       math=r"a Gaussian RBM with stepped sigmoid hidden units is normalisable if "
            r"$\kappa(W) = \max_{\lVert u\rVert = 1} \lVert \max(0, W^\top u)\rVert^2 < 1$ "
            r"and improper if $\kappa(W) > 1$",
       method="numeric", tolerance=1e-6,
       variants=[variant("normalisable iff ||W||_op < 1 (the condition for linear "
                         "hidden units)",
                         proper=lambda W: np.linalg.norm(W, 2) ** 2 < 1.0),
                 variant("normalisable iff every |W_:j| < 1 (one unit at a time)",
                         proper=lambda W: (W**2).sum(axis=0).max() < 1.0),
                 variant("always normalisable, as with binary hidden units",
                         proper=lambda W: True),
                 variant("normalisable iff kappa(W) < 1.2 (a threshold above 1)",
                         proper=lambda W: _kappa_2d(W) < 1.2),
                 variant("normalisable iff kappa(W) < 0.9 (a threshold below 1)",
                         proper=lambda W: _kappa_2d(W) < 0.9)])
def check_ssu_rbm_proper(proper: Callable = lambda W: _kappa_2d(W) < 1.0) -> float:
    """On six models with two visible units (kappa = 1.51, 0.81, 1.44, 0.50 with random
    biases, and 0.95, 1.05 with zero biases; random standard deviations): where
    ``proper`` predicts a finite Z, the growth Delta of the log integral from radius 30 to
    60 (in v / s) must vanish (the mass beyond radius 30 is below e^{-20} of the total
    when kappa <= 0.95); where it predicts Z = infinity, Delta must exceed 10 nats (it is
    about (kappa - 1) 2700 / 2, 67 nats at kappa = 1.05).  Returns the largest
    violation."""
    err = 0.0
    for W, growth in _ssu_growth():
        err = max(err, growth if proper(W) else max(0.0, 10.0 - growth))
    return float(err)


def _symbolic_size(expr: sp.Expr, point: dict) -> float:
    """0 if ``expr`` simplifies to 0, else |expr| at ``point`` (at least 1e-300)."""
    expr = sp.simplify(expr)
    if expr == 0:
        return 0.0
    return max(abs(float(expr.subs(point))), 1e-300)


# --------------------------------------------------------------------------- tied nets
def _chain_spectrum(model: R.RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues (descending, real parts) and left eigenvectors of the visible two-step
    kernel T = up @ down, computed from its definition; and the largest imaginary part."""
    up, down = bn.kernels(model)
    values, vectors = np.linalg.eig((up @ down).T)  # left eigenvectors of T
    order = np.argsort(-values.real)
    return values.real[order], vectors.real[:, order], np.abs(values.imag).max()


def _symmetric_one_visible(weights: tuple[float, ...]) -> R.RBM:
    """One visible unit, p(v = 1) = 1/2 (c = -W/2, b = -sum W/2): a two-state chain on which
    TV and (1/2) sqrt(chi^2) coincide, so the spectral bound holds with equality."""
    W = np.array([weights])
    return R.RBM(W, [-W.sum() / 2], -W[0] / 2)


TIED_MODELS = ((3, 2, 1.0, 0), (4, 3, 2.0, 1), (5, 4, 3.0, 2), (2, 5, 1.5, 3))


def _tied_models() -> list[R.RBM]:
    models = [bn.tiny_problem(bn.TinyProblem(n_visible=nv, n_hidden=nh, scale=s, seed=seed))[0]
              for nv, nh, s, seed in TIED_MODELS]
    return models + [_symmetric_one_visible((2.0, 1.5))]


@lru_cache(maxsize=1)
def _tied_measurements() -> tuple:
    """Per model of ``_tied_models``, what does not depend on the statement: the
    spectrum of T = up @ down (lambda_2, its smallest eigenvalue, largest imaginary part),
    the chain vs the brute-force joint of all layers (depths 1-5, random tops, models with
    at most 5 units), and TV(p_L, p) with chi^2(pi' || p) for two tops of each type and
    L = 0..40, and from a top along the second eigenvector (even L)."""
    rng = np.random.default_rng(5)
    out = []
    for model in _tied_models():
        p_v, p_h = bn.rbm_marginals(model)
        up, down = bn.kernels(model)
        values, vectors, imag = _chain_spectrum(model)
        brute = 0.0
        if 3 * (model.n_visible + model.n_hidden) <= 15:  # 6 layers: at most 2^15 configs
            for depth in range(1, 6):
                top = rng.dirichlet(np.ones(2 ** (model.n_hidden if depth % 2 else
                                                  model.n_visible)))
                brute = max(brute, np.abs(bn.tied_net_marginal(model, depth, top)
                                          - bn.tied_net_marginal_bruteforce(model, depth, top)
                                          ).max())
        decay = []  # (L, TV(p_L, p), chi^2(pi' || p))
        for top_v, top_h in ((rng.dirichlet(np.ones(p_v.size)), rng.dirichlet(np.ones(p_h.size))),
                             (np.eye(p_v.size)[0], np.eye(p_h.size)[-1])):
            for depth in range(0, 41):
                top = top_h if depth % 2 else top_v
                highest_visible = top_h @ down if depth % 2 else top_v
                decay.append((depth, bn.total_variation(bn.tied_net_marginal(model, depth, top),
                                                        p_v),
                              bn.chi_square(highest_visible, p_v)))
        u = vectors[:, 1] / np.abs(vectors[:, 1]).sum()
        start = p_v + 0.5 * np.min(p_v[u < 0] / -u[u < 0]) * u  # a law: p + eps u >= 0
        start /= start.sum()
        tv0 = bn.total_variation(start, p_v)
        sharp = [(depth, bn.total_variation(bn.tied_net_marginal(model, depth, start), p_v),
                  tv0) for depth in range(0, 41, 2)]
        out.append((model, p_v, p_h, values[1], values.min(), imag, brute, decay, sharp))
    return tuple(out)


@claim("thm-tied-net-gibbs",
       statement="the depth-L tied net's visible marginal is the L-half-step Gibbs chain from "
                 "the top; it equals p(v) for an equilibrium top, and otherwise TV(p_L, p) <= "
                 "(1/2) sqrt(chi^2(pi' || p)) lambda_2^floor(L/2), a rate that is attained",
       math=r"the depth-$L$ tied net's visible marginal $p^{(L)}$ is the $L$-half-step Gibbs "
            r"chain from the top; $p^{(L)} = p$ for an equilibrium top, and otherwise "
            r"$\operatorname{TV}(p^{(L)}, p) \le \tfrac12\sqrt{\chi^2(\pi'\,\|\,p)}\,"
            r"\lambda_2^{\lfloor L/2\rfloor}$, a rate that is attained",
       method="exact", tolerance=1e-12,
       variants=[variant("rate lambda_2 per layer (lambda_2^L)", rate=lambda lam, L: lam**L),
                 variant("rate lambda_2^ceil(L/2) (the top's half-step counted as a step)",
                         rate=lambda lam, L: lam ** ((L + 1) // 2)),
                 variant("a finite net from the uniform top already gives p(v)",
                         equilibrium=lambda p_v, p_h, L: np.full(
                             (p_h if L % 2 else p_v).size, 1.0 / (p_h if L % 2 else p_v).size))])
def check_tied_net_gibbs(rate: Callable[[float, int], float] = lambda lam, L: lam ** (L // 2),
                         equilibrium: Callable = lambda p_v, p_h, L: p_h if L % 2 else p_v
                         ) -> float:
    """On five models (3x2, 4x3, 5x4, 2x5 random; a 1x2 model on which the bound is an
    equality), exactly, the largest absolute violation (TV <= 1) of:

    * depths 1-5: the chain = the joint of all layers summed configuration by configuration
      (random Dirichlet tops; the 3x2 and 1x2 models);
    * depths 1-6: p_L = p(v) from the ``equilibrium`` top;
    * depths 0-40: TV(p_L, p) <= (1/2) sqrt(chi^2(pi' || p)) rate(lambda_2, L), from a
      random top and a point mass of each type (pi' the law of the highest visible-type
      layer), lambda_2 from the eigenvalues of T = up @ down, which must be real, >= 0, < 1;
    * the rate is attained: from pi' = p + eps u (u the left eigenvector of lambda_2),
      TV(p_L, p) = rate(lambda_2, L) TV(pi', p) at even depths.
    """
    err = 0.0
    for model, p_v, p_h, lam, smallest, imag, brute, decay, sharp in _tied_measurements():
        err = max(err, imag, -smallest, float(lam >= 1.0), brute)
        for depth in range(1, 7):
            err = max(err, np.abs(bn.tied_net_marginal(model, depth,
                                                       equilibrium(p_v, p_h, depth)) - p_v).max())
        for depth, tv, chi2 in decay:
            err = max(err, tv - 0.5 * math.sqrt(chi2) * rate(lam, depth))
        for depth, tv, tv0 in sharp:
            err = max(err, abs(tv - rate(lam, depth) * tv0))
    return float(max(err, 0.0))


@claim("prop-complementary-prior",
       statement="with the RBM's p(h) as prior, the posterior p(h|v) of the directed net "
                 "factorises as prod_j sigma(c_j + (W^T v)_j)",
       math=r"with the RBM's $p(h)$ as prior, the posterior of the directed net factorises: "
            r"$p(h\mid v) = \prod_j \sigma(c_j + (W^\top v)_j)^{h_j}"
            r"(1 - \sigma(c_j + (W^\top v)_j))^{1-h_j}$",
       method="exact", tolerance=1e-12,
       variants=[variant("a factorial prior with the same marginals as p(h)",
                         prior=lambda model, p_h: bn.factorised_prior(p_h, model.n_hidden)),
                 variant("a uniform prior",
                         prior=lambda model, p_h: np.full(p_h.size, 1.0 / p_h.size))])
def check_complementary_prior(prior: Callable = lambda model, p_h: p_h) -> float:
    """Bayes' rule by enumeration with ``prior`` vs the factorial formula, on a 4x3 and a
    3x4 RBM (float64 round-off)."""
    err = 0.0
    for nv, nh, seed in ((4, 3, 0), (3, 4, 1)):
        model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=nv, n_hidden=nh, scale=1.5,
                                                  seed=seed))
        _, p_h = bn.rbm_marginals(model)
        V, H = R.all_states(nv), R.all_states(nh)
        formula = _product(expit(V @ model.W + model.c), H)
        err = max(err, np.abs(bn.directed_posterior(prior(model, p_h), model) - formula).max())
    return float(err)


POSTERIOR_MODELS = ((2, 2, 1.5, 0), (3, 2, 2.0, 1), (2, 3, 1.0, 2))


def _chain_from(model: R.RBM, depth: int, state: int) -> np.ndarray:
    """The upward Gibbs chain from the point mass at visible state ``state``."""
    return bn.gibbs_chain_law(model, depth, np.eye(2**model.n_visible)[state])[state]


def _independent_layers(model: R.RBM, depth: int, state: int) -> np.ndarray:
    """The product of the chain's one-layer marginals (layers independent given v^0)."""
    law = _chain_from(model, depth, state)
    out = np.ones(())
    for axis in range(law.ndim):
        other = tuple(i for i in range(law.ndim) if i != axis)
        out = out[..., None] * law.sum(axis=other)
    return out


@claim("prop-tied-posterior",
       statement="in the tied net whose top layer has the RBM's marginal, the posterior of "
                 "all layers above v^0 is the Gibbs chain started at v^0",
       math=r"in the tied net whose top layer has the RBM's marginal, "
            r"$p(x_1, \dots, x_L \mid x_0) = \prod_{\ell < L} p(x_{\ell+1} \mid x_\ell)$, "
            r"the Gibbs chain started at $x_0 = v^0$",
       method="exact", tolerance=1e-12,
       variants=[variant("the same with a uniform top layer (a finite net off equilibrium)",
                         top=lambda p_v, p_h, L: np.full((p_h if L % 2 else p_v).size,
                                                         1.0 / (p_h if L % 2 else p_v).size)),
                 variant("the layers above v^0 independent given v^0 (the product of the "
                         "chain's one-layer marginals)", chain=_independent_layers)])
def check_tied_posterior(top: Callable = lambda p_v, p_h, L: p_h if L % 2 else p_v,
                         chain: Callable = _chain_from) -> float:
    """On a 2x2, a 3x2 and a 2x3 RBM and depths 1-4, exactly: the posterior given every
    visible state v^0, from the joint of all layers summed configuration by configuration
    (:func:`hiddenunits.belief_net.tied_net_joint`, top layer ``top``), against ``chain``
    (the Gibbs chain's law from the kernels)."""
    err = 0.0
    for nv, nh, scale, seed in POSTERIOR_MODELS:
        model, _ = bn.tiny_problem(bn.TinyProblem(n_visible=nv, n_hidden=nh, scale=scale,
                                                  seed=seed))
        p_v, p_h = bn.rbm_marginals(model)
        for depth in range(1, 5):
            joint = bn.tied_net_joint(model, depth, top(p_v, p_h, depth))
            for state in range(2**nv):
                post = joint[state] / joint[state].sum()
                err = max(err, float(np.abs(post - chain(model, depth, state)).max()))
    return err


TELESCOPING = (bn.TinyProblem(), bn.TinyProblem(n_visible=5, n_hidden=3, scale=2.0, seed=4))


@claim("thm-telescoping",
       statement="the tied belief net's layer updates sum to E_data[v h^T] - E[v^K h^K] "
                 "(the CD-K update) and tend to the RBM's likelihood gradient as K -> inf",
       math=r"the first $2K$ layer updates of the tied net sum to "
            r"$\mathbb{E}[v^0 (q^0)^\top] - \mathbb{E}[v^K (q^K)^\top]$ (the CD-$K$ update) "
            r"and tend to the likelihood gradient as $K \to \infty$",
       method="exact", tolerance=1e-12,
       variants=[variant("2K - 1 layers (the last term dropped)", layers=lambda K: 2 * K - 1),
                 variant("K layers give CD-K (layers counted as steps)", layers=lambda K: K)])
def check_telescoping(layers: Callable[[int], int] = lambda K: 2 * K) -> float:
    """Sum of the first ``layers(K)`` layer terms (each computed with p^k and q^{k+1} written
    out) vs CD-K, for K = 1..6; and CD-300 vs the exact gradient (geometric convergence,
    lambda_2^300 < 1e-30 here); a 4x3 and a 5x3 RBM, 12 data rows each."""
    err = 0.0
    for problem in TELESCOPING:
        model, data = bn.tiny_problem(problem)
        terms = bn.belief_net_layer_terms(model, data, 7)
        for K in range(1, 7):
            err = max(err, np.abs(sum(terms[:layers(K)])
                                  - bn.cd_expected_update(model, data, K)).max())
        err = max(err, np.abs(bn.cd_expected_update(model, data, 300)
                              - R.exact_gradient(model, data)[0]).max())
    return float(err)


def _spectral_bound(p0: np.ndarray, p: np.ndarray, lam: float, k: int) -> float:
    return 0.5 * math.sqrt(_chi_square(p0, p)) * lam**k


def _chi_square(p: np.ndarray, q: np.ndarray) -> float:
    """bn.chi_square(p, q), memoised on the values: the check and its variants ask for the
    same few hundred pairs of laws thousands of times."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    return _chi_square_of_bytes(p.tobytes(), q.tobytes())


@lru_cache(maxsize=4096)
def _chi_square_of_bytes(p: bytes, q: bytes) -> float:
    return bn.chi_square(np.frombuffer(p), np.frombuffer(q))


@lru_cache(maxsize=1)
def _cd_bias_measurements() -> tuple:
    """Per model, what does not depend on the statement: the spectrum of T, and for k = 1..6
    the CD-k bias and TV(p_k, p) from the data law p_0, and TV(p_k, p) from every point mass.
    Models: 5x3 RBMs with W scaled by 0, 0.3, 1, 2 (two seeds, 12 data rows each; at W = 0
    both sides are 0 up to round-off) and the 1x2 model on which the spectral bound is an
    equality (the data: three copies of v = 1)."""
    cases = []
    for scale in (0.0, 0.3, 1.0, 2.0):
        for seed in (1, 2):
            cases.append(bn.tiny_problem(bn.TinyProblem(n_visible=5, n_hidden=3, scale=scale,
                                                        seed=seed)))
    cases.append((_symmetric_one_visible((2.5, 1.0)), np.array([[1.0], [1.0], [1.0]])))
    out = []
    for model, data in cases:
        values, _, imag = _chain_spectrum(model)
        p_v, _ = bn.rbm_marginals(model)
        up, down = bn.kernels(model)
        p_data = bn.data_distribution(data, model.n_visible)
        from_data = [(p_data, k, *bn.cd_bias(model, data, k)) for k in range(1, 7)]
        from_points = []
        for state in range(p_v.size):  # every point mass as the start
            p0 = np.eye(p_v.size)[state]
            pk = p0
            for k in range(1, 7):
                pk = pk @ up @ down
                from_points.append((p0, k, bn.total_variation(pk, p_v)))
        out.append((p_v, values[1], values.min(), imag, from_data, from_points))
    return tuple(out)


@claim("prop-cd-bias",
       statement="|E[CD-k] - grad|_max <= TV(nu_k, p) <= (1/2) sqrt(chi^2(nu_0 || p)) "
                 "lambda_2^k, lambda_2 in [0, 1) the second eigenvalue of the Gibbs chain; "
                 "CD-1 is exact when W = 0",
       math=r"$\lvert \mathbb{E}[\Delta W^{\text{CD-}k}] - \partial\ell/\partial W"
            r"\rvert_{ij} \le \operatorname{TV}(\nu_k, p) \le \tfrac12\sqrt{\chi^2(\nu_0\,\|\,p)}"
            r"\,\lambda_2^k$ with $\lambda_2 \in [0, 1)$; CD-1 is exact when $W = 0$",
       method="exact", tolerance=1e-12,
       variants=[variant("rate lambda_2^(2k) (k counted in half-steps)",
                         bound=lambda p0, p, lam, k: _spectral_bound(p0, p, lam, 2 * k)),
                 variant("TV shrinks by lambda_2 per step: TV(nu_k, p) <= lambda_2^k "
                         "TV(nu_0, p)",
                         bound=lambda p0, p, lam, k: lam**k * bn.total_variation(p0, p)),
                 variant("bias at most TV(nu_k, p) / 2", bias_bound=lambda tv: tv / 2)])
def check_cd_bias(bound: Callable = _spectral_bound,
                  bias_bound: Callable[[float], float] = lambda tv: tv) -> float:
    """Largest violation of bias <= bias_bound(TV) and TV <= bound(nu_0, p, lambda_2, k),
    k = 1..6, exactly, over the models of ``_cd_bias_measurements`` with the data law
    and every point mass as nu_0; lambda_2 comes from the eigenvalues of T, which must be
    real and in [0, 1) (round-off below 0 counts as 0)."""
    worst = 0.0
    for p_v, second, smallest, imag, from_data, from_points in _cd_bias_measurements():
        worst = max(worst, imag, -smallest, float(second >= 1.0))
        lam = max(second, 0.0)
        for p0, k, bias, tv in from_data:
            worst = max(worst, bias - bias_bound(tv), tv - bound(p0, p_v, lam, k))
        for p0, k, tv in from_points:
            worst = max(worst, tv - bound(p0, p_v, lam, k))
    return float(max(worst, 0.0))


def cd1_curls() -> tuple[sp.Expr, sp.Expr]:
    """dF_w/db - dF_b/dw at (w, b, c) = (log 3, 0, 0) for the expected CD-1 update F of a
    1x1 RBM with P(v=1) = rho, and the same for the exact likelihood gradient at every
    (w, b, c), both summed over every configuration by sympy."""
    w, b, c, rho = sp.symbols("w b c rho", real=True)

    def sig(z):
        return 1 / (1 + sp.exp(-z))

    data = {1: rho, 0: 1 - rho}
    q = {v: sig(c + w * v) for v in (0, 1)}  # p(h = 1 | v)
    fw = sum(data[v] * v * q[v] for v in (0, 1))
    fb = sum(data[v] * v for v in (0, 1))
    ml_w, ml_b = fw, fb
    for v0 in (0, 1):
        for h in (0, 1):
            ph = q[v0] if h else 1 - q[v0]
            for v1 in (0, 1):
                pv1 = sig(b + w * h) if v1 else 1 - sig(b + w * h)
                fw -= data[v0] * ph * pv1 * v1 * q[v1]
                fb -= data[v0] * ph * pv1 * v1
    # exact gradient: data statistics minus model statistics, p(v, h) ~ exp(bv + ch + wvh)
    weights = {(v, h): sp.exp(b * v + c * h + w * v * h) for v in (0, 1) for h in (0, 1)}
    z = sum(weights.values())
    ml_w -= sum(wt * v * h for (v, h), wt in weights.items()) / z
    ml_b -= sum(wt * v for (v, h), wt in weights.items()) / z
    at = {w: sp.log(3), b: 0, c: 0}
    cd_curl = (sp.diff(fw, b) - sp.diff(fb, w)).subs(at)
    ml_curl = sp.diff(ml_w, b) - sp.diff(ml_b, w)  # everywhere, not only at the point
    return sp.simplify(cd_curl), sp.simplify(ml_curl)


@lru_cache(maxsize=1)
def _curls() -> tuple[sp.Expr, sp.Expr]:
    return cd1_curls()


@claim("prop-cd-not-gradient",
       statement="for a 1x1 RBM the expected CD-1 update Delta has dDelta_w/db - dDelta_b/dw = "
                 "9(3 rho - 2)/256 at (log 3, 0, 0): not a gradient field",
       math=r"for a $1\times1$ RBM the expected CD-1 update has "
            r"$\partial_b \Delta_w - \partial_w \Delta_b = 9(3\rho - 2)/256$ at $(\log 3, 0, 0)$: "
            r"not a gradient field",
       method="symbolic", tolerance=0.0,
       variants=[variant("the likelihood gradient (a gradient field) in place of CD-1",
                         field="likelihood"),
                 variant("curl 9(3 rho - 2)/128",
                         curl=lambda rho: sp.Rational(9, 128) * (3 * rho - 2))])
def check_cd_not_gradient(field: str = "cd1",
                          curl: Callable = lambda rho: sp.Rational(9, 256) * (3 * rho - 2)
                          ) -> float:
    """sympy: the curl of ``field`` ("cd1" or "likelihood") minus ``curl(rho)``, simplified
    (its size at rho = 0 if it is not 0), plus the likelihood gradient's own curl, which
    must simplify to 0 (the computation can recognise a gradient field)."""
    cd, ml = _curls()
    rho = sp.symbols("rho", real=True)
    residual = _symbolic_size((cd if field == "cd1" else ml) - curl(rho), {rho: 0})
    return residual + _symbolic_size(ml, {rho: 0})


# --------------------------------------------------------------------------- greedy DBNs
@lru_cache(maxsize=1)
def _dbn_tables(n_data: int = 300):
    """The trained DBN on the first ``n_data`` digits: log p(v|h), log p2(h), the exact
    log p(v), the DBN's posterior, and the family of Q tables (read-only) of the check."""
    res = bn.greedy_dbn()
    v = binarized_digits()[0][:n_data].astype(np.float64)
    log_q, _, log_lik_v = bn.layer_tables(res.rbm1, v)
    log_p2 = bn.top_rbm_log_marginal(res.rbm2, R.all_states(res.rbm1.n_hidden))
    lp = bn.dbn_log_prob(log_p2, log_lik_v)
    post = np.exp(log_p2[None, :] + log_lik_v - lp[:, None])
    mix = lambda t: (1 - t) * post + t / post.shape[1]  # noqa: E731
    sharp = post**2 / (post**2).sum(axis=1, keepdims=True)
    product = bn.bernoulli_table(np.clip(_marginals(post), 0.0, 1.0),
                                 R.all_states(res.rbm1.n_hidden))
    family = (post, product, np.exp(log_q), np.broadcast_to(np.exp(log_p2), post.shape),
              mix(0.5), mix(0.01), sharp)
    for a in (log_lik_v, log_p2, lp, post, *family):
        a.setflags(write=False)
    return log_lik_v, log_p2, lp, post, family


def _elbo(log_prior: np.ndarray, q: np.ndarray, log_lik_v: np.ndarray) -> np.ndarray:
    """E_Q[log p(h) + log p(v|h)] + H(Q), through the library's bound."""
    with np.errstate(divide="ignore"):
        log_q = np.log(q)
    entropy = -np.sum(np.where(q > 0, q * np.nan_to_num(log_q, neginf=0.0), 0.0), axis=1)
    return bn.variational_bound(log_prior, log_q, entropy, log_lik_v)


def _marginals(q: np.ndarray) -> np.ndarray:
    """P(h_j = 1) under each row of ``q`` (a law on the 2^n hidden states)."""
    return q @ R.all_states(int(math.log2(q.shape[1])))


def _same_posterior(q: np.ndarray, post: np.ndarray) -> np.ndarray:
    return np.abs(q - post).max(axis=1) <= 1e-12


@claim("thm-variational-bound",
       statement="log p(v) >= E_Q[log p(h) + log p(v|h)] + H(Q) for every Q, with equality "
                 "iff Q = p(h|v)",
       math=r"$\log p(v) \ge \mathbb{E}_Q[\log p_2(h) + \log p(v\mid h)] + H(Q)$ for every "
            r"$Q$, with equality iff $Q = p(h\mid v)$",
       method="exact", tolerance=1e-10,
       variants=[variant("equality whenever Q has the posterior's marginals (mean field)",
                         equality=lambda q, post: np.abs(_marginals(q) - _marginals(post))
                         .max(axis=1) <= 1e-12),
                 variant("equality whenever Q has the posterior's mode",
                         equality=lambda q, post: q.argmax(axis=1) == post.argmax(axis=1)),
                 variant("the bound without the entropy term H(Q)",
                         bound=lambda lp, q, llv: _elbo(lp, q, llv) + np.sum(
                             np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0), 1))])
def check_variational_bound(bound: Callable = _elbo,
                            equality: Callable = _same_posterior) -> float:
    """On the trained two-layer DBN of the digits (first 300 digits, 1024 hidden states),
    for Q in {the DBN's posterior, the product of its marginals, RBM1's factorial
    posterior, the prior p2, the posterior mixed with the uniform law (weights 1/2 and
    1/100), the posterior squared and renormalised}: the largest of

    * the excess of ``bound`` over log p(v) (the inequality),
    * |log p(v) - bound| where ``equality`` says Q attains it (the "if"),
    * 2 TV(Q, p(.|v))^2 - gap where it says Q does not (the "only if", quantitatively:
      the gap is KL(Q || p(.|v)), at least 2 TV^2 by Pinsker's inequality).
    """
    log_lik_v, log_p2, lp, post, family = _dbn_tables()
    err = 0.0
    for q in family:
        gap = lp - bound(log_p2, q, log_lik_v)
        attains = equality(q, post)
        tv = 0.5 * np.abs(q - post).sum(axis=1)
        err = max(err, float(np.max(-gap)),
                  float(np.max(np.abs(gap[attains]), initial=0.0)),
                  float(np.max((2 * tv**2 - gap)[~attains], initial=0.0)))
    return err


@lru_cache(maxsize=1)
def _greedy_family():
    """RBM1, its tables on all digits, and second RBMs with their exact mean bound, mean
    DBN log-likelihood and log p2(h): the trained path (steps 0, 20, 40, 60), a zero RBM and
    three random perturbations of RBM1 turned upside down."""
    res = bn.greedy_dbn()
    v = binarized_digits()[0].astype(np.float64)
    log_q, entropy, log_lik_v = bn.layer_tables(res.rbm1, v)
    base = res.rbm1.swap()
    rng = np.random.default_rng(0)
    models = list(res.top_models[::2]) + [R.RBM(np.zeros_like(base.W), np.zeros_like(base.b),
                                           np.zeros_like(base.c))]
    models += [R.RBM(base.W + s * rng.standard_normal(base.W.shape),
                     base.b + s * rng.standard_normal(base.b.shape), base.c)
               for s in (0.05, 0.2, 1.0)]
    log_p2s = [bn.top_rbm_log_marginal(m, R.all_states(m.n_visible)) for m in models]
    bounds = bn.variational_bounds(log_p2s, log_q, entropy, log_lik_v)  # Q computed once
    family = tuple((log_p2, bound, float(bn.dbn_log_prob(log_p2, log_lik_v).mean()))
                   for log_p2, bound in zip(log_p2s, bounds, strict=True))
    return res.rbm1, v, (log_q, entropy, log_lik_v), family


def _greedy_stats(model: R.RBM, log_q, entropy, log_lik_v):
    log_p2 = bn.top_rbm_log_marginal(model, R.all_states(model.n_visible))
    bound = bn.variational_bound(log_p2, log_q, entropy, log_lik_v)
    return log_p2, bound, float(bn.dbn_log_prob(log_p2, log_lik_v).mean())


def _prior_weights(log_q: np.ndarray, log_p1: np.ndarray) -> np.ndarray:
    return np.exp(log_p1)


@claim("prop-greedy-step",
       statement="with RBM2 started at RBM1 transposed the bound is tight; afterwards it "
                 "changes by exactly the change of sum_h agg(h) log p2(h), so improving that "
                 "fit cannot lower the DBN's log-likelihood below RBM1's",
       math=r"with the second RBM started at the first one transposed the bound is tight; "
            r"the mean bound then changes by $\sum_h \bar Q(h)[\log p_2(h) - \log p_1(h)]$, "
            r"so if that is $\ge 0$ the DBN's mean log-likelihood is at least the first RBM's",
       method="exact", tolerance=1e-9,
       variants=[variant("second RBM started at W_1^T with zero biases",
                         start=lambda r: R.RBM(r.W.T, np.zeros(r.n_hidden),
                                               np.zeros(r.n_visible))),
                 variant("weights p_1(h) (RBM1's prior) for the aggregated posterior",
                         weights=_prior_weights),
                 variant("uniform weights over the hidden vectors",
                         weights=lambda log_q, log_p1: np.full(log_p1.size, 1 / log_p1.size))])
def check_greedy_step(start: Callable[[R.RBM], R.RBM] = R.RBM.swap,
                      weights: Callable = lambda log_q, log_p1: np.exp(log_q).mean(axis=0)
                      ) -> float:
    """On the digits DBN (RBM1 with 10 hidden units, all 1797 digits), exactly:

    - part (i): max_v |bound(v) - log p1(v)| and |mean log p(v) - mean log p1(v)| with the
      second RBM at ``start`` (tightness);
    - part (ii): |change of the mean bound - sum_h w(h) [log p2(h) - log p1(h)]| from
      ``start`` to each second RBM of a family (the trained path, a zero RBM, three random
      ones), w = ``weights``;
    - part (iii): mean log p1(v) - mean DBN log p(v) (if positive) for every member of the
      family whose weighted fit is >= that of p1.
    """
    rbm1, v, tables, family = _greedy_family()
    log_q, entropy, log_lik_v = tables
    ll1 = R.log_prob(rbm1, v)
    log_p1 = bn.top_rbm_log_marginal(rbm1.swap(), R.all_states(rbm1.n_hidden))
    _, bound0, ll_dbn0 = _greedy_stats(start(rbm1), *tables)
    w = weights(log_q, log_p1)
    tight = max(float(np.abs(bound0 - ll1).max()), abs(ll_dbn0 - float(ll1.mean())))
    change, fall = 0.0, 0.0
    for log_p2, bound, ll_dbn in family:
        fit = float(w @ (log_p2 - log_p1))
        change = max(change, abs((bound.mean() - bound0.mean()) - fit))
        if fit >= 0:
            fall = max(fall, float(ll1.mean()) - ll_dbn)
    return tight + change + fall


# --------------------------------------------------------------------------- AIS
AIS_MODELS = ((3, 2, 3, 0), (2, 3, 4, 1), (3, 3, 2, 2))  # (n_v, n_h, K, seed)


def _log_p_star(model: R.RBM, V: np.ndarray) -> np.ndarray:
    """-F(v) of ``model`` at every row of V, written out from the free energy."""
    return V @ model.b + np.logaddexp(0.0, V @ model.W + model.c).sum(axis=1)


@lru_cache(maxsize=1)
def _ais_paths() -> tuple:
    """For every model of AIS_MODELS, exactly, by enumerating every path v_1, ..., v_K of
    the annealing chain: the log of the true ratio Z / Z_0, and E[w], E[log w] for the
    weights taken before each transition (the algorithm) and after it (the variant)."""
    out = []
    for nv, nh, K, seed in AIS_MODELS:
        rng = np.random.default_rng(seed)
        model = R.random_rbm(nv, nh, 1.5, rng)
        base = rng.normal(0.0, 1.0, nv)
        V = R.all_states(nv)
        betas = np.linspace(0.0, 1.0, K + 1)
        rbms = [R.annealed_rbm(model, beta, base) for beta in betas]
        log_p = [_log_p_star(m, V) for m in rbms]  # (2^n_v,) per beta
        T = [None] + [np.matmul(*bn.kernels(m)) for m in rbms[1:K]]  # T[k] keeps p_k
        log_z0 = nh * math.log(2.0) + float(np.logaddexp(0.0, base).sum())
        p0 = np.exp(log_p[0] - logsumexp(log_p[0]))
        ratio = R.log_partition(model) - log_z0
        results = {}
        for order in ("weigh-then-move", "move-then-weigh"):
            law, log_w = p0, np.zeros(len(V))  # arrays over the path so far (last axis: v_k)
            for k in range(1, K + 1):
                if order == "move-then-weigh" and k < K:
                    law = law[..., None] * T[k]
                    log_w = log_w[..., None] + np.zeros(len(V))
                log_w = log_w + (log_p[k] - log_p[k - 1])
                if order == "weigh-then-move" and k < K:
                    law = law[..., None] * T[k]
                    log_w = log_w[..., None] + np.zeros(len(V))
            results[order] = (float(logsumexp(log_w, b=law)), float((law * log_w).sum()))
        out.append((ratio, results))
    return tuple(out)


@claim("prop-ais-unbiased",
       statement="E[w] = Z / Z_0 for the AIS weight w, so Z_0 w is unbiased for Z, while "
                 "E[log(Z_0 w)] <= log Z",
       math=r"$\mathbb{E}[w] = Z/Z_0$ for the AIS weight $w$, so $Z_0 w$ is unbiased for "
            r"$Z$, while $\mathbb{E}[\log(Z_0 w)] \le \log Z$",
       method="exact", tolerance=1e-12,
       variants=[variant("each weight taken after the transition instead of before it",
                         order="move-then-weigh"),
                 variant("the log of the estimate unbiased: E[log(Z_0 w)] = log Z",
                         unbiased="log")])
def check_ais_unbiased(order: str = "weigh-then-move", unbiased: str = "weight") -> float:
    """Exact expectations over every path of the annealing chain (three tiny RBMs, K = 2 to
    4 steps, random base biases): |log E[w] - log(Z/Z_0)| plus the excess of E[log w] over
    log(Z/Z_0) ("weight"), or |E[log w] - log(Z/Z_0)| ("log")."""
    err = 0.0
    for ratio, results in _ais_paths():
        log_mean, mean_log = results[order]
        if unbiased == "weight":
            err = max(err, abs(log_mean - ratio) + max(0.0, mean_log - ratio))
        else:
            err = max(err, abs(mean_log - ratio))
    return float(err)
