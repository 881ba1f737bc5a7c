"""Checks of chapter 1, "Linear hidden units have no privileged basis".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.

Several checks combine a symbolic part (SymPy, for matrices of every size) with an
automatic-differentiation part: PyTorch's autograd on a loss that is not quadratic, the
softmax cross-entropy of the linear classifier x -> B A x on random data, so that the
statement, and not only the algebra of the autoencoder's gradient, is tested.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import sympy as sp
import torch
from scipy import stats
from scipy.stats import ortho_group

from hiddenunits import balancedness as bal
from hiddenunits import linear_autoencoder as lae
from hiddenunits import symmetry as sym
from hiddenunits.book.checks.montecarlo import FALSE_ALARM
from hiddenunits.book.claims import claim, variant


# --------------------------------------------------------------------------- symbolic tools
def matrix_symbols() -> tuple[sp.MatrixSymbol, ...]:
    """SymPy matrix symbols of any sizes: A (k, n), B (m, k), G, P (k, k), E = grad l (m, n)."""
    k, n, m = sp.symbols("k n m", integer=True, positive=True)
    return (sp.MatrixSymbol("A", k, n), sp.MatrixSymbol("B", m, k), sp.MatrixSymbol("G", k, k),
            sp.MatrixSymbol("P", k, k), sp.MatrixSymbol("E", m, n))


def symbolic_zero(expr: sp.Basic, orthogonal: sp.MatrixSymbol | None = None) -> bool:
    """Whether SymPy reduces a matrix (or scalar) expression to zero.

    ``orthogonal``: a matrix symbol assumed orthogonal (P^T P = I) while simplifying.
    """
    e = sp.expand(expr)
    if orthogonal is not None:
        e = sp.refine(e, sp.Q.orthogonal(orthogonal))
    e = sp.expand(e.doit())
    return bool(e == 0 or isinstance(e, sp.ZeroMatrix) or sp.simplify(e) == 0)


CHAIN_RULE_SIZE = 2


@functools.cache
def chain_rule_residual() -> int:
    """Symbolic: d/dA l(BA) = B^T E and d/dB l(BA) = E A^T with E = grad l(BA).

    Checked entrywise for k = n = m = 2 (``CHAIN_RULE_SIZE``) and a generic cubic loss l;
    returns the number of entries that SymPy does not reduce to zero.
    """
    s = CHAIN_RULE_SIZE
    a = sp.Matrix(s, s, sp.symbols(f"a0:{s * s}"))
    b = sp.Matrix(s, s, sp.symbols(f"b0:{s * s}"))
    y = sp.Matrix(s, s, sp.symbols(f"y0:{s * s}"))
    w = sp.Matrix(s, s, sp.symbols(f"w0:{s * s}"))
    ell = sum((w[i] - y[i]) ** 2 for i in range(s * s)) / 2 + w[1] * w[2] * w[3]  # cubic
    at_ba = {w[i]: (b * a)[i] for i in range(s * s)}
    L = ell.xreplace(at_ba)
    E = sp.Matrix(s, s, lambda i, j: sp.diff(ell, w[i, j])).xreplace(at_ba)
    gA = sp.Matrix(s, s, lambda i, j: sp.diff(L, a[i, j]))
    gB = sp.Matrix(s, s, lambda i, j: sp.diff(L, b[i, j]))
    return int(sum(sp.expand(r) != 0 for r in list(gA - b.T * E) + list(gB - E * a.T)))


# --------------------------------------------------------------------------- autograd tools
# A few random problems (k, n, m): the classifier x -> B A x with k hidden units, n inputs
# and m classes, on N = 12 random inputs with random labels.
AUTOGRAD_SHAPES = ((3, 5, 4), (2, 6, 3), (4, 4, 5))
WEIGHT_DECAY = 0.1
Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy_loss(A: torch.Tensor, B: torch.Tensor, X: torch.Tensor,
                       y: torch.Tensor) -> torch.Tensor:
    """l(B A): the mean softmax cross-entropy of the logits B A X (N, m) for labels y."""
    return torch.nn.functional.cross_entropy((B @ A @ X).T, y)


def cross_entropy_with_weight_decay(A: torch.Tensor, B: torch.Tensor, X: torch.Tensor,
                                    y: torch.Tensor) -> torch.Tensor:
    """The cross-entropy plus (WEIGHT_DECAY / 2) (||A||^2 + ||B||^2): not a function of B A."""
    penalty = 0.5 * WEIGHT_DECAY * (A.square().sum() + B.square().sum())
    return cross_entropy_loss(A, B, X, y) + penalty


def autograd_gradients(loss: Loss, A: np.ndarray, B: np.ndarray, X: np.ndarray,
                       y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Autograd gradients (dL/dA, dL/dB) of ``loss`` at (A, B), in float64."""
    At = torch.tensor(A, requires_grad=True)
    Bt = torch.tensor(B, requires_grad=True)
    loss(At, Bt, torch.tensor(X), torch.tensor(y)).backward()
    return At.grad.numpy(), Bt.grad.numpy()


