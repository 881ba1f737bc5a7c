"""An RBM as an infinite sigmoid belief net with tied weights; CD-k; greedy layer-wise DBNs.

Layers of the tied net, from the bottom: x_0 = v^0, x_1 = h^0, x_2 = v^1, x_3 = h^1, ...
Going down, a hidden-type layer generates the visible-type layer below with p(v | h) =
prod_i sigma(b_i + (W h)_i), and a visible-type layer generates the hidden-type layer below
with p(h | v) = prod_j sigma(c_j + (W^T v)_j): every layer uses the same W.  Everything here
is exact: distributions are vectors over all 2^n states of a layer (tiny models only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from matplotlib.figure import Figure
from scipy.special import expit, logsumexp

from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.rbm import (
    RBM,
    CDConfig,
    all_states,
    energy,
    exact_gradient,
    log_prob,
    p_h_given_v,
    random_rbm,
    softplus_,
    train_rbm,
)
from hiddenunits.style import COLORS, new_figure

MAX_TINY = 12  # layers of at most 12 units: kernels of at most 4096 x 4096


# ---------------------------------------------------------------------------- kernels

def _tiny(rbm: RBM) -> RBM:
    if not isinstance(rbm, RBM):
        raise ValueError(f"need an RBM, got {type(rbm).__name__}")
    if max(rbm.n_visible, rbm.n_hidden) > MAX_TINY:
        raise ValueError(f"exact kernels need layers of at most {MAX_TINY} units, got "
                         f"{rbm.n_visible} and {rbm.n_hidden}")
    return rbm


def bernoulli_table(probs: np.ndarray, states: np.ndarray) -> np.ndarray:
    """T[a, s] = prod_i p_ai^{s_i} (1 - p_ai)^{1 - s_i}; ``probs`` (A, n), ``states`` (S, n)."""
    with np.errstate(divide="ignore"):
        log1, log0 = np.log(probs), np.log1p(-probs)
    return np.exp(np.nan_to_num(log1, neginf=-1e300) @ states.T
                  + np.nan_to_num(log0, neginf=-1e300) @ (1.0 - states).T)


def kernels(rbm: RBM) -> tuple[np.ndarray, np.ndarray]:
    """Exact transition matrices: up[v, h] = p(h | v) (2^n_v, 2^n_h), down[h, v] = p(v | h)."""
    rbm = _tiny(rbm)
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    up = bernoulli_table(expit(V @ rbm.W + rbm.c), H)
    down = bernoulli_table(expit(H @ rbm.W.T + rbm.b), V)
    return up, down


def rbm_marginals(rbm: RBM) -> tuple[np.ndarray, np.ndarray]:
    """p(v) over 2^n_v states and p(h) over 2^n_h states, by summing exp(-E) over all pairs."""
    rbm = _tiny(rbm)
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    iv, ih = np.meshgrid(np.arange(len(V)), np.arange(len(H)), indexing="ij")
    neg_e = -energy(rbm, V[iv.ravel()], H[ih.ravel()]).reshape(len(V), len(H))
    joint = np.exp(neg_e - logsumexp(neg_e))
    return joint.sum(axis=1), joint.sum(axis=0)


def tied_net_marginal(rbm: RBM, depth: int, top: np.ndarray) -> np.ndarray:
    """p(v^0) of the depth-``depth`` tied net whose top layer x_depth has law ``top``.

    Propagates ``top`` down through the tied kernels: an alternating Gibbs chain of
    ``depth`` half-steps.  x_depth is visible-type for even depth, hidden-type for odd.
    """
    up, down = kernels(rbm)
    depth = int(depth)
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    p = _distribution(top, up.shape[1] if depth % 2 else up.shape[0], "top")
    for layer in range(depth - 1, -1, -1):  # generate x_layer from x_{layer+1}
        p = p @ (down if layer % 2 == 0 else up)
    return p


def _distribution(p, size: int, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64).ravel()
    if p.size != size or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be a probability vector of length {size}")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to 1, got {p.sum()}")
    return p


def tied_net_marginal_bruteforce(rbm: RBM, depth: int, top: np.ndarray) -> np.ndarray:
    """The same marginal from the full joint of all layers, enumerated configuration by
    configuration with the sigmoid conditionals written out (independent of the kernels)."""
    rbm = _tiny(rbm)
    nv, nh = rbm.n_visible, rbm.n_hidden
    widths = [nv if layer % 2 == 0 else nh for layer in range(depth + 1)]
    if sum(widths) > 22:
        raise ValueError("too many units in total for brute-force enumeration")
    top = _distribution(top, 2 ** widths[-1], "top")
    idx = np.indices([2**w for w in widths]).reshape(depth + 1, -1)  # (layers, configs)
    bits = [((idx[layer][:, None] >> np.arange(w)) & 1).astype(np.float64)
            for layer, w in enumerate(widths)]
    with np.errstate(divide="ignore"):
        log_joint = np.log(top[idx[depth]])
    for layer in range(depth):  # log p(x_layer | x_{layer+1}), sigmoid units
        above, below = bits[layer + 1], bits[layer]
        a = above @ rbm.W.T + rbm.b if layer % 2 == 0 else above @ rbm.W + rbm.c
        log_joint += (below * a - np.logaddexp(0.0, a)).sum(axis=1)
    out = np.zeros(2**nv)
    np.add.at(out, idx[0], np.exp(log_joint))
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """TV(p, q) = (1/2) sum |p - q|."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def second_eigenvalue(rbm: RBM) -> float:
    """|lambda_2| of the visible chain v -> h -> v (its geometric mixing rate)."""
    up, down = kernels(rbm)
    ev = np.sort(np.abs(np.linalg.eigvals(up @ down)))[::-1]
    return float(ev[1]) if len(ev) > 1 else 0.0


