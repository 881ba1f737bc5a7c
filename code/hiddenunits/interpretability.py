"""Reading hidden units by their top-activating inputs, along unit and random directions.

Szegedy et al. (2014) compared the inputs x that maximise <phi(x), e_i> (a unit) with
those that maximise <phi(x), v> for a random direction v, and found both equally
"interpretable".  Here phi is the ReLU layer of a small classifier trained on the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from hiddenunits.data import digits_split
from hiddenunits.validation import check_array, check_int, check_real, check_rng, seeded_call


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



def relu_classifier(width: int = 32, rng: int | np.random.Generator = 0,
                    epochs: int = 30) -> Classifier:
    """Train a one-hidden-layer ReLU network on the digits in float64.

    Minibatch SGD (batches of 64, step 0.1) on the training part of
    ``digits_split(rng=0)`` from PyTorch's default law U(-1/sqrt(n_in), 1/sqrt(n_in)) for
    weights and biases; ``rng`` draws the initial weights, then the minibatch orders.
    Results for a seed are cached (the arrays are read-only).
    """
    return seeded_call(_relu_classifier, check_int("width", width, minimum=1),
                       check_int("epochs", epochs, minimum=1), rng)


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


def sgd_step(params: list[np.ndarray], x: ArrayLike, y: ArrayLike, lr: float) -> float:
    """One SGD step on the mean cross-entropy of W2 relu(W1 x + b1) + b2; returns the loss.

    ``params`` = [W1 (h, d), b1 (h,), W2 (c, h), b2 (c,)] (float64) is updated in place;
    ``x`` (N, d) inputs, ``y`` (N,) labels in 0..c-1.
    """
    W1, b1, W2, b2 = params = _params(params)
    x, y = _data(x, y, W1.shape[1], len(b2))
    lr = check_real("lr", lr, low=0.0, low_open=True)
    z = x @ W1.T + b1  # (N, h)
    a = np.maximum(z, 0.0)
    logits = a @ W2.T + b2  # (N, c)
    logits = logits - logits.max(1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    loss = float(-np.log(p[np.arange(len(y)), y]).mean())
    d = p
    d[np.arange(len(y)), y] -= 1.0
    d /= len(y)  # (N, c): dL/dlogits
    da = (d @ W2) * (z > 0)  # (N, h): dL/dz
    grads = [da.T @ x, da.sum(0), d.T @ a, d.sum(0)]
    for q, g in zip(params, grads, strict=True):
        q -= lr * g
    return loss


@lru_cache(maxsize=4)
def _relu_classifier(width: int, epochs: int, rng: int | np.random.Generator) -> Classifier:
    split = digits_split(rng=0)
    x = split.x_train.astype(np.float64)
    y = split.y_train
    gen = check_rng(rng)
    params = []
    for n_in, n_out in ((64, width), (width, 10)):  # nn.Linear's default law
        bound = 1.0 / np.sqrt(n_in)
        params += [gen.uniform(-bound, bound, size=(n_out, n_in)),
                   gen.uniform(-bound, bound, size=n_out)]
    with threadpool_limits(1, "blas"):
        for _ in range(epochs):
            perm = gen.permutation(len(y))
            for i in range(0, len(y), 64):
                sgd_step(params, x[perm[i:i + 64]], y[perm[i:i + 64]], lr=0.1)
    for q in params:
        q.setflags(write=False)
    W1, b1, W2, b2 = params

    def accuracy(xs, ys):
        z = np.maximum(xs @ W1.T + b1, 0.0) @ W2.T + b2
        return float((z.argmax(1) == ys).mean())

    return Classifier(W1, b1, W2, b2, accuracy(x, y),
                      accuracy(split.x_test.astype(np.float64), split.y_test))


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


def direction_study(count: int = 10, directions: int = 200,
                    rng: int | np.random.Generator = 0) -> DirectionStudy:
    """Top ``count`` test images along every unit and along random unit vectors.

    The network is :func:`relu_classifier` (seed 0); ``rng`` draws the directions and the
    random image sets of the chance level.  Results for a seed are cached.
    """
    return seeded_call(_direction_study, check_int("count", count, minimum=1, maximum=100),
                       check_int("directions", directions, minimum=1), rng)


@lru_cache(maxsize=2)
def _direction_study(count: int, directions: int,
                     rng: int | np.random.Generator) -> DirectionStudy:
    net = relu_classifier()
    split = digits_split(rng=0)
    H = hidden_features(net, split.x_test)
    y = split.y_test
    k = H.shape[1]
    gen = check_rng(rng)
    V = gen.normal(size=(directions, k))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    alive = active_units(H, count)
    unit = np.array([purity(y[top_activating(H, np.eye(k)[i], count)]) for i in alive])
    rand = np.array([purity(y[top_activating(H, v, count)]) for v in V])
    chance = np.mean([purity(gen.choice(y, size=count, replace=False)) for _ in range(2000)])
    unit.setflags(write=False)
    rand.setflags(write=False)
    return DirectionStudy(count, unit, rand, k - len(alive), float(chance))


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
