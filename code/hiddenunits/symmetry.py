"""The symmetry group of a linear hidden layer and what training does with it.

For a loss that depends on a product, L(A, B) = l(B A), every invertible G (k, k) acts by
G.(A, B) = (G A, B G^{-1}) and leaves L unchanged.  Orthogonal P act as isometries of
parameter space, so gradients and gradient-based trajectories rotate with them; general
G do not.  A ReLU between the layers leaves only permutations times positive scalings.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from hiddenunits import linear_autoencoder as lae
from hiddenunits import optimizers
from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure


# ---------------------------------------------------------------- the group action
def haar_orthogonal(k: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal matrix (k, k) (QR of a Gaussian with the sign fix)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    q, r = np.linalg.qr(rng.normal(size=(k, k)))
    return q * np.sign(np.diag(r))


def signed_permutation(k: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random signed permutation matrix (k, k)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return np.eye(k)[rng.permutation(k)] * rng.choice([-1.0, 1.0], size=k)[:, None]


def act(G, A, B) -> tuple[np.ndarray, np.ndarray]:
    """G.(A, B) = (G A, B G^{-1}) for G invertible (k, k), A (k, n), B (m, k)."""
    G = np.asarray(G, dtype=np.float64)
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    k = G.shape[0] if G.ndim == 2 else -1
    if G.shape != (k, k) or A.ndim != 2 or B.ndim != 2 or A.shape[0] != k or B.shape[1] != k:
        raise ValueError(f"need G (k, k), A (k, n), B (m, k); got {G.shape}, {A.shape}, "
                         f"{B.shape}")
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise ValueError("G, A and B must be finite")
    if np.linalg.cond(G) > 1e12:
        raise ValueError("G must be invertible")
    return G @ A, np.linalg.solve(G.T, B.T).T


def _norm(theta) -> float:
    return math.sqrt(sum(float(np.sum(p * p)) for p in theta))


def _dist(theta, phi) -> float:
    return math.sqrt(sum(float(np.sum((p - q) ** 2)) for p, q in zip(theta, phi, strict=True)))


# ---------------------------------------------------------------- symbolic checks
@lru_cache(maxsize=1)
def chain_rule_residual() -> float:
    """Symbolic: d/dA l(BA) = B^T E and d/dB l(BA) = E A^T with E = grad l(BA).

    Checked entrywise for k = n = m = 2 and a generic cubic loss l; returns the number of
    entries that sympy does not reduce to zero.
    """
    import sympy as sp

    a = sp.Matrix(2, 2, sp.symbols("a0:4"))
    b = sp.Matrix(2, 2, sp.symbols("b0:4"))
    y = sp.Matrix(2, 2, sp.symbols("y0:4"))
    w = sp.Matrix(2, 2, sp.symbols("w0:4"))
    ell = sum((w[i] - y[i]) ** 2 for i in range(4)) / 2 + w[1] * w[2] * w[3]  # not invariant
    at_ba = {w[i]: (b * a)[i] for i in range(4)}
    L = ell.xreplace(at_ba)
    E = sp.Matrix(2, 2, lambda i, j: sp.diff(ell, w[i, j])).xreplace(at_ba)
    gA = sp.Matrix(2, 2, lambda i, j: sp.diff(L, a[i, j]))
    gB = sp.Matrix(2, 2, lambda i, j: sp.diff(L, b[i, j]))
    return float(sum(sp.expand(r) != 0 for r in list(gA - b.T * E) + list(gB - E * a.T)))


def matrix_symbols():
    """Sympy matrix symbols of any sizes: A (k, n), B (m, k), G, P (k, k), E = grad l (m, n)."""
    import sympy as sp

    k, n, m = sp.symbols("k n m", integer=True, positive=True)
    return (sp.MatrixSymbol("A", k, n), sp.MatrixSymbol("B", m, k), sp.MatrixSymbol("G", k, k),
            sp.MatrixSymbol("P", k, k), sp.MatrixSymbol("E", m, n))


def symbolic_zero(expr, orthogonal=None) -> bool:
    """Whether sympy reduces a matrix (or scalar) expression to zero.

    ``orthogonal``: a matrix symbol assumed orthogonal (P^T P = I) while simplifying.
    """
    import sympy as sp

    e = sp.expand(expr)
    if orthogonal is not None:
        e = sp.refine(e, sp.Q.orthogonal(orthogonal))
    e = sp.expand(e.doit())
    return bool(e == 0 or isinstance(e, sp.ZeroMatrix) or sp.simplify(e) == 0)


@claim("prop-orbit-invariance", chapter="basis",
       statement="L(G A, B G^-1) = L(A, B) for all G in GL(k); O(k) acts by isometries",
       method="symbolic", tolerance=0.0)
def check_orbit_invariance() -> float:
    """Symbolic, for all sizes: (B G^-1)(G A) = B A; ||P A||^2 + ||B P^T||^2 is unchanged."""
    import sympy as sp

    A, B, G, P, _ = matrix_symbols()
    tr = sp.Trace
    # ||M||_F^2 = tr(M^T M) = tr(M M^T); each form chosen so that P^T P meets itself
    iso = (tr((P * A).T * (P * A)) + tr((B * P.T) * (B * P.T).T)
           - tr(A.T * A) - tr(B * B.T))
    return float(not symbolic_zero((B * G.I) * (G * A) - B * A)) + float(
        not symbolic_zero(iso, orthogonal=P))


@claim("lem-gradient-equivariance", chapter="basis",
       statement="grad L(G.theta) = (G^-T grad_A, grad_B G^T); for orthogonal P this is "
                 "P.grad L(theta)",
       method="symbolic", tolerance=0.0)
def check_gradient_equivariance() -> float:
    """Symbolic: chain rule (k = n = m = 2), then the transformation laws for all sizes."""
    A, B, G, P, E = matrix_symbols()
    res = chain_rule_residual()
    # at G.theta the product, hence E = grad l(B A), is unchanged (checked above)
    res += not symbolic_zero((B * G.I).T * E - G.I.T * (B.T * E))  # grad_A
    res += not symbolic_zero(E * (G * A).T - (E * A.T) * G.T)  # grad_B
    # orthogonal P: the contragredient law is the action P.(gA, gB) = (P gA, gB P^-1)
    res += not symbolic_zero((B * P.I).T * E - P * (B.T * E), orthogonal=P)
    res += not symbolic_zero(E * (P * A).T - (E * A.T) * P.I, orthogonal=P)
    return float(res)


def transformed_run_gap(G, steps: int = 300, lr: float = 0.5,
                        seed: int = 0) -> tuple[float, float, float]:
    """GD from theta_0 and from G.theta_0 on the digits autoencoder.

    Returns max_t ||theta'_t - G.theta_t|| / ||G.theta_t|| and the two final losses.
    """
    C = lae.digits_covariance()
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or not 1 <= G.shape[0] <= C.shape[0]:
        raise ValueError(f"G must be a square (k, k) matrix with k <= 64, got {G.shape}")
    theta0 = lae.init_factors(G.shape[0], C.shape[0], seed, "gaussian", 1.0)
    opt = optimizers.Optimizer("gd", lr=lr)

    def grad(th, t):
        return lae.grads_unchecked(th[0], th[1], C)

    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(opt, theta0, grad, steps)
        run2 = optimizers.run(opt, act(G, *theta0), grad, steps)
    gap = max(_dist(act(G, *t1), t2) / _norm(act(G, *t1))
              for t1, t2 in zip(run1, run2, strict=True))
    return gap, lae.loss(*run1[-1], C), lae.loss(*run2[-1], C)


def equivariance_gap(G, A, B, C) -> float:
    """||grad L(G.theta) - G.grad L(theta)|| / ||grad L(theta)|| for the autoencoder loss."""
    gA, gB = lae.gradients(A, B, C)
    hA, hB = lae.gradients(*act(G, A, B), C)
    tA, tB = act(G, gA, gB)
    return _dist((hA, hB), (tA, tB)) / _norm((gA, gB))


# ---------------------------------------------------------------- trajectories
@dataclass(frozen=True)
class Case:
    """One training procedure for the equivariance experiment."""

    name: str
    optimizer: optimizers.Optimizer
    batch_size: int | None = None  # None: full batch
    dropout: float = 0.0  # probability of dropping a hidden unit
    group: str = "orthogonal"  # the transformation P: "orthogonal" or "signed permutation"
    equivariant: bool = True  # what the theorem predicts


CASES: tuple[Case, ...] = (
    Case("gradient descent", optimizers.Optimizer("gd", lr=0.5)),
    Case("SGD, same minibatches", optimizers.Optimizer("gd", lr=0.5), batch_size=128),
    Case("heavy ball", optimizers.Optimizer("heavy_ball", lr=0.05, momentum=0.9)),
    Case("Nesterov", optimizers.Optimizer("nesterov", lr=0.05, momentum=0.9)),
    Case("GD + L2 weight decay", optimizers.Optimizer("gd", lr=0.5, weight_decay=1e-2)),
    Case("Adam", optimizers.Optimizer("adam", lr=0.01), equivariant=False),
    Case("GD + L1 penalty", optimizers.Optimizer("gd", lr=0.5, l1=1e-3), equivariant=False),
    Case("GD + dropout on hidden units", optimizers.Optimizer("gd", lr=0.2), dropout=0.25,
         equivariant=False),
    Case("Adam, signed permutation", optimizers.Optimizer("adam", lr=0.01),
         group="signed permutation"),
)


def _grad_fn(case: Case, steps: int, seed: int):
    """The step-t gradient of the autoencoder loss on the digits for ``case``."""
    x = lae.digits_centred()
    C = lae.digits_covariance()
    rng = np.random.default_rng(seed)
    covs = masks = None
    if case.batch_size is not None:
        covs = []
        while len(covs) < steps:
            perm = rng.permutation(len(x))
            for i in range(0, len(x) - case.batch_size + 1, case.batch_size):
                xb = x[perm[i:i + case.batch_size]]
                covs.append(xb.T @ xb / len(xb))
    if case.dropout > 0:
        keep = rng.random(size=(steps, 4)) >= case.dropout
        masks = keep / (1.0 - case.dropout)

    def grad(theta, t):
        Ct = C if covs is None else covs[t]
        return lae.grads_unchecked(theta[0], theta[1], Ct, None if masks is None else masks[t])

    return grad


@dataclass(frozen=True)
class Comparison:
    """Two runs of one procedure, from theta_0 and from P.theta_0."""

    case: Case
    deviation: np.ndarray  # ||theta'_t - P.theta_t|| / ||theta_t||, (steps + 1,)
    loss: np.ndarray  # L(theta_t) on the full data at about 30 steps, the last one last
    loss_rotated: np.ndarray  # L(theta'_t) at the same steps
    product_gap: float  # ||B'A' - BA||_F at the end


def compare(case: Case, steps: int = 300, seed: int = 0) -> Comparison:
    """Train from theta_0 and from P.theta_0 with the same data order, masks and settings."""
    if not isinstance(case, Case):
        raise ValueError(f"case must be a Case, got {type(case).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return _compare(case, steps, seed)


@lru_cache(maxsize=32)
def _compare(case: Case, steps: int, seed: int) -> Comparison:
    C = lae.digits_covariance()
    k = 4
    rng = np.random.default_rng(seed)
    theta0 = lae.init_factors(k, C.shape[0], seed, "gaussian", 1.0)
    P = haar_orthogonal(k, rng) if case.group == "orthogonal" else signed_permutation(k, rng)
    A0, B0 = theta0
    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(case.optimizer, theta0, _grad_fn(case, steps, seed + 1), steps)
        run2 = optimizers.run(case.optimizer, (P @ A0, B0 @ P.T),
                              _grad_fn(case, steps, seed + 1), steps)
        dev = np.array([_dist((P @ a1, b1 @ P.T), t2) / _norm((a1, b1))
                        for (a1, b1), t2 in zip(run1, run2, strict=True)])
        keep = sorted(set(range(0, steps + 1, max(1, steps // 30))) | {steps})
        l1 = np.array([lae.loss_unchecked(*run1[i], C) for i in keep])
        l2 = np.array([lae.loss_unchecked(*run2[i], C) for i in keep])
    gap = float(np.linalg.norm(run1[-1][1] @ run1[-1][0] - run2[-1][1] @ run2[-1][0]))
    return Comparison(case, dev, l1, l2, gap)


@claim("thm-trajectory-equivariance", chapter="basis",
       statement="GD, SGD (same minibatches), heavy ball, Nesterov and L2 decay started at "
                 "P.theta_0 stay at P.theta_t",
       method="numeric", tolerance=1e-10)
def check_trajectory_equivariance() -> float:
    """max_t ||theta'_t - P theta_t|| / ||theta_t|| over the procedures the theorem covers."""
    # The two runs perform the same arithmetic up to the order of float64 operations, so
    # they differ by round-off: ~1e-16 per operation, accumulated over 300 steps of
    # dynamics that contract towards the minimum (measured about 1e-14).  1e-10 leaves
    # room for that and is eight orders below the deviations of Adam, L1 and dropout.
    return max(float(compare(c).deviation.max()) for c in CASES
               if c.equivariant and c.group == "orthogonal")