@functools.cache
def _problems(loss: Loss = cross_entropy_loss) -> tuple[tuple[np.ndarray, ...], ...]:
    """(A (k, n), B (m, k), X (n, N), y (N,), g_A, g_B) for each shape, from a fixed seed.

    g_A, g_B are the autograd gradients of ``loss`` at (A, B).
    """
    rng = np.random.default_rng(11)
    out = []
    for k, n, m in AUTOGRAD_SHAPES:
        A, B = rng.normal(size=(k, n)), rng.normal(size=(m, k))
        X, y = rng.normal(size=(n, 12)), rng.integers(0, m, size=12)
        out.append((A, B, X, y, *autograd_gradients(loss, A, B, X, y)))
    return tuple(out)


def _fro(*ms: np.ndarray) -> float:
    return math.sqrt(sum(float(np.sum(m * m)) for m in ms))


# --------------------------------------------------------------------------- the group action
def _orthogonal(G: np.ndarray) -> bool:
    return bool(np.allclose(G.T @ G, np.eye(len(G)), rtol=0.0, atol=1e-12))


def isometry_test_matrices() -> list[np.ndarray]:
    """Invertible 3 x 3 matrices, orthogonal and not, to test 'T_G is an isometry iff ...'."""
    rng = np.random.default_rng(5)
    haar = [ortho_group.rvs(3, random_state=rng) for _ in range(3)]
    return haar + [
        np.diag([-1.0, 1.0, 1.0]),  # a reflection
        sym.signed_permutation(3, rng),
        -np.eye(3),
        np.diag([2.0, 0.5, 1.0]),  # determinant 1, not orthogonal
        np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),  # a shear, det 1
        2.0 * haar[0],  # a scaled rotation
        0.5 * np.eye(3),
        sym.general_linear(3, rng),
    ]


def is_isometry(G: np.ndarray, n: int = 2, m: int = 2) -> bool:
    """Whether T_G : (A, B) -> (G A, B G^-1) preserves the norm of R^(k x n) x R^(m x k).

    Builds the matrix of T_G column by column and tests that all its singular values are 1.
    """
    k = len(G)
    dim = k * n + m * k
    cols = []
    for i in range(dim):
        e = np.zeros(dim)
        e[i] = 1.0
        GA, BG = sym.act(G, e[:k * n].reshape(k, n), e[k * n:].reshape(m, k))
        cols.append(np.concatenate([GA.ravel(), BG.ravel()]))
    s = np.linalg.svd(np.array(cols).T, compute_uv=False)
    return bool(np.all(np.abs(s - 1.0) <= 1e-12))


@claim("prop-orbit-invariance",
       statement="L(G A, B G^-1) = L(A, B) for all G in GL(k); T_G is an isometry iff G is "
                 "orthogonal",
       math=r"$L(GA, BG^{-1}) = L(A, B)$ for all $G \in \mathrm{GL}(k)$; $T_G$ is an "
            r"isometry if and only if $G \in \mathrm{O}(k)$",
       method="symbolic", tolerance=0.0,
       variants=[variant("B G^T instead of B G^-1", decoder=lambda G, G_inv: G.T),
                 variant("T_G is an isometry iff |det G| = 1",
                         isometry=lambda G: abs(abs(np.linalg.det(G)) - 1.0) <= 1e-12)])
def check_orbit_invariance(decoder: Callable = lambda G, G_inv: G_inv,
                           isometry: Callable[[np.ndarray], bool] = _orthogonal) -> float:
    """Failures of (a) and (b): symbolic for all sizes, plus an enumeration for 'only if'.

    Part (a): SymPy reduces (B decoder(G)) (G A) - B A to zero for matrix symbols of any
    size.  Part (b): SymPy reduces ||PA||^2 + ||BP^T||^2 - ||A||^2 - ||B||^2 to zero given
    P^T P = I; then, for eleven invertible 3 x 3 matrices (orthogonal ones, a shear and a
    diagonal of determinant 1, scalings, a random G), 'T_G preserves norms' (all singular
    values of its matrix equal to 1) is compared with ``isometry(G)``; each disagreement
    counts one.
    """
    A, B, G, P, _ = matrix_symbols()
    tr = sp.Trace
    failures = float(not symbolic_zero((B @ decoder(G, G.I)) @ (G @ A) - B @ A))
    # ||M||_F^2 = tr(M^T M) = tr(M M^T); each form chosen so that P^T P meets itself
    iso = (tr((P @ A).T @ (P @ A)) + tr((B @ P.T) @ (B @ P.T).T) - tr(A.T @ A) - tr(B @ B.T))
    failures += float(not symbolic_zero(iso, orthogonal=P))
    failures += sum(is_isometry(M) != bool(isometry(M)) for M in isometry_test_matrices())
    return failures


# --------------------------------------------------------------------------- gradients
def _contragredient(G, G_inv, gA, gB):
    return G_inv.T @ gA, gB @ G.T


@claim("lem-gradient-equivariance",
       statement="grad L(G.theta) = (G^-T grad_A L, grad_B L G^T); for orthogonal P this is "
                 "P.grad L(theta)",
       math=r"$\nabla L(G\cdot\theta) = (G^{-\top}\nabla_A L, \nabla_B L\, G^\top)$; for "
            r"$P \in \mathrm{O}(k)$ this is $P\cdot\nabla L(\theta)$",
       method="numeric", tolerance=1e-10,
       variants=[variant("gradients move like the parameters: (G g_A, g_B G^-1)",
                         law=lambda G, G_inv, gA, gB: (G @ gA, gB @ G_inv)),
                 variant("transpose missing: (G^-1 g_A, g_B G)",
                         law=lambda G, G_inv, gA, gB: (G_inv @ gA, gB @ G)),
                 variant("also for a loss with weight decay 0.1 (not a function of B A)",
                         loss=cross_entropy_with_weight_decay)])
