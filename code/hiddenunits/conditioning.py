"""Non-centred inputs and the conditioning of a unit's loss: signs, Hessians, GD and Newton.

A linear unit y = w^T x with squared loss L(w) = E[(w^T x - t)^2] / 2 has Hessian
H = E[x x^T] = Sigma + mu mu^T, where mu and Sigma are the mean and covariance of x.

Functions that take an ``activation`` accept the names of ``activations.NAMES``:
``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"softplus"``, ``"elu"``,
``"gelu"``, ``"silu"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy import special

from hiddenunits.activations import NAMES, gaussian_moment
from hiddenunits.data import digits
from hiddenunits.nets import make_mlp
from hiddenunits.threads import limited_threads
from hiddenunits.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_seed,
    check_sizes,
)

SIGN_WIDTHS = (64, 32, 16, 10)
"""Layer widths of the small network of the sign experiments: digits in, 10 classes out."""

# ---------------------------------------------------------------------------------------
# The sign constraint of a single example.
# ---------------------------------------------------------------------------------------


def digits_batch(num_examples: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Digits ``offset, ..., offset + num_examples - 1``: x (B, 64) in [0, 1], y (B,)."""
    x, y = digits()
    num_examples = check_int("num_examples", num_examples, minimum=1, maximum=len(y))
    offset = check_int("offset", offset, minimum=0, maximum=len(y) - num_examples)
    return x[offset:offset + num_examples], y[offset:offset + num_examples]


def _batch(x: ArrayLike, y: ArrayLike, model: torch.nn.Sequential
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, inputs) float64 and class labels y (B,) of ``model``'s outputs, as tensors."""
    xa = check_array("x", x, shape=(None, model[0].in_features))
    ya = check_array("y", y, shape=(len(xa),), dtype=np.int64)
    n_classes = model[-1].out_features
    if ya.min() < 0 or ya.max() >= n_classes:
        raise ValueError(f"y must hold class labels in 0..{n_classes - 1}")
    return torch.as_tensor(xa), torch.as_tensor(ya)


def _network(activation: str, rng: int, widths: Sequence[int]) -> torch.nn.Sequential:
    """A fresh float64 ``make_mlp`` (never trained) of the sign experiments."""
    check_choice("activation", activation, NAMES)
    widths = check_sizes("widths", widths, minimum_length=3)
    return make_mlp(widths, activation, "pytorch",
                    rng=check_int("rng", rng, minimum=0)).double()


def layer_gradient(activation: str, x: ArrayLike, y: ArrayLike, rng: int = 0,
                   widths: Sequence[int] = SIGN_WIDTHS
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dL/dW_2 (out, in), delta_2 (B, out), h_1 (B, in)) of a fresh MLP on a batch.

    The network is ``make_mlp(widths, activation, "pytorch", rng)`` in float64
    (``activation`` one of ``activations.NAMES``, ``rng`` a seed); W_2 is the weight of
    its second Linear layer, whose inputs h_1 = phi(z_1) are hidden units, and L is the
    mean cross-entropy over the batch x (B, widths[0]), y (B,).
    """
    model = _network(activation, rng, widths)
    xt, yt = _batch(x, y, model)
    h1 = model[1](model[0](xt))  # (B, in)
    z2 = model[2](h1)  # (B, out)
    z2.retain_grad()
    out = z2
    for m in list(model)[3:]:
        out = m(out)
    torch.nn.functional.cross_entropy(out, yt).backward()
    return (model[2].weight.grad.numpy().copy(), z2.grad.numpy().copy(),
            h1.detach().numpy().copy())


def sgd_update(activation: str, x: ArrayLike, y: ArrayLike, lr: float = 1.0, rng: int = 0,
               widths: Sequence[int] = SIGN_WIDTHS
               ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The change (Delta W_l (out, in), Delta b_l (out,)) of every Linear layer after one
    step of ``torch.optim.SGD`` with step ``lr`` on the mean cross-entropy of (x, y).

    The network is that of :func:`layer_gradient`.  The changes are read off the
    parameters before and after the step, as a reader watching the weights would see them.
    """
    lr = check_real("lr", lr, low=0.0, low_open=True)
    model = _network(activation, rng, widths)
    xt, yt = _batch(x, y, model)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    before = [(m.weight.detach().clone(), m.bias.detach().clone()) for m in linears]
    torch.nn.functional.cross_entropy(model(xt), yt).backward()  # fresh model: no old grads
    # the step of torch.optim.SGD (no momentum, no weight decay) on CPU: p.add_(grad, -lr),
    # written out because constructing an optimizer first imports torch._dynamo (seconds)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(param.grad, alpha=-lr)
    return tuple(((m.weight.detach() - w).numpy(), (m.bias.detach() - b).numpy())
                 for m, (w, b) in zip(linears, before, strict=True))


