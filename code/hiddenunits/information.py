"""Information vs linear accessibility: exact mutual information of deterministic layers.

Everything is finite: an input ``X`` with finitely many values and a joint law ``p(x, y)``,
layers ``H_{l+1} = g_l(H_l)`` that are deterministic functions.  Mutual information is
computed exactly by enumeration (in bits), the best accuracy of an affine classifier on a
small point set by enumerating the labelings a hyperplane can realise, and the usable
information of Xu et al. (2020) for the logistic family by convex minimisation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from hiddenunits.capacity import is_separable
from hiddenunits.data import xor
from hiddenunits.validation import (
    check_array,
    check_int,
    check_probability,
    check_rng,
    check_sizes,
)


def _check_joint(p: ArrayLike) -> np.ndarray:
    """A joint law (|X|, |Y|): finite, non-negative, summing to 1."""
    p = check_array("p_xy", p, ndim=2)
    if (p < 0).any():
        raise ValueError("the joint law must have non-negative entries")
    if not math.isclose(p.sum(), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"the joint law must sum to 1, got {p.sum()}")
    return p


def mutual_information(p_xy: ArrayLike) -> float:
    """``I(X; Y) = sum p(x, y) log2(p(x, y) / (p(x) p(y)))`` in bits; p_xy (|X|, |Y|)."""
    return _mutual_information(_check_joint(p_xy))


def _mutual_information(p: np.ndarray) -> float:
    """:func:`mutual_information` of a joint law already checked."""
    px = p.sum(axis=1, keepdims=True)
    py = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / (px @ py)[nz])))


def push_forward(p_xy: ArrayLike, g: Sequence[Hashable]) -> np.ndarray:
    """Joint law of ``(g(X), Y)``: rows of p_xy with equal ``g[x]`` are added.

    ``g[x]`` is the (hashable) value of the layer on input value ``x``.  Returns
    (|g(X)|, |Y|) with rows in order of first appearance.
    """
    p = _check_joint(p_xy)
    if isinstance(g, str | bytes) or not isinstance(g, Sequence) or len(g) != p.shape[0]:
        raise ValueError(f"g must be a sequence of one value per input value "
                         f"({p.shape[0]}), got {g!r}")
    return _push_forward(p, g)


def _push_forward(p: np.ndarray, g: Sequence[Hashable]) -> np.ndarray:
    """:func:`push_forward` of a joint law and values already checked."""
    index: dict[Hashable, int] = {}
    try:
        rows = [index.setdefault(v, len(index)) for v in g]
    except TypeError as e:
        raise ValueError(f"the values g[x] must be hashable: {e}") from None
    out = np.zeros((len(index), p.shape[1]))
    np.add.at(out, rows, p)
    return out


def layer_informations(p_xy: ArrayLike, layers: Sequence[Callable[[Hashable], Hashable]],
                       values: Sequence[Hashable]) -> list[float]:
    """``[I(Y; X), I(Y; H_1), ...]`` for ``H_{l+1} = layers[l](H_l)``, ``H_0 = X``.

    ``values[x]`` is the input value of row x of p_xy.
    """
    p = _check_joint(p_xy)
    if len(values) != p.shape[0]:
        raise ValueError(f"need one input value per row of the joint law: {len(values)} "
                         f"values for {p.shape[0]} rows")
    if not all(callable(g) for g in layers):
        raise ValueError("every layer must be a function of the previous layer's value")
    h = list(values)
    try:
        out = [_mutual_information(_push_forward(p, h))]
        for layer in layers:
            h = [layer(v) for v in h]
            out.append(_mutual_information(_push_forward(p, h)))
    except TypeError as e:
        raise ValueError(f"the layers' values must be hashable: {e}") from None
    return out


def random_chain(rng: int | np.random.Generator = 0, n_x: int = 16, n_y: int = 3,
                 widths: Sequence[int] = (12, 6, 3)
                 ) -> tuple[np.ndarray, list[Callable[[int], int]]]:
    """A random joint law (n_x, n_y) and random functions between finite sets of ``widths``.

    The law is Dirichlet(1, ..., 1) on the n_x n_y cells; layer l maps {0, ..., n_l - 1}
    to {0, ..., n_(l+1) - 1} (n_0 = n_x) by a uniformly random table.  ``rng`` is a seed
    or a ``numpy.random.Generator``.
    """
    gen = check_rng(rng)
    n_x = check_int("n_x", n_x, minimum=1)
    n_y = check_int("n_y", n_y, minimum=1)
    widths = check_sizes("widths", widths, minimum_length=0)
    p = gen.dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)
    maps = []
    for a, b in itertools.pairwise([n_x, *widths]):
        table = gen.integers(0, b, size=a)
        maps.append(lambda v, t=table: int(t[v]))
    return p, maps


def noisy_xor_law(n_bits: int = 4, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """X uniform on {0, 1}^n_bits and Y = x1 XOR x2 flipped with probability ``noise``.

    Returns the joint law (2^n_bits, 2) and the inputs (2^n_bits, n_bits), row x of one
    belonging to row x of the other.
    """
    n_bits = check_int("n_bits", n_bits, minimum=2)
    noise = check_probability("noise", noise)
    if noise > 0.5:
        raise ValueError(f"noise must lie in [0, 1/2], got {noise}")
    xs = np.array(list(itertools.product((0, 1), repeat=n_bits)), dtype=np.float64)
    label = (xs[:, 0] != xs[:, 1]).astype(int)
    p = np.zeros((len(xs), 2))
    p[np.arange(len(xs)), label] = (1 - noise) / len(xs)
    p[np.arange(len(xs)), 1 - label] = noise / len(xs)
    return p, xs


def random_relu_layers(rng: int | np.random.Generator = 0, n_in: int = 4,
                       widths: Sequence[int] = (6, 3, 2)
                       ) -> list[Callable[[tuple[float, ...]], tuple[float, ...]]]:
    """Layers ``h -> relu(W h + b)`` with standard Gaussian ``W``, ``b``, on tuple values.

    Each layer maps a tuple of floats to a tuple of floats rounded to 9 decimals, so that
    values are hashable (distinct values never collide at that precision for Gaussian
    weights, except by measure-zero accidents).  ``rng``: a seed or a Generator.
    """
    gen = check_rng(rng)
    n_in = check_int("n_in", n_in, minimum=1)
    sizes = [n_in, *check_sizes("widths", widths, minimum_length=0)]
    layers = []
    for a, b in itertools.pairwise(sizes):
        w, c = gen.normal(size=(b, a)), gen.normal(size=b)

        def layer(h, w=w, c=c):
            return tuple(np.round(np.maximum(w @ np.asarray(h) + c, 0.0), 9).tolist())

        layers.append(layer)
    return layers


def relu_chain_informations(rng: int | np.random.Generator = 0, n_bits: int = 4,
                            widths: Sequence[int] = (6, 3, 2), noise: float = 0.2
                            ) -> list[float]:
    """``I(Y; H_l)`` along a random ReLU network on all 2^n_bits binary inputs.

    The law is :func:`noisy_xor_law`, the layers :func:`random_relu_layers` (deterministic).
    """
    p, xs = noisy_xor_law(n_bits, noise)
    layers = random_relu_layers(rng, n_bits, widths)
    return layer_informations(p, layers, [tuple(row) for row in xs.tolist()])


# ---------------------------------------------------------------------------------------
# Linear accessibility on a small point set


def _check_points(points: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    pts = check_array("points", points, ndim=2)
    lab = check_array("labels", labels, ndim=1, dtype=np.int64)
    if len(lab) != len(pts):
        raise ValueError(f"points and labels differ in length: {len(pts)} and {len(lab)}")
    if not np.isin(lab, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return pts, lab


def separable(points: ArrayLike, labels: ArrayLike) -> bool:
    """Whether an affine hyperplane strictly separates the 0- and 1-labelled points.

    points (N, d), labels (N,) in {0, 1}.  A linear feasibility programme (HiGHS), see
    :func:`hiddenunits.capacity.is_separable`.
    """
    pts, lab = _check_points(points, labels)
    return is_separable(pts, lab)


MAX_ENUMERATED_POINTS = 12


def best_linear_accuracy(points: ArrayLike, labels: ArrayLike) -> float:
    """Largest fraction of points an affine threshold classifier labels correctly.

    points (N, d), labels (N,) in {0, 1}, N <= 12.  Exact: the labelings that differ from
    ``labels`` in m points are tested for separability for m = 0, 1, 2, ... and the first
    separable one gives the answer (N - m) / N.  Points with equal coordinates must get
    equal predictions, which the enumeration respects because such labelings are not
    separable.
    """
    pts, lab = _check_points(points, labels)
    n = len(pts)
    if n > MAX_ENUMERATED_POINTS:
        raise ValueError(f"exact enumeration needs at most {MAX_ENUMERATED_POINTS} points, "
                         f"got {n}")
    for m in range(n + 1):
        for flips in itertools.combinations(range(n), m):
            guess = lab.copy()
            guess[list(flips)] ^= 1
            if is_separable(pts, guess):
                return (n - m) / n
    raise AssertionError("unreachable: a constant labeling is always separable")


# ---------------------------------------------------------------------------------------
# Usable information (Xu et al. 2020) for the logistic family


def _entropy_bits(y: np.ndarray) -> float:
    counts = np.bincount(y, minlength=2) / len(y)
    nz = counts[counts > 0]
    return float(-(nz * np.log2(nz)).sum())


def logistic_cross_entropy(points: ArrayLike, labels: ArrayLike) -> float:
    """``inf_{w, b} (1/N) sum_i -log2 sigma(s_i (w^T x_i + b))`` in bits, s_i = 2 y_i - 1.

    The smallest mean cross-entropy of a logistic regression on the N examples (no
    penalty): 0 when the two classes are strictly separable (the infimum is then not
    attained), otherwise the minimum of a convex function, found by BFGS.
    points (N, d), labels (N,) in {0, 1}.
    """
    from scipy.optimize import minimize

    pts, lab = _check_points(points, labels)
    if is_separable(pts, lab):
        return 0.0
    z = np.hstack([pts, np.ones((len(pts), 1))]) * (2.0 * lab - 1.0)[:, None]  # (N, d+1)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        m = z @ theta
        value = np.logaddexp(0.0, -m).mean()  # -log sigma(m), stable
        grad = -(z * (0.5 * (1.0 - np.tanh(0.5 * m)))[:, None]).mean(axis=0)  # sigma(-m)
        return value, grad

    res = minimize(loss, np.zeros(z.shape[1]), jac=True, method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10_000})
    return float(res.fun / math.log(2.0))


def empirical_mutual_information(points: ArrayLike, labels: ArrayLike) -> float:
    """``I(Y; H)`` in bits for (H, Y) uniform on the N examples (equal points merged).

    points (N, d), labels (N,) in {0, 1}.
    """
    pts, lab = _check_points(points, labels)
    p = np.zeros((len(pts), 2))
    p[np.arange(len(pts)), lab] = 1.0 / len(pts)
    return mutual_information(push_forward(p, [tuple(r) for r in pts.tolist()]))


def linear_v_information(points: ArrayLike, labels: ArrayLike) -> float:
    """Linear usable information ``I_V(H -> Y) = H_V(Y) - H_V(Y | H)`` in bits.

    V is the logistic family: ``f[h](1) = sigma(w^T h + b)`` and, without h,
    ``f[0](1) = sigma(b)``; (H, Y) is uniform on the N examples.  So ``H_V(Y)`` is the
    entropy of the label frequencies and ``H_V(Y | H)`` is
    :func:`logistic_cross_entropy`.  points (N, d), labels (N,) in {0, 1}.
    """
    pts, lab = _check_points(points, labels)
    return _entropy_bits(lab) - logistic_cross_entropy(pts, lab)


XOR_LAYER1 = (np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0]))
XOR_LAYER2 = (np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]), np.zeros(2))
for _a in (*XOR_LAYER1, *XOR_LAYER2):
    _a.setflags(write=False)


@dataclass(frozen=True)
class ChainProfile:
    """Representations along a chain of layers on XOR, with what they tell about Y."""

    representations: tuple[np.ndarray, ...]
    """``H_0 = X, H_1, ...``: the four points' values at each layer, (4, D_l) read-only."""
    information: tuple[float, ...]
    """``I(Y; H_l)`` in bits, X uniform on the four points and Y = XOR(X)."""
    accuracy: tuple[float, ...]
    """Best accuracy of an affine threshold classifier of Y from ``H_l``."""


