"""The symmetry group of a linear hidden layer and what training does with it.

For a loss that depends on a product, L(A, B) = l(B A), every invertible G (k, k) acts by
G.(A, B) = (G A, B G^{-1}) and leaves L unchanged.  Orthogonal P act as isometries of
parameter space, so gradients and gradient-based trajectories rotate with them; general
G do not.  A ReLU between the layers leaves only permutations times positive scalings.
A point fixed by such an isometry stays fixed during training: hidden units that start
equal stay equal (:func:`stabiliser_run`).

Haar-random orthogonal matrices come from ``scipy.stats.ortho_group`` (imported where it
is used: scipy.stats takes about a second to import).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from hiddenunits import linear_autoencoder as lae
from hiddenunits import optimizers
from hiddenunits.data import digits, digits_split
from hiddenunits.interpretability import (
    TEST_FRACTION,
    Classifier,
    cross_entropy,
    hidden_features,
    init_relu_network,
    relu_classifier,
    train_relu_network,
)
from hiddenunits.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_rng,
    seeded_call,
)

Theta = tuple[np.ndarray, ...]

COMPARE_STEPS = 300
"""Steps of each run of :func:`compare` (and :func:`transformed_run_gap`) in the book."""



# ---------------------------------------------------------------- the group action
def signed_permutation(k: int, rng: int | np.random.Generator = 0) -> np.ndarray:
    """A uniformly random signed permutation matrix (k, k)."""
    k = check_int("k", k, minimum=1)
    gen = check_rng(rng)
    return np.eye(k)[gen.permutation(k)] * gen.choice([-1.0, 1.0], size=k)[:, None]


GL_STRETCH = 1.25
"""Default bound on the singular values of :func:`general_linear`: [1/stretch, stretch]."""


def general_linear(k: int, rng: int | np.random.Generator = 0,
                   stretch: float = GL_STRETCH) -> np.ndarray:
    """A random well-conditioned invertible G (k, k) = Q_1 diag(s) Q_2.

    Q_1, Q_2 are Haar-orthogonal and log s_i uniform on [-log stretch, log stretch], so the
    singular values of G lie in [1/stretch, stretch] (G is orthogonal only when stretch = 1).
    """
    from scipy.stats import ortho_group

    k = check_int("k", k, minimum=1)
    stretch = check_real("stretch", stretch, low=1.0)
    gen = check_rng(rng)
    q1 = ortho_group.rvs(k, random_state=gen).reshape(k, k)
    s = np.exp(gen.uniform(-math.log(stretch), math.log(stretch), size=k))
    return q1 @ np.diag(s) @ ortho_group.rvs(k, random_state=gen).reshape(k, k)


def act(G: ArrayLike, A: ArrayLike, B: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """G.(A, B) = (G A, B G^{-1}) for G invertible (k, k), A (k, n), B (m, k)."""
    G = check_array("G", G, ndim=2)
    k = G.shape[0]
    if G.shape != (k, k):
        raise ValueError(f"G must be square (k, k), got {G.shape}")
    A = check_array("A", A, shape=(k, None))
    B = check_array("B", B, shape=(None, k))
    if np.linalg.cond(G) > 1e12:
        raise ValueError("G must be invertible (its condition number exceeds 1e12)")
    return G @ A, np.linalg.solve(G.T, B.T).T


def _norm(theta: Sequence[np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum(p * p)) for p in theta))


def _dist(theta: Sequence[np.ndarray], phi: Sequence[np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum((p - q) ** 2)) for p, q in zip(theta, phi, strict=True)))


def transformed_run_gap(G: ArrayLike, steps: int = COMPARE_STEPS, lr: float = 0.5,
                        rng: int | np.random.Generator = 0) -> tuple[float, float, float]:
    """GD from theta_0 and from G.theta_0 on the digits autoencoder (theta_0 from ``rng``).

    Returns max_t ||theta'_t - G.theta_t|| / ||G.theta_t|| and the two final losses.
    """
    C = lae.digits_covariance()
    G = check_array("G", G, ndim=2)
    if G.shape[0] != G.shape[1] or not 1 <= G.shape[0] < C.shape[0]:
        raise ValueError(f"G must be a square (k, k) matrix with k < 64, got {G.shape}")
    steps = check_int("steps", steps, minimum=0)
    opt = optimizers.Optimizer("gd", lr=lr)
    theta0 = lae.init_factors(G.shape[0], C.shape[0], rng, "gaussian", 1.0)

    def grad(th, t):
        return lae.grads_unchecked(th[0], th[1], C)

    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(opt, theta0, grad, steps)
        run2 = optimizers.run(opt, act(G, *theta0), grad, steps)
    gap = max(_dist(act(G, *t1), t2) / _norm(act(G, *t1))
              for t1, t2 in zip(run1, run2, strict=True))
    return gap, lae.loss(*run1[-1], C), lae.loss(*run2[-1], C)


def equivariance_gap(G: ArrayLike, A: ArrayLike, B: ArrayLike, C: ArrayLike) -> float:
    """||grad L(G.theta) - G.grad L(theta)|| / ||grad L(theta)|| for the autoencoder loss."""
    gA, gB = lae.gradients(A, B, C)
    hA, hB = lae.gradients(*act(G, A, B), C)
    tA, tB = act(G, gA, gB)
    return _dist((hA, hB), (tA, tB)) / _norm((gA, gB))


# ---------------------------------------------------------------- trajectories
GROUPS = ("orthogonal", "signed permutation", "general linear")
"""How the change of basis of :func:`compare` is drawn: Haar-random orthogonal
(``scipy.stats.ortho_group``), a random signed permutation, or a random well-conditioned
invertible matrix (:func:`general_linear`)."""


@dataclass(frozen=True)
class Case:
    """One training procedure for the equivariance experiment."""

    name: str
    """A label for tables and figures."""
    optimizer: optimizers.Optimizer
    """The method and its settings."""
    batch_size: int | None = None
    """Examples per minibatch (None: full batch)."""
    dropout: float = 0.0
    """Probability of dropping a hidden unit at a step, in [0, 1)."""
    group: str = "orthogonal"
    """How the change of basis is drawn, one of ``GROUPS``."""
    equivariant: bool = True
    """Whether trajectory equivariance predicts that the two runs agree."""

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")
        if not isinstance(self.optimizer, optimizers.Optimizer):
            raise ValueError("optimizer must be an optimizers.Optimizer")
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1, maximum=1797)
        check_real("dropout", self.dropout, low=0.0, high=1.0, high_open=True)
        check_choice("group", self.group, GROUPS)
        check_bool("equivariant", self.equivariant)


CASES: tuple[Case, ...] = (
    Case("gradient descent", optimizers.Optimizer("gd", lr=0.5)),
    Case("SGD, same minibatches", optimizers.Optimizer("gd", lr=0.5), batch_size=128),
    Case("heavy ball", optimizers.Optimizer("heavy_ball", lr=0.05, momentum=0.9)),
    Case("Nesterov", optimizers.Optimizer("nesterov", lr=0.05, momentum=0.9)),
    Case("GD + L2 weight decay", optimizers.Optimizer("gd", lr=0.5, weight_decay=1e-2)),
    Case("Adam", optimizers.Optimizer("adam", lr=0.01), equivariant=False),
    Case("RMSProp", optimizers.Optimizer("rmsprop", lr=0.003), equivariant=False),
    Case("Adagrad", optimizers.Optimizer("adagrad", lr=0.05), equivariant=False),
    Case("GD + L1 penalty", optimizers.Optimizer("gd", lr=0.5, l1=1e-3), equivariant=False),
    Case("GD + dropout on hidden units", optimizers.Optimizer("gd", lr=0.2), dropout=0.25,
         equivariant=False),
    Case("Adam, signed permutation", optimizers.Optimizer("adam", lr=0.01),
         group="signed permutation"),
)
"""The procedures of the book's equivariance table, in its order."""


