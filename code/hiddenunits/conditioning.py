"""Non-centred inputs and the conditioning of a unit's loss: signs, Hessians, GD and Newton.

A linear unit y = w^T x with squared loss L(w) = E[(w^T x - t)^2] / 2 has Hessian
H = E[x x^T] = Sigma + mu mu^T, where mu and Sigma are the mean and covariance of x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
import torch
from matplotlib.figure import Figure
from scipy import special

from hiddenunits.activations import gaussian_moment, symbolic_residual
from hiddenunits.claims import claim
from hiddenunits.data import digits
from hiddenunits.figures import figure
from hiddenunits.nets import make_mlp
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

# ---------------------------------------------------------------------------------------
# The sign constraint of a single example.
# ---------------------------------------------------------------------------------------


def _digits_tensors(num_examples: int, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = digits()
    if num_examples < 1 or offset < 0 or offset + num_examples > len(y):
        raise ValueError(f"need 1 <= num_examples and offset + num_examples <= {len(y)}")
    sl = slice(offset, offset + num_examples)
    return torch.as_tensor(x[sl]), torch.as_tensor(y[sl])


@lru_cache(maxsize=32)
def _small_mlp(activation: str, seed: int, widths: tuple[int, ...]) -> torch.nn.Sequential:
    return make_mlp(list(widths), activation, "pytorch", rng=seed)


def layer_gradient(activation: str, x: torch.Tensor, y: torch.Tensor, seed: int = 0,
                   widths: tuple[int, ...] = (64, 32, 16, 10)
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dL/dW_2 (out, in), delta_2 (B, out), h_1 (B, in)) of a ``make_mlp`` on a batch.

    W_2 is the weight of the second linear layer, whose inputs h_1 = phi(z_1) are hidden
    units; L is the mean cross-entropy over the batch.  The network (fixed by activation,
    seed and widths) is built once and never trained.
    """
    if x.ndim != 2 or x.shape[1] != widths[0] or len(x) != len(y):
        raise ValueError(f"need x (B, {widths[0]}) and y (B,), got {tuple(x.shape)}, "
                         f"{tuple(y.shape)}")
    model = _small_mlp(activation, seed, tuple(widths))
    model.zero_grad(set_to_none=True)
    h1 = model[1](model[0](x))  # (B, in)
    z2 = model[2](h1)  # (B, out)
    z2.retain_grad()
    out = z2
    for m in list(model)[3:]:
        out = m(out)
    torch.nn.functional.cross_entropy(out, y).backward()
    grad = model[2].weight.grad.numpy().copy()
    model.zero_grad(set_to_none=True)
    return grad, z2.grad.numpy().copy(), h1.detach().numpy().copy()


def mixed_sign_rows(grad: np.ndarray) -> int:
    """Number of rows of ``grad`` with both a strictly positive and a strictly negative entry."""
    grad = np.asarray(grad)
    if grad.ndim != 2:
        raise ValueError(f"grad must be a matrix (out, in), got shape {grad.shape}")
    return int(np.count_nonzero((grad > 0).any(axis=1) & (grad < 0).any(axis=1)))


def single_example_counts(activation: str, num_examples: int = 12,
                          seeds: tuple[int, ...] = (0, 1)) -> tuple[int, int]:
    """(mixed-sign rows, all rows) of dL/dW_2 over single examples (batch size 1), summed
    over ``num_examples`` digits and the network seeds ``seeds``."""
    mixed = total = 0
    with limited_threads():
        for seed in seeds:
            for i in range(num_examples):
                x, y = _digits_tensors(1, offset=i)
                g = layer_gradient(activation, x, y, seed)[0]
                mixed += mixed_sign_rows(g)
                total += g.shape[0]
    return mixed, total


def single_example_violations(activation: str, num_examples: int = 12,
                              seeds: tuple[int, ...] = (0, 1)) -> int:
    """Mixed-sign rows of dL/dW_2 summed over single examples (batch size 1) and seeds."""
    return single_example_counts(activation, num_examples, seeds)[0]


@claim("prop-single-example-sign", chapter="activations",
       statement="one example: dL/dW = delta h^T, so h >= 0 makes every row one-signed",
       method="exact", tolerance=0.0)
