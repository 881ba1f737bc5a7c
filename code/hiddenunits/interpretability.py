"""Reading hidden units by their top-activating inputs, along unit and random directions.

Szegedy et al. (2014) compared the inputs x that maximise <phi(x), e_i> (a unit) with
those that maximise <phi(x), v> for a random direction v, and found both equally
"interpretable".  Here phi is the ReLU layer of a small classifier trained on the digits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
import scipy.stats
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from hiddenunits.data import digits_split
from hiddenunits.validation import (
    check_array,
    check_int,
    check_real,
    check_rng,
    check_seed,
    seeded_call,
)

SEEDS = tuple(range(20))
"""The seeds of the book's multi-seed experiments on the ReLU classifier."""
COUNTS = (5, 10, 20, 40)
"""Sizes of the top-image sets of the book's direction studies (the sensitivity to it)."""
CONFIDENCE = 0.95
"""Level of the confidence intervals of :func:`direction_summary`."""
TEST_FRACTION = 0.25
"""Fraction of the digits held out for testing (``digits_split(TEST_FRACTION, rng=0)``)."""
TRAIN_EPOCHS = 30
"""Epochs of the book's ReLU classifiers."""
TRAIN_LR = 0.1
"""Step size of the book's ReLU classifiers."""
TRAIN_BATCH = 64
"""Minibatch size of the book's ReLU classifiers."""


@dataclass(frozen=True)
class Classifier:
    """A trained ReLU network 64 -> width -> 10 in float64: W2 relu(W1 x + b1) + b2."""

    W1: np.ndarray
    """First-layer weights (width, 64), read-only."""
    b1: np.ndarray
    """First-layer biases (width,), read-only."""
    W2: np.ndarray
    """Output weights (10, width), read-only."""
    b2: np.ndarray
    """Output biases (10,), read-only."""
    train_acc: float
    """Accuracy on the training part of the digits split."""
    test_acc: float
    """Accuracy on the test part."""


def init_relu_network(width: int = 32, rng: int | np.random.Generator = 0) -> list[np.ndarray]:
    """Initial [W1 (width, 64), b1, W2 (10, width), b2] from PyTorch's default law.

    Every entry of a layer with fan-in n_in is uniform on [-1/sqrt(n_in), 1/sqrt(n_in)]
    (``nn.Linear``'s law for weights and biases); ``rng`` draws W1, b1, W2, b2 in this order.
    """
    width = check_int("width", width, minimum=1)
    gen = check_rng(rng)
    params = []
    for n_in, n_out in ((64, width), (width, 10)):
        bound = 1.0 / np.sqrt(n_in)
        params += [gen.uniform(-bound, bound, size=(n_out, n_in)),
                   gen.uniform(-bound, bound, size=n_out)]
    return params


def _params(params: list[np.ndarray]) -> list[np.ndarray]:
    if not isinstance(params, list) or len(params) != 4:
        raise ValueError("params must be a list [W1 (h, d), b1 (h,), W2 (c, h), b2 (c,)]")
    W1, b1, W2, b2 = params
    shapes_ok = (all(isinstance(p, np.ndarray) and p.dtype == np.float64 for p in params)
                 and W1.ndim == 2 and b1.shape == (len(W1),) and W2.ndim == 2
                 and W2.shape[1] == len(W1) and b2.shape == (len(W2),))
    if not shapes_ok:
        raise ValueError("params must be float64 arrays W1 (h, d), b1 (h,), W2 (c, h), b2 (c,)")
    return params