# ---------------------------------------------------------------- the law of the learned weights
@dataclass(frozen=True)
class LawStudy:
    """Angles psi (radians) of the hidden vector A e_1 in a k = 2 model, at init and trained."""

    law: str
    decoder_zero: bool
    psi0: np.ndarray  # (samples,)
    psi: np.ndarray  # (samples,)
    final_error: float  # max |B A - W*| at the end


def law_study(law: str = "gaussian", decoder_zero: bool = False, samples: int = 32000,
              seed: int = 0, steps: int = 200, lr: float = 0.1) -> LawStudy:
    """Fit B A = W* = diag(2, 1) with (A, B) (2, 2) by GD from ``samples`` i.i.d. inits.

    Entries follow nn.Linear's law (fan-in 2): U(-1/sqrt 2, 1/sqrt 2) for ``uniform``,
    N(0, 1/6) (same variance) for ``gaussian``; ``decoder_zero`` starts B at 0.
    """
    if law not in lae.LAWS:
        raise ValueError(f"law must be one of {lae.LAWS}, got {law!r}")
    if not (isinstance(samples, int) and isinstance(steps, int)) or samples < 2 or steps < 0:
        raise ValueError("need integers samples >= 2 and steps >= 0")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be positive, got {lr!r}")
    return _law_study(law, bool(decoder_zero), samples, int(seed), steps, float(lr))