# ---------------------------------------------------------------------------- posterior

def directed_posterior(prior_h: np.ndarray, rbm: RBM) -> np.ndarray:
    """p(h | v) in the directed model h ~ prior_h, v ~ prod_i sigma(b + W h): (2^n_v, 2^n_h)."""
    up, down = kernels(rbm)
    prior_h = _distribution(prior_h, down.shape[0], "prior_h")
    joint = prior_h[:, None] * down  # (h, v)
    return (joint / joint.sum(axis=0)).T


def factorial_posterior(rbm: RBM) -> np.ndarray:
    """prod_j sigma(c_j + (W^T v)_j) as a table over (v, h): (2^n_v, 2^n_h)."""
    return kernels(rbm)[0]


def factorised_prior(p_h: np.ndarray, n_hidden: int) -> np.ndarray:
    """The product of the marginals of ``p_h`` (a law on 2^n_hidden states)."""
    H = all_states(n_hidden)
    return bernoulli_table((p_h @ H)[None, :], H)[0]


def distance_from_factorial(post: np.ndarray, n_hidden: int) -> float:
    """max over v of TV(p(h | v), product of its own marginals): 0 iff every row factorises."""
    H = all_states(n_hidden)
    prod = bernoulli_table(post @ H, H)
    return float(0.5 * np.abs(post - prod).sum(axis=1).max())


# ---------------------------------------------------------------------------- learning rule

@dataclass(frozen=True)
class TinyProblem:
    """A tiny RBM and a data set small enough to enumerate everything."""

    n_visible: int = 4
    n_hidden: int = 3
    n_data: int = 12
    scale: float = 1.0
    seed: int = 0


@lru_cache(maxsize=16)
def tiny_problem(problem: TinyProblem = TinyProblem()) -> tuple[RBM, np.ndarray]:
    """A random RBM (W ~ N(0, scale^2), biases ~ N(0, 0.25)) and ``n_data`` random binary
    rows with pixel probabilities drawn from U(0.1, 0.9)."""
    rng = np.random.default_rng(problem.seed)
    rbm = random_rbm(problem.n_visible, problem.n_hidden, problem.scale, rng, bias_scale=0.5)
    p = rng.uniform(0.1, 0.9, problem.n_visible)
    data = (rng.random((problem.n_data, problem.n_visible)) < p).astype(np.float64)
    return rbm, data