def case(name: str) -> Case:
    """The procedure of ``CASES`` called ``name`` (e.g. ``"Adam"``)."""
    for c in CASES:
        if c.name == name:
            return c
    raise ValueError(f"no procedure named {name!r}; the names are {[c.name for c in CASES]}")


def step_gradients(case: Case, steps: int, k: int,
                   rng: int | np.random.Generator = 0) -> optimizers.GradFn:
    """The step-t gradient of the digits autoencoder loss (k hidden units) for ``case``.

    Minibatches and dropout masks of all ``steps`` steps are drawn from ``rng`` up front,
    so that two runs calling the returned function see the same step losses.
    """
    if not isinstance(case, Case):
        raise ValueError(f"case must be a Case, got {type(case).__name__}")
    steps = check_int("steps", steps, minimum=1)
    k = check_int("k", k, minimum=1, maximum=63)
    rng = check_rng(rng)
    x = lae.digits_centred()
    C = lae.digits_covariance()
    covs = masks = None
    if case.batch_size is not None:
        covs = []
        while len(covs) < steps:
            perm = rng.permutation(len(x))
            for i in range(0, len(x) - case.batch_size + 1, case.batch_size):
                xb = x[perm[i:i + case.batch_size]]
                covs.append(xb.T @ xb / len(xb))
    if case.dropout > 0:
        keep = rng.random(size=(steps, k)) >= case.dropout
        masks = keep / (1.0 - case.dropout)

    def grad(theta, t):
        Ct = C if covs is None else covs[t]
        return lae.grads_unchecked(theta[0], theta[1], Ct, None if masks is None else masks[t])

    return grad