def check_gradient_equivariance(law: Callable = _contragredient,
                                loss: Loss = cross_entropy_loss) -> float:
    """Symbolic failures plus the largest relative autograd error of ``law`` for ``loss``.

    Symbolic: the chain rule (k = n = m = 2, a cubic loss), then ``law`` against the
    gradient formulas at G.theta, and the orthogonal case, for matrix symbols of any size.
    Autograd: ``loss`` (by default the cross-entropy of x -> B A x; three shapes); the
    gradient at G.theta (G Gaussian) against ``law`` applied to the gradient at theta, and
    the gradient at P.theta (P Haar) against P.grad L(theta), relative to the gradient's
    norm.  The symbolic part assumes L = l(B A); the autograd part does not.  The error of
    a true law is round-off amplified by cond(G) (~1e-15); 1e-10 leaves room for that.
    """
    A, B, G, _, E = matrix_symbols()
    hA, hB = law(G, G.I, B.T @ E, E @ A.T)
    failures = chain_rule_residual() + _orthogonal_law_failures()
    # at G.theta the product, hence E = grad l(B A), is unchanged (checked above)
    failures += not symbolic_zero((B @ G.I).T @ E - hA)
    failures += not symbolic_zero(E @ (G @ A).T - hB)
    worst = 0.0
    for M, gA, gB, hA, hB in _transformed_gradients(loss):
        pA, pB = law(M, np.linalg.inv(M), gA, gB)
        worst = max(worst, _fro(hA - pA, hB - pB) / _fro(hA, hB))
        if _orthogonal(M):
            tA, tB = sym.act(M, gA, gB)
            worst = max(worst, _fro(hA - tA, hB - tB) / _fro(hA, hB))
    return float(failures) + worst


@functools.cache
def _orthogonal_law_failures() -> int:
    """Symbolic: for orthogonal P the contragredient law is the action P.(g_A, g_B)."""
    A, B, _, P, E = matrix_symbols()
    return (int(not symbolic_zero((B @ P.I).T @ E - P @ (B.T @ E), orthogonal=P))
            + int(not symbolic_zero(E @ (P @ A).T - (E @ A.T) @ P.I, orthogonal=P)))


@functools.cache
def _transformed_gradients(loss: Loss) -> tuple[tuple[np.ndarray, ...], ...]:
    """(M, g_A, g_B, h_A, h_B): gradients at theta and at M.theta, M Gaussian or Haar."""
    rng = np.random.default_rng(12)
    out = []
    for A, B, X, y, gA, gB in _problems(loss):
        k = len(A)
        for M in (rng.normal(size=(k, k)), ortho_group.rvs(k, random_state=rng)):
            out.append((M, gA, gB, *autograd_gradients(loss, *sym.act(M, A, B), X, y)))
    return tuple(out)


# --------------------------------------------------------------------------- trajectories
COVERED = tuple(c for c in sym.CASES if c.equivariant and c.group == "orthogonal")
"""The procedures of the equivariance table that the theorem covers."""
ADAM, RMSPROP, ADAGRAD = sym.case("Adam"), sym.case("RMSProp"), sym.case("Adagrad")
L1_PENALTY = sym.case("GD + L1 penalty")


@claim("thm-trajectory-equivariance",
       statement="GD, SGD (same minibatches), heavy ball, Nesterov and L2 decay started at "
                 "P.theta_0 stay at P.theta_t",
       math=r"gradient descent, SGD with the same minibatches, heavy ball, Nesterov and L2 "
            r"weight decay started at $P\cdot\theta_0$ stay at $P\cdot\theta_t$",
       method="numeric", tolerance=1e-10,
       variants=[variant("Adam instead of gradient descent", procedures=(ADAM,)),
                 variant("RMSProp instead of gradient descent", procedures=(RMSPROP,)),
                 variant("Adagrad instead of gradient descent", procedures=(ADAGRAD,)),
                 variant("an L1 penalty instead of L2 weight decay",
                         procedures=(L1_PENALTY,)),
                 variant("a general invertible G instead of an orthogonal P",
                         procedures=COVERED[:1], group="general linear")])
def check_trajectory_equivariance(procedures: tuple[sym.Case, ...] = COVERED,
                                  group: str = "orthogonal") -> float:
    """max_t ||theta'_t - M theta_t|| / ||theta_t|| over ``procedures``, M drawn from ``group``.

    Digits autoencoder, k = 4, 300 steps from a Gaussian init with PyTorch's variance.  The
    two runs of a covered procedure perform the same arithmetic up to the order of float64
    operations, so they differ by round-off, ~1e-16 per operation accumulated over 300
    contracting steps (measured ~1e-15).  1e-10 leaves room for that and is far below the
    deviations of the variants.
    """
    return max(float(sym.compare(replace(c, group=group)).deviation.max()) for c in procedures)


