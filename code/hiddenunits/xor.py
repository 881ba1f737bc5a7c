"""XOR: why no affine model fits it, and how two bias-free ReLU units do.

The four points are ``hiddenunits.data.xor()``.  A two-unit network without biases is
``f(x) = a^T relu(W x)`` with ``W`` (2, 2) in PyTorch's ``(out, in)`` layout and ``a`` (2,).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from hiddenunits.data import xor
from hiddenunits.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_seed,
)

# The weights printed in the source article (Dalvi 2024), four decimals, as printed by
# PyTorch: layer 1 is nn.Linear(2, 2, bias=False).weight, layer 2 nn.Linear(2, 1).weight.
ARTICLE_W = ((Fraction("1.1485"), Fraction("-1.1486")),
             (Fraction("-1.0205"), Fraction("1.0189")))
ARTICLE_A = (Fraction("0.8707"), Fraction("0.9815"))

# An exact solution: f(x) = relu(x1 - x2) + relu(x2 - x1) = |x1 - x2|.
EXACT_W = np.array([[1.0, -1.0], [-1.0, 1.0]])
EXACT_A = np.array([1.0, 1.0])
EXACT_W.setflags(write=False)
EXACT_A.setflags(write=False)

LAYOUTS = ("out_in", "in_out")
"""The two readings of a printed weight matrix: rows are hidden units (PyTorch's
``nn.Linear.weight``), or columns are (the convention of code that writes ``h = x W``)."""


# ---------------------------------------------------------------------------------------
# Affine models


def _check_xy(x: ArrayLike, y: ArrayLike, *, binary: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, d) and targets (N,) as float64 arrays; ``binary``: labels in {0, 1}."""
    x = check_array("x", x, ndim=2)
    y = check_array("y", y, ndim=1, dtype=np.int64 if binary else np.float64)
    if len(y) != len(x):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    if binary and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return x, y


def least_squares_affine(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, float]:
    """Least-squares affine fit ``y ~ w^T x + b``; returns ``(w, b)``.

    x: (N, d) inputs, y: (N,) targets.
    """
    x, y = _check_xy(x, y)
    design = np.hstack([x, np.ones((len(x), 1))])  # (N, d + 1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef[:-1], float(coef[-1])


