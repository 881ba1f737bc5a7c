"""XOR: why no affine model fits it, and how two bias-free ReLU units do.

The four points are ``hiddenunits.data.xor()``.  A two-unit network without biases is
``f(x) = a^T relu(W x)`` with ``W`` (2, 2) in PyTorch's ``(out, in)`` layout and ``a`` (2,).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from hiddenunits.claims import claim
from hiddenunits.data import xor
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure

# The weights printed in the source article (Dalvi 2024), four decimals, as printed by
# PyTorch: layer 1 is nn.Linear(2, 2, bias=False).weight, layer 2 nn.Linear(2, 1).weight.
ARTICLE_W = ((Fraction("1.1485"), Fraction("-1.1486")),
             (Fraction("-1.0205"), Fraction("1.0189")))
ARTICLE_A = (Fraction("0.8707"), Fraction("0.9815"))

# An exact solution: f(x) = relu(x1 - x2) + relu(x2 - x1) = |x1 - x2|.
EXACT_W = np.array([[1.0, -1.0], [-1.0, 1.0]])
EXACT_A = np.array([1.0, 1.0])

LAYOUTS = ("out_in", "in_out")


# ---------------------------------------------------------------------------------------
# Affine models


def least_squares_affine(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares affine fit ``y ~ w^T x + b``; returns ``(w, b)``.

    x: (N, d) inputs, y: (N,) targets.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"need x (N, d) and y (N,), got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    design = np.hstack([x, np.ones((len(x), 1))])  # (N, d + 1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef[:-1], float(coef[-1])


def least_squares_xor_symbolic() -> dict[sp.Symbol, sp.Expr]:
    """Solve the normal equations of ``min_{w, b} sum_i (w^T x_i + b - y_i)^2`` on XOR exactly."""
    w1, w2, b = sp.symbols("w1 w2 b", real=True)
    x, y = xor()
    loss = sum((w1 * int(p[0]) + w2 * int(p[1]) + b - int(t)) ** 2
               for p, t in zip(x, y, strict=True))
    sol = sp.solve([sp.diff(loss, v) for v in (w1, w2, b)], [w1, w2, b], dict=True)
    if len(sol) != 1:
        raise RuntimeError("the XOR normal equations should have exactly one solution")
    return sol[0]


def max_margin(x: np.ndarray, y: np.ndarray) -> float:
    """Largest ``t`` with ``s_i (w^T x_i + b) >= t`` for all i, over ``|w_j|, |b| <= 1``.

    ``s_i = 2 y_i - 1``.  Positive exactly when an affine threshold classifier separates the
    two classes; zero when none does (the all-zero classifier always reaches 0).
    x: (N, d), y: (N,) in {0, 1}.  Solved as a linear programme (HiGHS).
    """
    from scipy.optimize import linprog

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"need x (N, d) and y (N,), got {x.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
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


@claim("prop-xor-least-squares", chapter="separability",
       statement="least squares with intercept on XOR gives w = 0, b = 1/2 exactly",
       method="symbolic", tolerance=0.0)
def check_xor_least_squares() -> float:
    """Exact solution of the normal equations minus (0, 0, 1/2); 0.0 when sympy proves it."""
    sol = least_squares_xor_symbolic()
    w1, w2, b = sp.symbols("w1 w2 b", real=True)
    residual = [sp.simplify(sol[w1]), sp.simplify(sol[w2]),
                sp.simplify(sol[b] - sp.Rational(1, 2))]
    return 0.0 if all(r == 0 for r in residual) else float(sum(abs(r) for r in residual))


def affine_identity_residual() -> sp.Expr:
    """``f(0,0) + f(1,1) - f(0,1) - f(1,0)`` for a symbolic affine ``f``, simplified."""
    w1, w2, b = sp.symbols("w1 w2 b", real=True)

    def f(u: int, v: int) -> sp.Expr:
        return w1 * u + w2 * v + b

    return sp.simplify(f(0, 0) + f(1, 1) - f(0, 1) - f(1, 0))


@claim("lem-xor-affine-identity", chapter="separability",
       statement="every affine f satisfies f(0,0) + f(1,1) = f(0,1) + f(1,0)",
       method="symbolic", tolerance=0.0)
def check_affine_identity() -> float:
    """0.0 when sympy reduces the identity's residual to 0."""
    r = affine_identity_residual()
    return 0.0 if r == 0 else math.inf