def data_distribution(data: np.ndarray, n_visible: int) -> np.ndarray:
    """The empirical law of the rows of ``data`` over the 2^n_visible states."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != n_visible:
        raise ValueError(f"data must be (N, {n_visible}), got {data.shape}")
    if not np.all((data == 0) | (data == 1)):
        raise ValueError("data must be binary")
    codes = (data @ (2 ** np.arange(n_visible))).astype(np.int64)
    return np.bincount(codes, minlength=2**n_visible) / len(data)


def chain_statistic(rbm: RBM, p_v: np.ndarray) -> np.ndarray:
    """E[v sigma(c + W^T v)^T] for v ~ p_v: (n_v, n_h)."""
    V = all_states(rbm.n_visible)
    return (V * p_v[:, None]).T @ p_h_given_v(rbm, V)


def cd_expected_update(rbm: RBM, data: np.ndarray, k: int) -> np.ndarray:
    """E[CD-k update of W] = E_data[v q(v)^T] - E[v^k q(v^k)^T], v^k after k Gibbs steps."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    up, down = kernels(rbm)
    p0 = data_distribution(data, rbm.n_visible)
    pk = p0
    for _ in range(int(k)):
        pk = pk @ up @ down
    return chain_statistic(rbm, p0) - chain_statistic(rbm, pk)


def belief_net_layer_terms(rbm: RBM, data: np.ndarray, n_pairs: int) -> list[np.ndarray]:
    """Expected sigmoid-belief-net updates of the tied weights, layer by layer, bottom up.

    With the posterior of the tied net (the upward chain v^0 -> h^0 -> v^1 -> ...), the
    generative weight from h^k to v^k gets E[(v^k - p^k) h^kT], p^k = sigma(b + W h^k), and
    the weight from v^{k+1} to h^k gets E[v^{k+1} (h^k - q^{k+1})^T], q^{k+1} =
    sigma(c + W^T v^{k+1}).  Returns these 2 * n_pairs matrices (n_v, n_h), in order.
    """
    up, down = kernels(rbm)
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    p_of_h = expit(H @ rbm.W.T + rbm.b)  # (2^nh, nv): p^k as a function of h^k
    q_of_v = expit(V @ rbm.W + rbm.c)  # (2^nv, nh): q as a function of v
    pv = data_distribution(data, rbm.n_visible)
    terms = []
    for _ in range(int(n_pairs)):
        joint_vh = pv[:, None] * up  # P(v^k, h^k)
        # sum_{v,h} P(v,h) (v - p(h)) h^T
        terms.append(V.T @ joint_vh @ H - (p_of_h * joint_vh.sum(axis=0)[:, None]).T @ H)
        p_h = joint_vh.sum(axis=0)
        joint_hv = p_h[:, None] * down  # P(h^k, v^{k+1})
        # sum_{h,v'} P(h,v') v' (h - q(v'))^T
        terms.append(V.T @ joint_hv.T @ H - (V * joint_hv.sum(axis=0)[:, None]).T @ q_of_v)
        pv = joint_hv.sum(axis=0)
    return terms


# ---------------------------------------------------------------------------- checks

@claim("thm-tied-net-gibbs", chapter="rbm",
       statement="the depth-L tied net's visible marginal is the L-step Gibbs chain from the "
                 "top; it equals p(v) for an equilibrium top and converges to p(v) otherwise",
       method="exact", tolerance=1e-12)
