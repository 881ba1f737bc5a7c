"""Linear autoencoders x -> B A x on digits: loss, gradients, the PCA optimum, hidden units.

Notation of the book: an encoder ``A`` (k, n) and a decoder ``B`` (n, k); the hidden units
of an input ``x`` are ``h = A x`` (k,).  For centred data with covariance ``C`` (n, n) the
loss is L(A, B) = 1/(2N) sum_i ||x_i - B A x_i||^2 = 1/2 tr((I - BA) C (I - BA)^T).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from hiddenunits import optimizers
from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.style import COLORS, new_figure

LAWS = ("gaussian", "uniform")


# ---------------------------------------------------------------- data and validation
def _finite(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values")
    return a


def check_factors(A, B, C=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate an encoder ``A`` (k, n), a decoder ``B`` (n, k) and a covariance ``C`` (n, n)."""
    A, B = _finite("A", A, 2), _finite("B", B, 2)
    if B.shape != (A.shape[1], A.shape[0]):
        raise ValueError(f"A (k, n) and B (n, k) do not fit: A {A.shape}, B {B.shape}")
    if C is not None:
        C = _finite("C", C, 2)
        if C.shape != (A.shape[1], A.shape[1]):
            raise ValueError(f"C must be ({A.shape[1]}, {A.shape[1]}), got {C.shape}")
    return A, B, C


def covariance(x) -> np.ndarray:
    """C = (1/N) sum_i (x_i - mean)(x_i - mean)^T of the rows of ``x`` (N, n), in float64."""
    x = _finite("x", x, 2)
    if len(x) < 2:
        raise ValueError("need at least two examples")
    xc = x - x.mean(0)
    return xc.T @ xc / len(x)  # (n, n)


@lru_cache(maxsize=1)
def digits_centred() -> np.ndarray:
    """The 1797 digits as float64 rows with the mean image subtracted, (1797, 64), read-only."""
    from hiddenunits.data import digits

    x = digits()[0].astype(np.float64)
    x = x - x.mean(0)
    x.setflags(write=False)
    return x


@lru_cache(maxsize=1)
def digits_covariance() -> np.ndarray:
    """The covariance matrix C (64, 64) of the digits' pixels, read-only."""
    C = covariance(digits_centred())
    C.setflags(write=False)
    return C


# ---------------------------------------------------------------- loss and gradients
def loss(A, B, C, mask=None) -> float:
    """L = 1/2 tr((I - W) C (I - W)^T) with W = B diag(mask) A (mask defaults to ones)."""
    A, B, C = check_factors(A, B, C)
    M = A if mask is None else np.asarray(mask, dtype=np.float64)[:, None] * A
    R = np.eye(len(C)) - B @ M  # (n, n)
    return 0.5 * float(np.sum((R @ C) * R))


