"""Linear autoencoders x -> B A x on digits: loss, gradients, the PCA optimum, hidden units.

Notation of the book: an encoder ``A`` (k, n) and a decoder ``B`` (n, k); the hidden units
of an input ``x`` are ``h = A x`` (k,).  For centred data with covariance ``C`` (n, n) the
loss is L(A, B) = 1/(2N) sum_i ||x_i - B A x_i||^2 = 1/2 tr((I - BA) C (I - BA)^T).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from hiddenunits import optimizers
from hiddenunits.data import digits
from hiddenunits.interpretability import canonical_correlations, linear_cka
from hiddenunits.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_seed,
)

LAWS = ("gaussian", "uniform")
"""Laws of the initial entries: PyTorch's ``uniform`` law and the ``gaussian`` law with the
same variance (see :func:`init_factors`)."""


# ---------------------------------------------------------------- data and validation
def check_factors(A: ArrayLike, B: ArrayLike, C: ArrayLike | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """An encoder ``A`` (k, n), a decoder ``B`` (n, k) and a covariance ``C`` (n, n), validated.

    Returns float64 arrays; raises ``ValueError`` if a shape does not fit or a value is not
    finite.
    """
    A, B = check_array("A", A, ndim=2), check_array("B", B, ndim=2)
    if B.shape != (A.shape[1], A.shape[0]):
        raise ValueError(f"A (k, n) and B (n, k) do not fit: A {A.shape}, B {B.shape}")
    if C is not None:
        C = check_array("C", C, shape=(A.shape[1], A.shape[1]))
    return A, B, C


def covariance(x: ArrayLike) -> np.ndarray:
    """C = (1/N) sum_i (x_i - mean)(x_i - mean)^T of the rows of ``x`` (N, n), in float64."""
    x = check_array("x", x, ndim=2)
    if len(x) < 2:
        raise ValueError("x needs at least two examples (rows)")
    xc = x - x.mean(0)
    return xc.T @ xc / len(x)  # (n, n)


@lru_cache(maxsize=1)
def _digits_centred() -> np.ndarray:
    x = digits()[0].astype(np.float64)
    x = x - x.mean(0)
    x.setflags(write=False)
    return x


def digits_centred() -> np.ndarray:
    """The 1797 digits as float64 rows with the mean image subtracted, (1797, 64), read-only."""
    return _digits_centred()


@lru_cache(maxsize=1)
def _digits_covariance() -> np.ndarray:
    C = covariance(_digits_centred())
    C.setflags(write=False)
    return C


def digits_covariance() -> np.ndarray:
    """The covariance matrix C (64, 64) of the digits' pixels, read-only."""
    return _digits_covariance()


# ---------------------------------------------------------------- loss and gradients
def _check_mask(mask: ArrayLike | None, k: int) -> np.ndarray | None:
    return None if mask is None else check_array("mask", mask, shape=(k,))


def loss(A: ArrayLike, B: ArrayLike, C: ArrayLike, mask: ArrayLike | None = None) -> float:
    """L = 1/2 tr((I - W) C (I - W)^T) with W = B diag(mask) A (mask defaults to ones)."""
    A, B, C = check_factors(A, B, C)
    mask = _check_mask(mask, len(A))
    M = A if mask is None else mask[:, None] * A
    R = np.eye(len(C)) - B @ M  # (n, n)
    return 0.5 * float(np.sum((R @ C) * R))