def check_single_example_sign() -> float:
    # exact count of rows with mixed signs, for non-negative hidden units (sigmoid, ReLU,
    # softplus); the proposition says there are none
    return float(sum(single_example_violations(a) for a in ("sigmoid", "relu", "softplus")))


@lru_cache(maxsize=64)
def one_signed_fraction(activation: str, batch_size: int, num_batches: int = 8,
                        seed: int = 0) -> float:
    """Fraction of rows of the minibatch gradient dL/dW_2 that are one-signed (all >= 0 or
    all <= 0), over ``num_batches`` consecutive batches of digits."""
    if batch_size < 1 or num_batches < 1:
        raise ValueError("batch_size and num_batches must be positive")
    rows = one_signed = 0
    with limited_threads():
        for k in range(num_batches):
            x, y = _digits_tensors(batch_size, offset=k * batch_size)
            g = layer_gradient(activation, x, y, seed)[0]
            rows += g.shape[0]
            one_signed += g.shape[0] - mixed_sign_rows(g)
    return one_signed / rows


# ---------------------------------------------------------------------------------------
# The Hessian of a linear unit and its condition number.
# ---------------------------------------------------------------------------------------

def second_moment(mean, cov) -> np.ndarray:
    """E[x x^T] = Sigma + mu mu^T, the Hessian of the squared loss of a linear unit."""
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    if mean.ndim != 1 or cov.shape != (mean.size, mean.size):
        raise ValueError(f"need mean (n,) and cov (n, n), got {mean.shape} and {cov.shape}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        raise ValueError("mean and cov must be finite")
    if not np.allclose(cov, cov.T):
        raise ValueError("cov must be symmetric")
    return cov + np.outer(mean, mean)


def condition_number(h: np.ndarray) -> float:
    """kappa(H) = lambda_max / lambda_min of a symmetric positive definite H."""
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"H must be square, got shape {h.shape}")
    with limited_threads():
        ev = np.linalg.eigvalsh(h)
    if ev[0] <= 0:
        raise ValueError("H must be positive definite")
    return float(ev[-1] / ev[0])


def isotropic_condition(mean_sq_norm: float, variance: float) -> float:
    """kappa(s^2 I + mu mu^T) = 1 + ||mu||^2 / s^2 (the proposition)."""
    if not (variance > 0 and mean_sq_norm >= 0):
        raise ValueError("need variance > 0 and mean_sq_norm >= 0")
    return 1.0 + mean_sq_norm / variance


def conditioning_residual(n: int = 4, wrong: bool = False) -> float:
    """Symbolic residual of the eigen-decomposition of H = s^2 I + mu mu^T in dimension n:
    H mu = (s^2 + |mu|^2) mu,  H v_i = s^2 v_i for v_i = mu_1 e_i - mu_i e_1 (i >= 2),
    and det[mu, v_2, ..., v_n] = (-1)^n mu_1^(n-2) |mu|^2 up to sign, so these n vectors
    form a basis whenever mu_1 != 0.  ``wrong`` claims s^2 + |mu|^2 / 2 instead."""
    if n < 2:
        raise ValueError("n must be at least 2")
    s = sp.Symbol("s", positive=True)
    mu = sp.Matrix(sp.symbols(f"m0:{n}", real=True))
    h = s**2 * sp.eye(n) + mu * mu.T
    norm2 = (mu.T * mu)[0, 0]
    top = s**2 + (norm2 / 2 if wrong else norm2)
    exprs = list(h * mu - top * mu)
    basis = [mu]
    for i in range(1, n):
        v = sp.zeros(n, 1)
        v[i], v[0] = mu[0], -mu[i]
        exprs += list(h * v - s**2 * v)
        basis.append(v)
    det = sp.Matrix.hstack(*basis).det()
    exprs.append(sp.expand(det**2 - mu[0] ** (2 * (n - 2)) * norm2**2))
    return symbolic_residual(exprs)


@claim("prop-linear-unit-conditioning", chapter="activations",
       statement="Sigma = s^2 I: eigenvalues of Sigma + mu mu^T are s^2, s^2+|mu|^2; "
                 "kappa = 1 + |mu|^2/s^2",
       method="symbolic", tolerance=0.0)
def check_linear_unit_conditioning() -> float:
    return conditioning_residual(4)