@dataclass(frozen=True)
class Comparison:
    """Two runs of one procedure, from theta_0 and from M.theta_0 (M drawn from the group)."""

    case: Case
    """The procedure."""
    deviation: np.ndarray
    """||theta'_t - M.theta_t|| / ||theta_t|| for t = 0..steps, (steps + 1,)."""
    loss: np.ndarray
    """L(theta_t) on the full data at about 30 steps, the last one last."""
    loss_rotated: np.ndarray
    """L(theta'_t) at the same steps."""
    product_gap: float
    """||B'A' - BA||_F at the end."""


def compare(case: Case, steps: int = COMPARE_STEPS,
            rng: int | np.random.Generator = 0) -> Comparison:
    """Train from theta_0 and from M.theta_0 with the same data order, masks and settings.

    ``rng`` draws theta_0 (Gaussian, PyTorch's variance, k = 4), then M (from the case's
    group), then the minibatches and dropout masks.  Results for a seed are cached.
    """
    if not isinstance(case, Case):
        raise ValueError(f"case must be a Case, got {type(case).__name__}")
    return seeded_call(_compare, case, check_int("steps", steps, minimum=1), rng)


@lru_cache(maxsize=32)
def _compare(case: Case, steps: int, rng: int | np.random.Generator) -> Comparison:
    from scipy.stats import ortho_group

    C = lae.digits_covariance()
    k = 4
    gen = check_rng(rng)
    theta0 = lae.init_factors(k, C.shape[0], gen, "gaussian", 1.0)
    if case.group == "orthogonal":
        M = ortho_group.rvs(k, random_state=gen)
    elif case.group == "signed permutation":
        M = signed_permutation(k, gen)
    else:
        M = general_linear(k, gen)
    grad = step_gradients(case, steps, k, gen)
    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(case.optimizer, theta0, grad, steps)
        run2 = optimizers.run(case.optimizer, act(M, *theta0), grad, steps)
        A1, B1 = np.array([t[0] for t in run1]), np.array([t[1] for t in run1])
        A2, B2 = np.array([t[0] for t in run2]), np.array([t[1] for t in run2])
        M_inv = np.linalg.inv(M)  # M.theta = (M A, B M^-1), for every step at once
        gap = (np.sum((M @ A1 - A2) ** 2, axis=(1, 2))
               + np.sum((B1 @ M_inv - B2) ** 2, axis=(1, 2)))
        dev = np.sqrt(gap / (np.sum(A1 ** 2, axis=(1, 2)) + np.sum(B1 ** 2, axis=(1, 2))))
        keep = sorted(set(range(0, steps + 1, max(1, steps // 30))) | {steps})
        l1 = np.array([lae.loss_unchecked(*run1[i], C) for i in keep])
        l2 = np.array([lae.loss_unchecked(*run2[i], C) for i in keep])
    gap = float(np.linalg.norm(run1[-1][1] @ run1[-1][0] - run2[-1][1] @ run2[-1][0]))
    for a in (dev, l1, l2):
        a.setflags(write=False)
    return Comparison(case, dev, l1, l2, gap)


# ---------------------------------------------------------------- symmetric initialisations
MODELS = ("relu", "linear")
"""Models of :func:`stabiliser_run`: the ReLU digit classifier (64-32-10, minibatch SGD) and
the digits autoencoder (k = 4, full-batch gradient descent or Nesterov's method)."""


@dataclass(frozen=True)
class StabiliserRun:
    """A training run from an initialisation in which some hidden units are tied (equal)."""

    model: str
    """One of ``MODELS``."""
    tied: int
    """Hidden units 1..tied started with equal parameters (incoming, bias, outgoing)."""
    tie_outgoing: bool
    """Whether the outgoing weights were tied too (else only incoming weights and bias)."""
    dropout: float
    """Probability of dropping a hidden unit at a step."""
    deviation: np.ndarray
    """max_{i <= tied} ||u_i - u_1|| / max_i ||u_i|| before and after every step, read-only.

    u_i collects the parameters of hidden unit i (its row of W1 or A, its bias, its column
    of W2 or B)."""
    accuracy: float
    """Test accuracy at the end (ReLU classifier), or NaN."""
    loss: float
    """Training loss at the end (cross-entropy, or the autoencoder loss)."""


def unit_parameters(params: Sequence[np.ndarray], model: str = "relu") -> np.ndarray:
    """The parameters of each hidden unit as the rows of a matrix (k, ...).

    ReLU classifier [W1 (k, d), b1 (k,), W2 (c, k), b2]: row i is (W1[i], b1[i], W2[:, i]).
    Linear autoencoder (A (k, n), B (n, k)): row i is (A[i], B[:, i]).
    """
    check_choice("model", model, MODELS)
    if model == "relu":
        W1, b1, W2 = (check_array(name, p) for name, p in zip(("W1", "b1", "W2"), params[:3],
                                                                strict=True))
        return np.concatenate([W1, b1[:, None], W2.T], axis=1)
    A, B = (check_array(name, p, ndim=2) for name, p in zip(("A", "B"), params, strict=True))
    return np.concatenate([A, B.T], axis=1)


def tie_deviation(units: ArrayLike, tied: int) -> float:
    """max_{i < tied} ||u_i - u_0|| / max_i ||u_i|| for unit rows ``units`` (k, p)."""
    units = check_array("units", units, ndim=2)
    tied = check_int("tied", tied, minimum=2, maximum=len(units))
    return float(np.linalg.norm(units[1:tied] - units[0], axis=1).max()
                 / np.linalg.norm(units, axis=1).max())


STABILISER_EPOCHS = 5
"""Epochs of the ReLU runs of :func:`stabiliser_run`."""
STABILISER_STEPS = 300
"""Gradient steps of the autoencoder runs of :func:`stabiliser_run`."""
STABILISER_DROPOUT = 0.25
"""The dropout probability of the book's runs that break a tie."""


def stabiliser_run(model: str = "relu", tied: int = 2, tie_outgoing: bool = True,
                   dropout: float = 0.0, method: str = "gd",
                   rng: int | np.random.Generator = 0) -> StabiliserRun:
    """Train from an initialisation whose hidden units 1..``tied`` are equal.

    ``relu``: the digit classifier from PyTorch's default law
    (:func:`~hiddenunits.interpretability.init_relu_network`),
    then units 2..tied copied from unit 1, trained by minibatch SGD for
    ``STABILISER_EPOCHS`` epochs (``method`` must be ``gd``).  ``linear``: the digits
    autoencoder with k = 4 from a Gaussian law with PyTorch's variance, tied the same way,
    trained for ``STABILISER_STEPS`` full-batch steps of ``gd`` (step 0.2) or ``nesterov``
    (step 0.05, momentum 0.9).  ``tie_outgoing=False`` ties only the incoming weights and
    biases; ``dropout`` drops each hidden unit at each step with that probability.
    ``rng`` draws the initialisation, then the minibatches and masks.  Cached for a seed.
    """
    check_choice("model", model, MODELS)
    tied = check_int("tied", tied, minimum=2, maximum=32 if model == "relu" else 4)
    check_choice("method", method, ("gd", "nesterov"))
    if model == "relu" and method != "gd":
        raise ValueError("the ReLU runs use minibatch SGD (method 'gd')")
    return seeded_call(_stabiliser_run, model, tied, check_bool("tie_outgoing", tie_outgoing),
                       check_real("dropout", dropout, low=0.0, high=1.0, high_open=True),
                       method, rng)


def _tie(params: list[np.ndarray], model: str, tied: int, outgoing: bool) -> list[np.ndarray]:
    if model == "relu":
        W1, b1, W2, b2 = params
        W1[1:tied], b1[1:tied] = W1[0], b1[0]
        if outgoing:
            W2[:, 1:tied] = W2[:, :1]
        return [W1, b1, W2, b2]
    A, B = params
    A[1:tied] = A[0]
    if outgoing:
        B[:, 1:tied] = B[:, :1]
    return [A, B]


@lru_cache(maxsize=16)
def _stabiliser_run(model: str, tied: int, tie_outgoing: bool, dropout: float, method: str,
                    rng: int | np.random.Generator) -> StabiliserRun:
    gen = check_rng(rng)
    if model == "relu":
        params = _tie(init_relu_network(32, gen), model, tied, tie_outgoing)
        final, dev = train_relu_network(
            params, STABILISER_EPOCHS, gen, dropout=dropout,
            monitor=lambda p: tie_deviation(unit_parameters(p, "relu"), tied))
        split = digits_split(TEST_FRACTION, rng=0)
        z = hidden_features(Classifier(*final, 0.0, 0.0), split.x_test) @ final[2].T + final[3]
        acc = float((z.argmax(1) == split.y_test).mean())
        loss = cross_entropy(*final, split.x_train.astype(np.float64), split.y_train)
    else:
        C = lae.digits_covariance()
        theta0 = _tie(list(lae.init_factors(4, C.shape[0], gen, "gaussian", 1.0)), model,
                      tied, tie_outgoing)
        opt = (optimizers.Optimizer("gd", lr=0.2) if method == "gd"
               else optimizers.Optimizer("nesterov", lr=0.05, momentum=0.9))
        grad = step_gradients(Case("tied", opt, dropout=dropout), STABILISER_STEPS, 4, gen)
        with threadpool_limits(1, "blas"):
            traj = optimizers.run(opt, theta0, grad, STABILISER_STEPS)
        dev = np.array([tie_deviation(unit_parameters(t, "linear"), tied) for t in traj])
        acc, loss = math.nan, lae.loss(*traj[-1], C)
    dev.setflags(write=False)
    return StabiliserRun(model, tied, tie_outgoing, dropout, dev, acc, float(loss))


# ---------------------------------------------------------------- the law of the learned weights
@dataclass(frozen=True)
class LawStudy:
    """Many k = m = n = 2 models fitted to W* = diag(2, 1) by GD, at init and trained.

    Arrays are read-only; the first axis indexes the runs.
    """

    law: str
    """Law of the initial entries (``lae.LAWS``)."""
    decoder_zero: bool
    """Whether B started at 0."""
    hidden_scales: tuple[float, float]
    """Factors multiplying the initial weights of hidden unit 1 and of hidden unit 2."""
    A0: np.ndarray
    """Initial encoders (samples, 2, 2)."""
    A: np.ndarray
    """Trained encoders (samples, 2, 2)."""
    B: np.ndarray
    """Trained decoders (samples, 2, 2)."""
    final_error: float
    """max |B A - W*| at the end."""

    @property
    def psi0(self) -> np.ndarray:
        """Angle (radians) of the initial hidden vector A_0 e_1, (samples,)."""
        return hidden_angles(self.A0)[:, 0]

    @property
    def psi(self) -> np.ndarray:
        """Angle (radians) of the trained hidden vector A e_1, (samples,)."""
        return hidden_angles(self.A)[:, 0]


def hidden_angles(A: ArrayLike) -> np.ndarray:
    """Angles (radians, in (-pi, pi]) of the columns A e_j of encoders A (samples, 2, n)."""
    A = check_array("A", A, ndim=3)
    if A.shape[1] != 2:
        raise ValueError(f"A must have shape (samples, 2, n), got {A.shape}")
    return np.arctan2(A[:, 1, :], A[:, 0, :])


LAW_TARGET = (2.0, 1.0)
"""The diagonal of the target W* of :func:`law_study`."""
LAW_STEPS = 200
"""Gradient steps of :func:`law_study`."""
LAW_LR = 0.1
"""Step size of :func:`law_study`."""


def law_study(law: str = "gaussian", decoder_zero: bool = False, samples: int = 32000,
              rng: int | np.random.Generator = 0, steps: int = LAW_STEPS, lr: float = LAW_LR,
              hidden_scales: tuple[float, float] = (1.0, 1.0)) -> LawStudy:
    """Fit B A = W* = diag(2, 1) with (A, B) (2, 2) by GD from ``samples`` i.i.d. inits.

    Entries follow nn.Linear's law (fan-in 2): U(-1/sqrt 2, 1/sqrt 2) for ``uniform``,
    N(0, 1/6) (same variance) for ``gaussian`` (``law`` is one of ``lae.LAWS``);
    ``decoder_zero`` starts B at 0; ``hidden_scales`` multiplies row i of A_0 and column
    i of B_0 by its i-th entry.  Results for a seed are cached.
    """
    check_choice("law", law, lae.LAWS)
    scales = check_array("hidden_scales", hidden_scales, shape=(2,))
    if np.any(scales <= 0):
        raise ValueError(f"hidden_scales must be positive, got {hidden_scales!r}")
    return seeded_call(_law_study, law, check_bool("decoder_zero", decoder_zero),
                       check_int("samples", samples, minimum=2),
                       check_int("steps", steps, minimum=0),
                       check_real("lr", lr, low=0.0, low_open=True),
                       (float(scales[0]), float(scales[1])), rng)


@lru_cache(maxsize=8)
def _law_study(law: str, decoder_zero: bool, samples: int, steps: int, lr: float,
               hidden_scales: tuple[float, float],
               rng: int | np.random.Generator) -> LawStudy:
    gen = check_rng(rng)
    bound = 1 / math.sqrt(2)
    if law == "uniform":
        a, b = gen.uniform(-bound, bound, size=(2, 2, 2, samples))
    else:
        a, b = gen.normal(0.0, bound / math.sqrt(3), size=(2, 2, 2, samples))
    s = np.array(hidden_scales)
    a, b = a * s[:, None, None], b * s[None, :, None]  # (2, 2, samples): hidden index first/last
    if decoder_zero:
        b = np.zeros_like(b)
    a0 = a
    target = np.diag(LAW_TARGET)[:, :, None]
    for _ in range(steps):
        E = np.einsum("ils,ljs->ijs", b, a) - target  # (2, 2, samples): B A - W*
        a, b = (a - lr * np.einsum("lis,ljs->ijs", b, E),
                b - lr * np.einsum("ils,jls->ijs", E, a))
    err = float(np.abs(np.einsum("ils,ljs->ijs", b, a) - target).max())
    arrays = [np.ascontiguousarray(np.moveaxis(m, -1, 0)) for m in (a0, a, b)]
    for m in arrays:
        m.setflags(write=False)
    return LawStudy(law, decoder_zero, hidden_scales, *arrays, err)


def fourier_mean(psi: ArrayLike, order: int) -> tuple[float, float]:
    """Sample mean of cos(order psi) and its standard error under a uniform angle, 1/sqrt(2N)."""
    psi = check_array("psi", psi, ndim=1)
    if len(psi) < 2:
        raise ValueError("psi must hold at least two angles")
    order = check_int("order", order, minimum=1)
    return float(np.cos(order * psi).mean()), 1.0 / math.sqrt(2 * len(psi))


SQUARE_COS4 = 3 - math.pi
"""E cos 4 psi for the angle psi of a point uniform in a square."""


# ---------------------------------------------------------------- ReLU layers
def relu_equivariant(M: ArrayLike, z: ArrayLike) -> bool:
    """Whether relu(M z) = M relu(z) (to 1e-12) for every column z of ``z`` (k, s)."""
    M = check_array("M", M, ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got {M.shape}")
    z = check_array("z", z, shape=(M.shape[0], None))
    return bool(commutes_with_relu(M[None], z)[0])


def commutes_with_relu(Ms: ArrayLike, z: ArrayLike) -> np.ndarray:
    """For each M in ``Ms`` (count, k, k): whether relu(M z) = M relu(z) for the columns of z.

    ``z`` is (k, s); equality is to 1e-12 relative to max(1, max|M| max|z|).
    """
    Ms = check_array("Ms", Ms, ndim=3)
    if Ms.shape[1] != Ms.shape[2]:
        raise ValueError(f"Ms must hold square matrices (count, k, k), got {Ms.shape}")
    z = check_array("z", z, shape=(Ms.shape[1], None))
    gap = np.abs(np.maximum(Ms @ z, 0.0) - Ms @ np.maximum(z, 0.0)).max(axis=(1, 2))
    scale = np.maximum(1.0, np.abs(Ms).max(axis=(1, 2)) * np.abs(z).max())
    return gap <= 1e-12 * scale


def is_positive_monomial(M: ArrayLike) -> bool | np.ndarray:
    """Whether M (k, k) is a permutation matrix times a positive diagonal (also for a stack)."""
    M = check_array("M", M, ndim=(2, 3))
    stack = M if M.ndim == 3 else M[None]
    out = (np.all(stack >= 0, axis=(1, 2)) & np.all((stack > 0).sum(1) == 1, axis=1)
           & np.all((stack > 0).sum(2) == 1, axis=1))
    return bool(out[0]) if M.ndim == 2 else out


@dataclass(frozen=True)
class Census:
    """The invertible k x k matrices with entries in a finite set, and which commute with relu."""

    k: int
    """Size of the matrices."""
    values: tuple[float, ...]
    """The allowed entries."""
    matrices: np.ndarray
    """The invertible matrices (count, k, k), read-only."""
    equivariant: np.ndarray
    """(count,) booleans: relu(M z) = M relu(z) on the probe vectors, read-only."""

    @property
    def count(self) -> int:
        """Number of invertible matrices."""
        return len(self.matrices)

    @property
    def equivariant_count(self) -> int:
        """Number of those that commute with relu."""
        return int(self.equivariant.sum())


def relu_symmetry_census(k: int, values: Sequence[float], probes: int = 16,
                         rng: int | np.random.Generator = 0) -> Census:
    """Enumerate the invertible M (k, k) with entries in ``values`` and test relu(M z) = M relu(z).

    M counts as commuting with relu when the equality holds for ``probes`` Gaussian
    vectors z drawn from ``rng`` (a non-commuting M fails on a cone of positive measure).
    At most 300000 matrices are enumerated.
    """
    k = check_int("k", k, minimum=1)
    vals = check_array("values", values, ndim=1)
    if len(vals) ** (k * k) > 300_000:
        raise ValueError("the enumeration is limited to 300000 matrices")
    probes = check_int("probes", probes, minimum=1)
    z = check_rng(rng).normal(size=(k, probes))
    Ms = np.array(list(itertools.product(vals, repeat=k * k))).reshape(-1, k, k)
    Ms = Ms[np.abs(np.linalg.det(Ms)) > 1e-9]
    equiv = commutes_with_relu(Ms, z)
    Ms.setflags(write=False)
    equiv.setflags(write=False)
    return Census(k, tuple(float(v) for v in vals), Ms, equiv)


@lru_cache(maxsize=1)
def relu_census() -> tuple[Census, Census]:
    """The census of the book: k = 2 with seven values, k = 3 with {-1, 0, 1}."""
    return (relu_symmetry_census(2, (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)),
            relu_symmetry_census(3, (-1.0, 0.0, 1.0)))


# ---------------------------------------------------------------- orbits and paths
def _skew(k: int, rng: np.random.Generator) -> np.ndarray:
    X = rng.normal(size=(k, k))
    S = X - X.T
    return S / np.linalg.norm(S)


def _read_only(ts: Sequence[float], profiles: dict[str, list[float]]
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    arrays = [np.array(ts)] + [np.array(v) for v in profiles.values()]
    for a in arrays:
        a.setflags(write=False)
    return arrays[0], dict(zip(profiles, arrays[1:], strict=True))


def _grid(ts: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(t) for t in check_array("ts", ts, ndim=1))


DEFAULT_TS = tuple(float(t) for t in np.linspace(-2, 2, 41))


def orbit_profiles(rng: int | np.random.Generator = 0, ts: Sequence[float] = DEFAULT_TS
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Loss of a trained autoencoder along exp(t S) (O(k)), exp(t X) (GL(k)) and a line.

    S (skew) and X are random unit-norm directions, the line leaves the trained point at
    the speed of the O(k)-orbit.  Returns ``ts`` and the three loss profiles, keyed
    ``"O(k) orbit"``, ``"GL(k) orbit"`` and ``"random direction"``.
    """
    ts, profiles = seeded_call(_orbit_profiles, _grid(ts), rng)
    return ts, dict(profiles)


@lru_cache(maxsize=2)
def _orbit_profiles(ts: tuple[float, ...], rng: int | np.random.Generator):
    C = lae.digits_covariance()
    A, B, _ = lae.train(lae.TrainSpec())
    k = len(A)
    gen = check_rng(rng)
    S = _skew(k, gen)
    X = gen.normal(size=(k, k))
    X /= np.linalg.norm(X)
    speed = _norm((S @ A, -B @ S))  # the orbit's velocity at t = 0
    d = (gen.normal(size=A.shape), gen.normal(size=B.shape))
    d = tuple(p * speed / _norm(d) for p in d)
    out = {"O(k) orbit": [], "GL(k) orbit": [], "random direction": []}
    for t in ts:
        out["O(k) orbit"].append(lae.loss(*act(scipy.linalg.expm(t * S), A, B), C))
        out["GL(k) orbit"].append(lae.loss(*act(scipy.linalg.expm(t * X), A, B), C))
        out["random direction"].append(lae.loss(A + t * d[0], B + t * d[1], C))
    return _read_only(ts, out)


CODE_PATHS = {"k": 2, "steps": 300, "lr": 0.1, "init_scale": 0.3, "degrees": 120,
              "digits": (0, 1, 6)}
"""Settings of :func:`hidden_code_paths`."""


def hidden_code_paths(steps: int = CODE_PATHS["steps"], rng: int | np.random.Generator = 3
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden codes A_t x of three digits (a 0, a 1, a 6) along GD from theta_0 and P.theta_0.

    k = 2, P is the rotation by 120 degrees, theta_0 Gaussian at 0.3 times PyTorch's scale
    drawn from ``rng``, steps of size 0.1 (``CODE_PATHS``).  Returns the codes of both runs,
    (steps + 1, 2, 3) each, and P.
    """
    return seeded_call(_hidden_code_paths, check_int("steps", steps, minimum=0), rng)


@lru_cache(maxsize=1)
def _hidden_code_paths(steps: int, rng: int | np.random.Generator):
    C = lae.digits_covariance()
    x = lae.digits_centred()
    y = digits()[1]
    idx = [int(np.flatnonzero(y == d)[0]) for d in CODE_PATHS["digits"]]
    theta0 = lae.init_factors(CODE_PATHS["k"], C.shape[0], rng, "gaussian",
                              CODE_PATHS["init_scale"])
    angle = math.radians(CODE_PATHS["degrees"])
    P = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    opt = optimizers.Optimizer("gd", lr=CODE_PATHS["lr"])

    def grad(th, t):
        return lae.grads_unchecked(th[0], th[1], C)

    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(opt, theta0, grad, steps)
        run2 = optimizers.run(opt, act(P, *theta0), grad, steps)
    codes1 = np.array([t[0] @ x[idx].T for t in run1])  # (steps + 1, 2, 3)
    codes2 = np.array([t[0] @ x[idx].T for t in run2])
    for a in (codes1, codes2, P):
        a.setflags(write=False)
    return codes1, codes2, P


def _relu_data() -> tuple[Classifier, np.ndarray, np.ndarray]:
    net = relu_classifier()
    split = digits_split(TEST_FRACTION, rng=0)
    return net, split.x_train.astype(np.float64), split.y_train


def change_hidden_basis(net: Classifier, M: ArrayLike) -> tuple[np.ndarray, ...]:
    """The parameters after the change of hidden basis M: (M W1, M b1, W2 M^-1, b2)."""
    if not isinstance(net, Classifier):
        raise ValueError(f"net must be a Classifier, got {type(net).__name__}")
    k = len(net.b1)
    M = check_array("M", M, shape=(k, k))
    return M @ net.W1, M @ net.b1, np.linalg.solve(M.T, net.W2.T).T, net.b2


def relu_profiles(rng: int | np.random.Generator = 0, ts: Sequence[float] = DEFAULT_TS
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Training loss of the digit classifier along a rotation, a positive scaling and a line.

    Keys: ``"rotation exp(tS)"``, ``"positive scaling exp(t diag(s))"``, ``"random
    direction"``; all three paths leave the trained point at the same speed.
    """
    ts, profiles = seeded_call(_relu_profiles, _grid(ts), rng)
    return ts, dict(profiles)


@lru_cache(maxsize=1)
def _relu_profiles(ts: tuple[float, ...], rng: int | np.random.Generator):
    net, x, y = _relu_data()
    k = len(net.b1)
    gen = check_rng(rng)
    S = _skew(k, gen)
    speed = _norm((S @ net.W1, S @ net.b1, net.W2 @ S))
    s = gen.normal(size=k)
    s *= speed / _norm((s[:, None] * net.W1, s * net.b1, net.W2 * s))
    base = (net.W1, net.b1, net.W2, net.b2)
    d = [gen.normal(size=p.shape) for p in base[:3]]
    d = [p * speed / _norm(d) for p in d] + [np.zeros_like(net.b2)]
    out = {"rotation exp(tS)": [], "positive scaling exp(t diag(s))": [],
           "random direction": []}
    with threadpool_limits(1, "blas"):
        for t in ts:
            out["rotation exp(tS)"].append(
                cross_entropy(*change_hidden_basis(net, scipy.linalg.expm(t * S)), x, y))
            out["positive scaling exp(t diag(s))"].append(
                cross_entropy(*change_hidden_basis(net, np.diag(np.exp(t * s))), x, y))
            out["random direction"].append(
                cross_entropy(*(p + t * q for p, q in zip(base, d, strict=True)), x, y))
    return _read_only(ts, out)


def monomial_change(rng: int | np.random.Generator = 0) -> float:
    """max relative change of the classifier's logits under a random positive monomial M."""
    return seeded_call(_monomial_change, rng)


@lru_cache(maxsize=1)
def _monomial_change(rng: int | np.random.Generator) -> float:
    net, x, _ = _relu_data()
    k = len(net.b1)
    gen = check_rng(rng)
    M = np.eye(k)[gen.permutation(k)] * np.exp(gen.normal(size=k))[:, None]
    W1, b1, W2, b2 = change_hidden_basis(net, M)
    z0 = np.maximum(x @ net.W1.T + net.b1, 0) @ net.W2.T + net.b2
    z1 = np.maximum(x @ W1.T + b1, 0) @ W2.T + b2
    return float(np.abs(z1 - z0).max() / np.abs(z0).max())