def mixed_sign_rows(grad: ArrayLike) -> int:
    """Number of rows of ``grad`` (out, in) with a strictly positive and a strictly
    negative entry."""
    grad = check_array("grad", grad, ndim=2, nonempty=False)
    return int(np.count_nonzero((grad > 0).any(axis=1) & (grad < 0).any(axis=1)))


def single_example_counts(activation: str, num_examples: int = 12,
                          rngs: Sequence[int] = (0, 1)) -> tuple[int, int]:
    """(mixed-sign rows, all rows) of dL/dW_2 over single examples (batch size 1), summed
    over the first ``num_examples`` digits and the network seeds ``rngs``."""
    num_examples = check_int("num_examples", num_examples, minimum=1)
    mixed = total = 0
    with limited_threads():
        for seed in rngs:
            for i in range(num_examples):
                g = layer_gradient(activation, *digits_batch(1, offset=i), rng=seed)[0]
                mixed += mixed_sign_rows(g)
                total += g.shape[0]
    return mixed, total


@lru_cache(maxsize=64)
def _one_signed_fraction(activation: str, batch_size: int, num_batches: int,
                         seed: int) -> float:
    rows = one_signed = 0
    with limited_threads():
        for k in range(num_batches):
            g = layer_gradient(activation, *digits_batch(batch_size, offset=k * batch_size),
                               rng=seed)[0]
            rows += g.shape[0]
            one_signed += g.shape[0] - mixed_sign_rows(g)
    return one_signed / rows