def check_tied_net_gibbs() -> float:
    """Brute-force joint vs chain (round-off ~1e-16 per term); equilibrium top exact;
    TV to p(v) after 400 half-steps (|lambda_2|^200 < 1e-20 for this model)."""
    rbm, _ = tiny_problem(TinyProblem(n_visible=3, n_hidden=2, scale=1.0))
    p_v, p_h = rbm_marginals(rbm)
    err = 0.0
    for depth in range(1, 6):
        n_top = 2 ** (rbm.n_hidden if depth % 2 else rbm.n_visible)
        top = np.zeros(n_top)
        top[-1] = 1.0  # all units of the top layer on
        err = max(err, np.abs(tied_net_marginal(rbm, depth, top)
                              - tied_net_marginal_bruteforce(rbm, depth, top)).max())
        eq = p_h if depth % 2 else p_v
        err = max(err, np.abs(tied_net_marginal(rbm, depth, eq) - p_v).max())
    far = tied_net_marginal(rbm, 400, np.full(2**rbm.n_visible, 2.0**-rbm.n_visible))
    return float(err + total_variation(far, p_v))


@claim("prop-complementary-prior", chapter="rbm",
       statement="with the RBM's p(h) as prior, the posterior p(h|v) of the directed net "
                 "factorises as prod_j sigma(c_j + (W^T v)_j)",
       method="exact", tolerance=1e-12)
def check_complementary_prior() -> float:
    """Bayes' rule by enumeration vs the factorial formula (round-off); fails if the control
    (a factorial prior with the same marginals) also gives a factorial posterior."""
    rbm, _ = tiny_problem(TinyProblem(n_visible=4, n_hidden=3, scale=1.5))
    _, p_h = rbm_marginals(rbm)
    err = float(np.abs(directed_posterior(p_h, rbm) - factorial_posterior(rbm)).max())
    control = distance_from_factorial(
        directed_posterior(factorised_prior(p_h, rbm.n_hidden), rbm), rbm.n_hidden)
    return err + (1.0 if control < 1e-3 else 0.0)


@claim("thm-telescoping", chapter="rbm",
       statement="the tied belief net's layer updates sum to E_data[v h^T] - E[v^K h^K] "
                 "(the CD-K update) and tend to the RBM's likelihood gradient as K -> inf",
       method="exact", tolerance=1e-12)
def check_telescoping() -> float:
    """Sum of 2K layer terms vs CD-K (round-off), for K = 1..6; CD-300 vs the exact gradient
    (geometric convergence, |lambda_2|^300 < 1e-30 here)."""
    rbm, data = tiny_problem()
    terms = belief_net_layer_terms(rbm, data, 6)
    err = 0.0
    for k in range(1, 7):
        err = max(err, np.abs(sum(terms[:2 * k]) - cd_expected_update(rbm, data, k)).max())
    grad = exact_gradient(rbm, data)[0]
    err = max(err, np.abs(cd_expected_update(rbm, data, 300) - grad).max())
    return float(err)


def doeblin_epsilon(rbm: RBM) -> float:
    """epsilon = prod_i [sigma(b_i - r_i) + sigma(-b_i - r_i)], r_i = sum_j |W_ij|."""
    r = np.abs(rbm.W).sum(axis=1)
    return float(np.prod(expit(rbm.b - r) + expit(-rbm.b - r)))


def cd_bias(rbm: RBM, data: np.ndarray, k: int) -> tuple[float, float]:
    """(max_ij |E[CD-k] - grad|_ij, TV(p_k, p)) for the exact chain on a tiny model."""
    up, down = kernels(rbm)
    p0 = data_distribution(data, rbm.n_visible)
    pk = p0
    for _ in range(int(k)):
        pk = pk @ up @ down
    p_v, _ = rbm_marginals(rbm)
    grad = exact_gradient(rbm, data)[0]
    return (float(np.abs(cd_expected_update(rbm, data, k) - grad).max()),
            total_variation(pk, p_v))


@claim("prop-cd-bias", chapter="rbm",
       statement="|E[CD-k] - grad|_max <= TV(p_k, p) <= (1 - eps)^k, eps = prod_i "
                 "[sigma(b_i - r_i) + sigma(-b_i - r_i)]; CD-1 is exact when W = 0",
       method="exact", tolerance=1e-12)