@claim("cor-xor-not-separable", chapter="separability",
       statement="no affine threshold classifier separates XOR (maximal margin is 0)",
       method="numeric", tolerance=1e-7)
def check_xor_not_separable() -> float:
    """The XOR margin linear programme's optimum (exactly 0 in theory).

    Tolerance 1e-7 is HiGHS's default primal/dual feasibility tolerance.  The same
    programme gives 1/3 on AND (see the tests), so the check can fail.
    """
    x, y = xor()
    return abs(max_margin(x, y))


# ---------------------------------------------------------------------------------------
# The bias-free two-unit ReLU network


def _check_net(x: np.ndarray, w: np.ndarray, a: np.ndarray) -> None:
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2), got {x.shape}")
    if w.shape[-2:] != (2, 2) or a.shape[-1:] != (2,) or w.shape[:-2] != a.shape[:-1]:
        raise ValueError(f"need W (..., 2, 2) and a (..., 2) with equal batch shapes, "
                         f"got {w.shape} and {a.shape}")
    if not (np.isfinite(x).all() and np.isfinite(w).all() and np.isfinite(a).all()):
        raise ValueError("inputs and weights must be finite")


def hidden(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hidden units ``h = relu(W x)`` for each row of x; W (..., 2, 2) is ``(out, in)``.

    Returns (..., N, 2).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    _check_net(x, w, np.zeros(w.shape[:-2] + (2,)))
    return np.maximum(x @ np.swapaxes(w, -1, -2), 0.0)


def relu_net(x: np.ndarray, w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``f(x) = a^T relu(W x)`` for each row of x; W (..., 2, 2), a (..., 2) -> (..., N)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    _check_net(x, w, a)
    return np.einsum("...nj,...j->...n", hidden(x, w), a)


@claim("lem-relu-homogeneous", chapter="separability",
       statement="relu(c t) = c relu(t) for c >= 0, so a bias-free ReLU net has f(c x) = c f(x)",
       method="symbolic", tolerance=0.0)
def check_relu_homogeneous() -> float:
    """Prove ``relu(c t) - c relu(t) = 0`` symbolically in each case t > 0, t < 0, t = 0, c = 0."""
    c, s = sp.symbols("c s", positive=True)
    cases = [(c, s), (c, -s), (c, sp.Integer(0)), (sp.Integer(0), s), (sp.Integer(0), -s)]
    residual = sum(abs(sp.simplify(sp.Max(0, cc * t) - cc * sp.Max(0, t))) for cc, t in cases)
    return 0.0 if residual == 0 else float(residual)


@claim("prop-xor-exact-solution", chapter="separability",
       statement="W = [[1,-1],[-1,1]], a = (1,1) gives f(x) = |x1 - x2| = XOR on {0,1}^2",
       method="symbolic", tolerance=0.0)
def check_exact_solution() -> float:
    """Symbolic ``relu(t) + relu(-t) = |t|`` plus exact evaluation at the four points."""
    t = sp.Symbol("t", real=True)
    identity = sp.simplify((sp.Max(0, t) + sp.Max(0, -t) - sp.Abs(t)).rewrite(sp.Piecewise))
    x, y = xor()
    values = relu_net(x, EXACT_W, EXACT_A)  # small integers: exact in float64
    err = float(np.max(np.abs(values - y)))
    return err if identity == 0 else math.inf


def article_weights(layout: str = "out_in") -> tuple[np.ndarray, np.ndarray]:
    """The article's printed weights as ``(W, a)``, W in ``(out, in)`` layout for this module.

    ``layout="out_in"`` reads the printed matrix as PyTorch stores ``nn.Linear.weight``
    (rows = hidden units); ``"in_out"`` reads it transposed (columns = hidden units), the
    convention of ``h = x W`` code.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    w = np.array([[float(v) for v in row] for row in ARTICLE_W])
    a = np.array([float(v) for v in ARTICLE_A])
    return (w if layout == "out_in" else w.T.copy()), a


def article_outputs_exact(layout: str = "out_in") -> list[Fraction]:
    """The article network's outputs at (0,0), (0,1), (1,0), (1,1) in exact rationals."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    w = ARTICLE_W if layout == "out_in" else tuple(zip(*ARTICLE_W, strict=True))
    out = []
    for p in ((0, 0), (0, 1), (1, 0), (1, 1)):
        h = [max(Fraction(0), row[0] * p[0] + row[1] * p[1]) for row in w]
        out.append(ARTICLE_A[0] * h[0] + ARTICLE_A[1] * h[1])
    return out


def article_linear_collapse(layout: str = "out_in") -> np.ndarray:
    """Coefficients ``(c_x, c_y)`` of the network with the ReLU removed: ``f = a^T W x``."""
    w, a = article_weights(layout)
    return a @ w


@claim("prop-article-weights", chapter="separability",
       statement="the article's printed weights fit XOR to 1e-4 read as (out, in), "
                 "but give f(1,1) = 0.111 read as (in, out)",
       method="exact", tolerance=1e-4)
def check_article_weights() -> float:
    """Largest |f(x) - XOR(x)| of the printed weights in PyTorch's (out, in) layout.

    Computed in exact rational arithmetic.  The weights are printed to four decimals, so
    products of two of them are only determined to about 1e-4: the tolerance.  The check
    fails (returns inf) unless the transposed reading misses f(1,1) = 0 by more than 0.1,
    the second half of the statement.
    """
    _, y = xor()
    errors = {layout: max(abs(v - int(t))
                          for v, t in zip(article_outputs_exact(layout), y, strict=True))
              for layout in LAYOUTS}
    err_out_in, err_in_out = errors["out_in"], errors["in_out"]
    return float(err_out_in) if err_in_out > Fraction(1, 10) else math.inf


# ---------------------------------------------------------------------------------------
# Gradient descent from random initialisation, many seeds at once


@dataclass(frozen=True)
class GDConfig:
    """Full-batch gradient descent on the mean squared error of the four XOR points."""

    num_seeds: int = 1000
    steps: int = 500
    lr: float = 0.2
    seed: int = 0

    def __post_init__(self):
        if self.num_seeds < 1 or self.steps < 0 or not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"invalid gradient-descent settings: {self}")


@dataclass(frozen=True)
class GDResult:
    """Initial and final weights of every run, with the final outputs and losses."""

    w0: np.ndarray  # (S, 2, 2)
    a0: np.ndarray  # (S, 2)
    w: np.ndarray  # (S, 2, 2)
    a: np.ndarray  # (S, 2)
    outputs: np.ndarray  # (S, 4) at (0,0), (0,1), (1,0), (1,1)
    loss: np.ndarray  # (S,)


def pytorch_init(num_seeds: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's default ``nn.Linear`` weights for 2 -> 2 -> 1: all ``U(-1/sqrt 2, 1/sqrt 2)``."""
    if num_seeds < 1:
        raise ValueError(f"num_seeds must be >= 1, got {num_seeds}")
    bound = 1.0 / math.sqrt(2.0)  # fan_in is 2 in both layers
    w = rng.uniform(-bound, bound, size=(num_seeds, 2, 2))
    a = rng.uniform(-bound, bound, size=(num_seeds, 2))
    return w, a


def mse_and_grad(x: np.ndarray, y: np.ndarray, w: np.ndarray, a: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss ``L = mean_i (f(x_i) - y_i)^2`` per run and its gradients ``(L, dL/dW, dL/da)``.

    w (S, 2, 2), a (S, 2) -> L (S,), dW (S, 2, 2), da (S, 2).  ReLU'(0) is taken as 0,
    as in PyTorch.
    """
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
    x, y = xor()
    y = y.astype(np.float64)
    w0, a0 = pytorch_init(config.num_seeds, np.random.default_rng(config.seed))
    w, a = w0.copy(), a0.copy()
    for _ in range(config.steps):
        _, dw, da = mse_and_grad(x, y, w, a)
        w -= config.lr * dw
        a -= config.lr * da
    loss, _, _ = mse_and_grad(x, y, w, a)
    return GDResult(w0, a0, w, a, relu_net(x, w, a), loss)


@lru_cache(maxsize=4)
def xor_gd_runs(config: GDConfig = GDConfig()) -> GDResult:
    """Cached :func:`train_xor` (the book's figure and check share it)."""
    return train_xor(config)


OUTCOMES = ("solved", "dead unit at init", "unit died in training", "other")


def dead_units(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Which hidden units are zero on every row of x: (S, m) booleans, W (S, m, 2)."""
    return ~(x @ np.swapaxes(w, -1, -2) > 0).any(axis=-2)


def classify_runs(res: GDResult) -> np.ndarray:
    """Outcome index (into ``OUTCOMES``) of each run.

    Solved: every output on the correct side of 1/2.  Otherwise: a hidden unit was dead
    (zero on all four inputs) at initialisation, died during training, or neither.
    """
    x, y = xor()
    solved = ((res.outputs > 0.5) == (y == 1)).all(axis=1)
    dead0 = dead_units(x, res.w0).any(axis=1)
    dead1 = dead_units(x, res.w).any(axis=1)
    out = np.full(len(solved), 3)
    out[dead1 & ~dead0] = 2
    out[dead0] = 1
    out[solved] = 0
    return out


def dead_at_init_probability() -> Fraction:
    """P(some unit is dead at init) = 1 - (3/4)^2 under any law symmetric in each weight."""
    return 1 - Fraction(3, 4) ** 2


@claim("prop-dead-unit", chapter="separability",
       statement="a unit with both input weights <= 0 never moves and XOR is then unsolvable; "
                 "at PyTorch's init this happens with probability 7/16",
       method="monte-carlo", tolerance=0.05)
def check_dead_unit() -> float:
    """|fraction of runs with a dead unit at init - 7/16|, and inf if any of them solved XOR.

    With 1000 seeds the standard error of the fraction is sqrt(7/16 * 9/16 / 1000) = 0.0157;
    the tolerance 0.05 is about three standard errors.  Dead-at-init runs that solve XOR, or
    whose dead unit's weights moved, would refute the exact part: the check returns inf.
    """
    res = xor_gd_runs()
    x, _ = xor()
    outcome = classify_runs(res)
    dead0 = dead_units(x, res.w0)  # (S, 2)
    moved = np.abs(res.w - res.w0).max(axis=-1)  # (S, 2) largest change per unit
    if (outcome[dead0.any(axis=1)] == 0).any() or (moved[dead0] > 0).any():
        return math.inf
    return abs(dead0.any(axis=1).mean() - float(dead_at_init_probability()))


# ---------------------------------------------------------------------------------------
# Figures


def _grid(n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = np.linspace(-0.25, 1.25, n)
    gx, gy = np.meshgrid(u, u)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])


def _points(ax, x: np.ndarray, y: np.ndarray) -> None:
    for label, color, marker in ((0, COLORS["blue"], "o"), (1, COLORS["vermillion"], "s")):
        sel = y == label
        ax.scatter(x[sel, 0], x[sel, 1], s=70, c=color, marker=marker, edgecolors="black",
                   zorder=3, label=f"XOR = {label}")


@figure("separability")
def fig_xor_fits():
    """Least-squares affine fit vs the exact two-unit ReLU net, over the unit square."""
    x, y = xor()
    fig, axes = new_figure(1, 2, width=6.4, height=3.0, sharey=True)
    gx, gy, grid = _grid()
    w, b = least_squares_affine(x, y.astype(float))
    panels = [(grid @ w + b, "least-squares affine fit"),
              (relu_net(grid, EXACT_W, EXACT_A), r"$|x_1 - x_2|$: two ReLU units")]
    for ax, (values, title) in zip(axes, panels, strict=True):
        im = ax.pcolormesh(gx, gy, values.reshape(gx.shape), vmin=0, vmax=1, cmap="RdBu_r",
                           shading="auto")
        _points(ax, x, y)
        ax.set_title(title)
        ax.set_xlabel("$x_1$")
        if "affine" in title:
            ax.text(0.5, 0.5, "$f = 1/2$ everywhere", ha="center", va="center", fontsize=9)
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel("$x_2$")
    axes[1].legend(loc="upper center", fontsize=7.5)
    fig.colorbar(im, ax=axes, shrink=0.8, label="model output")
    return fig


@figure("separability")
def fig_xor_hidden():
    """The four points in the hidden space relu(W x), with the output layer's line f = 1/2."""
    x, y = xor()
    nets = [(EXACT_W, EXACT_A, "exact solution"),
            (*article_weights("out_in"), "article's weights, (out, in)"),
            (*article_weights("in_out"), "article's weights, (in, out)")]
    fig, axes = new_figure(1, 3, width=6.4, height=2.6, sharex=True, sharey=True)
    t = np.linspace(-0.2, 1.4, 50)
    for ax, (w, a, title) in zip(axes, nets, strict=True):
        h = hidden(x, w)
        _points(ax, h, y)
        names: dict[tuple[float, float], list[str]] = {}
        for (hx, hy), name in zip(h, ("00", "01", "10", "11"), strict=True):
            names.setdefault((round(hx, 3), round(hy, 3)), []).append(name)
        for k, (pos, group) in enumerate(sorted(names.items())):
            ax.annotate(", ".join(group), pos, textcoords="offset points", fontsize=8,
                        xytext=(4, 7 if k in (0, 3) else -12))
        # output line a1 h1 + a2 h2 = 1/2
        ax.plot(t, (0.5 - a[0] * t) / a[1], color=COLORS["black"], lw=1.2, ls="--")
        ax.set_xlim(-0.2, 1.4)
        ax.set_ylim(-0.2, 1.4)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$h_1$")
    axes[0].set_ylabel("$h_2$")
    return fig


PLATEAUS = (0.0, 0.25, 1.0 / 3.0, 0.5)
PLATEAU_NAMES = ("0", "1/4", "1/3", "1/2")


def loss_plateau(loss: np.ndarray, atol: float = 1e-3) -> np.ndarray:
    """Index into ``PLATEAUS`` of each final loss, or -1 when it is near none of them."""
    loss = np.asarray(loss, dtype=np.float64)
    dist = np.abs(loss[..., None] - np.array(PLATEAUS))
    idx = dist.argmin(axis=-1)
    return np.where(dist.min(axis=-1) <= atol, idx, -1)


@figure("separability")
def fig_xor_gd_outcomes():
    """Outcomes of gradient descent over many seeds, split by the final loss they reach."""
    res = xor_gd_runs()
    outcome = classify_runs(res)
    plateau = loss_plateau(res.loss)
    fig, (ax0, ax1) = new_figure(1, 2, width=6.4, height=2.8)
    colors = [COLORS[c] for c in ("green", "vermillion", "orange", "grey")]
    frac = np.array([(outcome == k).mean() for k in range(len(OUTCOMES))])
    ax0.barh(range(len(OUTCOMES)), frac, color=colors)
    ax0.set_yticks(range(len(OUTCOMES)), OUTCOMES)
    ax0.invert_yaxis()
    ax0.axvline(float(dead_at_init_probability()), color=COLORS["black"], ls=":", lw=1)
    ax0.set_xlabel("fraction of runs")
    bottom = np.zeros(len(PLATEAUS))
    for k, name in enumerate(OUTCOMES):
        counts = np.array([((outcome == k) & (plateau == j)).mean()
                           for j in range(len(PLATEAUS))])
        ax1.bar(range(len(PLATEAUS)), counts, bottom=bottom, color=colors[k], label=name)
        bottom += counts
    ax1.set_xticks(range(len(PLATEAUS)), PLATEAU_NAMES)
    ax1.set_xlabel("final mean squared error")
    ax1.set_ylabel("fraction of runs")
    ax1.legend(fontsize=7)
    return fig


def gd_summary(res: GDResult | None = None) -> dict[str, float]:
    """Fractions of runs per outcome and per final-loss plateau (the book's numbers)."""
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