@lru_cache(maxsize=8)
def _law_study(law: str, decoder_zero: bool, samples: int, seed: int, steps: int,
               lr: float) -> LawStudy:
    rng = np.random.default_rng(seed)
    bound = 1 / math.sqrt(2)
    if law == "uniform":
        a, b = rng.uniform(-bound, bound, size=(2, 2, 2, samples))
    else:
        a, b = rng.normal(0.0, bound / math.sqrt(3), size=(2, 2, 2, samples))
    if decoder_zero:
        b = np.zeros_like(b)
    target = np.diag([2.0, 1.0])[:, :, None]
    psi0 = np.arctan2(a[1, 0], a[0, 0])
    for _ in range(steps):
        E = np.einsum("ils,ljs->ijs", b, a) - target  # (2, 2, samples): B A - W*
        a, b = (a - lr * np.einsum("lis,ljs->ijs", b, E),
                b - lr * np.einsum("ils,jls->ijs", E, a))
    err = float(np.abs(np.einsum("ils,ljs->ijs", b, a) - target).max())
    return LawStudy(law, decoder_zero, psi0, np.arctan2(a[1, 0], a[0, 0]), err)


def fourier_mean(psi, order: int) -> tuple[float, float]:
    """Sample mean of cos(order psi) and its standard error under a uniform angle, 1/sqrt(2N)."""
    psi = np.asarray(psi, dtype=np.float64)
    if psi.ndim != 1 or len(psi) < 2 or not np.all(np.isfinite(psi)):
        raise ValueError("psi must be a finite vector of at least two angles")
    return float(np.cos(order * psi).mean()), 1.0 / math.sqrt(2 * len(psi))