def loss_unchecked(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> float:
    """:func:`loss` without input validation or mask, for inner loops of trusted callers."""
    R = np.eye(len(C)) - B @ A
    return 0.5 * float(np.sum((R @ C) * R))


def gradients(A, B, C, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dA, dL/dB) = (D B^T E, E A^T D) with E = (W - I) C, W = B D A, D = diag(mask)."""
    A, B, C = check_factors(A, B, C)
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != (len(A),) or not np.all(np.isfinite(mask)):
            raise ValueError(f"mask must be a finite vector of length {len(A)}")
    return grads_unchecked(A, B, C, mask)


def grads_unchecked(A: np.ndarray, B: np.ndarray, C: np.ndarray,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gradients` without input validation, for inner loops of trusted callers."""
    if mask is None:
        E = B @ (A @ C) - C  # (n, n): dL/dW = (W - I) C
        return B.T @ E, E @ A.T
    E = B @ ((mask[:, None] * A) @ C) - C
    return mask[:, None] * (B.T @ E), (E @ A.T) * mask[None, :]


def init_factors(k: int, n: int, seed: int, law: str = "gaussian",
                 scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """An initial (A, B): entries i.i.d. with nn.Linear's variance 1/(3 fan_in), times ``scale``.

    ``uniform`` is PyTorch's default law U(-1/sqrt(fan_in), 1/sqrt(fan_in)); ``gaussian`` is
    the normal law with the same variance.  The fan-in of A is n, that of B is k.
    """
    if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
        raise ValueError(f"need integers 1 <= k <= n, got k={k!r}, n={n!r}")
    if law not in LAWS:
        raise ValueError(f"law must be one of {LAWS}, got {law!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be positive, got {scale!r}")
    rng = np.random.default_rng(seed)
    out = []
    for shape, fan_in in (((k, n), n), ((n, k), k)):
        bound = scale / np.sqrt(fan_in)
        if law == "uniform":
            out.append(rng.uniform(-bound, bound, size=shape))
        else:
            out.append(rng.normal(0.0, bound / np.sqrt(3.0), size=shape))
    return out[0], out[1]


# ---------------------------------------------------------------- PCA and subspaces
def pca(C) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues lambda_1 >= ... >= lambda_n of C and orthonormal eigenvectors U (n, n)."""
    C = _finite("C", C, 2)
    if C.shape[0] != C.shape[1] or not np.allclose(C, C.T, atol=1e-12 * np.abs(C).max()):
        raise ValueError("C must be a symmetric square matrix")
    with threadpool_limits(1, "blas"):  # 64 x 64: threads only contend on a shared machine
        lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1], U[:, ::-1]
    U = U * np.where(U[np.abs(U).argmax(0), np.arange(len(U))] < 0, -1.0, 1.0)  # fix signs
    return lam, U


def optimal_loss(C, k: int) -> float:
    """The minimum of L over rank-k autoencoders: 1/2 sum_{i > k} lambda_i (Eckart-Young)."""
    lam, _ = pca(C)
    if not 1 <= k < len(lam):
        raise ValueError(f"need 1 <= k < n = {len(lam)}, got {k}")
    return 0.5 * float(lam[k:].sum())


def range_projector(C, rtol: float = 1e-10) -> np.ndarray:
    """The orthogonal projector onto the range of C (eigenvalues above rtol * lambda_1)."""
    lam, U = pca(C)
    Ur = U[:, lam > rtol * lam[0]]
    return Ur @ Ur.T


def principal_angles(U, V) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of U and V (n, k)."""
    U, V = _finite("U", U, 2), _finite("V", V, 2)
    if U.shape[0] != V.shape[0]:
        raise ValueError(f"U and V must have the same number of rows: {U.shape}, {V.shape}")
    return np.sort(scipy.linalg.subspace_angles(U, V))


def product_error(A, B, C, k: int) -> float:
    """||B A P_R - U_k U_k^T||_F: distance of the learned map to the PCA optimum on range(C)."""
    A, B, C = check_factors(A, B, C)
    _, U = pca(C)
    return float(np.linalg.norm(B @ A @ range_projector(C) - U[:, :k] @ U[:, :k].T))


# ---------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainSpec:
    """A full-batch training run of a linear autoencoder on the digits."""

    k: int = 4
    seed: int = 0
    steps: int = 1500
    lr: float = 0.5
    law: str = "gaussian"
    init_scale: float = 0.1


@lru_cache(maxsize=64)
def train(spec: TrainSpec = TrainSpec()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient descent on the digits from ``init_factors``: (A, B, losses every 10 steps).

    The last entry of the losses is the loss at the end of training.
    """
    C = digits_covariance()
    theta0 = init_factors(spec.k, C.shape[0], spec.seed, spec.law, spec.init_scale)
    with threadpool_limits(1, "blas"):  # small matrices: BLAS threads only contend
        traj = optimizers.run(optimizers.Optimizer("gd", lr=spec.lr), theta0,
                              lambda th, t: grads_unchecked(th[0], th[1], C), spec.steps)
    losses = np.array([loss_unchecked(a, b, C) for a, b in traj[::10] + [traj[-1]]])
    A, B = traj[-1]
    A.setflags(write=False)
    B.setflags(write=False)
    return A, B, losses


# ---------------------------------------------------------------- hidden units
def unit_component_correlations(A, C, k: int | None = None) -> np.ndarray:
    """corr(h_i, s_j) for hidden units h = A x and principal scores s_j = u_j^T x: (k_A, k)."""
    A, C = _finite("A", A, 2), _finite("C", C, 2)
    lam, U = pca(C)
    k = len(A) if k is None else k
    cov = A @ C @ U[:, :k]  # (k_A, k): cov(h_i, s_j)
    sd_h = np.sqrt(np.einsum("ij,jl,il->i", A, C, A))
    return cov / (sd_h[:, None] * np.sqrt(lam[:k])[None, :])


def unit_unit_correlations(A1, A2, C) -> np.ndarray:
    """corr(h_i, h'_j) between the hidden units of two encoders A1, A2 (k, n) on data C."""
    A1, A2, C = _finite("A1", A1, 2), _finite("A2", A2, 2), _finite("C", C, 2)
    cov = A1 @ C @ A2.T
    s1 = np.sqrt(np.einsum("ij,jl,il->i", A1, C, A1))
    s2 = np.sqrt(np.einsum("ij,jl,il->i", A2, C, A2))
    return cov / np.outer(s1, s2)


def best_match(corr) -> float:
    """Mean over rows of max_j |corr_ij|: 1 when every unit equals some component."""
    corr = _finite("corr", corr, 2)
    return float(np.abs(corr).max(1).mean())


def rotated_pca_baseline(C, k: int, samples: int, seed: int) -> float:
    """E best_match for units h = P (U_k^T x) with P Haar-orthogonal (Monte Carlo mean).

    For these units corr(h_i, s_j) = P_ij sqrt(lambda_j) / sqrt(sum_l P_il^2 lambda_l).
    """
    from hiddenunits.symmetry import haar_orthogonal

    lam, _ = pca(C)
    if not 1 <= k <= len(lam) or samples < 1:
        raise ValueError(f"need 1 <= k <= n and samples >= 1, got k={k}, samples={samples}")
    w = np.sqrt(lam[:k])
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(samples):
        Pw = haar_orthogonal(k, rng) * w[None, :]  # (k, k): P_ij sqrt(lambda_j)
        vals.append(best_match(Pw / np.linalg.norm(Pw, axis=1, keepdims=True)))
    return float(np.mean(vals))


@dataclass(frozen=True)
class UnitStudy:
    """Hidden units of autoencoders trained from several seeds, against PCA."""

    k: int
    product_errors: tuple[float, ...]  # ||B A P_R - U_k U_k^T||_F per seed
    weighted_errors: tuple[float, ...]  # ||(B A - U_k U_k^T) C^1/2||_F / ||U_k U_k^T C^1/2||_F
    max_angles: tuple[float, ...]  # largest principal angle of span(B) to span(U_k), radians
    encoder_angles: tuple[float, ...]  # the same for the row space of A
    loss_gaps: tuple[float, ...]  # L - L_opt
    unit_pc: tuple[float, ...]  # best_match(units vs components) per seed
    unit_unit: tuple[float, ...]  # best_match(seed s vs seed s + 1)
    baseline: float  # best_match of a Haar rotation of the components
    null_part: tuple[float, ...]  # ||B A (I - P_R)||_F: the map on the data's null space


def unit_study(k: int = 4, seeds: int = 6) -> UnitStudy:
    """Train ``seeds`` autoencoders on the digits and compare them with PCA and each other."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 2:
        raise ValueError(f"need an integer number of seeds >= 2, got {seeds!r}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < 64:
        raise ValueError(f"need an integer 1 <= k < 64, got {k!r}")
    return _unit_study(k, seeds)


@lru_cache(maxsize=4)
def _unit_study(k: int, seeds: int) -> UnitStudy:
    C = digits_covariance()
    _, U = pca(C)
    PR = range_projector(C)
    runs = [train(TrainSpec(k=k, seed=s)) for s in range(seeds)]
    Ch = sqrt_psd(C)
    Pk = U[:, :k] @ U[:, :k].T
    return UnitStudy(
        k=k,
        product_errors=tuple(product_error(A, B, C, k) for A, B, _ in runs),
        weighted_errors=tuple(float(np.linalg.norm((B @ A - Pk) @ Ch) / np.linalg.norm(Pk @ Ch))
                              for A, B, _ in runs),
        max_angles=tuple(float(principal_angles(B, U[:, :k]).max()) for _, B, _ in runs),
        encoder_angles=tuple(float(principal_angles(A.T, U[:, :k]).max()) for A, _, _ in runs),
        loss_gaps=tuple(float(lo[-1] - optimal_loss(C, k)) for _, _, lo in runs),
        unit_pc=tuple(best_match(unit_component_correlations(A, C, k)) for A, _, _ in runs),
        unit_unit=tuple(best_match(unit_unit_correlations(runs[i][0], runs[i + 1][0], C))
                        for i in range(seeds - 1)),
        baseline=rotated_pca_baseline(C, k, samples=2000, seed=1),
        null_part=tuple(float(np.linalg.norm(B @ A @ (np.eye(len(C)) - PR)))
                        for A, B, _ in runs),
    )


def sqrt_psd(C) -> np.ndarray:
    """The symmetric square root C^{1/2} of a positive semi-definite C (round-off clipped)."""
    lam, U = pca(C)
    return (U * np.sqrt(np.clip(lam, 0.0, None))) @ U.T


def hessian(A, B, C) -> np.ndarray:
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


def critical_point(C, S) -> tuple[np.ndarray, np.ndarray]:
    """The critical point (A, B) = (U_S^T, U_S) of L for a set S of eigenvector indices."""
    _, U = pca(C)
    S = list(S)
    if len(set(S)) != len(S) or not all(0 <= i < len(U) for i in S):
        raise ValueError(f"S must hold distinct indices in [0, {len(U)}), got {S}")
    return U[:, S].T.copy(), U[:, S].copy()


@dataclass(frozen=True)
class CriticalPoint:
    """The curvature of L at the critical point (U_S^T, U_S)."""

    S: tuple[int, ...]  # 0-based eigenvector indices
    loss: float
    grad_norm: float
    min_eig: float  # smallest Hessian eigenvalue
    bound: float  # min over i in S, j not in S of (lambda_i - lambda_j) / 2


def critical_points(k: int = 4, top: int = 6) -> tuple[CriticalPoint, ...]:
    """Every critical point (U_S^T, U_S) with S a k-subset of the top ``top`` components."""
    if not (isinstance(k, int) and isinstance(top, int) and 1 <= k < top <= 64):
        raise ValueError(f"need integers 1 <= k < top <= 64, got k={k!r}, top={top!r}")
    return _critical_points(k, top)


@lru_cache(maxsize=2)
def _critical_points(k: int, top: int) -> tuple[CriticalPoint, ...]:
    import itertools

    C = digits_covariance()
    lam, U = pca(C)
    out = []
    for S in itertools.combinations(range(top), k):
        A, B = U[:, S].T.copy(), U[:, S].copy()  # critical_point(C, S)
        gA, gB = gradients(A, B, C)
        others = [j for j in range(len(lam)) if j not in S]
        bound = min((lam[i] - lam[j]) / 2 for i in S for j in others)
        with threadpool_limits(1, "blas"):  # 512 x 512: one thread is fastest on 2 cores
            min_eig = float(scipy.linalg.eigh(hessian(A, B, C), eigvals_only=True,
                                              subset_by_index=[0, 0])[0])
        out.append(CriticalPoint(S, loss(A, B, C), float(np.sqrt(np.sum(gA**2) + np.sum(gB**2))),
                                 min_eig, float(bound)))
    return tuple(out)


@claim("thm-baldi-hornik", chapter="basis",
       statement="min L = 1/2 sum_{i>k} lambda_i at U_k U_k^T; the other critical points "
                 "(U_S^T, U_S) are saddles with curvature <= (lambda_i - lambda_j)/2",
       method="numeric", tolerance=1e-10)
def check_baldi_hornik() -> float:
    """Value at the optimum, criticality, PSD Hessian at the top set, negative elsewhere."""
    # Each term is zero in exact arithmetic.  The Hessians are 512 x 512 with entries of
    # order 1, so float64 eigenvalues carry absolute errors near 1e-15; 1e-10 leaves room
    # for that but not for a missing negative direction (the bounds are below -0.003).
    C = digits_covariance()
    k = 4
    cps = critical_points(k)
    top = next(cp for cp in cps if cp.S == tuple(range(k)))
    errors = [abs(top.loss - optimal_loss(C, k)), max(0.0, -top.min_eig)]
    errors += [cp.grad_norm for cp in cps]
    errors += [max(0.0, cp.min_eig - cp.bound) for cp in cps if cp is not top]
    return max(errors)


@figure("basis")
def fig_unit_correlations():
    """|corr| of hidden units with principal components, and between two seeds."""
    C = digits_covariance()
    k = 4
    A0 = train(TrainSpec(k=k, seed=0))[0]
    A1 = train(TrainSpec(k=k, seed=1))[0]
    panels = [(np.abs(unit_component_correlations(A0, C, k)), "principal component $j$",
               "hidden unit $i$ (seed 0)", "units vs. components"),
              (np.abs(unit_unit_correlations(A0, A1, C)), "hidden unit $j$ (seed 1)",
               "hidden unit $i$ (seed 0)", "seed 0 vs. seed 1")]
    fig, axes = new_figure(1, 2, height=3.0)
    for ax, (M, xl, yl, title) in zip(axes, panels, strict=True):
        im = ax.imshow(M, vmin=0, vmax=1, cmap="Blues")
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if M[i, j] > 0.6 else COLORS["black"])
        ax.set_xticks(range(k), [str(j + 1) for j in range(k)])
        ax.set_yticks(range(k), [str(i + 1) for i in range(k)])
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.grid(False)
    fig.colorbar(im, ax=axes, shrink=0.8, label="$|$correlation$|$")
    return fig


def critical_rows(k: int = 4, top: int = 6) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the table of critical points (U_S^T, U_S), 1-based index sets."""
    from hiddenunits.claims import latex_number

    headers = ["$S$", "$L$", r"$\Vert\nabla L\Vert$", r"$\lambda_{\min}(H)$",
               r"$\min_{i \in S, j \notin S} (\lambda_i - \lambda_j)/2$"]
    rows = [["$\\{" + ",".join(str(i + 1) for i in cp.S) + "\\}$", f"{cp.loss:.4f}",
             f"${latex_number(cp.grad_norm)}$", f"${latex_number(cp.min_eig, 3)}$",
             "(global minimum)" if cp.S == tuple(range(k)) else f"${latex_number(cp.bound, 3)}$"]
            for cp in critical_points(k, top)]
    return headers, rows