# --------------------------------------------------------------------------- the learned law
LAW_SAMPLES = 32000
ORIENTATION_BINS = 16
SHAPE_STRATA = 8
LAW_DF = SHAPE_STRATA * (ORIENTATION_BINS - 1)
LAW_LEVEL = float(stats.chi2.isf(FALSE_ALARM, LAW_DF))
MISS_SES = 3


def invariant_law_statistic(study: sym.LawStudy) -> float:
    """Chi-square statistic of 'the orientation is uniform and independent of the shape'.

    Orientation: the angle psi_1 of the hidden vector A e_1, in 16 bins of [0, 2 pi).
    Shape: the rotation-invariant angle psi_2 - psi_1 from A e_1 to A e_2, in 8 strata of
    equal size.  Under an O(2)-invariant law psi_1 is uniform given the shape, so each
    stratum's 16 counts are multinomial with equal probabilities, and the statistic is
    chi-square with 8 x 15 = 120 degrees of freedom (expected counts 250).
    """
    psi = sym.hidden_angles(study.A)
    orientation = np.mod(psi[:, 0], 2 * math.pi)
    shape = np.mod(psi[:, 1] - psi[:, 0], 2 * math.pi)
    cuts = np.quantile(shape, np.linspace(0, 1, SHAPE_STRATA + 1)[1:-1])
    stratum = np.searchsorted(cuts, shape)
    column = np.minimum((orientation / (2 * math.pi) * ORIENTATION_BINS).astype(int),
                        ORIENTATION_BINS - 1)
    counts = np.zeros((SHAPE_STRATA, ORIENTATION_BINS))
    np.add.at(counts, (stratum, column), 1.0)
    expected = counts.sum(1, keepdims=True) / ORIENTATION_BINS
    return float(np.sum((counts - expected) ** 2 / expected))


@claim("cor-invariant-law",
       statement="from an O(k)-invariant init (independent centred Gaussian entries) the "
                 "learned parameters have an O(k)-invariant law",
       math=r"from an $\mathrm{O}(k)$-invariant initialisation (independent centred Gaussian "
            r"entries) the learned $\theta_t$ has an $\mathrm{O}(k)$-invariant law",
       method="monte-carlo", tolerance=LAW_LEVEL,
       variants=[variant("PyTorch's uniform init U(-1/sqrt(n_in), 1/sqrt(n_in))",
                         law="uniform"),
                 variant("independent Gaussian entries, a different variance per hidden unit",
                         hidden_scales=(1.0, 2.0))])
def check_invariant_law(law: str = "gaussian",
                        hidden_scales: tuple[float, float] = (1.0, 1.0)) -> float:
    """The chi-square statistic of the learned law, 2 x 2 model, 32000 runs.

    The tolerance is the 1 - 1e-3 quantile of chi-square(120), so the whole check fails by
    chance once in a thousand seeds; see :func:`invariant_law_miss` for its power.
    """
    study = sym.law_study(law, samples=LAW_SAMPLES, rng=0, hidden_scales=hidden_scales)
    return invariant_law_statistic(study)


def invariant_law_miss(law: str = "uniform", margin: float = 2.0) -> float:
    """Probability that the check misses the learned law from ``law``: one minus its power.

    The statistic then follows a noncentral chi-square law; its noncentrality is estimated
    on an independent sample (seed 1) and lowered by three of its standard errors, and the
    miss probability is that of the statistic staying below ``margin`` times the tolerance
    (the threshold a false variant must exceed).
    """
    stat = invariant_law_statistic(sym.law_study(law, samples=LAW_SAMPLES, rng=1))
    lam = max(stat - LAW_DF, 0.0)
    lam_low = max(lam - MISS_SES * math.sqrt(2 * (LAW_DF + 2 * lam)), 0.0)
    return float(stats.ncx2.cdf(margin * LAW_LEVEL, LAW_DF, lam_low))


# --------------------------------------------------------------------------- stabilisers
STABILISER_RUNS = (("relu", "gd"), ("linear", "gd"), ("linear", "nesterov"))
"""(model, method) of the runs of the stabiliser check (see ``symmetry.stabiliser_run``)."""


@claim("prop-stabiliser",
       statement="if T theta_0 = theta_0 for a linear isometry T that leaves every step loss "
                 "unchanged, then T theta_t = theta_t for all t: hidden units that start "
                 "equal stay equal",
       math=r"if $T\theta_0 = \theta_0$ for a linear isometry $T$ with $F_t \circ T = F_t$, "
            r"then $T\theta_t = \theta_t$ for every $t$: hidden units that start equal "
            r"stay equal",
       method="numeric", tolerance=1e-12,
       variants=[variant(f"also with dropout on the hidden units (probability "
                         f"{sym.STABILISER_DROPOUT})",
                         dropout=sym.STABILISER_DROPOUT),
                 variant("also when only the incoming weights and biases start equal",
                         tie_outgoing=False)])