SQUARE_COS4 = 3 - math.pi  # E cos 4 psi for a point uniform in a square (see the chapter)

_MC_SAMPLES = 32000


@claim("cor-invariant-law", chapter="basis",
       statement="from an O(k)-invariant (Gaussian) init the learned hidden vectors have an "
                 "O(k)-invariant law: E cos(j psi) = 0",
       method="monte-carlo", tolerance=4 / math.sqrt(2 * _MC_SAMPLES))
def check_invariant_law() -> float:
    """max over j = 1..4 of |mean cos(j psi)| of the learned angle, Gaussian init."""
    # Under an O(2)-invariant law psi is uniform: cos(j psi) has mean 0 and variance 1/2, so
    # each sample mean has standard error 1/sqrt(2 N) = 0.004 for N = 32000.  The tolerance
    # is 4 standard errors (a false alarm for one of four statistics has probability < 3e-4).
    study = law_study("gaussian", samples=_MC_SAMPLES)  # the same run as fig_init_law
    return max(abs(fourier_mean(study.psi, j)[0]) for j in range(1, 5))


# ---------------------------------------------------------------- ReLU layers
def relu_equivariant(M, z) -> bool:
    """Whether relu(M z) = M relu(z) (to 1e-12) for every column z of ``z`` (k, s)."""
    M, z = np.asarray(M, dtype=np.float64), np.asarray(z, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or z.ndim != 2 or z.shape[0] != M.shape[0]:
        raise ValueError(f"need M (k, k) and z (k, s), got {M.shape} and {z.shape}")
    gap = np.maximum(M @ z, 0.0) - M @ np.maximum(z, 0.0)
    return bool(np.abs(gap).max() <= 1e-12 * max(1.0, np.abs(M).max() * np.abs(z).max()))


def is_positive_monomial(M) -> bool:
    """Whether M is a permutation matrix times a diagonal with positive entries."""
    M = np.asarray(M, dtype=np.float64)
    return bool(np.all(M >= 0) and np.all((M > 0).sum(0) == 1) and np.all((M > 0).sum(1) == 1))


@lru_cache(maxsize=1)
def relu_census() -> dict[str, tuple[int, int, int]]:
    """The census of the book: k = 2 with seven values, k = 3 with {-1, 0, 1, 2}."""
    return {"k=2": relu_symmetry_census(2, (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)),
            "k=3": relu_symmetry_census(3, (-1.0, 0.0, 1.0))}


def relu_symmetry_census(k: int, values: tuple[float, ...], probes: int = 16,
                         seed: int = 0) -> tuple[int, int, int]:
    """Enumerate invertible M with entries in ``values``: (count, equivariant, mismatches).

    M counts as equivariant when relu(M z) = M relu(z) for ``probes`` Gaussian vectors z;
    a mismatch is an M where that disagrees with being a positive monomial matrix.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if len(values) < 1 or len(values) ** (k * k) > 300_000:
        raise ValueError("the enumeration needs 1 to 300000 matrices")
    if probes < 1:
        raise ValueError("need at least one probe vector")
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(k, probes))
    Ms = np.array(list(itertools.product(values, repeat=k * k))).reshape(-1, k, k)
    Ms = Ms[np.abs(np.linalg.det(Ms)) > 1e-9]
    gap = np.abs(np.maximum(Ms @ z, 0.0) - Ms @ np.maximum(z, 0.0)).max(axis=(1, 2))
    scale = np.maximum(1.0, np.abs(Ms).max(axis=(1, 2)) * np.abs(z).max())
    equiv = gap <= 1e-12 * scale
    mono = (np.all(Ms >= 0, axis=(1, 2)) & np.all((Ms > 0).sum(1) == 1, axis=1)
            & np.all((Ms > 0).sum(2) == 1, axis=1))
    return int(len(Ms)), int(equiv.sum()), int((equiv != mono).sum())


@claim("prop-relu-symmetry", chapter="basis",
       statement="relu(M z) = M relu(z) for all z iff M is a permutation times a positive "
                 "diagonal",
       method="exact", tolerance=0.0)
def check_relu_symmetry() -> float:
    """Number of enumerated invertible M where equivariance and 'positive monomial' disagree."""
    return float(sum(m for _, _, m in relu_census().values()))


# ---------------------------------------------------------------- figures
def _skew(k: int, rng: np.random.Generator) -> np.ndarray:
    X = rng.normal(size=(k, k))
    S = X - X.T
    return S / np.linalg.norm(S)


@lru_cache(maxsize=2)
def orbit_profiles(seed: int = 0, ts: tuple[float, ...] = tuple(np.linspace(-2, 2, 41))):
    """Loss of a trained autoencoder along exp(t S) (O(k)), exp(t X) (GL(k)) and a line."""
    C = lae.digits_covariance()
    A, B, _ = lae.train(lae.TrainSpec())
    k = len(A)
    rng = np.random.default_rng(seed)
    S = _skew(k, rng)
    X = rng.normal(size=(k, k))
    X /= np.linalg.norm(X)
    speed = _norm((S @ A, -B @ S))  # the orbit's velocity at t = 0
    d = (rng.normal(size=A.shape), rng.normal(size=B.shape))
    d = tuple(p * speed / _norm(d) for p in d)
    ts = np.array(ts)
    out = {"O(k) orbit": [], "GL(k) orbit": [], "random direction": []}
    for t in ts:
        out["O(k) orbit"].append(lae.loss(*act(scipy.linalg.expm(t * S), A, B), C))
        out["GL(k) orbit"].append(lae.loss(*act(scipy.linalg.expm(t * X), A, B), C))
        out["random direction"].append(lae.loss(A + t * d[0], B + t * d[1], C))
    return ts, {key: np.array(v) for key, v in out.items()}


@figure("basis")
def fig_orbit_loss():
    """The loss is constant along orbits and rises along a random direction."""
    ts, prof = orbit_profiles()
    fig, ax = new_figure(height=3.2)
    styles = {"O(k) orbit": ("blue", "-", r"$\mathrm{O}(k)$-orbit $e^{tS} \cdot \theta$"),
              "GL(k) orbit": ("green", "--", r"$\mathrm{GL}(k)$-orbit $e^{tX} \cdot \theta$"),
              "random direction": ("vermillion", "-", r"random line $\theta + t d$")}
    for key, values in prof.items():
        color, ls, label = styles[key]
        ax.plot(ts, values, color=COLORS[color], ls=ls, label=label)
    ax.set_xlabel("$t$")
    ax.set_ylabel("loss $L$")
    ax.legend()
    return fig


@lru_cache(maxsize=1)
def hidden_code_paths(steps: int = 300, seed: int = 3):
    """Hidden codes A_t x of three digits along GD from theta_0 and from P.theta_0 (k = 2)."""
    from hiddenunits.data import digits

    C = lae.digits_covariance()
    x = lae.digits_centred()
    y = digits()[1]
    idx = [int(np.flatnonzero(y == d)[0]) for d in (0, 1, 6)]
    theta0 = lae.init_factors(2, C.shape[0], seed, "gaussian", 0.3)
    angle = 2 * math.pi / 3
    P = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    opt = optimizers.Optimizer("gd", lr=0.1)

    def grad(th, t):
        return lae.grads_unchecked(th[0], th[1], C)

    with threadpool_limits(1, "blas"):
        run1 = optimizers.run(opt, theta0, grad, steps)
        run2 = optimizers.run(opt, act(P, *theta0), grad, steps)
    codes1 = np.array([t[0] @ x[idx].T for t in run1])  # (steps + 1, 2, 3)
    codes2 = np.array([t[0] @ x[idx].T for t in run2])
    return codes1, codes2, P


@figure("basis")
def fig_rotated_trajectories():
    """(a) hidden codes under GD from theta_0 and from P.theta_0; (b) deviations."""
    codes1, codes2, P = hidden_code_paths()
    fig, (ax, bx) = new_figure(1, 2, height=4.0)
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for j, name in enumerate(("digit 0", "digit 1", "digit 6")):
        ax.plot(*codes1[:, :, j].T, color=colors[j], lw=1.3, label=name)
        ax.plot(*codes2[:, :, j].T, color=colors[j], lw=1.3, ls="--")
        rot = codes1[::12, :, j] @ P.T
        ax.plot(*rot.T, ls="none", marker="o", ms=4, mfc="none", mew=0.8, color=colors[j])
        ax.plot(*codes1[-1, :, j], marker="s", color=colors[j], ms=5)
        ax.plot(*codes2[-1, :, j], marker="s", mfc="white", color=colors[j], ms=5)
    ax.plot([], [], color=COLORS["grey"], label=r"run from $\theta_0$")
    ax.plot([], [], color=COLORS["grey"], ls="--", label=r"run from $P\theta_0$")
    ax.plot([], [], color=COLORS["grey"], ls="none", marker="o", mfc="none",
            label=r"$P$ times the first run")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("hidden unit 1")
    ax.set_ylabel("hidden unit 2")
    ax.set_title("(a) hidden codes $A_t x$ during training", loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    palette = ["blue", "sky", "green", "black", "yellow", "vermillion", "orange", "purple",
               "grey"]
    for case, color in zip(CASES, palette, strict=True):
        dev = np.maximum(compare(case).deviation, 1e-17)
        bx.semilogy(dev, color=COLORS[color], ls="-" if case.equivariant else "--",
                    label=case.name, lw=1.2)
    bx.set_xlabel("step $t$")
    bx.set_ylabel("relative distance between the runs")
    bx.set_title("(b) distance between the two runs", loc="left")
    bx.legend(fontsize=6.5, loc="center right")
    return fig


@figure("basis")
def fig_init_law():
    """Histograms of the learned hidden direction psi (mod pi/2) for Gaussian and uniform init."""
    fig, ax = new_figure(height=3.2)
    bins = np.linspace(0, math.pi / 2, 31)
    rows = [(law_study("gaussian").psi, "Gaussian init, trained", "blue", "-"),
            (law_study("uniform").psi0, "uniform init, at init", "grey", ":"),
            (law_study("uniform").psi, "uniform init, trained", "vermillion", "-"),
            (law_study("uniform", decoder_zero=True).psi, "uniform init, $B_0 = 0$, trained",
             "orange", "--")]
    for psi, label, color, ls in rows:
        h, _ = np.histogram(np.mod(psi, math.pi / 2), bins=bins, density=True)
        ax.stairs(h, bins, baseline=None, color=COLORS[color], ls=ls, label=label, lw=1.4)
    ax.axhline(2 / math.pi, color=COLORS["black"], lw=0.8, label="uniform angle")
    ax.set_xlabel(r"angle $\psi$ of the hidden vector $A e_1$, modulo $\pi/2$")
    ax.set_ylabel("density")
    ax.set_xticks([0, math.pi / 8, math.pi / 4, 3 * math.pi / 8, math.pi / 2],
                  ["0", r"$\pi/8$", r"$\pi/4$", r"$3\pi/8$", r"$\pi/2$"])
    ax.legend(fontsize=7.5, loc="upper right")
    return fig


def _relu_params():
    from hiddenunits.data import digits_split
    from hiddenunits.interpretability import relu_classifier

    net = relu_classifier()
    split = digits_split(seed=0)
    return net, split.x_train.astype(np.float64), split.y_train


def _hidden_transform(net, M: np.ndarray):
    """The parameters after the change of hidden basis M: (M W1, M b1, W2 M^-1, b2)."""
    return M @ net.W1, M @ net.b1, np.linalg.solve(M.T, net.W2.T).T, net.b2


@lru_cache(maxsize=1)
def relu_profiles(seed: int = 0, ts: tuple[float, ...] = tuple(np.linspace(-2, 2, 41))):
    """Training loss of the digit classifier along a rotation, a positive scaling and a line."""
    from hiddenunits.interpretability import cross_entropy

    net, x, y = _relu_params()
    k = len(net.b1)
    rng = np.random.default_rng(seed)
    S = _skew(k, rng)
    speed = _norm((S @ net.W1, S @ net.b1, net.W2 @ S))
    s = rng.normal(size=k)
    s *= speed / _norm((s[:, None] * net.W1, s * net.b1, net.W2 * s))
    base = (net.W1, net.b1, net.W2, net.b2)
    d = [rng.normal(size=p.shape) for p in base[:3]]
    d = [p * speed / _norm(d) for p in d] + [np.zeros_like(net.b2)]
    ts = np.array(ts)
    out = {"rotation exp(tS)": [], "positive scaling exp(t diag(s))": [],
           "random direction": []}
    with threadpool_limits(1, "blas"):
        for t in ts:
            out["rotation exp(tS)"].append(
                cross_entropy(*_hidden_transform(net, scipy.linalg.expm(t * S)), x, y))
            out["positive scaling exp(t diag(s))"].append(
                cross_entropy(*_hidden_transform(net, np.diag(np.exp(t * s))), x, y))
            out["random direction"].append(
                cross_entropy(*(p + t * q for p, q in zip(base, d, strict=True)), x, y))
    return ts, {key: np.array(v) for key, v in out.items()}


@lru_cache(maxsize=1)
def monomial_change(seed: int = 0) -> float:
    """max relative change of the classifier's logits under a random positive monomial M."""
    net, x, _ = _relu_params()
    k = len(net.b1)
    rng = np.random.default_rng(seed)
    M = np.eye(k)[rng.permutation(k)] * np.exp(rng.normal(size=k))[:, None]
    W1, b1, W2, b2 = _hidden_transform(net, M)
    z0 = np.maximum(x @ net.W1.T + net.b1, 0) @ net.W2.T + net.b2
    z1 = np.maximum(x @ W1.T + b1, 0) @ W2.T + b2
    return float(np.abs(z1 - z0).max() / np.abs(z0).max())


@figure("basis")
def fig_relu_symmetry():
    """Loss of a trained ReLU classifier along a hidden rotation, a scaling and a line."""
    ts, prof = relu_profiles()
    fig, ax = new_figure(height=3.2)
    styles = {"rotation exp(tS)": ("blue", "-"),
              "positive scaling exp(t diag(s))": ("green", "--"),
              "random direction": ("vermillion", "-")}
    labels = {"rotation exp(tS)": r"rotation $e^{tS}$",
              "positive scaling exp(t diag(s))": r"positive scaling $e^{t\,\mathrm{diag}(s)}$",
              "random direction": "random direction"}
    for key, values in prof.items():
        color, ls = styles[key]
        ax.plot(ts, values, color=COLORS[color], ls=ls, label=labels[key])
    ax.set_xlabel("$t$")
    ax.set_ylabel("training cross-entropy")
    ax.legend()
    return fig


def trajectory_rows(steps: int = 300) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the equivariance table: one row per procedure in CASES."""
    from hiddenunits.claims import latex_number

    headers = ["Procedure", "Predicted equivariant", "Deviation", r"$L(\theta_T)$",
               r"$\vert L(\theta_T) - L(\theta'_T) \vert$"]
    rows = []
    for case in CASES:
        r = compare(case, steps=steps)
        rows.append([case.name, "yes" if case.equivariant else "no",
                     f"${latex_number(float(r.deviation.max()))}$", f"{r.loss[-1]:.6f}",
                     f"${latex_number(abs(float(r.loss[-1] - r.loss_rotated[-1])))}$"])
    return headers, rows