def check_cd_bias() -> float:
    """Largest violation of either inequality over scales and k (exact enumeration), plus the
    CD-1 error at W = 0 (both zero up to round-off)."""
    worst = 0.0
    for scale in (0.0, 0.3, 1.0, 2.0):
        rbm, data = tiny_problem(TinyProblem(n_visible=5, n_hidden=3, scale=scale, seed=1))
        eps = doeblin_epsilon(rbm)
        for k in (1, 2, 5):
            bias, tv = cd_bias(rbm, data, k)
            worst = max(worst, bias - tv, tv - (1.0 - eps) ** k)
        if scale == 0.0:
            worst = max(worst, cd_bias(rbm, data, 1)[0])
    return float(max(worst, 0.0))


def cd1_curl_symbolic() -> tuple[sp.Expr, sp.Expr]:
    """d F_w/d b - d F_b/d w at (w, b, c) = (log 3, 0, 0) for the expected CD-1 update F of a
    1x1 RBM with P(v=1) = rho, and the same for the exact likelihood gradient, both summed
    over every configuration by sympy."""
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
    ml_curl = sp.diff(ml_w, b) - sp.diff(ml_b, w)
    return sp.simplify(cd_curl), sp.simplify(ml_curl)


@claim("prop-cd-not-gradient", chapter="rbm",
       statement="for a 1x1 RBM the expected CD-1 update has dF_w/db - dF_b/dw = "
                 "9(3 rho - 2)/256 at (log 3, 0, 0): not a gradient field",
       method="symbolic", tolerance=0.0)
def check_cd_not_gradient() -> float:
    """sympy: the CD-1 curl equals 9(3 rho - 2)/256 and the likelihood gradient's curl is 0
    identically (the control that the computation can detect a gradient field)."""
    cd_curl, ml_curl = cd1_curl_symbolic()
    rho = sp.symbols("rho", real=True)
    residual = sp.simplify(cd_curl - sp.Rational(9, 256) * (3 * rho - 2))
    return 0.0 if (residual == 0 and ml_curl == 0) else 1.0


# ---------------------------------------------------------------------------- greedy DBN

@dataclass(frozen=True)
class DBNConfig:
    """Greedy two-layer DBN on binarised digits: RBM1 by CD-1, then RBM2 (initialised at
    RBM1 transposed) by exact gradient ascent on the aggregated posterior."""

    n_hidden1: int = 10
    rbm1_epochs: int = 20
    rbm1_lr: float = 0.05
    rbm2_steps: int = 60
    rbm2_lr: float = 0.2
    record_every: int = 10
    seed: int = 0


@dataclass(frozen=True, eq=False)
class DBNResult:
    """Exact quantities of the greedy experiment (means over the training digits)."""

    rbm1: RBM
    rbm2: RBM
    steps: np.ndarray  # RBM2 gradient steps at which the curves are recorded
    bound: np.ndarray  # mean variational bound with Q = RBM1's posterior
    log_lik: np.ndarray  # mean exact log p(v) of the DBN
    agg_log_lik: np.ndarray  # sum_h agg(h) log p2(h)
    log_lik_rbm1: float  # mean log p1(v)
    bound_gap_at_init: float  # max_v |bound(v) - log p1(v)| at the start (tight)