def check_stabiliser(dropout: float = 0.0, tie_outgoing: bool = True) -> float:
    """max_t of the relative distance between hidden units 1 and 2, which start equal.

    Three runs: the ReLU digit classifier (minibatch SGD), and the digits autoencoder with
    gradient descent and with Nesterov's method (``symmetry.stabiliser_run``, seed 0).  The
    transposition of units 1 and 2 is an isometry that leaves every step loss unchanged
    unless a dropout mask treats the two units differently.  The units are computed by the
    same float64 operations, so the measured distance is exactly 0; the tolerance 1e-12
    leaves room for a linear-algebra library that orders the two rows' sums differently.
    """
    return max(float(sym.stabiliser_run(model, 2, tie_outgoing, dropout, method).deviation.max())
               for model, method in STABILISER_RUNS)


# --------------------------------------------------------------------------- orthogonality
@claim("prop-gradient-orthogonal",
       statement="grad L is orthogonal to the GL(k)-orbit: g_A A^T = B^T g_B",
       math=r"$\nabla L$ is orthogonal to the $\mathrm{GL}(k)$-orbit: "
            r"$g_A A^\top = B^\top g_B$",
       method="numeric", tolerance=1e-12,
       variants=[variant("g_A A^T = g_B^T B (transposed right-hand side)",
                         identity=lambda A, B, gA, gB: gA @ A.T - gB.T @ B),
                 variant("sign flip: g_A A^T = -B^T g_B (tangent vectors (Omega A, B Omega))",
                         identity=lambda A, B, gA, gB: gA @ A.T + B.T @ gB),
                 variant("also for a loss with weight decay 0.1 (not a function of B A)",
                         loss=cross_entropy_with_weight_decay)])
def check_gradient_orthogonal(identity: Callable = lambda A, B, gA, gB: gA @ A.T - B.T @ gB,
                              loss: Loss = cross_entropy_loss) -> float:
    """Symbolic failures plus the largest relative autograd residual of ``identity``.

    Symbolic: the chain rule (k = n = m = 2), then ``identity`` at g_A = B^T E, g_B = E A^T
    for matrix symbols of any size (this assumes L = l(B A)).  Autograd: the residual for
    ``loss`` (by default the cross-entropy of x -> B A x; three shapes), relative to
    ||g_A|| ||A|| + ||B|| ||g_B||; round-off ~1e-16.
    """
    A, B, _, _, E = matrix_symbols()
    failures = chain_rule_residual() + float(
        not symbolic_zero(identity(A, B, B.T @ E, E @ A.T)))
    worst = 0.0
    for A_, B_, _, _, gA, gB in _problems(loss):
        scale = _fro(gA) * _fro(A_) + _fro(B_) * _fro(gB)
        worst = max(worst, _fro(identity(A_, B_, gA, gB)) / scale)
    return failures + worst


# --------------------------------------------------------------------------- balancedness
MIDPOINT_STEP = 0.2


@functools.cache
def _midpoint_run(setup: bal.FlowSetup) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Start and end of the implicit-midpoint integration (h = 0.2) of a flow setup."""
    return bal.start(setup), bal.midpoint(setup, MIDPOINT_STEP)


@claim("thm-balancedness-flow",
       statement="under gradient flow D = A A^T - B^T B is constant",
       math=r"under gradient flow $D = AA^\top - B^\top B$ is constant",
       method="numeric", tolerance=1e-11,
       variants=[variant("A^T A - B B^T (the n x n Gram matrices) is constant",
                         quantity=lambda A, B: A.T @ A - B @ B.T),
                 variant("A A^T + B^T B is constant", quantity=lambda A, B: A @ A.T + B.T @ B),
                 variant("the flow of L plus an L2 penalty (weight decay 0.01)",
                         weight_decay=0.01)])
def check_balancedness_flow(quantity: Callable = bal.balancedness,
                            weight_decay: float = 0.0) -> float:
    """Relative change of ``quantity`` over t in [0, 10], implicit midpoint rule, h = 0.2.

    The midpoint rule changes a quadratic quantity by h times its flow derivative at the
    midpoint, so it measures dQ/dt directly, with no truncation error.  What remains for a
    conserved Q is round-off, about 1e-16 relative per step and per fixed-point solve, over
    50 steps: ~1e-14.  1e-11 leaves room for that.
    """
    (A0, B0), (AT, BT) = _midpoint_run(bal.FlowSetup(weight_decay=weight_decay))
    Q0, QT = quantity(A0, B0), quantity(AT, BT)
    return float(np.linalg.norm(QT - Q0) / np.linalg.norm(Q0))


STEP_SIZES = (0.05, 0.5)


@claim("lem-balancedness-step",
       statement="one GD step changes A A^T - B^T B by exactly eta^2 (g_A g_A^T - g_B^T g_B)",
       math=r"one gradient step changes $AA^\top - B^\top B$ by exactly "
            r"$\eta^2 (g_A g_A^\top - g_B^\top g_B)$",
       method="numeric", tolerance=1e-12,
       variants=[variant("eta instead of eta^2",
                         change=lambda gA, gB, eta: eta * (gA @ gA.T - gB.T @ gB)),
                 variant("eta^2 (g_A g_A^T + g_B^T g_B) (sign)",
                         change=lambda gA, gB, eta: eta**2 * (gA @ gA.T + gB.T @ gB)),
                 variant("also for a loss with weight decay 0.1 (not a function of B A)",
                         loss=cross_entropy_with_weight_decay)])
def check_balancedness_step(change: Callable = lambda gA, gB, eta: eta**2 * (
        gA @ gA.T - gB.T @ gB), loss: Loss = cross_entropy_loss) -> float:
    """Symbolic failures plus the largest relative autograd error of ``change``.

    Symbolic: D(A - eta g_A, B - eta g_B) - D(A, B) - change(...) for matrix symbols of any
    size (with g_A = B^T E, g_B = E A^T, that is L = l(B A)), and the chain rule.
    Autograd: one step of size 0.05 and 0.5 on ``loss`` (by default the cross-entropy of
    x -> B A x; three shapes); the error is relative to ||A||^2 + ||B||^2, the scale of D's
    round-off (~1e-16).
    """
    A, B, _, _, E = matrix_symbols()
    eta = sp.symbols("eta")
    gA, gB = B.T @ E, E @ A.T
    A1, B1 = A - eta * gA, B - eta * gB
    residual = (A1 @ A1.T - B1.T @ B1) - (A @ A.T - B.T @ B) - change(gA, gB, eta)
    failures = chain_rule_residual() + float(not symbolic_zero(residual))
    worst = 0.0
    for A_, B_, _, _, gA, gB in _problems(loss):
        for lr in STEP_SIZES:
            A1, B1 = A_ - lr * gA, B_ - lr * gB
            direct = bal.balancedness(A1, B1) - bal.balancedness(A_, B_)
            worst = max(worst, _fro(direct - change(gA, gB, lr)) / (_fro(A_) ** 2
                                                                    + _fro(B_) ** 2))
    return failures + worst


# --------------------------------------------------------------------------- minima and saddles
K = 4
KERNEL_RTOL = 1e-10
TOP = 6


@functools.cache
def _range_covariance() -> np.ndarray:
    """The digits' covariance in an orthonormal basis of its range: invertible, (r, r)."""
    C = lae.digits_covariance()
    lam, U = lae.pca(C)
    Ur = U[:, lam > 1e-10 * lam[0]]
    return Ur.T @ C @ Ur


