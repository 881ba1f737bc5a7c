"""An RBM as an infinite sigmoid belief net with tied weights; CD-k; greedy layer-wise DBNs.

Layers of the tied net, from the bottom: x_0 = v^0, x_1 = h^0, x_2 = v^1, x_3 = h^1, ...
Going down, a hidden-type layer generates the visible-type layer below with p(v | h) =
prod_i sigma(b_i + (W h)_i), and a visible-type layer generates the hidden-type layer below
with p(h | v) = prod_j sigma(c_j + (W^T v)_j): every layer uses the same W.  Everything here
is exact: distributions are vectors over all 2^n states of a layer (tiny models only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logsumexp

from hiddenunits.data import binarized_digits
from hiddenunits.rbm import (
    RBM,
    CDConfig,
    all_states,
    energy,
    exact_gradient,
    log_prob,
    p_h_given_v,
    random_rbm,
    train_rbm,
)
from hiddenunits.validation import (
    check_array,
    check_int,
    check_probability,
    check_real,
    check_seed,
    check_sizes,
)

MAX_TINY = 12  # layers of at most 12 units: kernels of at most 4096 x 4096


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _lse_rows(a: np.ndarray) -> np.ndarray:
    """log sum exp of each row of ``a`` (a lean version of scipy's logsumexp)."""
    m = a.max(axis=1, keepdims=True)
    return np.log(np.exp(a - m).sum(axis=1)) + m[:, 0]


# ---------------------------------------------------------------------------- kernels

def _tiny(rbm: RBM) -> RBM:
    if not isinstance(rbm, RBM):
        raise ValueError(f"need an RBM, got {type(rbm).__name__}")
    if max(rbm.n_visible, rbm.n_hidden) > MAX_TINY:
        raise ValueError(f"exact kernels need layers of at most {MAX_TINY} units, got "
                         f"{rbm.n_visible} and {rbm.n_hidden}")
    return rbm


def bernoulli_table(probs: ArrayLike, states: ArrayLike) -> np.ndarray:
    """T[a, s] = prod_i p_ai^{s_i} (1 - p_ai)^{1 - s_i}; ``probs`` (A, n), ``states`` (S, n)."""
    probs = check_array("probs", probs, ndim=2)
    states = check_array("states", states, ndim=2, shape=(None, probs.shape[1]))
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError("probs must lie in [0, 1]")
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


def joint_table(rbm: RBM) -> np.ndarray:
    """p(v, h) over all pairs of states, by normalising exp(-E): (2^n_v, 2^n_h)."""
    rbm = _tiny(rbm)
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    iv, ih = np.meshgrid(np.arange(len(V)), np.arange(len(H)), indexing="ij")
    neg_e = -energy(rbm, V[iv.ravel()], H[ih.ravel()]).reshape(len(V), len(H))
    return np.exp(neg_e - logsumexp(neg_e))


def rbm_marginals(rbm: RBM) -> tuple[np.ndarray, np.ndarray]:
    """p(v) over 2^n_v states and p(h) over 2^n_h states, by summing exp(-E) over all pairs."""
    joint = joint_table(rbm)
    return joint.sum(axis=1), joint.sum(axis=0)


def _distribution(p: ArrayLike, size: int, name: str) -> np.ndarray:
    p = check_array(name, p, ndim=1)
    if p.size != size or np.any(p < 0):
        raise ValueError(f"{name} must be a probability vector of length {size}")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to 1, got {p.sum()}")
    return p


def tied_net_marginal(rbm: RBM, depth: int, top: ArrayLike) -> np.ndarray:
    """p(v^0) of the depth-``depth`` tied net whose top layer x_depth has law ``top``.

    Propagates ``top`` down through the tied kernels: an alternating Gibbs chain of
    ``depth`` half-steps.  x_depth is visible-type for even depth, hidden-type for odd.
    """
    up, down = kernels(rbm)
    depth = check_int("depth", depth, minimum=0)
    p = _distribution(top, up.shape[1] if depth % 2 else up.shape[0], "top")
    for layer in range(depth - 1, -1, -1):  # generate x_layer from x_{layer+1}
        p = p @ (down if layer % 2 == 0 else up)
    return p


def tied_net_joint(rbm: RBM, depth: int, top: ArrayLike) -> np.ndarray:
    """The joint law of all layers x_0, ..., x_depth of the tied net whose top layer has law
    ``top``, configuration by configuration, with the sigmoid conditionals written out
    (independent of :func:`kernels`): shape (2^w_0, ..., 2^w_depth), w_l the layer widths."""
    rbm = _tiny(rbm)
    depth = check_int("depth", depth, minimum=0)
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
    return np.exp(log_joint).reshape([2**w for w in widths])


def tied_net_marginal_bruteforce(rbm: RBM, depth: int, top: ArrayLike) -> np.ndarray:
    """The same marginal as :func:`tied_net_marginal`, from the full joint of all layers
    (:func:`tied_net_joint`) summed over every layer above the bottom one."""
    joint = tied_net_joint(rbm, depth, top)
    return joint.reshape(joint.shape[0], -1).sum(axis=1)


def gibbs_chain_law(rbm: RBM, depth: int, start: ArrayLike) -> np.ndarray:
    """The law of the upward Gibbs chain x_0 ~ ``start``, x_1 ~ p(h | x_0), x_2 ~ p(v | x_1),
    ... up to x_depth, from the kernels: shape (2^w_0, ..., 2^w_depth)."""
    up, down = kernels(rbm)
    depth = check_int("depth", depth, minimum=0)
    law = _distribution(start, up.shape[0], "start")
    for layer in range(depth):
        step = up if layer % 2 == 0 else down  # x_layer is visible-type for even layer
        law = law[..., None] * step.reshape((1,) * (law.ndim - 1) + step.shape)
    return law


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    """TV(p, q) = (1/2) sum |p - q| for two laws on the same finite set."""
    p = check_array("p", p, ndim=1)
    q = check_array("q", q, ndim=1, shape=(p.size,))
    return 0.5 * float(np.abs(p - q).sum())


def chi_square(p: ArrayLike, q: ArrayLike) -> float:
    """chi^2(p || q) = sum_x (p(x) - q(x))^2 / q(x), for q > 0 everywhere."""
    p = check_array("p", p, ndim=1)
    q = check_array("q", q, ndim=1, shape=(p.size,))
    if np.any(q <= 0):
        raise ValueError("q must be positive on every state")
    return float(np.sum((p - q) ** 2 / q))


def second_eigenvalue(rbm: RBM) -> float:
    """lambda_2 of the visible chain T(v, v') = sum_h p(h|v) p(v'|h), in [0, 1).

    T = D_v^{-1/2} A A^T D_v^{1/2} with A = D_v^{-1/2} P D_h^{-1/2}, P the joint table and
    D the marginals: its eigenvalues are the squared singular values of A (the largest is 1).
    """
    joint = joint_table(rbm)
    p_v, p_h = joint.sum(axis=1), joint.sum(axis=0)
    s = np.linalg.svd(joint / np.sqrt(p_v)[:, None] / np.sqrt(p_h)[None, :],
                      compute_uv=False)
    return float(s[1] ** 2)


def spectral_tv_bound(p0: ArrayLike, p: ArrayLike, lam2: float, steps: int) -> float:
    """(1/2) sqrt(chi^2(p0 || p)) lam2^steps: a bound on TV(p0 T^steps, p) for a reversible
    T with stationary law p and eigenvalues in [0, lam2] besides the 1."""
    lam2 = check_probability("lam2", lam2)
    steps = check_int("steps", steps, minimum=0)
    return 0.5 * math.sqrt(chi_square(p0, p)) * lam2**steps


# ---------------------------------------------------------------------------- posterior

def directed_posterior(prior_h: ArrayLike, rbm: RBM) -> np.ndarray:
    """p(h | v) in the directed model h ~ prior_h, v ~ prod_i sigma(b + W h): (2^n_v, 2^n_h)."""
    up, down = kernels(rbm)
    prior_h = _distribution(prior_h, down.shape[0], "prior_h")
    joint = prior_h[:, None] * down  # (h, v)
    return (joint / joint.sum(axis=0)).T


def factorial_posterior(rbm: RBM) -> np.ndarray:
    """prod_j sigma(c_j + (W^T v)_j) as a table over (v, h): (2^n_v, 2^n_h)."""
    return kernels(rbm)[0]


def factorised_prior(p_h: ArrayLike, n_hidden: int) -> np.ndarray:
    """The product of the marginals of ``p_h`` (a law on 2^n_hidden states)."""
    n_hidden = check_int("n_hidden", n_hidden, minimum=1, maximum=MAX_TINY)
    p_h = _distribution(p_h, 2**n_hidden, "p_h")
    H = all_states(n_hidden)
    return bernoulli_table((p_h @ H)[None, :], H)[0]


def distance_from_factorial(post: ArrayLike, n_hidden: int) -> float:
    """max over v of TV(p(h | v), product of its own marginals): 0 iff every row factorises."""
    n_hidden = check_int("n_hidden", n_hidden, minimum=1, maximum=MAX_TINY)
    post = check_array("post", post, ndim=2, shape=(None, 2**n_hidden))
    H = all_states(n_hidden)
    prod = bernoulli_table(np.clip(post @ H, 0.0, 1.0), H)
    return float(0.5 * np.abs(post - prod).sum(axis=1).max())


# ---------------------------------------------------------------------------- learning rule

@dataclass(frozen=True)
class TinyProblem:
    """A tiny RBM and a data set small enough to enumerate everything."""

    n_visible: int = 4
    """Visible units (at most 12)."""
    n_hidden: int = 3
    """Hidden units (at most 12)."""
    n_data: int = 12
    """Number of data rows."""
    scale: float = 1.0
    """Standard deviation of the weights."""
    seed: int = 0
    """Seed of the model and the data."""

    def __post_init__(self) -> None:
        check_int("n_visible", self.n_visible, minimum=1, maximum=MAX_TINY)
        check_int("n_hidden", self.n_hidden, minimum=1, maximum=MAX_TINY)
        check_int("n_data", self.n_data, minimum=1)
        check_real("scale", self.scale, low=0.0)
        check_seed(self.seed)


@lru_cache(maxsize=16)
def _tiny_problem(problem: TinyProblem) -> tuple[RBM, np.ndarray]:
    rng = np.random.default_rng(problem.seed)
    rbm = random_rbm(problem.n_visible, problem.n_hidden, problem.scale, rng, bias_scale=0.5)
    p = rng.uniform(0.1, 0.9, problem.n_visible)
    data = (rng.random((problem.n_data, problem.n_visible)) < p).astype(np.float64)
    return rbm, _read_only(data)


def tiny_problem(problem: TinyProblem = TinyProblem()) -> tuple[RBM, np.ndarray]:
    """A random RBM (W ~ N(0, scale^2), biases ~ N(0, 0.25)) and ``n_data`` random binary
    rows (n_data, n_visible) with pixel probabilities drawn from U(0.1, 0.9)."""
    if not isinstance(problem, TinyProblem):
        raise ValueError(f"need a TinyProblem, got {type(problem).__name__}")
    rbm, data = _tiny_problem(problem)
    return rbm, data.copy()


def data_distribution(data: ArrayLike, n_visible: int) -> np.ndarray:
    """The empirical law of the rows of ``data`` (N, n_visible) over the 2^n_visible states."""
    n_visible = check_int("n_visible", n_visible, minimum=1, maximum=MAX_TINY)
    data = check_array("data", data, ndim=2, shape=(None, n_visible))
    if not np.all((data == 0) | (data == 1)):
        raise ValueError("data must be binary")
    codes = (data @ (2 ** np.arange(n_visible))).astype(np.int64)
    return np.bincount(codes, minlength=2**n_visible) / len(data)


def chain_statistic(rbm: RBM, p_v: ArrayLike) -> np.ndarray:
    """E[v sigma(c + W^T v)^T] for v ~ p_v: (n_v, n_h)."""
    rbm = _tiny(rbm)
    p_v = _distribution(p_v, 2**rbm.n_visible, "p_v")
    V = all_states(rbm.n_visible)
    return (V * p_v[:, None]).T @ p_h_given_v(rbm, V)


def _chain_law(rbm: RBM, data: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The data law p_0 and the law p_k of v^k after k full Gibbs steps from it."""
    k = check_int("k", k, minimum=0)
    up, down = kernels(rbm)
    p0 = data_distribution(data, rbm.n_visible)
    pk = p0
    for _ in range(k):
        pk = pk @ up @ down
    return p0, pk


def cd_expected_update(rbm: RBM, data: ArrayLike, k: int) -> np.ndarray:
    """E[CD-k update of W] = E_data[v q(v)^T] - E[v^k q(v^k)^T], v^k after k Gibbs steps."""
    p0, pk = _chain_law(rbm, data, k)
    return chain_statistic(rbm, p0) - chain_statistic(rbm, pk)


def belief_net_layer_terms(rbm: RBM, data: ArrayLike, n_pairs: int) -> list[np.ndarray]:
    """Expected sigmoid-belief-net updates of the tied weights, layer by layer, bottom up.

    With the posterior of the tied net (the upward chain v^0 -> h^0 -> v^1 -> ...), the
    generative weight from h^k to v^k gets E[(v^k - mu^k) h^kT], mu^k = sigma(b + W h^k), and
    the weight from v^{k+1} to h^k gets E[v^{k+1} (h^k - q^{k+1})^T], q^{k+1} =
    sigma(c + W^T v^{k+1}).  Returns these 2 * n_pairs matrices (n_v, n_h), in order.
    """
    up, down = kernels(rbm)
    n_pairs = check_int("n_pairs", n_pairs, minimum=0)
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    p_of_h = expit(H @ rbm.W.T + rbm.b)  # (2^nh, nv): mu^k as a function of h^k
    q_of_v = expit(V @ rbm.W + rbm.c)  # (2^nv, nh): q as a function of v
    pv = data_distribution(data, rbm.n_visible)
    terms = []
    for _ in range(n_pairs):
        joint_vh = pv[:, None] * up  # P(v^k, h^k)
        # sum_{v,h} P(v,h) (v - p(h)) h^T
        terms.append(V.T @ joint_vh @ H - (p_of_h * joint_vh.sum(axis=0)[:, None]).T @ H)
        p_h = joint_vh.sum(axis=0)
        joint_hv = p_h[:, None] * down  # P(h^k, v^{k+1})
        # sum_{h,v'} P(h,v') v' (h - q(v'))^T
        terms.append(V.T @ joint_hv.T @ H - (V * joint_hv.sum(axis=0)[:, None]).T @ q_of_v)
        pv = joint_hv.sum(axis=0)
    return terms


def cd_bias(rbm: RBM, data: ArrayLike, k: int) -> tuple[float, float]:
    """(max_ij |E[CD-k] - grad|_ij, TV(p_k, p)) for the exact chain on a tiny model."""
    p0, pk = _chain_law(rbm, data, k)
    p_v, _ = rbm_marginals(rbm)
    grad = exact_gradient(rbm, data)[0]
    update = chain_statistic(rbm, p0) - chain_statistic(rbm, pk)
    return float(np.abs(update - grad).max()), total_variation(pk, p_v)


# ---------------------------------------------------------------------------- greedy DBN

@dataclass(frozen=True)
class DBNConfig:
    """Greedy two-layer DBN on binarised digits: RBM1 by CD-1, then RBM2 (initialised at
    RBM1 transposed) by exact gradient ascent on the aggregated posterior."""

    n_hidden1: int = 10
    """Units of the first hidden layer (its 2^n states are enumerated)."""
    rbm1_epochs: int = 20
    """CD-1 epochs of the first RBM."""
    rbm1_lr: float = 0.05
    """Learning rate of the first RBM."""
    rbm2_steps: int = 60
    """Gradient steps of the second RBM."""
    rbm2_lr: float = 0.2
    """Step size of the second RBM."""
    record_every: int = 10
    """Record the curves every this many steps (and at the last)."""
    seed: int = 0
    """Seed of the first RBM's training."""

    def __post_init__(self) -> None:
        check_int("n_hidden1", self.n_hidden1, minimum=1, maximum=MAX_TINY)
        check_int("rbm1_epochs", self.rbm1_epochs, minimum=0)
        check_real("rbm1_lr", self.rbm1_lr, low=0.0, low_open=True)
        check_int("rbm2_steps", self.rbm2_steps, minimum=0)
        check_real("rbm2_lr", self.rbm2_lr, low=0.0, low_open=True)
        check_int("record_every", self.record_every, minimum=1)
        check_seed(self.seed)


@dataclass(frozen=True, eq=False)
class DBNResult:
    """Exact quantities of the greedy experiment (means over the training digits)."""

    rbm1: RBM
    """The first RBM (64 visible units, ``n_hidden1`` hidden)."""
    rbm2: RBM
    """The second RBM at the end (visible layer = RBM1's hidden layer)."""
    top_models: tuple[RBM, ...]
    """The second RBM at every recorded step (the first is RBM1 turned upside down)."""
    steps: np.ndarray
    """RBM2 gradient steps at which the curves are recorded."""
    bound: np.ndarray
    """Mean variational bound with Q = RBM1's posterior."""
    log_lik: np.ndarray
    """Mean exact log p(v) of the DBN."""
    agg_log_lik: np.ndarray
    """sum_h agg(h) log p2(h), agg the aggregated posterior."""
    log_lik_rbm1: float
    """Mean log p1(v) of the first RBM."""
    bound_gap_at_init: float
    """max_v |bound(v) - log p1(v)| at the start (tight)."""


def layer_tables(rbm1: RBM, v: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log Q(h|v) (N, S), entropies H(Q(.|v)) (N,) and log p(v|h) (N, S) over the S = 2^n_h
    hidden states, Q(h|v) = prod_j sigma(c_j + (W^T v)_j)^h_j (...)^(1-h_j) of ``rbm1``."""
    if not isinstance(rbm1, RBM):
        raise ValueError(f"need an RBM, got {type(rbm1).__name__}")
    v = check_array("v", v, ndim=2, shape=(None, rbm1.n_visible))
    H = all_states(rbm1.n_hidden)
    q = np.clip(p_h_given_v(rbm1, v), 1e-300, 1 - 1e-16)  # (N, n_h)
    log_q = np.log(q) @ H.T + np.log1p(-q) @ (1 - H).T  # (N, S)
    entropy = -(q * np.log(q) + (1 - q) * np.log1p(-q)).sum(axis=1)
    a = H @ rbm1.W.T + rbm1.b  # (S, n_v)
    log_lik_v = v @ a.T - _softplus(a).sum(axis=1)  # (N, S): log p(v | h)
    return log_q, entropy, log_lik_v


def _tables(log_prior: ArrayLike, log_lik_v: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    log_lik_v = check_array("log_lik_v", log_lik_v, ndim=2)
    log_prior = check_array("log_prior", log_prior, ndim=1, shape=(log_lik_v.shape[1],))
    return log_prior, log_lik_v


def variational_bound(log_prior: ArrayLike, log_q: ArrayLike, entropy: ArrayLike,
                      log_lik_v: ArrayLike) -> np.ndarray:
    """B(v) = sum_h Q(h|v) [log p(h) + log p(v|h)] + H(Q(.|v)) for each row: (N,).

    ``log_prior`` (S,), ``log_q`` and ``log_lik_v`` (N, S), ``entropy`` (N,).
    """
    return variational_bounds((log_prior,), log_q, entropy, log_lik_v)[0]


def variational_bounds(log_priors: Sequence[ArrayLike], log_q: ArrayLike, entropy: ArrayLike,
                       log_lik_v: ArrayLike) -> np.ndarray:
    """:func:`variational_bound` for each prior of ``log_priors`` (one Q, several top
    models), Q(h|v) = exp(log_q) computed once: (P, N)."""
    log_lik_v = check_array("log_lik_v", log_lik_v, ndim=2)
    if isinstance(log_priors, np.ndarray) or not len(log_priors):
        raise ValueError("log_priors must be a non-empty sequence of (S,) arrays")
    priors = [check_array("log_prior", p, ndim=1, shape=(log_lik_v.shape[1],))
              for p in log_priors]
    log_q = check_array("log_q", log_q, ndim=2, shape=log_lik_v.shape, finite=False)
    entropy = check_array("entropy", entropy, ndim=1, shape=(len(log_lik_v),))
    q = np.exp(log_q)
    return np.array([(q * (p[None, :] + log_lik_v)).sum(axis=1) + entropy for p in priors])


def dbn_log_prob(log_prior: ArrayLike, log_lik_v: ArrayLike) -> np.ndarray:
    """Exact log p(v) = log sum_h p(h) p(v | h) of the DBN: (N,)."""
    log_prior, log_lik_v = _tables(log_prior, log_lik_v)
    return _lse_rows(log_prior[None, :] + log_lik_v)


def top_rbm_log_marginal(rbm2: RBM, H: ArrayLike) -> np.ndarray:
    """log p2(h) over all states ``H`` (2^n, n) of RBM2's visible layer (enumerated exactly)."""
    if not isinstance(rbm2, RBM):
        raise ValueError(f"need an RBM, got {type(rbm2).__name__}")
    H = check_array("H", H, ndim=2, shape=(2**rbm2.n_visible, rbm2.n_visible))
    logits = H @ rbm2.b + _softplus(H @ rbm2.W + rbm2.c).sum(axis=1)
    return logits - logsumexp(logits)


def top_rbm_gradient(rbm2: RBM, H: ArrayLike, target: ArrayLike
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact gradient of sum_h target(h) log p2(h) for RBM2 on the enumerated states ``H``:
    H^T diag(target - p2) q, with q = sigma(c + W^T h) (data minus model statistics)."""
    log_p2 = top_rbm_log_marginal(rbm2, H)
    H = np.asarray(H, dtype=np.float64)
    target = _distribution(target, len(H), "target")
    diff = target - np.exp(log_p2)  # (S,)
    q = expit(H @ rbm2.W + rbm2.c)  # (S, n_hidden of RBM2)
    return H.T @ (diff[:, None] * q), diff @ H, diff @ q


def greedy_dbn(config: DBNConfig = DBNConfig()) -> DBNResult:
    """Run the greedy experiment of :class:`DBNConfig`, recording exact curves.

    Cached: the result is frozen, its arrays read-only.
    """
    if not isinstance(config, DBNConfig):
        raise ValueError(f"need a DBNConfig, got {type(config).__name__}")
    return _greedy_dbn(config)


@lru_cache(maxsize=2)
def _greedy_dbn(config: DBNConfig) -> DBNResult:
    v = binarized_digits()[0].astype(np.float64)
    rbm1 = train_rbm(v, CDConfig(n_hidden=config.n_hidden1, lr=config.rbm1_lr,
                                 epochs=config.rbm1_epochs, batch_size=10),
                     rng=config.seed).rbm
    H = all_states(rbm1.n_hidden)
    log_q, entropy, log_lik_v = layer_tables(rbm1, v)
    agg = np.exp(log_q).mean(axis=0)  # aggregated posterior over h: (S,)
    agg /= agg.sum()
    rbm2 = rbm1.swap()  # visible layer h, hidden layer of size n_v
    ll1 = log_prob(rbm1, v)
    log_p1 = top_rbm_log_marginal(rbm2, H)  # = p1(h), RBM1's marginal of its hidden layer
    steps, models, log_p2s, ll, agg_ll = [], [], [], [], []
    for step in range(config.rbm2_steps + 1):
        if step % config.record_every == 0 or step == config.rbm2_steps:
            log_p2 = top_rbm_log_marginal(rbm2, H)
            steps.append(step)
            models.append(rbm2)
            log_p2s.append(log_p2)
            ll.append(dbn_log_prob(log_p2, log_lik_v).mean())
            agg_ll.append(agg @ log_p2)
        if step < config.rbm2_steps:
            gW, gb, gc = top_rbm_gradient(rbm2, H, agg)
            rbm2 = RBM(rbm2.W + config.rbm2_lr * gW, rbm2.b + config.rbm2_lr * gb,
                       rbm2.c + config.rbm2_lr * gc)
    bounds = variational_bounds([log_p1, *log_p2s], log_q, entropy, log_lik_v)  # Q once
    gap = float(np.abs(bounds[0] - ll1).max())
    bound = [b.mean() for b in bounds[1:]]
    arrays = [_read_only(np.array(a)) for a in (steps, bound, ll, agg_ll)]
    return DBNResult(rbm1, rbm2, tuple(models), *arrays, float(ll1.mean()), gap)


# ---------------------------------------------------------------------------- curves

DEPTH_CURVE_SIZES = (5, 4)
"""(visible, hidden) units of the model of :func:`depth_curves`."""
CD_BIAS_CURVE_SIZES = (6, 4, 20, 8)
"""(visible units, hidden units, data rows, random directions) of :func:`cd_bias_curves`
(the last is the default of its ``n_models``)."""


@lru_cache(maxsize=2)
def _depth_curves(scales: tuple[float, ...], max_depth: int, seed: int):
    rng = np.random.default_rng(seed)
    n_v, n_h = DEPTH_CURVE_SIZES
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
        curves[s] = _read_only(np.array(tv))
        rates[s] = second_eigenvalue(rbm)
    return _read_only(depths[::2].copy()), MappingProxyType(curves), MappingProxyType(rates)


def depth_curves(scales: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0), max_depth: int = 60,
                 seed: int = 3
                 ) -> tuple[np.ndarray, Mapping[float, np.ndarray], Mapping[float, float]]:
    """TV(p_L(v), p(v)) for even L = 0..max_depth from a point-mass top, per weight scale,
    and the chains' lambda_2 (5 visible, 4 hidden units; one random direction, scaled).

    Returns (depths (M,), {scale: TV (M,)}, {scale: lambda_2}), all read-only.
    """
    scales = tuple(check_real("scale", s, low=0.0) for s in _nonempty_tuple("scales", scales))
    return _depth_curves(scales, check_int("max_depth", max_depth, minimum=2),
                         check_seed(seed))


@lru_cache(maxsize=2)
def _cd_bias_curves(scales: tuple[float, ...], ks: tuple[int, ...], n_models: int, seed: int):
    rng = np.random.default_rng(seed)
    n_v, n_h, n_data, _ = CD_BIAS_CURVE_SIZES
    dirs = [rng.standard_normal((n_v, n_h)) for _ in range(n_models)]
    biases = [(rng.normal(0, 0.5, n_v), rng.normal(0, 0.5, n_h)) for _ in range(n_models)]
    p = rng.uniform(0.1, 0.9, n_v)
    data = (rng.random((n_data, n_v)) < p).astype(np.float64)
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
    return (_read_only(np.array(scales)),
            MappingProxyType({k: _read_only(r) for k, r in rel.items()}), _read_only(lam))


def cd_bias_curves(scales: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 6.0, 13), 2)),
                   ks: tuple[int, ...] = (1, 3, 10), n_models: int = CD_BIAS_CURVE_SIZES[3],
                   seed: int = 0
                   ) -> tuple[np.ndarray, Mapping[int, np.ndarray], np.ndarray]:
    """Relative bias |E[CD-k] - grad|_F / |grad|_F versus the weight scale (mean over random
    directions, 6 visible and 4 hidden units, 20 random data rows), and mean lambda_2.

    Returns (scales (M,), {k: relative bias (M,)}, mean lambda_2 (M,)), all read-only.
    """
    scales = tuple(check_real("scale", s, low=0.0) for s in _nonempty_tuple("scales", scales))
    ks = check_sizes("ks", ks)
    return _cd_bias_curves(scales, ks, check_int("n_models", n_models, minimum=1),
                           check_seed(seed))


def _nonempty_tuple(name: str, values: object) -> tuple:
    if isinstance(values, str | bytes) or not hasattr(values, "__len__") or not len(values):
        raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
    return tuple(values)


def curl_value(rho: float) -> float:
    """9 (3 rho - 2) / 256, the CD-1 curl of the 1x1 example at (w, b, c) = (log 3, 0, 0)."""
    rho = check_probability("rho", rho)
    return 9.0 * (3.0 * rho - 2.0) / 256.0