def loss_unchecked(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> float:
    """:func:`loss` without input validation or mask, for inner loops of trusted callers."""
    R = np.eye(len(C)) - B @ A
    return 0.5 * float(np.sum((R @ C) * R))


def gradients(A: ArrayLike, B: ArrayLike, C: ArrayLike,
              mask: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dA, dL/dB) = (D B^T E, E A^T D) with E = (W - I) C, W = B D A, D = diag(mask)."""
    A, B, C = check_factors(A, B, C)
    return grads_unchecked(A, B, C, _check_mask(mask, len(A)))


def grads_unchecked(A: np.ndarray, B: np.ndarray, C: np.ndarray,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gradients` without input validation, for inner loops of trusted callers."""
    if mask is None:
        E = B @ (A @ C) - C  # (n, n): dL/dW = (W - I) C
        return B.T @ E, E @ A.T
    E = B @ ((mask[:, None] * A) @ C) - C
    return mask[:, None] * (B.T @ E), (E @ A.T) * mask[None, :]


def init_factors(k: int, n: int, rng: int | np.random.Generator = 0, law: str = "gaussian",
                 scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """An initial (A (k, n), B (n, k)): i.i.d. entries of variance scale^2 / (3 fan_in).

    ``law`` is one of ``LAWS``: ``uniform`` is PyTorch's default law
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (times ``scale``); ``gaussian`` is the normal law with
    the same variance.  The fan-in of A is n, that of B is k.  A is drawn first, then B.
    """
    k = check_int("k", k, minimum=1)
    n = check_int("n", n, minimum=k)
    check_choice("law", law, LAWS)
    scale = check_real("scale", scale, low=0.0, low_open=True)
    gen = check_rng(rng)
    out = []
    for shape, fan_in in (((k, n), n), ((n, k), k)):
        bound = scale / np.sqrt(fan_in)
        if law == "uniform":
            out.append(gen.uniform(-bound, bound, size=shape))
        else:
            out.append(gen.normal(0.0, bound / np.sqrt(3.0), size=shape))
    return out[0], out[1]


# ---------------------------------------------------------------- PCA and subspaces
def pca(C: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues lambda_1 >= ... >= lambda_n of C and orthonormal eigenvectors U (n, n).

    The sign of each eigenvector is fixed so that its largest entry in absolute value is
    positive.
    """
    C = check_array("C", C, ndim=2)
    if C.shape[0] != C.shape[1] or not np.allclose(C, C.T, atol=1e-12 * np.abs(C).max()):
        raise ValueError("C must be a symmetric square matrix")
    with threadpool_limits(1, "blas"):  # 64 x 64: threads only contend on a shared machine
        lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1], U[:, ::-1]
    U = U * np.where(U[np.abs(U).argmax(0), np.arange(len(U))] < 0, -1.0, 1.0)  # fix signs
    return lam, U


def optimal_loss(C: ArrayLike, k: int) -> float:
    """The minimum of L over rank-k autoencoders: 1/2 sum_{i > k} lambda_i (Eckart-Young)."""
    lam, _ = pca(C)
    k = check_int("k", k, minimum=1, maximum=len(lam) - 1)
    return 0.5 * float(lam[k:].sum())


def range_projector(C: ArrayLike, rtol: float = 1e-10) -> np.ndarray:
    """The orthogonal projector onto the range of C (eigenvalues above rtol * lambda_1)."""
    rtol = check_real("rtol", rtol, low=0.0, high=1.0, low_open=True)
    lam, U = pca(C)
    Ur = U[:, lam > rtol * lam[0]]
    return Ur @ Ur.T


def principal_angles(U: ArrayLike, V: ArrayLike) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of U and V (n, k)."""
    U, V = check_array("U", U, ndim=2), check_array("V", V, ndim=2)
    if U.shape[0] != V.shape[0]:
        raise ValueError(f"U and V must have the same number of rows: {U.shape}, {V.shape}")
    return np.sort(scipy.linalg.subspace_angles(U, V))


def product_error(A: ArrayLike, B: ArrayLike, C: ArrayLike, k: int) -> float:
    """||B A P_R - U_k U_k^T||_F: distance of the learned map to the PCA optimum on range(C)."""
    A, B, C = check_factors(A, B, C)
    k = check_int("k", k, minimum=1, maximum=len(C))
    _, U = pca(C)
    return float(np.linalg.norm(B @ A @ range_projector(C) - U[:, :k] @ U[:, :k].T))


# ---------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainSpec:
    """A full-batch gradient-descent run of a linear autoencoder on the digits."""

    k: int = 4
    """Hidden units (1 <= k < 64)."""
    seed: int = 0
    """Seed of the initial factors (:func:`init_factors`)."""
    steps: int = 1500
    """Gradient-descent steps."""
    lr: float = 0.5
    """Step size (> 0)."""
    law: str = "gaussian"
    """Law of the initial entries, one of ``LAWS``."""
    init_scale: float = 0.1
    """Multiplies PyTorch's initial scale (> 0)."""
    weight_decay: float | tuple[float, ...] = 0.0
    """L2 penalty (1/2) sum_i gamma_i (||a_i||^2 + ||b_i||^2) on hidden unit i (row a_i of A,
    column b_i of B): one gamma >= 0 for every unit, or a tuple of k of them."""

    def __post_init__(self):
        check_int("k", self.k, minimum=1, maximum=63)
        check_seed(self.seed)
        check_int("steps", self.steps, minimum=0)
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_choice("law", self.law, LAWS)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        decay = self.weight_decay
        if isinstance(decay, tuple):
            if len(decay) != self.k:
                raise ValueError(f"weight_decay needs one value per hidden unit ({self.k})")
            for g in decay:
                check_real("weight_decay", g, low=0.0)
        else:
            check_real("weight_decay", decay, low=0.0)

    @property
    def decays(self) -> np.ndarray:
        """The penalty gamma_i of each hidden unit, (k,)."""
        return np.broadcast_to(np.asarray(self.weight_decay, dtype=np.float64),
                               (self.k,)).copy()


def train(spec: TrainSpec = TrainSpec()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient descent on the digits from ``init_factors``: (A, B, losses every 10 steps).

    The loss minimised is L plus the spec's penalty; the losses returned are L alone, and
    the last entry is the loss at the end of training.  The arrays are read-only (they are
    cached and shared by every caller).
    """
    if not isinstance(spec, TrainSpec):
        raise ValueError(f"spec must be a TrainSpec, got {type(spec).__name__}")
    return _train(spec)


@lru_cache(maxsize=64)
def _train(spec: TrainSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    C = digits_covariance()
    theta0 = init_factors(spec.k, C.shape[0], spec.seed, spec.law, spec.init_scale)
    g = spec.decays

    def grad(th, t):
        gA, gB = grads_unchecked(th[0], th[1], C)
        return (gA, gB) if not g.any() else (gA + g[:, None] * th[0], gB + th[1] * g)

    with threadpool_limits(1, "blas"):  # small matrices: BLAS threads only contend
        traj = optimizers.run(optimizers.Optimizer("gd", lr=spec.lr), theta0, grad, spec.steps)
    losses = np.array([loss_unchecked(a, b, C) for a, b in traj[::10] + [traj[-1]]])
    A, B = traj[-1]
    for a in (A, B, losses):
        a.setflags(write=False)
    return A, B, losses


# ---------------------------------------------------------------- hidden units
def unit_component_correlations(A: ArrayLike, C: ArrayLike, k: int | None = None) -> np.ndarray:
    """corr(h_i, s_j) for hidden units h = A x and principal scores s_j = u_j^T x: (k_A, k)."""
    A = check_array("A", A, ndim=2)
    C = check_array("C", C, shape=(A.shape[1], A.shape[1]))
    lam, U = pca(C)
    k = len(A) if k is None else check_int("k", k, minimum=1, maximum=len(C))
    cov = A @ C @ U[:, :k]  # (k_A, k): cov(h_i, s_j)
    sd_h = np.sqrt(np.einsum("ij,jl,il->i", A, C, A))
    return cov / (sd_h[:, None] * np.sqrt(lam[:k])[None, :])


def unit_unit_correlations(A1: ArrayLike, A2: ArrayLike, C: ArrayLike) -> np.ndarray:
    """corr(h_i, h'_j) between the hidden units of two encoders A1, A2 (k, n) on data C."""
    A1 = check_array("A1", A1, ndim=2)
    A2 = check_array("A2", A2, shape=(None, A1.shape[1]))
    C = check_array("C", C, shape=(A1.shape[1], A1.shape[1]))
    cov = A1 @ C @ A2.T
    s1 = np.sqrt(np.einsum("ij,jl,il->i", A1, C, A1))
    s2 = np.sqrt(np.einsum("ij,jl,il->i", A2, C, A2))
    return cov / np.outer(s1, s2)


def best_match(corr: ArrayLike) -> float:
    """Mean over rows of max_j |corr_ij|: 1 when every unit equals some component."""
    corr = check_array("corr", corr, ndim=2)
    return float(np.abs(corr).max(1).mean())


def rotated_pca_baseline(C: ArrayLike, k: int, samples: int,
                         rng: int | np.random.Generator = 0) -> float:
    """E best_match for units h = P (U_k^T x) with P Haar-orthogonal (Monte Carlo mean).

    For these units corr(h_i, s_j) = P_ij sqrt(lambda_j) / sqrt(sum_l P_il^2 lambda_l).
    P is drawn by ``scipy.stats.ortho_group``.
    """
    from scipy.stats import ortho_group  # scipy.stats takes a second to import: only here

    lam, _ = pca(C)
    k = check_int("k", k, minimum=1, maximum=len(lam))
    samples = check_int("samples", samples, minimum=1)
    gen = check_rng(rng)
    w = np.sqrt(lam[:k])
    P = ortho_group.rvs(k, size=samples, random_state=gen).reshape(samples, k, k)
    Pw = P * w[None, None, :]  # P_ij sqrt(lambda_j)
    corr = Pw / np.linalg.norm(Pw, axis=2, keepdims=True)
    return float(np.abs(corr).max(2).mean())


@dataclass(frozen=True)
class UnitStudy:
    """Hidden units of autoencoders trained from several seeds, against PCA."""

    k: int
    """Hidden units."""
    seeds: tuple[int, ...]
    """The seeds of the runs (:class:`TrainSpec`), in order."""
    product_errors: tuple[float, ...]
    """||B A P_R - U_k U_k^T||_F per seed."""
    weighted_errors: tuple[float, ...]
    """||(B A - U_k U_k^T) C^1/2||_F / ||U_k U_k^T C^1/2||_F per seed."""
    max_angles: tuple[float, ...]
    """Largest principal angle (radians) of span(B) to span(U_k), per seed."""
    encoder_angles: tuple[float, ...]
    """The same for the row space of A."""
    loss_gaps: tuple[float, ...]
    """L - L_opt per seed."""
    unit_pc: tuple[float, ...]
    """best_match(units vs components) per seed."""
    unit_unit: tuple[float, ...]
    """best_match(seed s vs seed s + 1)."""
    canonical_min: tuple[float, ...]
    """Smallest canonical correlation of the hidden codes of seeds s and s + 1 on the digits."""
    cka: tuple[float, ...]
    """Linear CKA of the hidden codes of seeds s and s + 1 on the digits."""
    baseline: float
    """best_match of a Haar rotation of the components (Monte Carlo mean)."""
    null_part: tuple[float, ...]
    """||B A (I - P_R)||_F per seed: the map on the data's null space."""


def unit_study(k: int = 4, seeds: int = 6) -> UnitStudy:
    """Train ``seeds`` autoencoders on the digits (seeds 0, 1, ...; :class:`TrainSpec`'s other
    defaults) and compare them with PCA and with each other."""
    return _unit_study(check_int("k", k, minimum=1, maximum=63),
                       check_int("seeds", seeds, minimum=2))


@lru_cache(maxsize=4)
def _unit_study(k: int, seeds: int) -> UnitStudy:
    C = digits_covariance()
    _, U = pca(C)
    PR = range_projector(C)
    runs = [train(TrainSpec(k=k, seed=s)) for s in range(seeds)]
    codes = [_digits_centred() @ A.T for A, _, _ in runs]  # (N, k): the hidden units
    Ch = sqrt_psd(C)
    Pk = U[:, :k] @ U[:, :k].T
    return UnitStudy(
        k=k,
        seeds=tuple(range(seeds)),
        product_errors=tuple(product_error(A, B, C, k) for A, B, _ in runs),
        weighted_errors=tuple(float(np.linalg.norm((B @ A - Pk) @ Ch) / np.linalg.norm(Pk @ Ch))
                              for A, B, _ in runs),
        max_angles=tuple(float(principal_angles(B, U[:, :k]).max()) for _, B, _ in runs),
        encoder_angles=tuple(float(principal_angles(A.T, U[:, :k]).max()) for A, _, _ in runs),
        loss_gaps=tuple(float(lo[-1] - optimal_loss(C, k)) for _, _, lo in runs),
        unit_pc=tuple(best_match(unit_component_correlations(A, C, k)) for A, _, _ in runs),
        unit_unit=tuple(best_match(unit_unit_correlations(runs[i][0], runs[i + 1][0], C))
                        for i in range(seeds - 1)),
        canonical_min=tuple(float(canonical_correlations(codes[i], codes[i + 1]).min())
                            for i in range(seeds - 1)),
        cka=tuple(linear_cka(codes[i], codes[i + 1]) for i in range(seeds - 1)),
        baseline=rotated_pca_baseline(C, k, samples=2000, rng=1),
        null_part=tuple(float(np.linalg.norm(B @ A @ (np.eye(len(C)) - PR)))
                        for A, B, _ in runs),
    )


def sqrt_psd(C: ArrayLike) -> np.ndarray:
    """The symmetric square root C^{1/2} of a positive semi-definite C (round-off clipped)."""
    lam, U = pca(C)
    return (U * np.sqrt(np.clip(lam, 0.0, None))) @ U.T


def hessian(A: ArrayLike, B: ArrayLike, C: ArrayLike) -> np.ndarray:
    """The Hessian of L at (A, B), over theta = (vec A, vec B) row-major: (2kn, 2kn).

    Along a direction (dA, dB) the second derivative is
    ||(dB A + B dA) C^{1/2}||_F^2 - 2 tr(dB dA C R^T) with R = I - B A; its blocks are
    H_AA = B^T B (x) C,  H_BB = I (x) A C A^T,
    H_AB[(i, j), (p, b)] = B_pi (C A^T)_jb - delta_ib (C R^T)_jp.
    """
    A, B, C = check_factors(A, B, C)
    k, n = A.shape
    M = C @ (np.eye(n) - B @ A).T  # (n, n)
    HAA = np.kron(B.T @ B, C)
    HBB = np.kron(np.eye(n), A @ C @ A.T)
    HAB = (np.einsum("pi,jb->ijpb", B, C @ A.T)
           - np.einsum("ib,jp->ijpb", np.eye(k), M)).reshape(k * n, n * k)
    return np.block([[HAA, HAB], [HAB.T, HBB]])


def critical_point(C: ArrayLike, S: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """The critical point (A, B) = (U_S^T, U_S) of L for a set S of eigenvector indices."""
    _, U = pca(C)
    S = [check_int("S[i]", i, minimum=0, maximum=len(U) - 1) for i in S]
    if not S or len(set(S)) != len(S):
        raise ValueError(f"S must hold distinct indices in [0, {len(U)}), got {S}")
    return U[:, S].T.copy(), U[:, S].copy()


@dataclass(frozen=True)
class CriticalPoint:
    """The curvature of L at the critical point (U_S^T, U_S)."""

    S: tuple[int, ...]
    """0-based eigenvector indices."""
    loss: float
    """L at the critical point."""
    grad_norm: float
    """||grad L|| there (zero up to round-off)."""
    min_eig: float
    """The smallest eigenvalue of the Hessian."""
    max_eig: float
    """The largest eigenvalue of the Hessian."""
    gaps: tuple[tuple[float, float], ...]
    """The pairs (lambda_i, lambda_j) for i in S and j not in S."""
    bound: float
    """min over i in S, j not in S of (lambda_i - lambda_j) / 2."""


def critical_points(k: int = 4, top: int = 6) -> tuple[CriticalPoint, ...]:
    """Every critical point (U_S^T, U_S) of the digits autoencoder, S a k-subset of range(top)."""
    top = check_int("top", top, minimum=2, maximum=64)
    return _critical_points(check_int("k", k, minimum=1, maximum=top - 1), top)


@lru_cache(maxsize=2)
def _critical_points(k: int, top: int) -> tuple[CriticalPoint, ...]:
    C = digits_covariance()
    lam, _ = pca(C)
    out = []
    for S in itertools.combinations(range(top), k):
        A, B = critical_point(C, S)
        gA, gB = gradients(A, B, C)
        gaps = tuple((float(lam[i]), float(lam[j]))
                     for i in S for j in range(len(lam)) if j not in S)
        H = hessian(A, B, C)
        with threadpool_limits(1, "blas"):  # 512 x 512: one thread is fastest on 2 cores
            min_eig, max_eig = (float(scipy.linalg.eigh(H, eigvals_only=True,
                                                        subset_by_index=[i, i])[0])
                                for i in (0, len(H) - 1))
        out.append(CriticalPoint(S, loss(A, B, C), float(np.sqrt(np.sum(gA**2) + np.sum(gB**2))),
                                 min_eig, max_eig, gaps, min((li - lj) / 2 for li, lj in gaps)))
    return tuple(out)


def hessian_kernel_dimension(A: ArrayLike, B: ArrayLike, C: ArrayLike,
                             rtol: float = 1e-10) -> int:
    """Number of Hessian eigenvalues of L at (A, B) within rtol * ||H||_2 of zero."""
    rtol = check_real("rtol", rtol, low=0.0, high=1.0, low_open=True)
    with threadpool_limits(1, "blas"):
        ev = scipy.linalg.eigvalsh(hessian(A, B, C))
    return int(np.sum(np.abs(ev) <= rtol * np.abs(ev).max()))