@functools.cache
def minimiser_kernel_dimensions() -> tuple[tuple[int, int, int, int], ...]:
    """(k, n, rank C, dim ker H) at the minimiser (U_k^T, U_k), digits C and C on its range."""
    out = []
    for C in (lae.digits_covariance(), _range_covariance()):
        lam, _ = lae.pca(C)
        rank = int(np.sum(lam > 1e-10 * lam[0]))
        A, B = lae.critical_point(C, range(K))
        out.append((K, len(C), rank, lae.hessian_kernel_dimension(A, B, C, KERNEL_RTOL)))
    return tuple(out)


@functools.cache
def _test_points() -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
    """Points of the digits autoencoder: on the set of minimisers, random, and trained.

    Minimisers: (G U_k^T + N Pi_0, U_k G^-1) with G Gaussian and N arbitrary (Pi_0 the
    projector on the null space of C).  Random: Gaussian (A, B) at three scales.  Trained:
    the six gradient-descent runs of the chapter.
    """
    C = lae.digits_covariance()
    _, U = lae.pca(C)
    null = np.eye(len(C)) - lae.range_projector(C)
    rng = np.random.default_rng(13)
    points = []
    for _ in range(4):
        G = rng.normal(size=(K, K))
        N = rng.normal(size=(K, len(C)))
        points.append(("minimiser", G @ U[:, :K].T + N @ null, np.linalg.solve(G.T, U[:, :K].T).T))
    for scale in (0.1, 1.0, 10.0):
        points.append(("random", scale * rng.normal(size=(K, len(C))),
                       scale * rng.normal(size=(len(C), K))))
    for seed in range(6):
        A, B, _ = lae.train(lae.TrainSpec(k=K, seed=seed))
        points.append(("trained", A, B))
    return tuple(points)