def _data(x: ArrayLike, y: ArrayLike, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    x = check_array("x", x, shape=(None, d))
    y = check_array("y", y, shape=(len(x),), dtype=np.int64)
    if y.min() < 0 or y.max() >= c:
        raise ValueError(f"y must hold labels in 0..{c - 1}, got {y.min()}..{y.max()}")
    return x, y


def _step(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, x: np.ndarray,
          y: np.ndarray, lr: float, mask: np.ndarray | None) -> np.ndarray:
    """One SGD step for a stack of S networks, in place; returns the S minibatch losses.

    W1 (S, h, d), b1 (S, h), W2 (S, c, h), b2 (S, c); x (S, n, d), y (S, n); ``mask``
    (S, n, h) multiplies the hidden activations (dropout) or is None.
    """
    S, n = y.shape
    z = x @ W1.transpose(0, 2, 1) + b1[:, None, :]  # (S, n, h)
    a = np.maximum(z, 0.0) if mask is None else np.maximum(z, 0.0) * mask
    logits = a @ W2.transpose(0, 2, 1) + b2[:, None, :]  # (S, n, c)
    logits = logits - logits.max(2, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(2, keepdims=True)
    rows, cols = np.arange(S)[:, None], np.arange(n)[None, :]
    loss = -np.log(p[rows, cols, y]).mean(1)
    d = p
    d[rows, cols, y] -= 1.0
    d /= n  # (S, n, c): dL/dlogits
    da = (d @ W2) * (z > 0)  # (S, n, h): dL/dz
    if mask is not None:
        da *= mask
    gW1, gb1 = da.transpose(0, 2, 1) @ x, da.sum(1)
    gW2, gb2 = d.transpose(0, 2, 1) @ a, d.sum(1)
    W1 -= lr * gW1
    b1 -= lr * gb1
    W2 -= lr * gW2
    b2 -= lr * gb2
    return loss


def sgd_step(params: list[np.ndarray], x: ArrayLike, y: ArrayLike, lr: float,
             mask: ArrayLike | None = None) -> float:
    """One SGD step on the mean cross-entropy of W2 relu(W1 x + b1) + b2; returns the loss.

    ``params`` = [W1 (h, d), b1 (h,), W2 (c, h), b2 (c,)] (float64) is updated in place;
    ``x`` (N, d) inputs, ``y`` (N,) labels in 0..c-1; ``mask`` (N, h), if given,
    multiplies the hidden activations (a dropout mask).
    """
    W1, b1, W2, b2 = params = _params(params)
    x, y = _data(x, y, W1.shape[1], len(b2))
    lr = check_real("lr", lr, low=0.0, low_open=True)
    if mask is not None:
        mask = check_array("mask", mask, shape=(len(x), len(W1)))[None]
    # a stack of one network: the [None] views write through to the caller's arrays
    loss = _step(W1[None], b1[None], W2[None], b2[None], x[None], y[None], lr, mask)
    return float(loss[0])


def _train_stack(stack: list[np.ndarray], gens: list[np.random.Generator], epochs: int,
                 lr: float, batch_size: int, dropout: float,
                 monitor: Callable[[list[np.ndarray]], np.ndarray] | None) -> np.ndarray:
    """Minibatch SGD on the digits' training part for a stack of networks, in place.

    Network j draws its minibatch order of each epoch (then, with dropout, the masks of
    the epoch's steps) from ``gens[j]``.  Returns ``monitor(stack)`` (S,) before the
    first step and after every step, (steps + 1, S), or an empty array.
    """
    split = digits_split(TEST_FRACTION, rng=0)
    x = split.x_train.astype(np.float64)
    y = split.y_train
    h = stack[0].shape[1]
    record = [] if monitor is None else [monitor(stack)]
    with threadpool_limits(1, "blas"):
        for _ in range(epochs):
            perms = np.stack([g.permutation(len(y)) for g in gens])  # (S, N)
            masks = None
            if dropout > 0:
                keep = np.stack([g.random(size=(len(y), h)) for g in gens]) >= dropout
                masks = keep / (1.0 - dropout)  # (S, N, h), row i for the i-th example seen
            for i in range(0, len(y), batch_size):
                idx = perms[:, i:i + batch_size]
                _step(*stack, x[idx], y[idx], lr,
                      None if masks is None else masks[:, i:i + batch_size])
                if monitor is not None:
                    record.append(monitor(stack))
    return np.array(record)


def train_relu_network(params: Sequence[ArrayLike], epochs: int,
                       rng: int | np.random.Generator = 0, lr: float = 0.1,
                       batch_size: int = 64, dropout: float = 0.0,
                       monitor: Callable[[list[np.ndarray]], float] | None = None
                       ) -> tuple[list[np.ndarray], np.ndarray]:
    """Train one network [W1, b1, W2, b2] from ``params`` by minibatch SGD on the digits.

    The training part of ``digits_split(TEST_FRACTION, rng=0)``, the mean cross-entropy,
    steps of size ``lr`` on minibatches of ``batch_size``; ``rng`` draws each epoch's order
    (and the dropout masks: each hidden unit is dropped with probability ``dropout`` and
    the kept ones are scaled by 1 / (1 - dropout)).  Returns the trained parameters (copies) and
    ``monitor(params)`` before the first step and after every step (empty without one).
    """
    W1, b1, W2, b2 = _params([check_array(f"params[{i}]", p).copy()
                              for i, p in enumerate(params)])
    if W1.shape[1] != 64 or len(b2) != 10:
        raise ValueError("the network must map the 64 pixels to 10 classes")
    epochs = check_int("epochs", epochs, minimum=0)
    lr = check_real("lr", lr, low=0.0, low_open=True)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    dropout = check_real("dropout", dropout, low=0.0, high=1.0, high_open=True)
    if monitor is not None and not callable(monitor):
        raise ValueError("monitor must be callable as monitor([W1, b1, W2, b2])")
    stack = [p[None] for p in (W1, b1, W2, b2)]

    def watch(st):
        return np.array([monitor([p[0] for p in st])])

    record = _train_stack(stack, [check_rng(rng)], epochs, lr, batch_size, dropout,
                          None if monitor is None else watch)
    return [p[0].copy() for p in stack], record[:, 0] if len(record) else record


def _accuracy(W1, b1, W2, b2, x, y) -> float:
    z = np.maximum(x @ W1.T + b1, 0.0) @ W2.T + b2
    return float((z.argmax(1) == y).mean())


def relu_classifiers(seeds: Sequence[int] = SEEDS, width: int = 32,
                     epochs: int = TRAIN_EPOCHS) -> tuple[Classifier, ...]:
    """One :func:`relu_classifier` per seed, trained together (the same networks, faster).

    The networks are trained as one stack of independent networks; each is bitwise the one
    that ``relu_classifier(width, seed, epochs)`` trains alone.
    """
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError("seeds must be a non-empty sequence of seeds")
    return _relu_classifiers(tuple(check_seed(s) for s in seeds),
                             check_int("width", width, minimum=1),
                             check_int("epochs", epochs, minimum=1))


def relu_classifier(width: int = 32, rng: int | np.random.Generator = 0,
                    epochs: int = TRAIN_EPOCHS) -> Classifier:
    """Train a one-hidden-layer ReLU network on the digits in float64.

    Minibatch SGD (``TRAIN_BATCH``, ``TRAIN_LR``) on the training part of
    ``digits_split(TEST_FRACTION, rng=0)`` from PyTorch's default law
    (:func:`init_relu_network`); ``rng`` draws the initial weights, then the minibatch
    orders.  Results for a seed are cached (the arrays are read-only).
    """
    width = check_int("width", width, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    if isinstance(rng, np.random.Generator):
        return _train_classifiers([rng], width, epochs)[0]
    return _relu_classifiers((check_seed(rng),), width, epochs)[0]


@lru_cache(maxsize=4)
def _relu_classifiers(seeds: tuple[int, ...], width: int, epochs: int
                      ) -> tuple[Classifier, ...]:
    return _train_classifiers([np.random.default_rng(s) for s in seeds], width, epochs)




def _train_classifiers(gens: list[np.random.Generator], width: int, epochs: int
                       ) -> tuple[Classifier, ...]:
    inits = [init_relu_network(width, g) for g in gens]
    stack = [np.stack([p[i] for p in inits]) for i in range(4)]
    _train_stack(stack, gens, epochs, TRAIN_LR, TRAIN_BATCH, 0.0, None)
    split = digits_split(TEST_FRACTION, rng=0)
    out = []
    for j in range(len(gens)):
        W1, b1, W2, b2 = (np.ascontiguousarray(p[j]) for p in stack)
        for q in (W1, b1, W2, b2):
            q.setflags(write=False)
        out.append(Classifier(
            W1, b1, W2, b2,
            _accuracy(W1, b1, W2, b2, split.x_train.astype(np.float64), split.y_train),
            _accuracy(W1, b1, W2, b2, split.x_test.astype(np.float64), split.y_test)))
    return tuple(out)


def hidden_features(net: Classifier, x: ArrayLike) -> np.ndarray:
    """phi(x) = relu(W1 x + b1) for the rows of x (N, 64): (N, width)."""
    if not isinstance(net, Classifier):
        raise ValueError(f"net must be a Classifier, got {type(net).__name__}")
    x = check_array("x", x, shape=(None, net.W1.shape[1]))
    return np.maximum(x @ net.W1.T + net.b1, 0.0)


def cross_entropy(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike,
                  x: ArrayLike, y: ArrayLike) -> float:
    """Mean cross-entropy of logits W2 relu(W1 x + b1) + b2 on (x (N, d), y (N,)), in float64."""
    params = _params([check_array(name, p) for name, p in
                      (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))])
    W1, b1, W2, b2 = params
    x, y = _data(x, y, W1.shape[1], len(b2))
    z = np.maximum(x @ W1.T + b1, 0.0) @ W2.T + b2  # (N, c)
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def top_activating(H: ArrayLike, v: ArrayLike, count: int) -> np.ndarray:
    """Indices of the ``count`` rows of H (N, k) with the largest projection H v, best first."""
    v = check_array("v", v, ndim=1)
    H = check_array("H", H, shape=(None, len(v)))
    count = check_int("count", count, minimum=1, maximum=len(H))
    return np.argsort(-(H @ v), kind="stable")[:count]


def purity(labels: ArrayLike) -> float:
    """The fraction of ``labels`` (non-negative integers) equal to their most common value."""
    labels = check_array("labels", labels, ndim=1, dtype=np.int64)
    if labels.min() < 0:
        raise ValueError("labels must be non-negative integers")
    return float(np.bincount(labels).max() / len(labels))


@dataclass(frozen=True)
class DirectionStudy:
    """Label purity of the top-activating test images, for units and random directions."""

    count: int
    """Images per direction."""
    unit: np.ndarray
    """Purity along e_i, for the units that at least ``count`` test images activate."""
    random: np.ndarray
    """(directions,) purity along Gaussian directions."""
    excluded: int
    """Units active on fewer than ``count`` test images (their top list is ties)."""
    chance: float
    """Purity of ``count`` random test images, averaged."""
    net_seed: int
    """Seed of the network (:func:`relu_classifier`)."""

    @property
    def difference(self) -> float:
        """Mean purity of the units minus mean purity of the random directions."""
        return float(self.unit.mean() - self.random.mean())


CHANCE_SETS = 500
"""Random image sets averaged for the chance level of a direction study."""


def direction_study(count: int = 10, directions: int = 200,
                    rng: int | np.random.Generator = 0, net_seed: int = 0) -> DirectionStudy:
    """Top ``count`` test images along every unit and along random unit vectors.

    The network is ``relu_classifier(rng=net_seed)``; ``rng`` draws the directions, then
    the random image sets of the chance level.  Results for a seed are cached.
    """
    return seeded_call(_direction_study, check_int("count", count, minimum=1, maximum=100),
                       check_int("directions", directions, minimum=1), check_seed(net_seed),
                       rng)


def direction_studies(seeds: Sequence[int] = SEEDS, count: int = 10,
                      directions: int = 200) -> tuple[DirectionStudy, ...]:
    """``direction_study(count, directions, rng=s, net_seed=s)`` for every seed s.

    The networks are trained together by :func:`relu_classifiers`.
    """
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError("seeds must be a non-empty sequence of seeds")
    return _direction_studies(tuple(check_seed(s) for s in seeds),
                              check_int("count", count, minimum=1, maximum=100),
                              check_int("directions", directions, minimum=1))


@lru_cache(maxsize=8)
def _direction_studies(seeds: tuple[int, ...], count: int, directions: int
                       ) -> tuple[DirectionStudy, ...]:
    nets = relu_classifiers(seeds)
    split = digits_split(TEST_FRACTION, rng=0)
    return tuple(_study(net, count, directions, np.random.default_rng(s), s, split)
                 for net, s in zip(nets, seeds, strict=True))


@lru_cache(maxsize=2)
def _direction_study(count: int, directions: int, net_seed: int,
                     rng: int | np.random.Generator) -> DirectionStudy:
    return _study(relu_classifier(rng=net_seed), count, directions, check_rng(rng), net_seed,
                  digits_split(TEST_FRACTION, rng=0))


def _purities(labels: np.ndarray, classes: int) -> np.ndarray:
    """:func:`purity` of every column of ``labels`` (count, sets), integers in 0..classes-1."""
    counts = (labels[:, :, None] == np.arange(classes)).sum(0)  # (sets, classes)
    return counts.max(1, initial=0) / len(labels)


def _top_sets(scores: np.ndarray, count: int) -> np.ndarray:
    """Row indices of the ``count`` largest entries of each column of ``scores`` (N, sets).

    The same sets as the first ``count`` rows of a stable descending sort (ties go to the
    lower index), found by a partial sort; a column with a tie at the boundary is sorted.
    """
    part = np.argpartition(-scores, count - 1, axis=0)[:count]  # (count, sets), unordered
    cols = np.arange(scores.shape[1])
    kth = scores[part, cols].min(0)  # the count-th largest value of each column
    above = (scores > kth).sum(0)
    tied = (scores == kth).sum(0)
    for j in np.flatnonzero(above + tied > count):  # ties straddle the boundary
        part[:, j] = np.argsort(-scores[:, j], kind="stable")[:count]
    return part


def _top_purities(H: np.ndarray, V: np.ndarray, y: np.ndarray, count: int) -> np.ndarray:
    """Purity of the ``count`` rows of H (N, k) with the largest projection on each row of V."""
    return _purities(y[_top_sets(H @ V.T, count)], int(y.max()) + 1)


def _study(net: Classifier, count: int, directions: int, gen: np.random.Generator,
           net_seed: int, split) -> DirectionStudy:
    H = hidden_features(net, split.x_test)
    y = split.y_test
    k = H.shape[1]
    V = gen.normal(size=(directions, k))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    alive = active_units(H, count)
    unit = _top_purities(H, np.eye(k)[alive], y, count)
    rand = _top_purities(H, V, y, count)
    # the count smallest of N uniform keys: a uniformly random subset (order is irrelevant)
    keys = gen.random(size=(CHANCE_SETS, len(y)))
    sets = np.argpartition(keys, count - 1, axis=1)[:, :count]
    chance = float(_purities(y[sets.T], int(y.max()) + 1).mean())
    unit.setflags(write=False)
    rand.setflags(write=False)
    return DirectionStudy(count, unit, rand, k - len(alive), chance, net_seed)


def mean_and_standard_error(values: ArrayLike) -> tuple[float, float]:
    """The mean of ``values`` (a 1-D sample) and its standard error s / sqrt(n)."""
    values = check_array("values", values, ndim=1)
    if len(values) < 2:
        raise ValueError("a standard error needs at least two values")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def confidence_interval(values: ArrayLike, level: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t interval for the mean of ``values`` (a 1-D sample of independent draws).

    ``mean -+ t se`` with ``t`` the ``(1 + level) / 2`` quantile of Student's law with
    ``n - 1`` degrees of freedom and ``se`` from :func:`mean_and_standard_error`.
    """
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    mean, se = mean_and_standard_error(values)
    t = float(scipy.stats.t.ppf((1 + level) / 2, len(np.asarray(values)) - 1))
    return mean - t * se, mean + t * se


@dataclass(frozen=True)
class DirectionSummary:
    """Direction studies over several seeds for one size of the top-image sets."""

    count: int
    """Images per direction."""
    seeds: tuple[int, ...]
    """The network seeds (one study per seed)."""
    unit: float
    """Mean over the seeds of the units' mean purity."""
    random: float
    """Mean over the seeds of the random directions' mean purity."""
    chance: float
    """Mean over the seeds of the purity of random image sets."""
    difference: float
    """Mean over the seeds of :attr:`DirectionStudy.difference` (units minus directions)."""
    standard_error: float
    """Standard error of that mean over the seeds."""
    low: float
    """Lower end of the Student interval (level ``CONFIDENCE``) for the mean difference."""
    high: float
    """Upper end of that interval."""
    negative: int
    """Seeds whose difference is negative."""

    @property
    def t_ratio(self) -> float:
        """The mean difference in standard errors."""
        return self.difference / self.standard_error


def direction_summary(seeds: Sequence[int] = SEEDS, count: int = 10,
                      directions: int = 200) -> DirectionSummary:
    """Summarise :func:`direction_studies` over the seeds: means, interval, sign counts."""
    studies = direction_studies(seeds, count, directions)
    diff = np.array([s.difference for s in studies])
    mean, se = mean_and_standard_error(diff)
    low, high = confidence_interval(diff)
    return DirectionSummary(
        studies[0].count, tuple(s.net_seed for s in studies),
        float(np.mean([s.unit.mean() for s in studies])),
        float(np.mean([s.random.mean() for s in studies])),
        float(np.mean([s.chance for s in studies])), mean, se, low, high,
        int(np.sum(diff < 0)))


# ---------------------------------------------------------------- comparing representations
def _centred(name: str, H: ArrayLike) -> np.ndarray:
    H = check_array(name, H, ndim=2)
    if len(H) < 2:
        raise ValueError(f"{name} needs at least two rows (examples)")
    return H - H.mean(0)


def _centred_pair(H1: ArrayLike, H2: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both representations centred, checked to have the same rows (examples)."""
    X, Y = _centred("H1", H1), _centred("H2", H2)
    if len(X) != len(Y):
        raise ValueError(f"H1 and H2 must have the same rows: {len(X)} and {len(Y)}")
    return X, Y


def _column_bases(X: np.ndarray, Y: np.ndarray, rtol) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal bases of the column spaces, singular values below ``rtol`` x max dropped."""
    rtol = check_real("rtol", rtol, low=0.0, high=1.0, low_open=True)
    return scipy.linalg.orth(X, rcond=rtol), scipy.linalg.orth(Y, rcond=rtol)


def canonical_correlations(H1: ArrayLike, H2: ArrayLike, rtol: float = 1e-10) -> np.ndarray:
    """Canonical correlations of two representations H1 (N, k1), H2 (N, k2), descending.

    They are the cosines of the principal angles between the column spaces of the centred
    H1 and H2, so they do not change when either is multiplied by an invertible matrix on
    the right.  Columns are reduced to a basis first (singular values below ``rtol`` times
    the largest are dropped, e.g. dead units); there are min(rank H1, rank H2) of them.
    """
    X, Y = _centred_pair(H1, H2)
    Q1, Q2 = _column_bases(X, Y, rtol)
    return np.clip(np.linalg.svd(Q1.T @ Q2, compute_uv=False), 0.0, 1.0)


def linear_cka(H1: ArrayLike, H2: ArrayLike) -> float:
    """Linear centred kernel alignment ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F), X, Y centred.

    It is 1 when H2 = H1 Q c for an orthogonal Q and c != 0, and changes under a general
    invertible change of basis.
    """
    X, Y = _centred_pair(H1, H2)
    denom = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    if denom == 0:
        raise ValueError("a representation is constant")
    return float(np.linalg.norm(Y.T @ X) ** 2 / denom)


def unit_match(H1: ArrayLike, H2: ArrayLike) -> float:
    """Mean over the units of H1 of the largest |correlation| with a unit of H2.

    Constant units (dead ReLUs) are left out on both sides.  It is 1 when every unit of H1
    is a multiple of a unit of H2.
    """
    X, Y = _centred_pair(H1, H2)
    sx, sy = np.linalg.norm(X, axis=0), np.linalg.norm(Y, axis=0)
    X, Y = X[:, sx > 0] / sx[sx > 0], Y[:, sy > 0] / sy[sy > 0]
    if X.shape[1] == 0 or Y.shape[1] == 0:
        raise ValueError("a representation is constant")
    return float(np.abs(X.T @ Y).max(1).mean())


def canonical_variance_shares(H1: ArrayLike, H2: ArrayLike, rtol: float = 1e-10
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical correlations and the share of each side's variance along their variates.

    Returns ``rho`` (r,), descending, and for H1 (N, k1) and H2 (N, k2) the fractions
    ``||X^T c_i||^2 / ||X||_F^2`` of the centred side's total variance along its canonical
    variates ``c_i`` (unit vectors in the span of its columns).  The shares of a side add
    up to one when its columns span at most r dimensions.  Columns and ``rtol`` as in
    :func:`canonical_correlations`.
    """
    X, Y = _centred_pair(H1, H2)
    Q1, Q2 = _column_bases(X, Y, rtol)
    U, rho, Vt = np.linalg.svd(Q1.T @ Q2)
    r = len(rho)
    shares = [np.sum((M.T @ variates) ** 2, axis=0) / np.sum(M ** 2)
              for M, variates in ((X, Q1 @ U[:, :r]), (Y, Q2 @ Vt[:r].T))]
    return np.clip(rho, 0.0, 1.0), shares[0], shares[1]


def weighted_canonical_correlation(H1: ArrayLike, H2: ArrayLike,
                                   rtol: float = 1e-10) -> float:
    """Canonical correlations weighted by the variance along their canonical variates.

    With the shares ``w_i`` of :func:`canonical_variance_shares`, the mean
    ``sum_i w_i rho_i / sum_i w_i`` of each side, averaged over the two sides.  Directions
    that carry little variance (noise, nearly dead units) count little, in the spirit of
    the projection weighting of Morcos et al. (2018).
    """
    rho, w1, w2 = canonical_variance_shares(H1, H2, rtol)
    return float(np.mean([np.sum(w * rho) / np.sum(w) for w in (w1, w2)]))


@dataclass(frozen=True)
class Similarity:
    """How alike two representations of the same inputs are, by four measures."""

    canonical: np.ndarray
    """Canonical correlations, descending (read-only)."""
    weighted: float
    """Variance-weighted mean canonical correlation (:func:`weighted_canonical_correlation`)."""
    cka: float
    """Linear CKA."""
    unit_match: float
    """Mean best |correlation| of a unit of the first with a unit of the second."""


def similarity(H1: ArrayLike, H2: ArrayLike) -> Similarity:
    """Canonical correlations (plain and weighted), linear CKA and unit matching.

    ``H1`` (N, k1) and ``H2`` (N, k2) are two representations of the same N inputs.
    """
    cc = canonical_correlations(H1, H2)
    cc.setflags(write=False)
    return Similarity(cc, weighted_canonical_correlation(H1, H2), linear_cka(H1, H2),
                      unit_match(H1, H2))


def initial_features(seed: int, x: ArrayLike, width: int = 32) -> np.ndarray:
    """relu(W1 x + b1) (N, width) of the untrained network of ``relu_classifier(width, seed)``.

    The first layer of :func:`init_relu_network` drawn from ``seed``, which is where the
    trained classifier of that seed starts; ``x`` (N, 64).
    """
    W1, b1, _, _ = init_relu_network(width, check_seed(seed))
    x = check_array("x", x, shape=(None, W1.shape[1]))
    return np.maximum(x @ W1.T + b1, 0.0)


def seed_similarities(seeds: Sequence[int] = SEEDS, trained: bool = True
                      ) -> tuple[Similarity, ...]:
    """:func:`similarity` of the hidden layers of consecutive seeds on the test digits.

    ``trained=False`` compares the same networks before training
    (:func:`initial_features`): the baseline that training has to beat.
    """
    if isinstance(seeds, str) or not isinstance(seeds, Sequence) or len(seeds) < 2:
        raise ValueError("seeds must be a sequence of at least two seeds")
    if not isinstance(trained, bool):
        raise ValueError(f"trained must be True or False, got {trained!r}")
    return _seed_similarities(tuple(check_seed(s) for s in seeds), trained)


@lru_cache(maxsize=4)
def _seed_similarities(seeds: tuple[int, ...], trained: bool) -> tuple[Similarity, ...]:
    x = digits_split(TEST_FRACTION, rng=0).x_test.astype(np.float64)
    if trained:
        H = [hidden_features(net, x) for net in relu_classifiers(seeds)]
    else:
        H = [initial_features(s, x) for s in seeds]
    with threadpool_limits(1, "blas"):
        return tuple(similarity(H[i], H[i + 1]) for i in range(len(H) - 1))


def active_units(H: ArrayLike, count: int) -> list[int]:
    """The units i with H[:, i] > 0 for at least ``count`` rows (a well-defined top list)."""
    H = check_array("H", H, ndim=2)
    count = check_int("count", count, minimum=1)
    return [i for i in range(H.shape[1]) if (H[:, i] > 0).sum() >= count]


def mosaic(images: ArrayLike, pad: int = 1) -> np.ndarray:
    """Tile images (rows, cols, h, w) into one array with ``pad`` NaN pixels between them."""
    images = check_array("images", images, ndim=4)
    pad = check_int("pad", pad, minimum=0)
    r, c, h, w = images.shape
    out = np.full((r * (h + pad) + pad, c * (w + pad) + pad), np.nan)
    for i in range(r):
        for j in range(c):
            out[pad + i * (h + pad):pad + i * (h + pad) + h,
                pad + j * (w + pad):pad + j * (w + pad) + w] = images[i, j]
    return out