def general_bound_violation(num_trials: int = 200, n: int = 6, seed: int = 0) -> float:
    """Largest relative violation of  lambda_1(Sigma) <= lambda_1(H) <= lambda_2(Sigma) and
    lambda_max(H) >= lambda_1(Sigma) + |mu|^2  over random Sigma (Wishart) and mu."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    with limited_threads():
        for _ in range(num_trials):
            a = rng.normal(size=(n, n + 2))
            cov = a @ a.T / (n + 2)  # (n, n) positive definite
            mu = rng.normal(size=n) * rng.uniform(0, 3)
            lam = np.linalg.eigvalsh(cov)
            ev = np.linalg.eigvalsh(second_moment(mu, cov))
            scale = ev[-1]
            worst = max(worst, (lam[0] - ev[0]) / scale, (ev[0] - lam[1]) / scale,
                        (lam[0] + mu @ mu - ev[-1]) / scale)
    return max(0.0, worst)


@claim("cor-conditioning-general", chapter="activations",
       statement="any Sigma: kappa(Sigma + mu mu^T) >= (lambda_1(Sigma) + |mu|^2) "
                 "/ lambda_2(Sigma)",
       method="numeric", tolerance=1e-12)
def check_conditioning_general() -> float:
    # eigvalsh is backward stable: eigenvalues of a 6 x 6 symmetric matrix are accurate to
    # about n * eps * lambda_max = 6 * 2.2e-16 * lambda_max ~ 1.3e-15 relative; 1e-12
    # leaves a wide margin and still catches any real violation.
    return general_bound_violation()


@lru_cache(maxsize=16)
def unit_output_moments(activation: str, scale: float = 1.0) -> tuple[float, float]:
    """(mean, variance) of phi(Z), Z ~ N(0, scale^2), by quadrature."""
    m = gaussian_moment(activation, scale=scale)
    from hiddenunits.activations import phi

    m2 = gaussian_moment(activation, fn=lambda t: phi(activation, t) ** 2, scale=scale)
    return m, m2 - m * m


def layer_input_condition(activation: str, width: int, scale: float = 1.0) -> float:
    """kappa(E[h h^T]) for a layer of ``width`` independent units h_i = phi(Z_i)."""
    if width < 1:
        raise ValueError("width must be positive")
    m, v = unit_output_moments(activation, scale)
    return isotropic_condition(width * m * m, v) if width > 1 else 1.0


# ---------------------------------------------------------------------------------------
# Gradient descent on a two-weight problem.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TwoWeightProblem:
    """L(w) = E[(w^T x - t)^2] / 2 with x ~ N(m 1, s^2 I) in R^2 and t = w*^T x."""

    mean: float = 0.5
    std: float = 0.2
    w_star: tuple[float, float] = (1.0, -1.0)

    def __post_init__(self):
        if not (math.isfinite(self.mean) and self.std > 0 and math.isfinite(self.std)):
            raise ValueError(f"need a finite mean and std > 0: {self}")

    @property
    def hessian(self) -> np.ndarray:
        return second_moment(np.full(2, self.mean), self.std**2 * np.eye(2))

    def loss(self, w) -> np.ndarray:
        """L(w) = (w - w*)^T H (w - w*) / 2 for w (..., 2)."""
        e = np.asarray(w, dtype=np.float64) - np.array(self.w_star)
        return 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)

    def best_step(self) -> float:
        """eta = 2 / (lambda_min + lambda_max), the step with the best worst-case rate."""
        ev = np.linalg.eigvalsh(self.hessian)
        return 2.0 / (ev[0] + ev[-1])


def gd_path(hessian: np.ndarray, w_star, w0, lr: float, steps: int) -> np.ndarray:
    """Gradient descent w <- w - lr H (w - w*) on a quadratic; returns (steps + 1, n)."""
    hessian = np.asarray(hessian, dtype=np.float64)
    w = np.asarray(w0, dtype=np.float64).copy()
    w_star = np.asarray(w_star, dtype=np.float64)
    if hessian.shape != (w.size, w.size) or w_star.shape != w.shape:
        raise ValueError("hessian (n, n), w_star (n,) and w0 (n,) must agree")
    if not (lr > 0 and steps >= 0):
        raise ValueError("need lr > 0 and steps >= 0")
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * hessian @ (w - w_star)
        path.append(w.copy())
    return np.array(path)


def sgd_path(problem: TwoWeightProblem, w0, lr: float, steps: int, seed: int = 0
             ) -> np.ndarray:
    """Single-example SGD w <- w - lr (w^T x - t) x with fresh x ~ N(m 1, s^2 I)."""
    rng = np.random.default_rng(seed)
    w = np.asarray(w0, dtype=np.float64).copy()
    path = [w.copy()]
    for _ in range(steps):
        x = problem.mean + problem.std * rng.normal(size=2)
        w = w - lr * (w @ x - np.dot(problem.w_star, x)) * x
        path.append(w.copy())
    return np.array(path)


def sigmoid_like_problem(centred: bool = False) -> TwoWeightProblem:
    """The two-weight problem with inputs like sigmoid units fed N(0, 1): mean 1/2 (or 0
    when ``centred``) and the standard deviation of sigma(Z)."""
    s = math.sqrt(unit_output_moments("sigmoid")[1])
    return TwoWeightProblem(mean=0.0 if centred else 0.5, std=s)


ZIGZAG_START = (-1.0, 0.3)  # w_0 of the figure: off both axes of the valley


def iterations_to(problem: TwoWeightProblem, tol: float = 1e-3, w0=ZIGZAG_START,
                  max_steps: int = 100_000) -> int:
    """GD steps at the best step size until ||w - w*|| <= tol ||w0 - w*||."""
    w_star = np.array(problem.w_star)
    e0 = np.linalg.norm(np.asarray(w0) - w_star)
    w = np.asarray(w0, dtype=np.float64)
    lr, h = problem.best_step(), problem.hessian
    for k in range(max_steps + 1):
        if np.linalg.norm(w - w_star) <= tol * e0:
            return k
        w = w - lr * h @ (w - w_star)
    raise ValueError(f"no convergence in {max_steps} steps")


def gd_rate_violation(hessian: np.ndarray, w0, steps: int = 60,
                      rho_scale: float = 1.0) -> float:
    """max_k (||e_k|| - rho^k ||e_0||) / ||e_0|| with rho = (kappa - 1)/(kappa + 1), for GD
    at the best step size on (w - w*)^T H (w - w*)/2 with w* = 0 (<= 0 by the proposition;
    measured relative to ||e_0|| so that rho = 0, kappa = 1, needs no division by 0).
    ``rho_scale`` < 1 claims a faster rate than the true one (to show the check can fail).
    """
    hessian = np.asarray(hessian, dtype=np.float64)
    ev = np.linalg.eigvalsh(hessian)
    if ev[0] <= 0:
        raise ValueError("the Hessian must be positive definite")
    kappa = ev[-1] / ev[0]
    rho = rho_scale * (kappa - 1) / (kappa + 1)
    path = gd_path(hessian, np.zeros(len(w0)), w0, 2 / (ev[0] + ev[-1]), steps)
    e = np.linalg.norm(path, axis=1)
    return float(np.max(e - rho ** np.arange(steps + 1) * e[0]) / e[0])


@claim("prop-gd-rate", chapter="activations",
       statement="GD with eta = 2/(l_min + l_max): ||w_k - w*|| <= ((k-1)/(k+1))^k ||w_0 - w*||",
       method="numeric", tolerance=1e-12)
def check_gd_rate() -> float:
    # Each step adds a round-off of a few eps * ||e_0|| to ||e_k||; over 60 steps that is
    # below 60 * 4 * 1.1e-16 = 2.7e-14 of ||e_0||, so 1e-12 still detects any violation.
    rng = np.random.default_rng(0)
    worst = -np.inf
    cases = [(TwoWeightProblem().hessian, (1.0, -1.0)), (TwoWeightProblem().hessian, (1.0, 1.0)),
             (TwoWeightProblem(mean=0.0).hessian, (1.0, -1.0))]
    for _ in range(20):
        a = rng.normal(size=(5, 5))
        cases.append((a @ a.T + 0.1 * np.eye(5), rng.normal(size=5)))
    with limited_threads():
        for h, w0 in cases:
            worst = max(worst, gd_rate_violation(h, w0))
    return max(0.0, worst)


@figure("activations")
def fig_zigzag_paths() -> Figure:
    """GD and single-example SGD on the two-weight problem, non-centred vs centred inputs."""
    fig, axes = new_figure(1, 2, height=3.3, sharey=True)
    w0 = np.array(ZIGZAG_START)
    for ax, centred in zip(axes, (False, True), strict=True):
        prob = sigmoid_like_problem(centred)
        m, s = prob.mean, prob.std
        title = "centred, $m = 0$" if centred else f"non-centred, $m = {m:g}$"
        g1, g2 = np.meshgrid(np.linspace(-1.5, 2.0, 200), np.linspace(-2.0, 1.5, 200))
        levels = float(prob.loss(w0)) * np.array([0.01, 0.04, 0.1, 0.25, 0.5, 1.0, 1.6])
        ax.contour(g1, g2, prob.loss(np.stack([g1, g2], -1)), levels=levels,
                   colors=COLORS["grey"], linewidths=0.6)
        gd = gd_path(prob.hessian, prob.w_star, w0, prob.best_step(), 25)
        sgd = sgd_path(prob, w0, lr=0.5 / (2 * m * m + 2 * s * s), steps=60, seed=1)
        ax.plot(sgd[:, 0], sgd[:, 1], "-", color=COLORS["orange"], lw=1.0,
                label="SGD, one example per step")
        ax.plot(gd[:, 0], gd[:, 1], "o-", color=COLORS["blue"], ms=3, lw=1.2,
                label="GD, best step")
        ax.plot(*prob.w_star, "*", color=COLORS["vermillion"], ms=10)
        kappa = condition_number(prob.hessian)
        ax.set(xlabel="$w_1$", title=f"{title}, $\\kappa = {kappa:.1f}$", aspect="equal")
    axes[0].set_ylabel("$w_2$")
    axes[0].legend(loc="lower left")
    return fig


# ---------------------------------------------------------------------------------------
# Newton's method is affine invariant; gradient descent is not.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogisticProblem:
    """f(theta) = mean_i softplus(-y_i (w^T x_i + b)) + lam |theta|^2 / 2, theta = (w, b),
    on N points x ~ N(mu, I) in R^2 with labels from a fixed linear rule."""

    num_points: int = 200
    mean: float = 3.0
    lam: float = 1e-2
    seed: int = 0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        x = self.mean + rng.normal(size=(self.num_points, 2))  # (N, 2)
        logits = 2.0 * (x[:, 0] - x[:, 1]) + 0.5 * rng.normal(size=self.num_points)
        return x, np.where(logits > 0, 1.0, -1.0)

    def design(self, centred: bool = False) -> np.ndarray:
        """Rows (x_i, 1), or (x_i - mean of x, 1) when ``centred``."""
        x, _ = self.data()
        if centred:
            x = x - x.mean(axis=0)
        return np.hstack([x, np.ones((len(x), 1))])  # (N, 3)


def logistic_derivatives(theta: np.ndarray, design: np.ndarray, y: np.ndarray, lam: float
                         ) -> tuple[float, np.ndarray, np.ndarray]:
    """(f, grad f, Hessian f) of the regularised logistic loss."""
    margins = y * (design @ theta)  # (N,)
    s = special.expit(-margins)  # sigma(-margin)
    f = float(np.mean(np.logaddexp(0.0, -margins)) + 0.5 * lam * theta @ theta)
    grad = -(design * (y * s)[:, None]).mean(axis=0) + lam * theta
    hess = (design * (s * (1 - s))[:, None]).T @ design / len(y) + lam * np.eye(len(theta))
    return f, grad, hess


def newton_path(fun, theta0, steps: int) -> np.ndarray:
    """Newton iterates theta <- theta - H^{-1} grad for ``fun(theta) -> (f, grad, hess)``."""
    theta = np.asarray(theta0, dtype=np.float64).copy()
    path = [theta.copy()]
    for _ in range(steps):
        _, g, h = fun(theta)
        theta = theta - np.linalg.solve(h, g)
        path.append(theta.copy())
    return np.array(path)


def affine_pullback(fun, a: np.ndarray, c: np.ndarray):
    """g(u) = f(A u + c) with its gradient A^T grad f and Hessian A^T H A."""
    def g(u):
        f, grad, hess = fun(a @ u + c)
        return f, a.T @ grad, a.T @ hess @ a
    return g


def centring_map(problem: LogisticProblem) -> np.ndarray:
    """A with theta = A u: u = (w, b') of the centred model w^T (x - xbar) + b' equals the
    non-centred model w^T x + b for b = b' - w^T xbar."""
    xbar = problem.data()[0].mean(axis=0)
    a = np.eye(3)
    a[2, :2] = -xbar
    return a


def newton_invariance_error(problem: LogisticProblem = LogisticProblem(), steps: int = 8,
                            seed: int = 0) -> float:
    """max_k ||theta_k - (A u_k + c)|| / max(1, ||theta_k||) for Newton on f and on
    g(u) = f(A u + c): the centring map (c = 0) and a random invertible A with shift c."""
    _, y = problem.data()
    design = problem.design()

    def f(t):
        return logistic_derivatives(t, design, y, problem.lam)

    rng = np.random.default_rng(seed)
    maps = [(centring_map(problem), np.zeros(3)),
            (np.eye(3) + 0.5 * rng.normal(size=(3, 3)), rng.normal(size=3))]
    worst = 0.0
    with limited_threads():
        for a, c in maps:
            u0 = 0.1 * rng.normal(size=3)
            u_path = newton_path(affine_pullback(f, a, c), u0, steps)
            t_path = newton_path(f, a @ u0 + c, steps)
            mapped = u_path @ a.T + c
            err = np.linalg.norm(t_path - mapped, axis=1) / np.maximum(
                1.0, np.linalg.norm(t_path, axis=1))
            worst = max(worst, float(err.max()))
    return worst


@claim("prop-newton-affine", chapter="activations",
       statement="Newton on g(u) = f(Au + c) gives theta_k = A u_k + c (affine invariance)",
       method="numeric", tolerance=1e-10)
def check_newton_affine() -> float:
    # Each Newton step solves a 3 x 3 system whose condition number here is below 1e4, so
    # its relative round-off is below 1e4 * 2.2e-16 = 2.2e-12; eight contracting steps keep
    # the accumulated error under ~1e-11, and 1e-10 leaves a factor of 10.
    return newton_invariance_error()


def gd_iterations(problem: LogisticProblem, centred: bool, tol: float = 1e-6,
                  max_steps: int = 200_000) -> int:
    """Gradient-descent steps (step 1/beta, beta a bound on the Hessian's largest eigenvalue)
    until ||grad|| <= tol, from theta = 0."""
    design = problem.design(centred)
    _, y = problem.data()
    with limited_threads():
        beta = np.linalg.eigvalsh(design.T @ design / len(y))[-1] / 4 + problem.lam
        theta = np.zeros(3)
        for k in range(max_steps + 1):
            _, g, _ = logistic_derivatives(theta, design, y, problem.lam)
            if np.linalg.norm(g) <= tol:
                return k
            theta = theta - g / beta
    raise ValueError(f"no convergence in {max_steps} steps")


def newton_iterations(problem: LogisticProblem, centred: bool, tol: float = 1e-6,
                      max_steps: int = 100) -> int:
    """Newton steps until ||grad|| <= tol, from theta = 0."""
    design = problem.design(centred)
    _, y = problem.data()
    theta = np.zeros(3)
    with limited_threads():
        for k in range(max_steps + 1):
            _, g, h = logistic_derivatives(theta, design, y, problem.lam)
            if np.linalg.norm(g) <= tol:
                return k
            theta = theta - np.linalg.solve(h, g)
    raise ValueError(f"no convergence in {max_steps} steps")


def sigmoid_square_loss(w: float) -> tuple[float, float, float]:
    """(L, L', L'') of L(w) = (1 - sigma(w))^2 / 2, a saturating unit with target 1."""
    w = float(w)
    if not math.isfinite(w):
        raise ValueError("w must be finite")
    s = 1.0 / (1.0 + math.exp(-w))
    loss = 0.5 * (1 - s) ** 2
    d1 = -s * (1 - s) ** 2
    d2 = -s * (1 - s) ** 2 * (1 - 3 * s)
    return loss, d1, d2
