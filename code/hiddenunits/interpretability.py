"""Reading hidden units by their top-activating inputs, along unit and random directions.

Szegedy et al. (2014) compared the inputs x that maximise <phi(x), e_i> (a unit) with
those that maximise <phi(x), v> for a random direction v, and found both equally
"interpretable".  Here phi is the ReLU layer of a small classifier trained on the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from hiddenunits.data import Split, digits_split
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure


@dataclass(frozen=True)
class Classifier:
    """A trained ReLU network 64 -> width -> 10 in float64: W2 relu(W1 x + b1) + b2."""

    W1: np.ndarray  # (width, 64)
    b1: np.ndarray  # (width,)
    W2: np.ndarray  # (10, width)
    b2: np.ndarray  # (10,)
    train_acc: float
    test_acc: float


def relu_classifier(width: int = 32, seed: int = 0, epochs: int = 30) -> Classifier:
    """Train a one-hidden-layer ReLU network on the digits (SGD, PyTorch's default init)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, seed, epochs)):
        raise ValueError("width, seed and epochs must be integers")
    if width < 1 or epochs < 1 or seed < 0:
        raise ValueError("width and epochs must be positive and seed non-negative")
    return _relu_classifier(width, seed, epochs)


def sgd_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One SGD step on the mean cross-entropy of W2 relu(W1 x + b1) + b2; returns the loss.

    ``params`` = [W1 (h, d), b1 (h,), W2 (c, h), b2 (c,)] is updated in place.
    """
    W1, b1, W2, b2 = params
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
def _relu_classifier(width: int, seed: int, epochs: int) -> Classifier:
    split = digits_split(seed=0)
    x = split.x_train.astype(np.float64)
    y = split.y_train
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in ((64, width), (width, 10)):  # nn.Linear's default law
        bound = 1.0 / np.sqrt(n_in)
        params += [rng.uniform(-bound, bound, size=(n_out, n_in)),
                   rng.uniform(-bound, bound, size=n_out)]
    with threadpool_limits(1, "blas"):
        for _ in range(epochs):
            perm = rng.permutation(len(y))
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


def _check_x(x, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"x must have shape (N, {n}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains non-finite values")
    return x


def hidden_features(net: Classifier, x) -> np.ndarray:
    """phi(x) = relu(W1 x + b1) for the rows of x (N, 64): (N, width)."""
    x = _check_x(x, net.W1.shape[1])
    return np.maximum(x @ net.W1.T + net.b1, 0.0)


def cross_entropy(W1, b1, W2, b2, x, y) -> float:
    """Mean cross-entropy of logits W2 relu(W1 x + b1) + b2 on (x, y), in float64."""
    z = np.maximum(x @ np.asarray(W1).T + b1, 0.0) @ np.asarray(W2).T + b2  # (N, 10)
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def top_activating(H, v, count: int) -> np.ndarray:
    """Indices of the ``count`` rows of H (N, k) with the largest projection H v, best first."""
    H = _check_x(H, len(np.asarray(v)))
    v = np.asarray(v, dtype=np.float64)
    if not 1 <= count <= len(H):
        raise ValueError(f"count must lie in [1, {len(H)}], got {count}")
    return np.argsort(-(H @ v), kind="stable")[:count]


def purity(labels) -> float:
    """The fraction of ``labels`` equal to their most common value."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError("labels must be a non-empty vector")
    return float(np.bincount(labels).max() / len(labels))


@dataclass(frozen=True)
class DirectionStudy:
    """Label purity of the top-activating test images, for units and random directions."""

    count: int  # images per direction
    unit: np.ndarray  # purity along e_i, for the units that ``count`` test images activate
    random: np.ndarray  # (directions,) purity along Gaussian directions
    excluded: int  # units active on fewer than ``count`` test images (their top list is ties)
    chance: float  # purity of ``count`` random test images, averaged


def direction_study(count: int = 10, directions: int = 200, seed: int = 0) -> DirectionStudy:
    """Top ``count`` test images along every unit and along random unit vectors."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (count, directions, seed)):
        raise ValueError("count, directions and seed must be integers")
    if not 1 <= count <= 100 or directions < 1 or seed < 0:
        raise ValueError("need 1 <= count <= 100, directions >= 1 and seed >= 0")
    return _direction_study(count, directions, seed)


@lru_cache(maxsize=2)
def _direction_study(count: int, directions: int, seed: int) -> DirectionStudy:
    net = relu_classifier()
    split: Split = digits_split(seed=0)
    H = hidden_features(net, split.x_test)
    y = split.y_test
    k = H.shape[1]
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(directions, k))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    alive = active_units(H, count)
    unit = np.array([purity(y[top_activating(H, np.eye(k)[i], count)]) for i in alive])
    rand = np.array([purity(y[top_activating(H, v, count)]) for v in V])
    chance = np.mean([purity(rng.choice(y, size=count, replace=False)) for _ in range(2000)])
    return DirectionStudy(count, unit, rand, k - len(alive), float(chance))


def active_units(H, count: int) -> list[int]:
    """The units i with H[:, i] > 0 for at least ``count`` rows (a well-defined top list)."""
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or not np.all(np.isfinite(H)):
        raise ValueError("H must be a finite (N, k) array")
    return [i for i in range(H.shape[1]) if (H[:, i] > 0).sum() >= count]


def mosaic(images, pad: int = 1) -> np.ndarray:
    """Tile images (rows, cols, 8, 8) into one array with ``pad`` blank pixels between them."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (rows, cols, h, w), got {images.shape}")
    r, c, h, w = images.shape
    out = np.full((r * (h + pad) + pad, c * (w + pad) + pad), np.nan)
    for i in range(r):
        for j in range(c):
            out[pad + i * (h + pad):pad + i * (h + pad) + h,
                pad + j * (w + pad):pad + j * (w + pad) + w] = images[i, j]
    return out


@figure("basis")
def fig_top_activations():
    """Top-activating test digits for four hidden units and four random directions."""
    net = relu_classifier()
    split = digits_split(seed=0)
    H = hidden_features(net, split.x_test)
    k = H.shape[1]
    rng = np.random.default_rng(0)
    V = rng.normal(size=(4, k))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    rows = [(np.eye(k)[i], f"unit $e_{{{i + 1}}}$") for i in active_units(H, 8)[:4]]
    rows += [(v, f"random $v_{{{j + 1}}}$") for j, v in enumerate(V)]
    cols = 8
    images = [[split.x_test[i].reshape(8, 8) for i in top_activating(H, v, cols)]
              for v, _ in rows]
    fig, ax = new_figure(width=5.0, height=5.2)
    ax.imshow(mosaic(images), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([4.5 + 9 * r for r in range(len(rows))], [label for _, label in rows])
    for r in range(len(rows)):
        color = COLORS["blue"] if r < 4 else COLORS["vermillion"]
        ax.get_yticklabels()[r].set_color(color)
        ax.add_patch(_frame(9 * r + 0.5, 9 * cols, color))
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


def _frame(top: float, width: float, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((0.0, top - 0.5), width, 9.0, fill=False, edgecolor=color, lw=1.2)