def relu_chain_profile(layers: Sequence[tuple[ArrayLike, ArrayLike]]) -> ChainProfile:
    """XOR -> relu(W_1 x + b_1) -> relu(W_2 h + b_2) -> ...: informations and accuracies.

    ``layers``: ``(W_l, b_l)`` pairs, W_l (D_l, D_(l-1)) in ``(out, in)`` layout.
    """
    x, y = xor()
    reps = [x]
    for k, (w, b) in enumerate(layers):
        w = check_array(f"W_{k + 1}", w, ndim=2)
        b = check_array(f"b_{k + 1}", b, shape=(w.shape[0],))
        if w.shape[1] != reps[-1].shape[1]:
            raise ValueError(f"W_{k + 1} must have {reps[-1].shape[1]} columns, got "
                             f"{w.shape[1]}")
        reps.append(np.maximum(reps[-1] @ w.T + b, 0.0))
    for r in reps:
        r.setflags(write=False)
    p = np.zeros((4, 2))
    p[np.arange(4), y] = 0.25  # X uniform on the four points, Y = XOR(X)
    infos = tuple(mutual_information(push_forward(p, [tuple(r) for r in rep.tolist()]))
                  for rep in reps)
    acc = tuple(best_linear_accuracy(rep, y) for rep in reps)
    return ChainProfile(tuple(reps), infos, acc)


@lru_cache(maxsize=1)
def xor_scramble_chain() -> ChainProfile:
    """The chain ``XOR_LAYER1``, ``XOR_LAYER2`` (cached): information stays 1 bit while the
    best affine accuracy goes up and down again."""
    return relu_chain_profile([XOR_LAYER1, XOR_LAYER2])
