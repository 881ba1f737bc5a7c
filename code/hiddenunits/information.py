"""Information vs linear accessibility: exact mutual information of deterministic layers.

Everything is finite: an input ``X`` with finitely many values and a joint law ``p(x, y)``,
layers ``H_{k+1} = g_k(H_k)`` that are deterministic functions.  Mutual information is
computed exactly by enumeration (in bits), and the best accuracy of an affine classifier
on a small point set by enumerating the labelings a hyperplane can realise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache

import numpy as np

from hiddenunits.claims import claim


def _check_joint(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or min(p.shape) < 1:
        raise ValueError(f"the joint law must be a (|X|, |Y|) array, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("the joint law must have finite non-negative entries")
    if not math.isclose(p.sum(), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"the joint law must sum to 1, got {p.sum()}")
    return p


def mutual_information(p_xy: np.ndarray) -> float:
    """``I(X; Y) = sum p(x, y) log2(p(x, y) / (p(x) p(y)))`` in bits; p_xy (|X|, |Y|)."""
    p = _check_joint(p_xy)
    px = p.sum(axis=1, keepdims=True)
    py = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / (px @ py)[nz])))


def push_forward(p_xy: np.ndarray, g: Sequence[Hashable]) -> np.ndarray:
    """Joint law of ``(g(X), Y)``: rows of p_xy with equal ``g[x]`` are added.

    ``g[x]`` is the (hashable) value of the layer on input value ``x``.  Returns
    (|g(X)|, |Y|) with rows in order of first appearance.
    """
    p = _check_joint(p_xy)
    if len(g) != p.shape[0]:
        raise ValueError(f"g must give one value per input value: {len(g)} != {p.shape[0]}")
    index: dict[Hashable, int] = {}
    rows = [index.setdefault(v, len(index)) for v in g]
    out = np.zeros((len(index), p.shape[1]))
    np.add.at(out, rows, p)
    return out


def layer_informations(p_xy: np.ndarray, layers: Sequence[Callable[[Hashable], Hashable]],
                       values: Sequence[Hashable]) -> list[float]:
    """``[I(Y; X), I(Y; H_1), ...]`` for ``H_{k+1} = layers[k](H_k)``, ``H_0 = X``.

    ``values[x]`` is the input value of row x of p_xy.
    """
    if len(values) != np.shape(p_xy)[0]:
        raise ValueError("need one input value per row of the joint law")
    out = [mutual_information(p_xy)]
    h = list(values)
    for layer in layers:
        h = [layer(v) for v in h]
        out.append(mutual_information(push_forward(p_xy, h)))
    return out


def random_chain(rng: np.random.Generator, n_x: int = 16, n_y: int = 3,
                 widths: Sequence[int] = (12, 6, 3)
                 ) -> tuple[np.ndarray, list[Callable[[int], int]]]:
    """A random joint law (n_x, n_y) and random functions between finite sets of ``widths``."""
    if n_x < 1 or n_y < 1 or any(w < 1 for w in widths):
        raise ValueError("all sizes must be positive")
    p = rng.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    maps = []
    sizes = [n_x, *widths]
    for a, b in itertools.pairwise(sizes):
        table = rng.integers(0, b, size=a)
        maps.append(lambda v, t=table: int(t[v]))
    return p, maps


def relu_chain_informations(rng: np.random.Generator, n_bits: int = 4,
                            widths: Sequence[int] = (6, 3, 2), noise: float = 0.2
                            ) -> list[float]:
    """``I(Y; H_k)`` along a random ReLU network on all 2^n_bits binary inputs.

    X is uniform on {0, 1}^n_bits, Y = (x1 XOR x2) flipped with probability ``noise``; the
    layers are ``relu(W h + b)`` with Gaussian W, b, so they are deterministic.  Values are
    rounded to 9 decimals to be hashable (distinct values never collide at that precision
    for Gaussian weights, except by measure-zero accidents).
    """
    if n_bits < 2 or not 0 <= noise <= 0.5:
        raise ValueError("need n_bits >= 2 and noise in [0, 1/2]")
    xs = np.array(list(itertools.product((0, 1), repeat=n_bits)), dtype=np.float64)
    label = (xs[:, 0] != xs[:, 1]).astype(int)
    p = np.zeros((len(xs), 2))
    p[np.arange(len(xs)), label] = (1 - noise) / len(xs)
    p[np.arange(len(xs)), 1 - label] = noise / len(xs)
    h = xs
    out = [mutual_information(p)]
    for w_out in widths:
        w = rng.normal(size=(w_out, h.shape[1]))
        b = rng.normal(size=w_out)
        h = np.maximum(h @ w.T + b, 0.0)
        keys = [tuple(np.round(row, 9)) for row in h]
        out.append(mutual_information(push_forward(p, keys)))
    return out


@claim("thm-data-processing", chapter="separability",
       statement="for deterministic layers I(Y; H_{k+1}) <= I(Y; H_k), with equality when "
                 "the layer is injective on the values H_k takes",
       method="exact", tolerance=1e-12)
def check_data_processing() -> float:
    """Largest violation over 200 random chains of finite maps and 200 random ReLU nets.

    Every mutual information is an exact finite sum; the only error is float64 round-off
    of sums of at most 48 terms of size <= log2(48), far below the tolerance 1e-12.  The
    equality case is checked on random injective (permutation) layers.
    """
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(200):
        p, maps = random_chain(rng)
        infos = layer_informations(p, maps, range(p.shape[0]))
        worst = max(worst, max(b - a for a, b in itertools.pairwise(infos)))
        perm = rng.permutation(p.shape[0])
        same = layer_informations(p, [lambda v, t=perm: int(t[v])], range(p.shape[0]))
        worst = max(worst, abs(same[1] - same[0]))
    for _ in range(200):
        infos = relu_chain_informations(rng)
        worst = max(worst, max(b - a for a, b in itertools.pairwise(infos)))
    return max(worst, 0.0)


# ---------------------------------------------------------------------------------------
# Linear accessibility on a small point set


def separable(points: np.ndarray, labels: np.ndarray) -> bool:
    """Whether an affine hyperplane strictly separates the 0- and 1-labelled points."""
    from scipy.optimize import linprog

    pts = np.asarray(points, dtype=np.float64)
    lab = np.asarray(labels)
    if pts.ndim != 2 or lab.shape != (len(pts),):
        raise ValueError(f"need points (N, d) and labels (N,), got {pts.shape}, {lab.shape}")
    if lab.min() == lab.max():
        return True
    s = 2.0 * lab - 1.0
    # feasibility of s_i (w.x_i + b) >= 1
    a_ub = -s[:, None] * np.hstack([pts, np.ones((len(pts), 1))])
    res = linprog(np.zeros(pts.shape[1] + 1), A_ub=a_ub, b_ub=-np.ones(len(pts)),
                  bounds=[(None, None)] * (pts.shape[1] + 1), method="highs")
    return res.status == 0


def best_linear_accuracy(points: np.ndarray, labels: np.ndarray) -> float:
    """Largest fraction of points an affine threshold classifier labels correctly.

    Exact, by enumerating the 2^N labelings (N <= 12) and keeping the separable ones.
    Points with equal coordinates must get equal predictions, which the enumeration
    respects because such labelings are not separable.
    """
    pts = np.asarray(points, dtype=np.float64)
    lab = np.asarray(labels)
    if len(pts) > 12:
        raise ValueError(f"exact enumeration needs at most 12 points, got {len(pts)}")
    best = 0
    for bits in itertools.product((0, 1), repeat=len(pts)):
        guess = np.array(bits)
        agree = int((guess == lab).sum())
        if agree > best and separable(pts, guess):
            best = agree
    return best / len(pts)


XOR_LAYER1 = (np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0]))
XOR_LAYER2 = (np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]), np.zeros(2))


@lru_cache(maxsize=1)
def xor_scramble_chain() -> dict[str, list]:
    """XOR -> relu(W1 x + b1) -> relu(W2 h + b2): the representations, their information
    about Y and their best affine accuracy."""
    from hiddenunits.data import xor

    x, y = xor()
    reps = [x]
    for w, b in (XOR_LAYER1, XOR_LAYER2):
        reps.append(np.maximum(reps[-1] @ w.T + b, 0.0))
    p = np.zeros((4, 2))
    p[np.arange(4), y] = 0.25  # X uniform on the four points, Y = XOR(X)
    infos = [mutual_information(push_forward(p, [tuple(r) for r in rep])) for rep in reps]
    acc = [best_linear_accuracy(rep, y) for rep in reps]
    return {"representations": reps, "information": infos, "accuracy": acc}


@claim("prop-probe-not-monotone", chapter="separability",
       statement="a deterministic ReLU chain on XOR keeps I(Y; H_k) = 1 bit while the best "
                 "linear accuracy goes 3/4, 1, 3/4",
       method="exact", tolerance=1e-12)
def check_probe_not_monotone() -> float:
    """Distance of the computed (information, accuracy) sequence from (1, 1, 1; 3/4, 1, 3/4).

    Accuracies are exact fractions of 4 points; informations are log2 of exact ratios, so
    the only error is float64 round-off.
    """
    chain = xor_scramble_chain()
    err_i = max(abs(v - 1.0) for v in chain["information"])
    err_a = max(abs(a - b) for a, b in zip(chain["accuracy"], (0.75, 1.0, 0.75), strict=True))
    return max(err_i, err_a)