def _lse(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """log sum exp along ``axis`` (a lean version of scipy's logsumexp)."""
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out.squeeze() if axis is None else np.squeeze(out, axis=axis)


def _layer_tables(rbm1: RBM, v: np.ndarray):
    """log Q(h|v), entropies H(Q(.|v)) and log p(v|h) over the 2^n_h states h."""
    H = all_states(rbm1.n_hidden)
    q = np.clip(p_h_given_v(rbm1, v), 1e-300, 1 - 1e-16)  # (N, n_h)
    log_q = np.log(q) @ H.T + np.log1p(-q) @ (1 - H).T  # (N, S)
    entropy = -(q * np.log(q) + (1 - q) * np.log1p(-q)).sum(axis=1)
    a = H @ rbm1.W.T + rbm1.b  # (S, n_v)
    log_lik_v = v @ a.T - softplus_(a).sum(axis=1)  # (N, S): log p(v | h)
    return log_q, entropy, log_lik_v


def variational_bound(log_prior: np.ndarray, log_q: np.ndarray, entropy: np.ndarray,
                      log_lik_v: np.ndarray) -> np.ndarray:
    """B(v) = sum_h Q(h|v) [log p(h) + log p(v|h)] + H(Q(.|v)) for each row: (N,)."""
    return (np.exp(log_q) * (log_prior[None, :] + log_lik_v)).sum(axis=1) + entropy


def dbn_log_prob(log_prior: np.ndarray, log_lik_v: np.ndarray) -> np.ndarray:
    """Exact log p(v) = log sum_h p(h) p(v | h) of the DBN: (N,)."""
    return _lse(log_prior[None, :] + log_lik_v, axis=1)


def top_rbm_log_marginal(rbm2: RBM, H: np.ndarray) -> np.ndarray:
    """log p2(h) over all states ``H`` of RBM2's visible layer (enumerated exactly)."""
    logits = H @ rbm2.b + softplus_(H @ rbm2.W + rbm2.c).sum(axis=1)
    return logits - _lse(logits)


def top_rbm_gradient(rbm2: RBM, H: np.ndarray, target: np.ndarray):
    """Exact gradient of sum_h target(h) log p2(h) for RBM2 on the enumerated states ``H``:
    H^T diag(target - p2) q, with q = sigma(c + W^T h) (data minus model statistics)."""
    diff = target - np.exp(top_rbm_log_marginal(rbm2, H))  # (S,)
    q = expit(H @ rbm2.W + rbm2.c)  # (S, n_hidden of RBM2)
    return H.T @ (diff[:, None] * q), diff @ H, diff @ q


@lru_cache(maxsize=2)
def greedy_dbn(config: DBNConfig = DBNConfig()) -> DBNResult:
    """Run the greedy experiment of :class:`DBNConfig`, recording exact curves."""
    from hiddenunits.data import binarized_digits

    v, _ = binarized_digits()
    v = v.astype(np.float64)
    rbm1 = train_rbm(v, CDConfig(n_hidden=config.n_hidden1, lr=config.rbm1_lr,
                                 epochs=config.rbm1_epochs, batch_size=10),
                     seed=config.seed).rbm
    H = all_states(rbm1.n_hidden)
    log_q, entropy, log_lik_v = _layer_tables(rbm1, v)
    agg = np.exp(log_q).mean(axis=0)  # aggregated posterior over h: (S,)
    rbm2 = RBM(rbm1.W.T, rbm1.c, rbm1.b)  # visible layer h, hidden layer of size n_v
    ll1 = log_prob(rbm1, v)
    log_p1 = top_rbm_log_marginal(rbm2, H)  # = p1(h), RBM1's marginal of its hidden layer
    gap = float(np.abs(variational_bound(log_p1, log_q, entropy, log_lik_v) - ll1).max())
    steps, bound, ll, agg_ll = [], [], [], []
    for step in range(config.rbm2_steps + 1):
        if step % config.record_every == 0 or step == config.rbm2_steps:
            log_p2 = top_rbm_log_marginal(rbm2, H)
            steps.append(step)
            bound.append(variational_bound(log_p2, log_q, entropy, log_lik_v).mean())
            ll.append(dbn_log_prob(log_p2, log_lik_v).mean())
            agg_ll.append(agg @ log_p2)
        if step < config.rbm2_steps:
            gW, gb, gc = top_rbm_gradient(rbm2, H, agg)
            rbm2 = RBM(rbm2.W + config.rbm2_lr * gW, rbm2.b + config.rbm2_lr * gb,
                       rbm2.c + config.rbm2_lr * gc)
    return DBNResult(rbm1, rbm2, np.array(steps), np.array(bound), np.array(ll),
                     np.array(agg_ll), float(ll1.mean()), gap)


@claim("thm-variational-bound", chapter="rbm",
       statement="log p(v) >= E_Q[log p(h) + log p(v|h)] + H(Q) for every Q, with equality "
                 "iff Q = p(h|v)",
       method="exact", tolerance=1e-10)
def check_variational_bound() -> float:
    """On the trained two-layer DBN of digits: the bound never exceeds log p(v) (any excess
    counts as error) and equals it at the true posterior (float64 sums over 1024 states)."""
    res = greedy_dbn()
    from hiddenunits.data import binarized_digits

    v = binarized_digits()[0][:300].astype(np.float64)
    H = all_states(res.rbm1.n_hidden)
    log_q, entropy, log_lik_v = _layer_tables(res.rbm1, v)
    log_p2 = top_rbm_log_marginal(res.rbm2, H)
    lp = dbn_log_prob(log_p2, log_lik_v)
    excess = max(0.0, float(np.max(variational_bound(log_p2, log_q, entropy, log_lik_v) - lp)))
    # the true posterior of the DBN as Q
    log_post = log_p2[None, :] + log_lik_v - lp[:, None]
    post = np.exp(log_post)
    tight = (post * (log_p2[None, :] + log_lik_v - log_post)).sum(axis=1)
    return excess + float(np.abs(tight - lp).max())


@claim("prop-greedy-step", chapter="rbm",
       statement="with RBM2 started at RBM1 transposed the bound is tight; afterwards it "
                 "changes by exactly the change of sum_h agg(h) log p2(h)",
       method="exact", tolerance=1e-9)
def check_greedy_step() -> float:
    """Tightness at initialisation, and bound(t) - bound(0) = agg_ll(t) - agg_ll(0) at every
    recorded step (float64 sums over 1024 states of values ~ -30: round-off ~1e-12)."""
    res = greedy_dbn()
    identity = np.abs((res.bound - res.bound[0]) - (res.agg_log_lik - res.agg_log_lik[0]))
    start = abs(res.bound[0] - res.log_lik_rbm1) + abs(res.log_lik[0] - res.log_lik_rbm1)
    return float(res.bound_gap_at_init + identity.max() + start)


# ---------------------------------------------------------------------------- figures

@lru_cache(maxsize=2)
def depth_curves(scales: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0), max_depth: int = 60,
                 seed: int = 3) -> tuple[np.ndarray, dict, dict]:
    """TV(p_L(v), p(v)) for L = 0..max_depth from a point-mass top, per weight scale, and
    the chains' |lambda_2| (same random direction, scaled)."""
    rng = np.random.default_rng(seed)
    n_v, n_h = 5, 4
    direction = rng.standard_normal((n_v, n_h))
    b, c = rng.normal(0, 0.5, n_v), rng.normal(0, 0.5, n_h)
    depths = np.arange(0, max_depth + 1)
    curves, rates = {}, {}
    for s in scales:
        rbm = RBM(s * direction, b, c)
        p_v, _ = rbm_marginals(rbm)
        up, down = kernels(rbm)
        p = np.zeros(2**n_v)
        p[0] = 1.0  # top: all units off, with depth counted in visible-type layers
        tv = []
        for depth in depths:
            if depth % 2 == 0:
                tv.append(total_variation(p, p_v))
            p = p @ up if depth % 2 == 0 else p @ down  # pv -> ph -> pv (half-steps)
        curves[s] = np.array(tv)
        rates[s] = second_eigenvalue(rbm)
    return depths[::2], curves, rates