@claim("thm-baldi-hornik",
       statement="min L = 1/2 sum_{i>k} lambda_i, attained exactly on A Pi_R = G U_k^T, "
                 "B = U_k G^-1 (one GL(k)-orbit if C is invertible); (U_S^T, U_S) are "
                 "saddles: curvature <= (lambda_i - lambda_j)/2 and >= lambda_1",
       math=r"$\min L = \frac12\sum_{i>k}\lambda_i$, attained exactly where "
            r"$A\Pi_R = GU_k^\top$, $B = U_kG^{-1}$ (one $\mathrm{GL}(k)$-orbit if $C$ is "
            r"invertible); at $(U_S^\top, U_S)$ the Hessian has "
            r"$\lambda_{\min} \le \frac12(\lambda_i - \lambda_j)$ and "
            r"$\lambda_{\max} \ge \lambda_1$",
       method="numeric", tolerance=1e-10,
       variants=[variant("minimum 1/2 sum_{i >= k} lambda_i (off by one)",
                         minimum=lambda lam, k: 0.5 * float(lam[k - 1:].sum())),
                 variant("the minimisers form one O(k)-orbit (dimension k(k-1)/2)",
                         minimiser_dimension=lambda k, n, r: k * (k - 1) // 2 + k * (n - r)),
                 variant("curvature bound lambda_i - lambda_j (factor 1/2 dropped)",
                         saddle_bound=lambda li, lj: li - lj),
                 variant("largest curvature at least 2 lambda_1 at every critical point",
                         rising_bound=lambda lam: 2 * lam[0])])
def check_baldi_hornik(minimum: Callable = lambda lam, k: 0.5 * float(lam[k:].sum()),
                       minimiser_dimension: Callable = lambda k, n, r: k * k + k * (n - r),
                       saddle_bound: Callable = lambda li, lj: (li - lj) / 2,
                       rising_bound: Callable = lambda lam: lam[0]) -> float:
    """Largest error of the statement on the digits autoencoder (k = 4).

    (a) L* = ``minimum``: |L - L*| / L* on four points of the claimed set of minimisers,
    and the shortfall max(0, L* - L) / L* at random and trained points; the dimension of
    the set of minimisers, k^2 + k (n - rank C) by the theorem, against the dimension of
    the Hessian's kernel at (U_k^T, U_k) (eigenvalues below 1e-10 ||H||), for the digits
    (n = 64, rank 61) and for the digits in a basis of the range of C (invertible, so one
    GL(k)-orbit: k^2 = 16); each unit of dimension mismatch counts one.
    (b) At the 15 critical points with S a 4-subset of the top six components: the
    gradient norm, max(0, lambda_min(H) - min_{i in S, j not in S} ``saddle_bound``),
    max(0, ``rising_bound`` - lambda_max(H)), and a positive semi-definite Hessian at
    S = {1..4}.  Exact arithmetic gives 0; the Hessians' entries are of order 1, so float64
    leaves ~1e-15.  1e-10 leaves room for that.
    """
    C = lae.digits_covariance()
    lam, _ = lae.pca(C)
    L_star = minimum(lam, K)
    errors = []
    for kind, A, B in _test_points():
        L = lae.loss(A, B, C)
        errors.append(abs(L - L_star) / L_star if kind == "minimiser"
                      else max(0.0, L_star - L) / L_star)
    errors += [abs(measured - minimiser_dimension(k, n, r))
               for k, n, r, measured in minimiser_kernel_dimensions()]
    for cp in lae.critical_points(K, TOP):
        errors.append(cp.grad_norm)
        errors.append(max(0.0, cp.min_eig - min(saddle_bound(li, lj) for li, lj in cp.gaps)))
        errors.append(max(0.0, rising_bound(lam) - cp.max_eig))
        if cp.S == tuple(range(K)):
            errors.append(max(0.0, -cp.min_eig))
    return float(max(errors))


# --------------------------------------------------------------------------- the spectrum
SPECTRUM_POINTS = 6


@functools.cache
def _range_minimisers(balanced: bool) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Global minimisers G.(U_k^T, U_k) of the autoencoder on the range of the digits' C.

    G is Haar-orthogonal (then D = 0) when ``balanced``, else Gaussian (then D != 0).
    """
    C = _range_covariance()
    _, U = lae.pca(C)
    rng = np.random.default_rng(14)
    out = []
    for _ in range(SPECTRUM_POINTS):
        G = ortho_group.rvs(K, random_state=rng) if balanced else rng.normal(size=(K, K))
        out.append(sym.act(G, U[:, :K].T, U[:, :K]))
    return tuple(out)


def _hidden(A, B, C):
    return bal.hidden_spectrum(A, C)


def _gram(A, B, C):
    return np.linalg.eigvalsh(A @ A.T)[::-1]


@claim("prop-hidden-spectrum",
       statement="at a global minimiser (C invertible) (BA) C (BA)^T has the eigenvalues "
                 "lambda_1..lambda_k; if also D = 0, then A A^T = B^T B = I and A C A^T has "
                 "the eigenvalues lambda_1..lambda_k",
       math=r"at a global minimiser, $(BA)C(BA)^\top$ has the eigenvalues "
            r"$\lambda_1, \dots, \lambda_k$; if also $D = 0$, then $AA^\top = B^\top B = I$ "
            r"and $ACA^\top$ has the eigenvalues $\lambda_1, \dots, \lambda_k$",
       method="numeric", tolerance=1e-12,
       variants=[variant("the hidden spectrum is lambda_1..lambda_k at every global minimiser",
                         balanced=False),
                 variant("if D = 0, A A^T (not A C A^T) has the eigenvalues lambda_1..lambda_k",
                         hidden=_gram)])
def check_hidden_spectrum(balanced: bool = True, hidden: Callable = _hidden) -> float:
    """Largest relative error of the stated spectra at global minimisers.

    The digits' covariance on its range (invertible, n = 61), k = 4, six minimisers
    G.(U_k^T, U_k): with Haar-orthogonal G (so D = 0; ``balanced``) or Gaussian G.  At each:
    the output spectrum against lambda_1..lambda_k, ``hidden(A, B, C)`` against them, and
    (when ``balanced``) ||D||, ||A A^T - I|| and ||B^T B - I||.  The spectra are computed
    by symmetric eigensolvers from entries of order 1: round-off ~1e-15.
    """
    C = _range_covariance()
    lam, _ = lae.pca(C)
    errors = []
    for A, B in _range_minimisers(balanced):
        errors.append(float(np.abs(bal.output_spectrum(A, B, C) / lam[:K] - 1).max()))
        errors.append(float(np.abs(hidden(A, B, C) / lam[:K] - 1).max()))
        if balanced:
            errors += [float(np.abs(M).max()) for M in
                       (bal.balancedness(A, B), A @ A.T - np.eye(K), B.T @ B - np.eye(K))]
    return max(errors)


DECAY = 0.05
DECAY_STEPS = 1500


def _weight_penalty(A, B, gamma):
    """Gradient of (gamma / 2)(||A||^2 + ||B||^2)."""
    return gamma * A, gamma * B


def _product_penalty(A, B, gamma):
    """Gradient of (gamma / 2)||B A||_F^2, a penalty on the product alone."""
    W = B @ A
    return gamma * B.T @ W, gamma * W @ A.T


@functools.cache
def _decay_starts() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Unbalanced starting points: a minimiser G.(U_k^T, U_k) of L, and a Gaussian init."""
    C = lae.digits_covariance()
    _, U = lae.pca(C)
    G = sym.general_linear(K, rng=15, stretch=2.0)
    return (sym.act(G, U[:, :K].T, U[:, :K]),
            lae.init_factors(K, len(C), rng=15, law="gaussian", scale=1.0))


@claim("prop-decay-balanced",
       statement="for gamma > 0 every critical point of L + (gamma/2)||theta||^2 is balanced, "
                 "D = 0",
       math=r"for $\gamma > 0$ every critical point of "
            r"$L + \frac{\gamma}{2}\lVert\theta\rVert^2$ is balanced: $D = 0$",
       method="numeric", tolerance=1e-10,
       variants=[variant("also without the penalty (gamma = 0)", gamma=0.0),
                 variant("also for the penalty (gamma/2)||B A||^2 on the product",
                         penalty=_product_penalty)])
def check_decay_balanced(gamma: float = DECAY, penalty: Callable = _weight_penalty) -> float:
    """Symbolic failures plus max(||D||, ||grad F||) / (||A||^2 + ||B||^2) at critical points.

    Symbolic: (grad_A F) A^T - B^T (grad_B F) = gamma D for F = l(B A) + ``penalty`` (matrix
    symbols of any size), so that grad F = 0 forces gamma D = 0.  Numeric: gradient descent
    (step 0.5, 1500 steps) on the digits autoencoder plus ``penalty`` from two unbalanced
    points, a minimiser G.(U_k^T, U_k) of L (||D|| of order 1) and a Gaussian
    initialisation, to a critical point (the gradient is part of the error).  D and the
    gradient then shrink like (1 - 0.5 gamma)^t, far below round-off (~1e-16) after 1500
    steps; 1e-10 leaves room for that.
    """
    A, B, _, _, E = matrix_symbols()
    g = sp.Symbol("gamma")
    pA, pB = penalty(A, B, g)
    gA, gB = B.T @ E + pA, E @ A.T + pB
    failures = float(not symbolic_zero(gA @ A.T - B.T @ gB - g * (A @ A.T - B.T @ B)))
    C = lae.digits_covariance()
    worst = 0.0
    for A0, B0 in _decay_starts():
        A_, B_ = A0.copy(), B0.copy()
        for _ in range(DECAY_STEPS):
            hA, hB = lae.grads_unchecked(A_, B_, C)
            qA, qB = penalty(A_, B_, gamma)
            A_, B_ = A_ - 0.5 * (hA + qA), B_ - 0.5 * (hB + qB)
        hA, hB = lae.grads_unchecked(A_, B_, C)
        qA, qB = penalty(A_, B_, gamma)
        scale = _fro(A_) ** 2 + _fro(B_) ** 2
        worst = max(worst, _fro(bal.balancedness(A_, B_)) / scale,
                    _fro(hA + qA, hB + qB) / scale)
    return failures + worst


# --------------------------------------------------------------------------- ReLU layers
def _monomial(Ms: np.ndarray) -> np.ndarray:
    """Permutation times an invertible diagonal (entries of any sign), for a stack (c, k, k)."""
    nz = Ms != 0
    return np.all(nz.sum(1) == 1, axis=1) & np.all(nz.sum(2) == 1, axis=1)


@claim("prop-relu-symmetry",
       statement="relu(G z) = G relu(z) for all z iff G is a permutation times a positive "
                 "diagonal",
       math=r"$\operatorname{relu}(Gz) = G\operatorname{relu}(z)$ for all $z$ if and only if "
            r"$G$ is a permutation times a positive diagonal",
       method="exact", tolerance=0.0,
       variants=[variant("a permutation times any invertible diagonal (negative scalings too)",
                         symmetries=_monomial),
                 variant("every invertible matrix with non-negative entries",
                         symmetries=lambda Ms: np.all(Ms >= 0, axis=(1, 2)))])
def check_relu_symmetry(symmetries: Callable[[np.ndarray], np.ndarray]
                        = sym.is_positive_monomial) -> float:
    """Enumerated invertible M where 'commutes with relu' and ``symmetries`` disagree.

    Every invertible 2 x 2 matrix with entries in {-2, -1, -1/2, 0, 1/2, 1, 2} and every
    invertible 3 x 3 matrix with entries in {-1, 0, 1}; commuting is tested on 16 Gaussian
    vectors.
    """
    return float(sum(int(np.sum(c.equivariant != symmetries(c.matrices)))
                     for c in sym.relu_census()))