def max_margin(x: ArrayLike, y: ArrayLike) -> float:
    """Largest ``t`` with ``s_i (w^T x_i + b) >= t`` for all i, over ``|w_j|, |b| <= 1``.

    ``s_i = 2 y_i - 1``.  Positive exactly when an affine threshold classifier separates the
    two classes; zero when none does (the all-zero classifier always reaches 0).
    x: (N, d), y: (N,) in {0, 1}.  Solved as a linear programme (HiGHS).
    """
    from scipy.optimize import linprog  # imported here: scipy.optimize takes ~1 s

    x, y = _check_xy(x, y, binary=True)
    n, d = x.shape
    s = 2.0 * y - 1.0
    # variables (w, b, t); maximise t  <=>  minimise -t;  -s_i (w.x_i + b) + t <= 0
    c = np.zeros(d + 2)
    c[-1] = -1.0
    a_ub = np.hstack([-s[:, None] * x, -s[:, None], np.ones((n, 1))])
    bounds = [(-1.0, 1.0)] * (d + 1) + [(None, None)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linear programme failed: {res.message}")
    return float(-res.fun)


# ---------------------------------------------------------------------------------------
# The bias-free two-unit ReLU network


def _check_net(x: ArrayLike, w: ArrayLike, a: ArrayLike | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = check_array("x", x, ndim=2)
    if x.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2), got {x.shape}")
    w = check_array("W", w)
    if w.ndim < 2 or w.shape[-2:] != (2, 2):
        raise ValueError(f"W must have shape (..., 2, 2), got {w.shape}")
    if a is not None:
        a = check_array("a", a)
        if a.shape != w.shape[:-2] + (2,):
            raise ValueError(f"need W (..., 2, 2) and a (..., 2) with equal batch shapes, "
                             f"got {w.shape} and {a.shape}")
    return x, w, a


def hidden(x: ArrayLike, w: ArrayLike) -> np.ndarray:
    """Hidden units ``h = relu(W x)`` for each row of x; W (..., 2, 2) is ``(out, in)``.

    x: (N, 2).  Returns (..., N, 2).
    """
    x, w, _ = _check_net(x, w)
    return np.maximum(x @ np.swapaxes(w, -1, -2), 0.0)


def relu_net(x: ArrayLike, w: ArrayLike, a: ArrayLike) -> np.ndarray:
    """``f(x) = a^T relu(W x)`` for each row of x; W (..., 2, 2), a (..., 2) -> (..., N)."""
    x, w, a = _check_net(x, w, a)
    return np.einsum("...nj,...j->...n", np.maximum(x @ np.swapaxes(w, -1, -2), 0.0), a)


def article_weights_exact(layout: str = "out_in"
                          ) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
    """The article's printed weights ``(W, a)`` as exact rationals, W rows = hidden units.

    ``layout`` (one of ``LAYOUTS``): ``"out_in"`` reads the printed matrix as PyTorch stores
    ``nn.Linear.weight`` (rows = hidden units); ``"in_out"`` reads it transposed.
    """
    check_choice("layout", layout, LAYOUTS)
    w = ARTICLE_W if layout == "out_in" else tuple(zip(*ARTICLE_W, strict=True))
    return w, ARTICLE_A


def article_weights(layout: str = "out_in") -> tuple[np.ndarray, np.ndarray]:
    """The article's printed weights as float arrays ``(W, a)``, W in ``(out, in)`` layout.

    ``layout`` is one of ``LAYOUTS`` (see :func:`article_weights_exact`).
    """
    w, a = article_weights_exact(layout)
    return (np.array([[float(v) for v in row] for row in w]),
            np.array([float(v) for v in a]))


def relu_net_exact(w: Sequence[Sequence[Fraction]], a: Sequence[Fraction],
                   points: Sequence[Sequence[Fraction]] = ((0, 0), (0, 1), (1, 0), (1, 1))
                   ) -> list[Fraction]:
    """``a^T relu(W x)`` at each point, in exact rational arithmetic.

    W: one row of two weights per hidden unit (``(out, in)``), a: one output weight per
    hidden unit; entries and point coordinates are integers or ``Fraction`` values.
    """
    if len(w) != len(a) or any(len(row) != 2 for row in w):
        raise ValueError("need W with one row of two weights per output weight in a")
    out = []
    for p in points:
        h = [max(Fraction(0), row[0] * p[0] + row[1] * p[1]) for row in w]
        out.append(sum((ak * hk for ak, hk in zip(a, h, strict=True)), Fraction(0)))
    return out


def article_outputs_exact(layout: str = "out_in") -> list[Fraction]:
    """The article network's outputs at (0,0), (0,1), (1,0), (1,1) in exact rationals.

    ``layout`` is one of ``LAYOUTS``.
    """
    return relu_net_exact(*article_weights_exact(layout))


def article_linear_collapse(layout: str = "out_in") -> np.ndarray:
    """Coefficients ``(c_x, c_y)`` of the network with the ReLU removed: ``f = a^T W x``.

    ``layout`` is one of ``LAYOUTS``.
    """
    w, a = article_weights(layout)
    return a @ w


# ---------------------------------------------------------------------------------------
# Gradient descent from random initialisation, many seeds at once


@dataclass(frozen=True)
class GDConfig:
    """Full-batch gradient descent on the mean squared error of the four XOR points."""

    num_seeds: int = 1000
    """Independent runs, trained at once."""
    steps: int = 500
    """Gradient steps per run."""
    lr: float = 0.2
    """Step size (> 0)."""
    seed: int = 0
    """Seed of the initial weights of all runs."""

    def __post_init__(self):
        check_int("num_seeds", self.num_seeds, minimum=1)
        check_int("steps", self.steps, minimum=0)
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_seed(self.seed)


@dataclass(frozen=True)
class GDResult:
    """Initial and final weights of every run, with the final outputs and losses."""

    w0: np.ndarray
    """Initial first-layer weights (S, 2, 2), ``(out, in)``."""
    a0: np.ndarray
    """Initial output weights (S, 2)."""
    w: np.ndarray
    """Final first-layer weights (S, 2, 2)."""
    a: np.ndarray
    """Final output weights (S, 2)."""
    outputs: np.ndarray
    """Final outputs (S, 4) at (0,0), (0,1), (1,0), (1,1)."""
    loss: np.ndarray
    """Final mean squared errors (S,)."""


def pytorch_init(num_seeds: int, rng: int | np.random.Generator = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's default ``nn.Linear`` weights for 2 -> 2 -> 1: all ``U(-1/sqrt 2, 1/sqrt 2)``.

    Returns ``W`` (S, 2, 2) and ``a`` (S, 2) for S = ``num_seeds`` runs, drawn from ``rng``
    (a seed or a ``numpy.random.Generator``).
    """
    num_seeds = check_int("num_seeds", num_seeds, minimum=1)
    gen = check_rng(rng)
    bound = 1.0 / math.sqrt(2.0)  # fan_in is 2 in both layers
    w = gen.uniform(-bound, bound, size=(num_seeds, 2, 2))
    a = gen.uniform(-bound, bound, size=(num_seeds, 2))
    return w, a


def mse_and_grad(x: ArrayLike, y: ArrayLike, w: ArrayLike, a: ArrayLike
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss ``L = mean_i (f(x_i) - y_i)^2`` per run and its gradients ``(L, dL/dW, dL/da)``.

    x (N, 2), y (N,), w (S, 2, 2), a (S, 2) -> L (S,), dW (S, 2, 2), dL/da (S, 2).
    ReLU'(0) is taken as 0, as in PyTorch.
    """
    x, w, a = _check_net(x, w, a)
    y = check_array("y", y, shape=(len(x),))
    if w.ndim != 3:
        raise ValueError(f"W must have shape (S, 2, 2), got {w.shape}")
    return _mse_and_grad(x, y, w, a)


def _mse_and_grad(x: np.ndarray, y: np.ndarray, w: np.ndarray, a: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = x @ np.swapaxes(w, -1, -2)  # (S, N, 2) pre-activations
    h = np.maximum(z, 0.0)
    f = np.einsum("snj,sj->sn", h, a)  # (S, N)
    r = f - y  # (S, N)
    n = x.shape[0]
    loss = np.mean(r * r, axis=-1)
    da = 2.0 / n * np.einsum("sn,snj->sj", r, h)
    gz = 2.0 / n * r[..., None] * a[:, None, :] * (z > 0)  # (S, N, 2)
    dw = np.einsum("snj,nk->sjk", gz, x)
    return loss, dw, da


def train_xor(config: GDConfig = GDConfig()) -> GDResult:
    """Train ``config.num_seeds`` bias-free two-unit ReLU nets on XOR at once (numpy)."""
    if not isinstance(config, GDConfig):
        raise ValueError(f"config must be a GDConfig, got {type(config).__name__}")
    x, y = xor()
    y = y.astype(np.float64)
    w0, a0 = pytorch_init(config.num_seeds, config.seed)
    w, a = w0.copy(), a0.copy()
    for _ in range(config.steps):
        _, dw, da = _mse_and_grad(x, y, w, a)
        w -= config.lr * dw
        a -= config.lr * da
    loss, _, _ = _mse_and_grad(x, y, w, a)
    return GDResult(w0, a0, w, a, relu_net(x, w, a), loss)


@lru_cache(maxsize=4)
def xor_gd_runs(config: GDConfig = GDConfig()) -> GDResult:
    """Cached :func:`train_xor`, its arrays read-only (the book's figure and check share it)."""
    res = train_xor(config)
    for v in vars(res).values():
        v.setflags(write=False)
    return res


OUTCOMES = ("solved", "dead unit at init", "unit died in training", "other")


def dead_units(x: ArrayLike, w: ArrayLike) -> np.ndarray:
    """Which hidden units are zero on every row of x: (..., m) booleans.

    x (N, d) inputs; w (..., m, d) first-layer weights, ``(out, in)``.
    """
    x = check_array("x", x, ndim=2)
    w = check_array("W", w)
    if w.ndim < 2 or w.shape[-1] != x.shape[1]:
        raise ValueError(f"W must have shape (..., m, {x.shape[1]}), got {w.shape}")
    return ~(x @ np.swapaxes(w, -1, -2) > 0).any(axis=-2)


def classify_runs(res: GDResult) -> np.ndarray:
    """Outcome index (into ``OUTCOMES``) of each run: (S,) integers.

    Solved: every output on the correct side of 1/2.  Otherwise: a hidden unit was dead
    (zero on all four inputs) at initialisation, died during training, or neither.
    """
    if not isinstance(res, GDResult):
        raise ValueError(f"res must be a GDResult, got {type(res).__name__}")
    x, y = xor()
    solved = ((res.outputs > 0.5) == (y == 1)).all(axis=1)
    dead0 = dead_units(x, res.w0).any(axis=1)
    dead1 = dead_units(x, res.w).any(axis=1)
    out = np.full(len(solved), 3)
    out[dead1 & ~dead0] = 2
    out[dead0] = 1
    out[solved] = 0
    return out


def failure_kinds(res: GDResult) -> dict[str, np.ndarray]:
    """How the runs classified ``"other"`` by :func:`classify_runs` fail: (S,) bool masks.

    ``"same inputs"``: both hidden units are active (pre-activation > 0) at the same XOR
    points, so they act as one unit.  ``"corner unserved"``: no unit is active at one of
    the class-1 points (0,1), (1,0), so the output there is 0.  Computed for every run
    from its final weights.
    """
    if not isinstance(res, GDResult):
        raise ValueError(f"res must be a GDResult, got {type(res).__name__}")
    x, _ = xor()
    active = np.einsum("sjk,ik->sji", res.w, x) > 0  # (S, unit, point)
    same = (active[:, 0] == active[:, 1]).all(axis=1)
    unserved = ~active[:, :, 1:3].any(axis=1).all(axis=1)
    return {"same inputs": same, "corner unserved": unserved}


def dead_at_init_probability() -> Fraction:
    """P(some unit is dead at init) = 1 - (3/4)^2 under any law symmetric in each weight."""
    return 1 - Fraction(3, 4) ** 2


PLATEAUS = (0.0, 0.25, 1.0 / 3.0, 0.5)
PLATEAU_NAMES = ("0", "1/4", "1/3", "1/2")


def loss_plateau(loss: ArrayLike, atol: float = 1e-3) -> int | np.ndarray:
    """Index into ``PLATEAUS`` of each final loss, or -1 when it is near none of them.

    An ``int`` for a scalar ``loss``, else an integer array of its shape.
    """
    values = check_array("loss", loss, nonempty=False)
    atol = check_real("atol", atol, low=0.0)
    dist = np.abs(values[..., None] - np.array(PLATEAUS))
    out = np.where(dist.min(axis=-1) <= atol, dist.argmin(axis=-1), -1)
    return int(out) if np.ndim(loss) == 0 else out


def gd_summary(res: GDResult | None = None) -> dict[str, float]:
    """Fractions of runs per outcome and per final-loss plateau (the book's numbers).

    Keys: the ``OUTCOMES``, ``"loss <plateau>"`` for each of ``PLATEAU_NAMES``,
    ``"unclassified loss"`` and ``"max solved loss"`` (NaN when no run solved XOR).
    ``res`` defaults to :func:`xor_gd_runs` with the default :class:`GDConfig`.
    """
    res = xor_gd_runs() if res is None else res
    outcome = classify_runs(res)
    plateau = loss_plateau(res.loss)
    out = {name: float((outcome == k).mean()) for k, name in enumerate(OUTCOMES)}
    out.update({f"loss {name}": float((plateau == j).mean())
                for j, name in enumerate(PLATEAU_NAMES)})
    out["unclassified loss"] = float((plateau == -1).mean())
    solved = outcome == 0
    out["max solved loss"] = float(res.loss[solved].max()) if solved.any() else math.nan
    return out