@figure("rbm")
def fig_tied_net_depth() -> Figure:
    """TV distance between the depth-L tied net's p(v) and the RBM's, versus L."""
    depths, curves, rates = depth_curves()
    fig, ax = new_figure(height=3.2)
    colors = [COLORS[c] for c in ("blue", "orange", "green", "vermillion")]
    for (s, tv), col in zip(curves.items(), colors, strict=False):
        ax.semilogy(depths, np.maximum(tv, 1e-17), "o-", ms=2.5, color=col,
                    label=f"weight scale {s:g}")
        ax.semilogy(depths, tv[1] * rates[s] ** ((depths - depths[1]) / 2.0), ":",
                    color=col, lw=1.0)
    ax.set_ylim(1e-16, 2)
    ax.set_xlabel("depth $L$ of the tied net (layers above $v^0$)")
    ax.set_ylabel(r"$\mathrm{TV}(p_L(v),\ p_{\mathrm{RBM}}(v))$")
    ax.legend(loc="lower left")
    return fig


@lru_cache(maxsize=2)
def cd_bias_curves(scales: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 6.0, 25), 2)),
                   ks: tuple[int, ...] = (1, 3, 10), n_models: int = 8,
                   seed: int = 0) -> tuple[np.ndarray, dict, np.ndarray]:
    """Relative bias |E[CD-k] - grad|_F / |grad|_F versus the weight scale (mean over random
    directions, 6 visible and 4 hidden units, 20 random data rows), and mean |lambda_2|."""
    rng = np.random.default_rng(seed)
    n_v, n_h = 6, 4
    dirs = [rng.standard_normal((n_v, n_h)) for _ in range(n_models)]
    biases = [(rng.normal(0, 0.5, n_v), rng.normal(0, 0.5, n_h)) for _ in range(n_models)]
    p = rng.uniform(0.1, 0.9, n_v)
    data = (rng.random((20, n_v)) < p).astype(np.float64)
    rel = {k: np.zeros(len(scales)) for k in ks}
    lam = np.zeros(len(scales))
    for i, s in enumerate(scales):
        for d, (b, c) in zip(dirs, biases, strict=True):
            rbm = RBM(s * d, b, c)
            grad = exact_gradient(rbm, data)[0]
            for k in ks:
                rel[k][i] += np.linalg.norm(cd_expected_update(rbm, data, k) - grad) / (
                    np.linalg.norm(grad) * n_models)
            lam[i] += second_eigenvalue(rbm) / n_models
    return np.array(scales), rel, lam