def one_signed_fraction(activation: str, batch_size: int, num_batches: int = 8,
                        rng: int = 0) -> float:
    """Fraction of rows of the minibatch gradient dL/dW_2 that are one-signed (all >= 0 or
    all <= 0), over ``num_batches`` consecutive batches of digits (network seed ``rng``)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    num_batches = check_int("num_batches", num_batches, minimum=1)
    check_int("batch_size * num_batches", batch_size * num_batches, maximum=len(digits()[1]))
    return _one_signed_fraction(check_choice("activation", activation, NAMES), batch_size,
                                num_batches, check_int("rng", rng, minimum=0))


# ---------------------------------------------------------------------------------------
# The Hessian of a linear unit and its condition number.
# ---------------------------------------------------------------------------------------

def second_moment(mean: ArrayLike, cov: ArrayLike) -> np.ndarray:
    """E[x x^T] = Sigma + mu mu^T (n, n), the Hessian of the squared loss of a linear unit.

    ``mean`` (n,) is mu, ``cov`` (n, n) the symmetric covariance Sigma.
    """
    mean = check_array("mean", mean, ndim=1)
    cov = check_array("cov", cov, shape=(mean.size, mean.size))
    if not np.allclose(cov, cov.T):
        raise ValueError("cov must be symmetric")
    return cov + np.outer(mean, mean)


def condition_number(h: ArrayLike) -> float:
    """kappa(H) = lambda_max / lambda_min of a symmetric positive definite H (n, n)."""
    h = check_array("H", h, ndim=2)
    if h.shape[0] != h.shape[1]:
        raise ValueError(f"H must be square, got shape {h.shape}")
    if not np.allclose(h, h.T):
        raise ValueError("H must be symmetric")
    with limited_threads():
        ev = np.linalg.eigvalsh(h)
    if ev[0] <= 0:
        raise ValueError("H must be positive definite")
    return float(ev[-1] / ev[0])


def isotropic_condition(mean_sq_norm: float, variance: float) -> float:
    """kappa(s^2 I + mu mu^T) = 1 + ||mu||^2 / s^2, with ``variance`` = s^2 > 0."""
    mean_sq_norm = check_real("mean_sq_norm", mean_sq_norm, low=0.0)
    variance = check_real("variance", variance, low=0.0, low_open=True)
    return 1.0 + mean_sq_norm / variance


def bias_eigenvalues(mean_sq_norm: float, variance: float) -> tuple[float, float]:
    """``(lambda_+, lambda_-)``: the eigenvalues of the second moment of (x, 1), x ~ (mu,
    s^2 I), in the plane of (mu, 0) and (0, 1).

    They are the roots of lambda^2 - (1 + s^2 + ||mu||^2) lambda + s^2; the other
    eigenvalue, s^2, has the directions (u, 0) with u orthogonal to mu.
    """
    m2 = check_real("mean_sq_norm", mean_sq_norm, low=0.0)
    s2 = check_real("variance", variance, low=0.0, low_open=True)
    trace = 1.0 + s2 + m2
    root = math.sqrt((trace - 2.0 * math.sqrt(s2)) * (trace + 2.0 * math.sqrt(s2)))
    top = 0.5 * (trace + root)
    return top, s2 / top  # the product of the two roots is s^2: no cancellation


def bias_condition(mean_sq_norm: float, variance: float) -> float:
    """kappa of the second moment of (x, 1) for x with mean mu and covariance s^2 I:
    ``lambda_+ / lambda_- = lambda_+^2 / s^2`` (``lambda_- <= s^2 <= lambda_+``)."""
    top, bottom = bias_eigenvalues(mean_sq_norm, variance)
    return top / bottom


@lru_cache(maxsize=16)
def _unit_output_moments(activation: str, scale: float) -> tuple[float, float]:
    m = gaussian_moment(activation, 1, scale)
    return m, gaussian_moment(activation, 2, scale) - m * m


def unit_output_moments(activation: str, scale: float = 1.0) -> tuple[float, float]:
    """(mean, variance) of phi(Z), Z ~ N(0, scale^2), by Gauss quadrature.

    ``activation`` is one of ``activations.NAMES``.
    """
    return _unit_output_moments(check_choice("activation", activation, NAMES),
                                check_real("scale", scale, low=0.0, low_open=True))


def layer_input_condition(activation: str, width: int, scale: float = 1.0,
                          bias: bool = False, centred: bool = False) -> float:
    """kappa of the Hessian of a linear unit reading ``width`` independent units phi(Z_i).

    Z_i ~ N(0, scale^2); ``activation`` is one of ``activations.NAMES``: ``"sigmoid"``,
    ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"softplus"``, ``"elu"``, ``"gelu"``,
    ``"silu"``.  Without a bias, E[h h^T] = v I + m^2 1 1^T and kappa = 1 + width m^2 / v
    (1 for a single unit); with a bias, the second moment of (h, 1) (:func:`bias_condition`).
    ``centred`` subtracts the mean m from every input first.
    """
    width = check_int("width", width, minimum=1)
    m, v = unit_output_moments(activation, scale)
    m2 = 0.0 if check_bool("centred", centred) else width * m * m
    if check_bool("bias", bias):
        return bias_condition(m2, v)
    return isotropic_condition(m2, v) if width > 1 else 1.0


# ---------------------------------------------------------------------------------------
# Gradient descent on a two-weight problem.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TwoWeightProblem:
    """L(w) = E[(w^T x - t)^2] / 2 with x ~ N(m 1, s^2 I) in R^2 and t = w*^T x."""

    mean: float = 0.5
    """m, the common mean of both inputs."""
    std: float = 0.2
    """s > 0, the standard deviation of each input."""
    w_star: tuple[float, float] = (1.0, -1.0)
    """The target weights w*."""

    def __post_init__(self):
        check_real("mean", self.mean)
        check_real("std", self.std, low=0.0, low_open=True)
        w = check_array("w_star", self.w_star, shape=(2,))
        object.__setattr__(self, "w_star", (float(w[0]), float(w[1])))

    @property
    def hessian(self) -> np.ndarray:
        """H = s^2 I + m^2 1 1^T (2, 2)."""
        return second_moment(np.full(2, self.mean), self.std**2 * np.eye(2))

    def loss(self, w: ArrayLike) -> float | np.ndarray:
        """L(w) = (w - w*)^T H (w - w*) / 2 for w (..., 2)."""
        w = check_array("w", w)
        if w.shape[-1:] != (2,):
            raise ValueError(f"w must have shape (..., 2), got {w.shape}")
        e = w - np.array(self.w_star)
        out = 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)
        return float(out) if out.ndim == 0 else out

    def best_step(self) -> float:
        """eta = 2 / (lambda_min + lambda_max), the step with the best worst-case rate."""
        ev = np.linalg.eigvalsh(self.hessian)
        return float(2.0 / (ev[0] + ev[-1]))


def gd_path(hessian: ArrayLike, w_star: ArrayLike, w0: ArrayLike, lr: float,
            steps: int) -> np.ndarray:
    """Gradient descent w <- w - lr H (w - w*) on a quadratic; returns (steps + 1, n).

    ``hessian`` (n, n), ``w_star`` (n,), ``w0`` (n,).
    """
    w = check_array("w0", w0, ndim=1)
    hessian = check_array("hessian", hessian, shape=(w.size, w.size))
    w_star = check_array("w_star", w_star, shape=(w.size,))
    lr = check_real("lr", lr, low=0.0, low_open=True)
    steps = check_int("steps", steps, minimum=0)
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * hessian @ (w - w_star)
        path.append(w.copy())
    return np.array(path)


def sgd_path(problem: TwoWeightProblem, w0: ArrayLike, lr: float, steps: int,
             rng: int | np.random.Generator = 0) -> np.ndarray:
    """Single-example SGD w <- w - lr (w^T x - t) x with fresh x ~ N(m 1, s^2 I).

    Returns (steps + 1, 2); ``rng`` is a seed or a numpy Generator.
    """
    if not isinstance(problem, TwoWeightProblem):
        raise ValueError(f"problem must be a TwoWeightProblem, got {type(problem).__name__}")
    w = check_array("w0", w0, shape=(2,))
    lr = check_real("lr", lr, low=0.0, low_open=True)
    steps = check_int("steps", steps, minimum=0)
    gen = check_rng(rng)
    path = [w.copy()]
    for _ in range(steps):
        x = problem.mean + problem.std * gen.normal(size=2)
        w = w - lr * (w @ x - np.dot(problem.w_star, x)) * x
        path.append(w.copy())
    return np.array(path)


def sigmoid_like_problem(centred: bool = False) -> TwoWeightProblem:
    """The two-weight problem with inputs like sigmoid units fed N(0, 1): mean 1/2 (or 0
    when ``centred``) and the standard deviation of sigma(Z)."""
    s = math.sqrt(unit_output_moments("sigmoid")[1])
    return TwoWeightProblem(mean=0.0 if centred else 0.5, std=s)


ZIGZAG_START = (-1.0, 0.3)
"""w_0 of the two-weight experiments: off both axes of the valley."""


ZIGZAG_TOL = 1e-3
"""Relative error at which :func:`iterations_to` stops."""


def iterations_to(problem: TwoWeightProblem, tol: float = ZIGZAG_TOL,
                  w0: ArrayLike = ZIGZAG_START, max_steps: int = 100_000) -> int:
    """GD steps at the best step size until ||w - w*|| <= tol ||w0 - w*||."""
    if not isinstance(problem, TwoWeightProblem):
        raise ValueError(f"problem must be a TwoWeightProblem, got {type(problem).__name__}")
    tol = check_real("tol", tol, low=0.0, low_open=True)
    w = check_array("w0", w0, shape=(2,))
    max_steps = check_int("max_steps", max_steps, minimum=0)
    w_star = np.array(problem.w_star)
    e0 = np.linalg.norm(w - w_star)
    lr, h = problem.best_step(), problem.hessian
    for k in range(max_steps + 1):
        if np.linalg.norm(w - w_star) <= tol * e0:
            return k
        w = w - lr * h @ (w - w_star)
    raise ValueError(f"no convergence in {max_steps} steps")


# ---------------------------------------------------------------------------------------
# Newton's method is affine invariant; gradient descent is not.
# ---------------------------------------------------------------------------------------

Derivatives = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]
"""A function theta (p,) -> (f, grad f (p,), Hessian f (p, p))."""


@dataclass(frozen=True)
class LogisticProblem:
    """f(theta) = mean_i softplus(-y_i (w^T x_i + b)) + lam |theta|^2 / 2, theta = (w, b),
    on N points x ~ N(mu 1, I) in R^2 with labels from a fixed linear rule."""

    num_points: int = 200
    """N."""
    mean: float = 3.0
    """mu, the common mean of both inputs."""
    lam: float = 1e-2
    """The L2 penalty (> 0, so that f is strongly convex)."""
    seed: int = 0
    """Seed of the points and of the label noise."""

    def __post_init__(self):
        check_int("num_points", self.num_points, minimum=2)
        check_real("mean", self.mean)
        check_real("lam", self.lam, low=0.0, low_open=True)
        check_seed(self.seed)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Points x (N, 2) and labels y (N,) in {-1, +1}."""
        rng = np.random.default_rng(self.seed)
        x = self.mean + rng.normal(size=(self.num_points, 2))  # (N, 2)
        logits = 2.0 * (x[:, 0] - x[:, 1]) + 0.5 * rng.normal(size=self.num_points)
        return x, np.where(logits > 0, 1.0, -1.0)

    def design(self, centred: bool = False) -> np.ndarray:
        """Rows (x_i, 1), or (x_i - mean of x, 1) when ``centred``: (N, 3)."""
        x, _ = self.data()
        if centred:
            x = x - x.mean(axis=0)
        return np.hstack([x, np.ones((len(x), 1))])  # (N, 3)

    def derivatives(self, centred: bool = False) -> Derivatives:
        """theta -> (f, grad f, Hessian f) of f on the raw design; with ``centred``, the
        same objective in the centred coordinates u = (w, b'): g(u) = f(A u), A the
        :func:`centring_map` (the penalty is that of theta = A u, carried through)."""
        design, (_, y) = self.design(), self.data()

        def f(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            return logistic_derivatives(theta, design, y, self.lam)

        return affine_pullback(f, centring_map(self), np.zeros(3)) if centred else f

    def minimum(self) -> float:
        """min f, by Newton's method to round-off (the same in both coordinates)."""
        return _minimum(self)


def logistic_derivatives(theta: ArrayLike, design: ArrayLike, y: ArrayLike, lam: float
                         ) -> tuple[float, np.ndarray, np.ndarray]:
    """(f, grad f (p,), Hessian f (p, p)) of the regularised logistic loss.

    ``theta`` (p,), ``design`` (N, p), labels ``y`` (N,) in {-1, +1}, penalty ``lam`` >= 0.
    """
    theta = check_array("theta", theta, ndim=1)
    design = check_array("design", design, shape=(None, theta.size))
    y = check_array("y", y, shape=(len(design),))
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must hold labels -1 and +1")
    lam = check_real("lam", lam, low=0.0)
    margins = y * (design @ theta)  # (N,)
    s = special.expit(-margins)  # sigma(-margin)
    f = float(np.mean(np.logaddexp(0.0, -margins)) + 0.5 * lam * theta @ theta)
    grad = -(design * (y * s)[:, None]).mean(axis=0) + lam * theta
    hess = (design * (s * (1 - s))[:, None]).T @ design / len(y) + lam * np.eye(len(theta))
    return f, grad, hess


def _path(fun: Derivatives, theta0: ArrayLike, steps: int,
          step: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    if not callable(fun):
        raise ValueError(f"fun must be callable, got {type(fun).__name__}")
    theta = check_array("theta0", theta0, ndim=1).copy()
    steps = check_int("steps", steps, minimum=0)
    path = [theta.copy()]
    with limited_threads():
        for _ in range(steps):
            _, g, h = fun(theta)
            theta = theta - step(g, h)
            path.append(theta.copy())
    return np.array(path)


def newton_path(fun: Derivatives, theta0: ArrayLike, steps: int) -> np.ndarray:
    """Newton iterates theta <- theta - H^{-1} grad for ``fun(theta) -> (f, grad, hess)``;
    returns (steps + 1, p)."""
    return _path(fun, theta0, steps, lambda g, h: np.linalg.solve(h, g))


def gradient_path(fun: Derivatives, theta0: ArrayLike, lr: float, steps: int) -> np.ndarray:
    """Gradient-descent iterates theta <- theta - lr grad; returns (steps + 1, p)."""
    lr = check_real("lr", lr, low=0.0, low_open=True)
    return _path(fun, theta0, steps, lambda g, h: lr * g)


def affine_pullback(fun: Derivatives, a: ArrayLike, c: ArrayLike) -> Derivatives:
    """g(u) = f(A u + c) with its gradient A^T grad f and Hessian A^T H A.

    ``a`` (p, p) invertible, ``c`` (p,).
    """
    if not callable(fun):
        raise ValueError(f"fun must be callable, got {type(fun).__name__}")
    a = check_array("a", a, ndim=2)
    if a.shape[0] != a.shape[1] or np.linalg.matrix_rank(a) < a.shape[0]:
        raise ValueError(f"a must be a square invertible matrix, got shape {a.shape}")
    c = check_array("c", c, shape=(a.shape[0],))

    def g(u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        f, grad, hess = fun(a @ u + c)
        return f, a.T @ grad, a.T @ hess @ a

    return g


def centring_map(problem: LogisticProblem) -> np.ndarray:
    """A (3, 3) with theta = A u: u = (w, b') of the centred model w^T (x - xbar) + b'
    equals the non-centred model w^T x + b for b = b' - w^T xbar."""
    xbar = _check_problem(problem).data()[0].mean(axis=0)
    a = np.eye(3)
    a[2, :2] = -xbar
    return a


def _check_problem(problem: LogisticProblem) -> LogisticProblem:
    if not isinstance(problem, LogisticProblem):
        raise ValueError(f"problem must be a LogisticProblem, got {type(problem).__name__}")
    return problem


@lru_cache(maxsize=8)
def _minimum(problem: LogisticProblem) -> float:
    fun = problem.derivatives()
    theta = np.zeros(3)
    with limited_threads():
        for _ in range(100):
            f, g, h = fun(theta)
            step = np.linalg.solve(h, g)
            theta = theta - step
            if np.linalg.norm(step) <= 1e-15 * max(1.0, np.linalg.norm(theta)):
                break
        return fun(theta)[0]


def smoothness(problem: LogisticProblem, centred: bool) -> float:
    """beta >= the largest eigenvalue of every Hessian of the objective in the chosen
    coordinates: lambda_max(A^T (D^T D / (4N) + lam I) A), with A = I for the raw ones
    (sigma' <= 1/4 bounds the data term)."""
    _check_problem(problem)
    design, n = problem.design(), problem.num_points
    a = centring_map(problem) if check_bool("centred", centred) else np.eye(3)
    with limited_threads():
        bound = design.T @ design / (4 * n) + problem.lam * np.eye(3)
        return float(np.linalg.eigvalsh(a.T @ bound @ a)[-1])


def _iterations(problem: LogisticProblem, centred: bool,
                step: Callable[[np.ndarray, np.ndarray], np.ndarray], tol: float,
                max_steps: int) -> int:
    # the stopping rule f - min f <= tol reads the same in both coordinates (g(u) = f(Au))
    fun, best = problem.derivatives(centred), problem.minimum()
    theta = np.zeros(3)
    with limited_threads():
        for k in range(max_steps + 1):
            f, g, h = fun(theta)
            if f - best <= tol:
                return k
            theta = theta - step(g, h)
    raise ValueError(f"no convergence in {max_steps} steps")


VALUE_TOL = 1e-10
"""The stopping rule f - min f <= VALUE_TOL of :func:`gd_iterations` and
:func:`newton_iterations`."""


def gd_iterations(problem: LogisticProblem, centred: bool, tol: float = VALUE_TOL,
                  max_steps: int = 200_000) -> int:
    """Gradient-descent steps (step 1/beta, :func:`smoothness`) from 0 until
    f - min f <= ``tol``, in the raw or the centred coordinates of the same objective."""
    lr = 1.0 / smoothness(problem, centred)
    return _iterations(problem, centred, lambda g, h: lr * g,
                       check_real("tol", tol, low=0.0, low_open=True),
                       check_int("max_steps", max_steps, minimum=0))


def newton_iterations(problem: LogisticProblem, centred: bool, tol: float = VALUE_TOL,
                      max_steps: int = 100) -> int:
    """Newton steps from 0 until f - min f <= ``tol``, raw or centred coordinates."""
    _check_problem(problem)
    return _iterations(problem, check_bool("centred", centred),
                       lambda g, h: np.linalg.solve(h, g),
                       check_real("tol", tol, low=0.0, low_open=True),
                       check_int("max_steps", max_steps, minimum=0))


def sigmoid_square_loss(w: float) -> tuple[float, float, float]:
    """(L, L', L'') of L(w) = (1 - sigma(w))^2 / 2, a saturating unit with target 1."""
    w = check_real("w", w)
    s = float(special.expit(w))
    loss = 0.5 * (1 - s) ** 2
    d1 = -s * (1 - s) ** 2
    d2 = -s * (1 - s) ** 2 * (1 - 3 * s)
    return loss, d1, d2