@figure("rbm")
def fig_cd_bias() -> Figure:
    """Relative bias of CD-k against the exact gradient (left) and the chain's |lambda_2|."""
    scales, rel, lam = cd_bias_curves()
    fig, (ax1, ax2) = new_figure(1, 2, height=3.0)
    for k, col in zip(rel, ("vermillion", "orange", "blue"), strict=False):
        ax1.plot(scales, rel[k], "o-", ms=3, color=COLORS[col], label=f"CD-{k}")
    ax1.set_xlabel("weight scale $s$ ($W = s\\,W_0$)")
    ax1.set_ylabel(r"$\|E[\Delta W_{\mathrm{CD}}] - \nabla\|_F \,/\, \|\nabla\|_F$")
    ax1.legend(loc="upper left")
    ax2.plot(scales, lam, "o-", ms=3, color=COLORS["green"])
    ax2.set_xlabel("weight scale $s$")
    ax2.set_ylabel(r"$|\lambda_2|$ of the chain $v \to h \to v$")
    ax2.set_ylim(0, 1.02)
    return fig


@figure("rbm")
def fig_dbn_bound() -> Figure:
    """Greedy second layer: the exact DBN log-likelihood, its variational bound, RBM1's."""
    res = greedy_dbn()
    fig, ax = new_figure(height=3.0)
    ax.plot(res.steps, res.log_lik, color=COLORS["blue"], label=r"DBN: exact $\log p(v)$")
    ax.plot(res.steps, res.bound, "--", color=COLORS["orange"],
            label="variational bound, $Q$ = RBM1 posterior")
    ax.axhline(res.log_lik_rbm1, color=COLORS["grey"], ls=":",
               label=r"RBM1 alone: $\log p_1(v)$")
    ax.set_xlabel("gradient steps of the second-layer RBM")
    ax.set_ylabel("mean over the digits (nats)")
    ax.legend(loc="lower right")
    return fig


def curl_value(rho: float) -> float:
    """9 (3 rho - 2) / 256, the CD-1 curl of the 1x1 example."""
    if not (0.0 <= rho <= 1.0 and math.isfinite(rho)):
        raise ValueError(f"rho must lie in [0, 1], got {rho!r}")
    return 9.0 * (3.0 * rho - 2.0) / 256.0
