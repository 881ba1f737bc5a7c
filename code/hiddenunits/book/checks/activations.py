"""Checks of chapter 2, "Designing hidden units".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache, reduce

import numpy as np
import sympy as sp
from scipy import optimize, special

from hiddenunits import activations as act
from hiddenunits import conditioning as cond
from hiddenunits import gradient_flow as gf
from hiddenunits.book.claims import claim, variant
from hiddenunits.threads import limited_threads


def symbolic_residual(exprs: Sequence[sp.Expr], polynomial: bool = False) -> float:
    """0.0 when sympy proves every expression identically 0, else a positive residual.

    Expressions are expanded and, unless ``polynomial`` (then expansion alone decides:
    a polynomial is identically 0 exactly when its expansion is), simplified.  The
    residual is the largest absolute value of the expressions at a fixed rational point
    (1.0 if they all happen to vanish there), so a failed proof reports a size.
    """
    exprs = [sp.expand(e) for e in exprs]
    if not polynomial:
        exprs = [e if e == 0 else sp.simplify(e) for e in exprs]
    if all(e == 0 for e in exprs):
        return 0.0
    values = []
    for e in exprs:
        point = {s: sp.Rational(3, 7) + k for k, s in enumerate(sorted(e.free_symbols, key=str))}
        values.append(abs(float(sp.N(e.subs(point)))))
    return max(values) or 1.0


# --------------------------------------------------------------------------- affine maps
def composed_weight(ws: Sequence[sp.Matrix]) -> sp.Matrix:
    """W = W_D ... W_1 for the layer weights ``ws`` = (W_1, ..., W_D)."""
    return reduce(lambda acc, w: w * acc, ws[1:], ws[0])


def composed_bias(ws: Sequence[sp.Matrix], bs: Sequence[sp.Matrix]) -> sp.Matrix:
    """b = sum_l W_D ... W_{l+1} b_l (the empty product for l = D is the identity)."""
    total = sp.zeros(*bs[-1].shape)
    for ell, b in enumerate(bs):
        for w in ws[ell + 1:]:
            b = w * b
        total += b
    return total


AFFINE_WIDTHS = (2, 2, 2, 2)  # three square layers: every claimed product is defined


@claim("prop-affine-composition",
       statement="a composition of affine maps is affine: W = W_D...W_1, "
                 "b = sum_l W_D...W_(l+1) b_l",
       math=r"$f_D \circ \dots \circ f_1(x) = Wx + b$ with $W = W_D \cdots W_1$ and "
            r"$b = \sum_\ell W_D \cdots W_{\ell+1} b_\ell$",
       method="symbolic", tolerance=0.0,
       variants=[variant("W = W_1 W_2 ... W_D (the product in the wrong order)",
                         weight=lambda ws: composed_weight(ws[::-1])),
                 variant("b = sum_l b_l (the biases simply add up)",
                         bias=lambda ws, bs: reduce(lambda a, b: a + b, bs))])
def check_affine_composition(weight: Callable = composed_weight,
                             bias: Callable = composed_bias) -> float:
    """Symbolic residual of f_D o ... o f_1(x) - (weight(W) x + bias(W, b)).

    Three layers of 2 x 2 matrices and biases with independent symbolic entries (the
    matrices do not commute, so the order of the product is tested); depth follows by
    induction.
    """
    x = sp.Matrix(sp.symbols(f"x0:{AFFINE_WIDTHS[0]}"))
    ws, bs = [], []
    out = x
    for layer, (n_in, n_out) in enumerate(zip(AFFINE_WIDTHS[:-1], AFFINE_WIDTHS[1:],
                                               strict=True)):
        w = sp.Matrix(n_out, n_in, lambda i, j, k=layer: sp.Symbol(f"w{k}_{i}{j}"))
        b = sp.Matrix(n_out, 1, lambda i, j, k=layer: sp.Symbol(f"b{k}_{i}"))
        out = w * out + b
        ws.append(w)
        bs.append(b)
    return symbolic_residual(list(out - (weight(ws) * x + bias(ws, bs))), polynomial=True)


# --------------------------------------------------------------------------- universality
def _uat_target(x: np.ndarray) -> np.ndarray:
    """The continuous function approximated: neither odd nor even, not a polynomial."""
    return np.sin(4 * x) + np.cos(3 * x)


UAT_UNITS = 500
"""Hidden units of the random one-layer networks of the check."""
UAT_UNIVERSAL = {
    "logistic sigmoid": lambda t: 1 / (1 + np.exp(-np.clip(t, -500, 500))),
    "ReLU": lambda t: np.maximum(t, 0.0),
    "Heaviside step (discontinuous)": lambda t: (t > 0).astype(np.float64),
    "GELU (not monotone)": lambda t: t * special.ndtr(t),
}
UAT_POLYNOMIAL = {"t^2": lambda t: t**2, "t^3": lambda t: t**3}
UAT_TOLERANCE = 0.1


@lru_cache(maxsize=16)
def _uat_error(name: str, bias: bool) -> float:
    """The error of one activation of the check (the variants reuse the true run's fits)."""
    phi = {**UAT_UNIVERSAL, **UAT_POLYNOMIAL}[name]
    return act.random_feature_error(phi, _uat_target, UAT_UNITS, bias=bias)


@claim("thm-universal-approximation",
       statement="one hidden layer with a locally bounded, piecewise continuous phi and "
                 "biases approximates every continuous function on compacta uniformly iff "
                 "phi is not a polynomial",
       math=r"sums $\sum_j a_j \phi(w_j^\top x + b_j)$ are dense in $C(K)$ for every "
            r"compact $K$ if and only if $\phi$ is not a polynomial ($\phi$ locally "
            r"bounded and piecewise continuous)",
       method="numeric", tolerance=UAT_TOLERANCE,
       variants=[variant("every nonlinear phi will do, polynomials included",
                         universal=(*UAT_UNIVERSAL, *UAT_POLYNOMIAL), not_universal=()),
                 variant("phi must be continuous (the step function is not universal)",
                         universal=tuple(k for k in UAT_UNIVERSAL if "step" not in k),
                         not_universal=(*UAT_POLYNOMIAL, "Heaviside step (discontinuous)")),
                 variant("the biases b_j are not needed", bias=False)])
def check_universal_approximation(universal: Sequence[str] = tuple(UAT_UNIVERSAL),
                                  not_universal: Sequence[str] = tuple(UAT_POLYNOMIAL),
                                  bias: bool = True) -> float:
    """Largest sup-norm error on [-1, 1] of the claimed universal activations, or 1 for a
    claimed non-universal one that approximates the target within the tolerance.

    For each activation, :func:`hiddenunits.activations.random_feature_error` fits
    f(x) = sin 4x + cos 3x by least squares with 500 random units (weights N(0, 10^2),
    each unit's kink or step inside [-1, 1]) on 1001 points and measures the largest
    error on 3001 points.  The theorem is about a limit, the check about one width: 500
    units bring the step function, the slowest of the four (its error is about the
    largest gap between neighbouring steps times |f'|), to an error near 0.05, and 0.1
    leaves a factor of 2.  A polynomial phi of degree d only ever gives polynomials of
    degree at most d (the proof of the "only if" half): t^2 and t^3 stay near 1.6 and
    0.95 whatever the width.  Without biases the sums are odd plus constant (sigmoid,
    GELU), lie in span{relu(x), relu(-x), 1} (ReLU), or are constant on each side of 0
    (step), and the error stays above 1.
    """
    errors = {k: _uat_error(k, bias) for k in (*universal, *not_universal)}
    worst = max((errors[k] for k in universal), default=0.0)
    contradicted = any(errors[k] <= UAT_TOLERANCE for k in not_universal)
    return max(worst, 1.0 if contradicted else 0.0)


# --------------------------------------------------------------------------- sigmoid, tanh
_t = sp.Symbol("t", real=True)


QUARTER = sp.Rational(1, 4)


def _sigmoid(t: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-t))


def _exp_residual(exprs: Sequence[sp.Expr]) -> float:
    """symbolic_residual of expressions in exp, tanh and the sigmoid, brought to one
    fraction of exponentials first."""
    return symbolic_residual([sp.together(sp.sympify(e).rewrite(sp.exp)) for e in exprs])


@claim("lem-sigmoid-derivative",
       statement="sigma' = sigma(1 - sigma) = 1/4 - (sigma - 1/2)^2 <= 1/4, with equality "
                 "only at t = 0",
       math=r"$\sigma' = \sigma(1-\sigma) = \tfrac14 - (\sigma - \tfrac12)^2 \le \tfrac14$, "
            r"with equality only at $t = 0$",
       method="symbolic", tolerance=0.0,
       variants=[variant("sigma' = sigma(1 + sigma)", derivative=lambda s: s * (1 + s)),
                 variant("sigma' <= 1/2, with equality at t = 0", peak=sp.Rational(1, 2))])
def check_sigmoid_derivative(derivative: Callable = lambda s: s * (1 - s),
                             peak: sp.Expr = QUARTER, argmax: sp.Expr = 0) -> float:
    """Symbolic residual of sigma' = derivative(sigma) and peak - sigma' = (sigma - 1/2)^2,
    plus 1 unless {t : sigma(t) = 1/2} = {argmax} (sympy's solveset over the reals).

    The second identity shows sigma' <= peak, with equality exactly where sigma = 1/2.
    """
    s = _sigmoid(_t)
    r = _exp_residual([sp.diff(s, _t) - derivative(s),
                       (peak - derivative(s)) - (s - sp.Rational(1, 2)) ** 2])
    roots = sp.solveset(sp.Eq(s, sp.Rational(1, 2)), _t, domain=sp.S.Reals)
    return r + (0.0 if roots == sp.FiniteSet(argmax) else 1.0)


@claim("lem-tanh-sigmoid",
       statement="tanh(t) = 2 sigma(2t) - 1, so tanh'(t) = 4 sigma'(2t) = 1 - tanh(t)^2 <= 1, "
                 "with equality only at t = 0",
       math=r"$\tanh t = 2\sigma(2t) - 1$, so $\tanh' t = 4\sigma'(2t) = 1 - \tanh^2 t "
            r"\le 1$, with equality only at $t = 0$",
       method="symbolic", tolerance=0.0,
       variants=[variant("tanh(t) = 2 sigma(t) - 1", relation=lambda t: 2 * _sigmoid(t) - 1),
                 variant("tanh'(t) = 2 sigma'(2t) (the inner derivative forgotten)",
                         derivative=lambda t: 2 * sp.diff(_sigmoid(t), t).subs(t, 2 * t))])
def check_tanh_sigmoid(relation: Callable = lambda t: 2 * _sigmoid(2 * t) - 1,
                       derivative: Callable = lambda t: 4 * sp.diff(_sigmoid(t),
                                                                    t).subs(t, 2 * t)
                       ) -> float:
    """Symbolic residual of tanh = relation, tanh' = derivative and 1 - derivative = tanh^2,
    plus 1 unless tanh vanishes only at 0 (so that 1 - tanh' = tanh^2 > 0 elsewhere)."""
    th = sp.tanh(_t)
    r = _exp_residual([th - relation(_t), sp.diff(th, _t) - derivative(_t),
                       (1 - derivative(_t)) - th ** 2])
    roots = sp.solveset(sp.Eq(th, 0), _t, domain=sp.S.Reals)
    return r + (0.0 if roots == sp.FiniteSet(0) else 1.0)


# --------------------------------------------------------------------------- sign constraint
SIGN_UNITS = ("sigmoid", "relu", "softplus")  # units with outputs >= 0
SIGN_SEEDS = (0, 1)
SIGN_EXAMPLES = 6
SIGN_BATCH = 16  # the minibatch of the false variant


@claim("prop-single-example-sign",
       statement="one example, inputs h >= 0: every weight entering a unit changes with the "
                 "sign of -delta or not at all",
       math=r"for one example with inputs $h \ge 0$, every component of "
            r"$\partial L/\partial w = \delta h$ has the sign of $\delta$ or is zero",
       method="exact", tolerance=0.0,
       variants=[variant("the same for inputs of both signs (tanh units below)",
                         units=("tanh",)),
                 variant(f"the same for a minibatch of {SIGN_BATCH} examples",
                         batch_size=SIGN_BATCH),
                 variant("the gradient has the sign of -delta", relative_sign=-1)])
def check_single_example_sign(units: Sequence[str] = SIGN_UNITS, batch_size: int = 1,
                              relative_sign: int = 1) -> float:
    """Number of weight changes whose sign contradicts the statement, after one SGD step.

    For each unit type below (``units``), two network seeds and six batches of
    ``batch_size`` digits, one step of SGD is taken on a fresh network
    (:func:`hiddenunits.conditioning.sgd_update`) and the weights are compared before and
    after.  The bias change of unit j is -lr delta_j, so the statement says every change
    Delta W_jk is 0 or has the sign of ``relative_sign`` x Delta b_j.  Every Linear layer
    is counted: the first reads pixels (>= 0), the others read the units below.
    """
    violations = 0
    with limited_threads():  # once: entering it costs milliseconds
        for activation in units:
            for seed in SIGN_SEEDS:
                for k in range(SIGN_EXAMPLES):
                    for s, db in _update_signs(activation, batch_size, seed, k):
                        expected = relative_sign * db[:, None]  # (out, 1)
                        violations += int(np.count_nonzero((s != 0) & (s != expected)))
    return float(violations)


@lru_cache(maxsize=256)
def _update_signs(activation: str, batch_size: int, seed: int, k: int
                  ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(sign of Delta W_l (out, in), sign of Delta b_l (out,)) for every layer after one SGD
    step on batch k (the variants reuse the true statement's steps)."""
    x, y = cond.digits_batch(batch_size, offset=k * batch_size)
    return tuple((np.sign(dw), np.sign(db))
                 for dw, db in cond.sgd_update(activation, x, y, rng=seed))


# --------------------------------------------------------------------------- conditioning
def eigen_residual(n: int, top: Callable) -> float:
    """Symbolic residual of the eigen-decomposition of H = s^2 I + mu mu^T in dimension n.

    H mu = top(s^2, |mu|^2) mu; H v_i = s^2 v_i for v_i = mu_1 e_i - mu_i e_1 (i >= 2);
    and det[mu, v_2, ..., v_n]^2 = mu_1^(2(n-2)) |mu|^4, so these n vectors are a basis
    whenever mu_1 != 0.
    """
    s = sp.Symbol("s", positive=True)
    mu = sp.Matrix(sp.symbols(f"m0:{n}", real=True))
    h = s**2 * sp.eye(n) + mu * mu.T
    norm2 = (mu.T * mu)[0, 0]
    exprs = list(h * mu - top(s**2, norm2) * mu)
    basis = [mu]
    for i in range(1, n):
        v = sp.zeros(n, 1)
        v[i], v[0] = mu[0], -mu[i]
        exprs += list(h * v - s**2 * v)
        basis.append(v)
    det = sp.Matrix.hstack(*basis).det()
    exprs.append(sp.expand(det**2 - mu[0] ** (2 * (n - 2)) * norm2**2))
    return symbolic_residual(exprs, polynomial=True)


EIGEN_DIM = 4  # the dimension of the symbolic eigen-decomposition
KAPPA_CASES = 40  # random Hessians of the numeric comparison ...
KAPPA_MAX_WIDTH = 50  # ... of sizes 2 to this


@claim("prop-linear-unit-conditioning",
       statement="Sigma = s^2 I: the eigenvalues of H = Sigma + mu mu^T are s^2 + |mu|^2 "
                 "and s^2 (n - 1 times), so kappa(H) = 1 + |mu|^2/s^2",
       math=r"if $\Sigma = s^2 I$, the eigenvalues of $H = \Sigma + \mu\mu^\top$ are "
            r"$s^2 + \lVert\mu\rVert^2$ and $s^2$ ($n - 1$ times), so "
            r"$\kappa(H) = 1 + \lVert\mu\rVert^2/s^2$",
       method="numeric", tolerance=1e-12,
       variants=[variant("top eigenvalue s^2 + |mu|^2 / 2", top=lambda s2, m2: s2 + m2 / 2),
                 variant("kappa = 1 + |mu| / s (norms, not squares)",
                         kappa=lambda s2, m2: 1 + math.sqrt(m2 / s2))])
def check_linear_unit_conditioning(top: Callable = lambda s2, m2: s2 + m2,
                                   kappa: Callable = lambda s2, m2: 1 + m2 / s2) -> float:
    """Symbolic residual of the eigenpairs in dimension 4, plus the largest relative error
    of ``kappa`` against the eigenvalues of 40 random H (n from 2 to 50, numpy's eigvalsh).

    The random H have kappa between 1 and 60; eigvalsh is backward stable, so the smallest
    eigenvalue, and with it kappa, carries a relative error of about n x eps x kappa
    = 50 x 1.1e-16 x 60 = 3.3e-13 at worst: 1e-12 is that worst case with a factor of 3.
    """
    symbolic = eigen_residual(EIGEN_DIM, top)
    rng = np.random.default_rng(0)
    worst = 0.0
    with limited_threads():
        for _ in range(KAPPA_CASES):
            n = int(rng.integers(2, KAPPA_MAX_WIDTH + 1))
            mu = rng.normal(size=n) * rng.uniform(0.0, 3.0) / math.sqrt(n)
            s2 = float(rng.uniform(0.05, 2.0))
            ev = np.linalg.eigvalsh(cond.second_moment(mu, s2 * np.eye(n)))
            worst = max(worst, abs(kappa(s2, float(mu @ mu)) / (ev[-1] / ev[0]) - 1))
    return symbolic + worst


_S, _LAMBDA = sp.Symbol("s", positive=True), sp.Symbol("lambda")
BIAS_MAX_DIM = 3  # the characteristic polynomial is proved for n = 1, ..., this


@lru_cache(maxsize=4)
def _bias_char_poly(n: int) -> tuple[sp.Expr, sp.Expr]:
    """(det(lambda I - H~) expanded, |mu|^2) for the second moment H~ of (x, 1),
    x with mean mu (symbolic) and covariance s^2 I_n."""
    mu = sp.Matrix(sp.symbols(f"m0:{n}", real=True))
    top = _S**2 * sp.eye(n) + mu * mu.T
    h = sp.Matrix(sp.BlockMatrix([[top, mu], [mu.T, sp.eye(1)]]))
    return sp.expand((_LAMBDA * sp.eye(n + 1) - h).det(method="berkowitz")), (mu.T * mu)[0, 0]


def bias_char_residual(n: int, trace: Callable) -> float:
    """Symbolic residual of det(lambda I - H~) = (lambda - s^2)^(n-1) (lambda^2 -
    trace(s^2, |mu|^2) lambda + s^2) for the second moment H~ of (x, 1), x ~ (mu, s^2 I_n)."""
    det, norm2 = _bias_char_poly(n)
    claimed = (_LAMBDA - _S**2) ** (n - 1) * (_LAMBDA**2 - trace(_S**2, norm2) * _LAMBDA
                                              + _S**2)
    diff = sp.expand(det - claimed)  # a polynomial identity: expansion decides it
    if diff == 0:
        return 0.0
    point = {v: sp.Rational(3, 7) + k for k, v in enumerate(sorted(diff.free_symbols, key=str))}
    return abs(float(diff.subs(point))) or 1.0  # a size for the report


def _bias_cases() -> list[tuple[np.ndarray, float]]:
    """(mu, s^2): 40 random cases, ten of them centred (mu = 0) with s^2 != 1."""
    rng = np.random.default_rng(2)
    cases = []
    for k in range(40):
        n = int(rng.integers(1, 31))
        mu = np.zeros(n) if k < 10 else rng.normal(size=n) * rng.uniform(0, 2) / math.sqrt(n)
        cases.append((mu, float(rng.choice([rng.uniform(0.02, 0.7), rng.uniform(1.5, 4.0)]))))
    return cases


@claim("prop-bias-conditioning",
       statement="with a bias, Sigma = s^2 I: the Hessian of (x, 1) has s^2 (n - 1 times) "
                 "and the roots of l^2 - (1 + s^2 + |mu|^2) l + s^2; centred inputs give "
                 "kappa = max(s^2, 1/s^2), not 1",
       math=r"with a bias and $\Sigma = s^2 I$: the eigenvalues are $s^2$ ($n - 1$ times) "
            r"and the roots of $\lambda^2 - (1 + s^2 + \lVert\mu\rVert^2)\lambda + s^2$; "
            r"for $\mu = 0$, $\kappa = \max(s^2, 1/s^2)$",
       method="numeric", tolerance=1e-10,
       variants=[variant("centring alone gives kappa = 1 with a bias too",
                         kappa=lambda m2, s2: 1.0 if m2 == 0 else cond.bias_condition(m2, s2)),
                 variant("the bias changes nothing: kappa = 1 + |mu|^2 / s^2",
                         kappa=lambda m2, s2: cond.isotropic_condition(m2, s2)),
                 variant("trace s^2 + |mu|^2 (the bias's own 1 forgotten)",
                         trace=lambda s2, m2: s2 + m2)])
def check_bias_conditioning(trace: Callable = lambda s2, m2: 1 + s2 + m2,
                            kappa: Callable = cond.bias_condition) -> float:
    """Symbolic residual of the characteristic polynomial for n = 1, 2, 3, plus the
    largest relative error of ``kappa(|mu|^2, s^2)`` against numpy's eigenvalues.

    The 40 cases have n from 1 to 30 and kappa up to about 60; eigvalsh is backward
    stable, so the relative error of the eigenvalue ratio is below n x eps x kappa, about
    4e-13: 1e-10 leaves a wide margin.
    """
    symbolic = max(bias_char_residual(n, trace) for n in range(1, BIAS_MAX_DIM + 1))
    worst = 0.0
    with limited_threads():
        for mu, s2 in _bias_cases():
            n = mu.size
            h = np.zeros((n + 1, n + 1))
            h[:n, :n] = cond.second_moment(mu, s2 * np.eye(n))
            h[:n, n] = h[n, :n] = mu
            h[n, n] = 1.0
            ev = np.linalg.eigvalsh(h)  # not cond.condition_number: one thread limit, here
            worst = max(worst, abs(kappa(float(mu @ mu), s2) / (ev[-1] / ev[0]) - 1))
    return symbolic + worst


def _wishart(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, n + 2))
    return a @ a.T / (n + 2)  # (n, n) positive definite


@claim("prop-conditioning-general",
       statement="any Sigma: lambda_1 <= lambda_min(H) <= lambda_2, lambda_max(H) >= "
                 "lambda_1 + |mu|^2, so kappa(H) >= (lambda_1 + |mu|^2) / lambda_2",
       math=r"for any $\Sigma \succ 0$: $\lambda_1 \le \lambda_{\min}(H) \le \lambda_2$, "
            r"$\lambda_{\max}(H) \ge \lambda_1 + \lVert\mu\rVert^2$, so "
            r"$\kappa(H) \ge (\lambda_1 + \lVert\mu\rVert^2)/\lambda_2$",
       method="numeric", tolerance=1e-12,
       variants=[variant("lambda_min(H) <= lambda_1 (the spike leaves the bottom alone)",
                         upper=lambda lam, m2: lam[0]),
                 variant("lambda_max(H) >= lambda_n + |mu|^2",
                         top=lambda lam, m2: lam[-1] + m2),
                 variant("kappa(H) >= (lambda_n + |mu|^2) / lambda_1 (the upper bound)",
                         kappa=lambda lam, m2: (lam[-1] + m2) / lam[0])])
def check_conditioning_general(lower: Callable = lambda lam, m2: lam[0],
                               upper: Callable = lambda lam, m2: lam[1],
                               top: Callable = lambda lam, m2: lam[0] + m2,
                               kappa: Callable = lambda lam, m2: (lam[0] + m2) / lam[1]
                               ) -> float:
    """Largest relative violation of the four inequalities over 200 random (Sigma, mu).

    Sigma is Wishart (6 x 6, 8 degrees of freedom) and mu Gaussian with a random scale;
    ``lower``/``upper``/``top``/``kappa`` map (eigenvalues of Sigma, |mu|^2) to the
    claimed bounds.  Eigenvalue violations are relative to lambda_max(H), the kappa
    violation to kappa(H).  eigvalsh is backward stable: eigenvalues of a 6 x 6 symmetric
    matrix are accurate to about 6 x eps x lambda_max = 1.3e-15 relative, so 1e-12 leaves
    a wide margin and still catches any real violation.
    """
    rng = np.random.default_rng(0)
    worst = 0.0
    with limited_threads():
        for _ in range(200):
            cov = _wishart(rng, 6)
            mu = rng.normal(size=6) * rng.uniform(0, 3)
            lam = np.linalg.eigvalsh(cov)
            ev = np.linalg.eigvalsh(cond.second_moment(mu, cov))
            m2 = float(mu @ mu)
            worst = max(worst, (lower(lam, m2) - ev[0]) / ev[-1],
                        (ev[0] - upper(lam, m2)) / ev[-1], (top(lam, m2) - ev[-1]) / ev[-1],
                        (kappa(lam, m2) - ev[-1] / ev[0]) / (ev[-1] / ev[0]))
    return max(0.0, worst)


# --------------------------------------------------------------------------- GD on a quadratic
GD_RANDOM_CASES = 20  # random quadratics of the rate check ...
GD_RANDOM_DIM = 5  # ... in this dimension


def _gd_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """(Hessian, w_0 - w*): the two-weight problems, then 20 random 5 x 5 ones."""
    rng = np.random.default_rng(0)
    h, hc = cond.TwoWeightProblem().hessian, cond.TwoWeightProblem(mean=0.0).hessian
    cases = [(h, np.array([1.0, -1.0])), (h, np.array([1.0, 1.0])),
             (hc, np.array([1.0, -1.0]))]
    for _ in range(GD_RANDOM_CASES):
        a = rng.normal(size=(GD_RANDOM_DIM, GD_RANDOM_DIM))
        cases.append((a @ a.T + 0.1 * np.eye(GD_RANDOM_DIM), rng.normal(size=GD_RANDOM_DIM)))
    return cases


GD_STEPS = 60
GD_EQUALITY_STEPS = 30


@claim("prop-gd-rate",
       statement="GD with eta = 2/(l_min + l_max): ||w_k - w*|| <= rho^k ||w_0 - w*||, "
                 "rho = (kappa - 1)/(kappa + 1), with equality on an extreme eigenvector",
       math=r"with $\eta = 2/(\lambda_{\min} + \lambda_{\max})$, $\lVert w_k - w^*\rVert \le "
            r"\rho^k \lVert w_0 - w^*\rVert$, $\rho = (\kappa - 1)/(\kappa + 1)$, with equality "
            r"on an extreme eigenvector",
       method="numeric", tolerance=1e-12,
       variants=[variant("rho = (sqrt(kappa) - 1)/(sqrt(kappa) + 1), the accelerated rate",
                         rate=lambda k: (math.sqrt(k) - 1) / (math.sqrt(k) + 1)),
                 variant("rho = 1 - 1/kappa (the rate of the step 1/lambda_max)",
                         rate=lambda k: 1 - 1 / k),
                 variant("the same rate for the step 1/lambda_max",
                         step=lambda lo, hi: 1 / hi)])
def check_gd_rate(step: Callable = lambda lo, hi: 2 / (lo + hi),
                  rate: Callable = lambda k: (k - 1) / (k + 1)) -> float:
    """The bound's largest violation, plus the largest relative departure from equality.

    On 23 quadratics (the two-weight problems and 20 random 5 x 5 Hessians), gradient
    descent with step ``step(lambda_min, lambda_max)`` runs 60 steps from w_0 (w* = 0):
    max_k (||e_k|| - rho^k ||e_0||) / ||e_0||.  Then from each extreme eigenvector
    (kappa > 1): max_{k <= 30} | ||e_k|| / (rho^k ||e_0||) - 1 |.  Each step adds a
    round-off of a few eps to ||e_k|| relative to ||e_0|| (bound) or to ||e_k|| (equality),
    and rho itself carries the round-off of the eigenvalues: about 1e-14 over a run
    (3.4e-14 measured), so 1e-12 leaves a factor of 30 and detects any real violation.
    """
    worst = 0.0
    with limited_threads():
        for h, w0 in _gd_cases():
            ev, vecs = np.linalg.eigh(h)
            kappa = ev[-1] / ev[0]
            eta, rho = step(ev[0], ev[-1]), rate(kappa)
            e = np.linalg.norm(cond.gd_path(h, np.zeros(w0.size), w0, eta, GD_STEPS), axis=1)
            worst = max(worst, float(np.max(e - rho ** np.arange(GD_STEPS + 1) * e[0]) / e[0]))
            if kappa > 1 + 1e-9:
                for v in (vecs[:, 0], vecs[:, -1]):
                    e = np.linalg.norm(cond.gd_path(h, np.zeros(v.size), v, eta,
                                                    GD_EQUALITY_STEPS), axis=1)
                    k = np.arange(GD_EQUALITY_STEPS + 1)
                    worst = max(worst, float(np.max(np.abs(e / (rho ** k * e[0]) - 1))))
    return worst


# --------------------------------------------------------------------------- Newton
NEWTON_STEPS = 8
GD_STEPS_AFFINE = 20
INVARIANT = 1e-8  # a GD path matched within this is invariant (measured: 1e-15 or >= 1e-3)


def affine_maps(problem: cond.LogisticProblem) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, A, c): the centring map, a random invertible map, a rotation and a scaled
    rotation, with shifts (A A^T is a multiple of I only for the last two)."""
    rng = np.random.default_rng(0)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))  # a rotation or reflection, Haar distributed
    return [("centring", cond.centring_map(problem), np.zeros(3)),
            ("random", np.eye(3) + 0.5 * rng.normal(size=(3, 3)), rng.normal(size=3)),
            ("rotation", q, rng.normal(size=3)),
            ("scaled rotation", 2.5 * q, rng.normal(size=3))]


def conformal(a: np.ndarray) -> bool:
    """A A^T is a multiple of the identity."""
    aat = a @ a.T
    return bool(np.allclose(aat, np.trace(aat) / len(a) * np.eye(len(a)), rtol=0,
                            atol=1e-12 * np.trace(aat)))


def _gd_mismatch(fun: cond.Derivatives, a: np.ndarray, c: np.ndarray, u0: np.ndarray,
                 lr: float) -> float:
    """How far GD on f(theta) is from GD on g(u) = f(Au + c) mapped back, at the best step.

    GD on g with step ``lr``; GD on f from A u0 + c with the step eta' that matches the
    first mapped step best (least squares).  Returns max_k of the distance between the
    paths, relative to max(1, ||theta_k||).
    """
    mapped = cond.gradient_path(cond.affine_pullback(fun, a, c), u0, lr,
                                GD_STEPS_AFFINE) @ a.T + c
    g0 = fun(mapped[0])[1]
    eta = float(-(g0 @ (mapped[1] - mapped[0])) / (g0 @ g0))
    if eta <= 0:
        return math.inf
    theta = cond.gradient_path(fun, mapped[0], eta, GD_STEPS_AFFINE)
    return float(np.max(np.linalg.norm(theta - mapped, axis=1)
                        / np.maximum(1.0, np.linalg.norm(theta, axis=1))))


@claim("prop-newton-affine",
       statement="Newton on f~(u) = f(Au + c) gives theta_k = A u_k + c; gradient descent "
                 "has this property for all f only if A A^T is a multiple of I",
       math=r"Newton's method on $\tilde f(u) = f(Au + c)$ gives $\theta_k = A u_k + c$; "
            r"gradient "
            r"descent has this property for all $f$ only if $AA^\top \propto I$",
       method="numeric", tolerance=1e-10,
       variants=[variant("gradient descent is affine invariant too",
                         method=lambda fun, t0, k: cond.gradient_path(fun, t0, 0.01, k)),
                 variant("gradient descent is invariant only if A = I",
                         necessary=lambda a: bool(np.allclose(a, np.eye(len(a))))),
                 variant("gradient descent is invariant only if A is orthogonal",
                         necessary=lambda a: bool(np.allclose(a @ a.T, np.eye(len(a)))))])
def check_newton_affine(method: Callable = cond.newton_path,
                        necessary: Callable[[np.ndarray], bool] = conformal) -> float:
    """max(invariance error of ``method``, number of maps contradicting ``necessary``).

    On the regularised logistic regression with inputs of mean 3, for each map of
    :func:`affine_maps`: (i) ``method`` run on f from A u_0 + c and on g from u_0, eight
    steps; the error is max_k ||theta_k - (A u_k + c)|| / max(1, ||theta_k||).  Each
    Newton step solves a 3 x 3 system of condition number below 1e4, so its relative
    round-off is below 2.2e-12, and eight contracting steps stay under ~1e-11: 1e-10 leaves
    a factor of 10.  (ii) the "only if" half: GD on g, mapped back, against GD on f at the
    best-matching step; a map on which they agree (within 1e-8, where the measured gap is
    either ~1e-15 or above 1e-3) but which fails ``necessary(A)`` contradicts the claim.
    """
    problem = cond.LogisticProblem()
    f = problem.derivatives()
    lr = 0.5 / (np.linalg.eigvalsh(problem.design().T @ problem.design()
                                   / problem.num_points)[-1] / 4 + problem.lam)
    rng = np.random.default_rng(1)
    error = 0.0
    contradictions = 0
    for _, a, c in affine_maps(problem):
        u0 = 0.1 * rng.normal(size=3)
        u_path = method(cond.affine_pullback(f, a, c), u0, NEWTON_STEPS)
        t_path = method(f, a @ u0 + c, NEWTON_STEPS)
        err = np.linalg.norm(t_path - (u_path @ a.T + c), axis=1) / np.maximum(
            1.0, np.linalg.norm(t_path, axis=1))
        error = max(error, float(err.max()))
        lr_g = lr / np.linalg.norm(a, 2) ** 2
        if _gd_mismatch(f, a, c, u0, lr_g) <= INVARIANT and not necessary(a):
            contradictions += 1
    return max(error, float(contradictions))


# --------------------------------------------------------------------------- vanishing
THEOREM_NETS = tuple(gf.DeepNet(depth=d, width=n, weight_scale=g, num_examples=8, seed=s)
                     for s, (d, n, g) in enumerate(
                         [(d, n, g) for d in (2, 5, 12) for n in (4, 32)
                          for g in (0.5, 2.0, 8.0, 32.0)]))
"""Random sigmoid nets on which the bound is tested."""
SHARP_NETS = tuple(gf.DeepNet(depth=d, width=1, weight_scale=1e-6, num_examples=8, seed=s)
                   for s, d in enumerate((2, 5, 12), start=len(THEOREM_NETS)))
"""Chains of single units with tiny weights, where every sigma' is 1/4 to within 1e-12."""


def bound_ratios(net: gf.DeepNet, factor: float = 0.25, offset: int = 1) -> np.ndarray:
    """||delta_i|| / (prod_l factor ||W_l||_op  ||delta_j||) over all examples and all
    layer pairs i < j, the product over l = i + offset, ..., j - 1 + offset.

    The theorem says <= 1 for the sigmoid, factor 1/4 and offset 1.
    """
    weights, _, deltas = gf.backprop_deltas(net)
    with limited_threads():
        gains = [factor * np.linalg.norm(w, 2) for w in weights]  # factor ||W_l||_op
    norms = np.stack([np.linalg.norm(d, axis=1) for d in deltas])  # (D, N)
    ratios = []
    for i in range(net.depth):
        for j in range(i + 1, net.depth):
            bound = np.prod(gains[i + offset:j + offset]) * norms[j]  # (N,)
            # where sigma' underflows both sides are 0 and 0 <= 0 holds: ratio 0, not 0/0
            ratio = np.divide(norms[i], bound, out=np.zeros_like(bound), where=bound > 0)
            ratio[(bound == 0) & (norms[i] > 0)] = np.inf  # a violation, never hidden
            ratios.append(ratio)
    return np.concatenate(ratios)


@claim("thm-sigmoid-vanishing",
       statement="sigmoid nets: ||delta_i|| <= prod_{l=i+1}^{j} (||W_l||_op/4) ||delta_j||, "
                 "and the constant 1/4 is sharp",
       math=r"in a sigmoid network, $\lVert\delta_i\rVert \le \prod_{\ell=i+1}^{j} "
            r"(\lVert W_\ell\rVert_{\mathrm{op}}/4) \lVert\delta_j\rVert$, and the constant "
            r"$\tfrac14$ is sharp",
       method="numeric", tolerance=1e-12,
       variants=[variant("the bound with 1/2 instead of 1/4", factor=0.5),
                 variant("the product over l = i, ..., j - 1 (off by one)", offset=0)])
def check_sigmoid_vanishing(factor: float = 0.25, offset: int = 1) -> float:
    """Largest excess of the ratio over 1, plus the gap 1 - sup ratio of the sharp nets.

    The deltas come from autograd on 24 random sigmoid nets (depths 2 to 12, widths 4 and
    32, weight scales 0.5 to 32) and on three chains of single units with weights of size
    1e-6, where 4 sigma'(z) = 1 - z^2/4 + ... is within 5e-12 of 1 and, on the layers above
    the first, within 1e-13: the largest ratio there is 1 up to round-off.  Norms of
    float64 products of at most 12 matrices of width at most 32 carry a relative round-off
    of about 12 x 32 x 1.1e-16 = 4e-14, below 1e-12.
    """
    excess = max(float(bound_ratios(n, factor, offset).max()) for n in THEOREM_NETS)
    sharp = max(float(bound_ratios(n, factor, offset).max()) for n in SHARP_NETS)
    return max(0.0, max(excess, sharp) - 1.0) + max(0.0, 1.0 - sharp)


# --------------------------------------------------------------------------- gain window
W_STAR = gf.widest_gain_window()[0]
WINDOW_CASES = ((1.0, 0.0), (3.0, -1.0), (3.99, 1.0), (4.5, -2.0), (6.0, 0.5), (-10.0, 3.0),
                (50.0, 0.0))


def _widest_measured() -> float:
    """The largest measured window length over |w| in [4, 40] (Brent's bounded search)."""
    res = optimize.minimize_scalar(lambda w: -gf.measured_window_length(w), bounds=(4.5, 40.0),
                                   method="bounded", options={"xatol": 1e-10})
    return -float(res.fun)


@claim("prop-sigmoid-gain-window",
       statement="|w| sigma'(wh + b) >= 1 needs |w| >= 4 and h in an interval of length "
                 "(4/|w|) arccosh(sqrt|w|/2) ~ 2 ln|w|/|w|, largest (l*) at |w| = w*",
       math=r"$\lvert w\rvert\sigma'(wh + b) \ge 1$ needs $\lvert w\rvert \ge 4$ and $h$ in an "
            r"interval of length $\ell(w) = \frac{4}{\lvert w\rvert}"
            r"\operatorname{arccosh}(\sqrt{\lvert w\rvert}/2) \sim 2\ln\lvert w\rvert/"
            r"\lvert w\rvert$, largest at $\lvert w\rvert = w^*$",
       method="numeric", tolerance=1e-12,
       variants=[variant("length (4/|w|) arccosh(|w|/4) (the square root dropped)",
                         length=lambda w: (4 / abs(w) * math.acosh(abs(w) / 4)
                                           if abs(w) >= 4 else 0.0)),
                 variant("the factor stays below 1 for every h if |w| < 5", threshold=5.0),
                 variant("w* from u/sqrt(u^2 - 1) = arccosh u (the maximiser of "
                         "arccosh(u)/u)", w_star=13.106870124912993)])
def check_gain_window(length: Callable[[float], float] = gf.gain_window_length,
                      threshold: float = 4.0,
                      w_star: float = W_STAR) -> float:
    """Largest of four errors, each measured against windows found without the formula.

    :func:`hiddenunits.gradient_flow.gain_window` scans h and locates the ends of
    {h : |w| sigma'(wh + b) >= 1} by Brent's method to about 1e-15.  (i) For the cases
    with |w| < threshold: 1 for each window found.  (ii) |measured length - length(w)| on
    the other cases.  (iii) w* is the maximiser: the widest measured window over
    |w| in [4.5, 40] (bounded Brent search) minus the measured window at w* (a w* off by
    dw loses |l''(w*)| dw^2 / 2 = 0.008 dw^2, so this detects errors in w* above ~2e-5),
    and |measured(w*) - length(w*)|.  (iv) The rate: |length(w) w / (2 ln w) - 1| at
    w = 1e12, where it is below 1e-13.  Ends located to 1e-15 make the lengths good to
    ~1e-14, so 1e-12 leaves a factor near 100.
    """
    err = 0.0
    for w, b in WINDOW_CASES:
        measured = gf.measured_window_length(w, b)
        if abs(w) < threshold:
            err = max(err, float(measured > 0))
        else:
            err = max(err, abs(measured - length(w)))
    at_star = gf.measured_window_length(w_star)
    err = max(err, _widest_measured() - at_star, abs(at_star - length(w_star)))
    w = 1e12
    return max(err, abs(length(w) * w / (2 * math.log(w)) - 1))


# --------------------------------------------------------------------------- self-gated units
def _gelu_gate(t: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(t / sp.sqrt(2))) / 2


def _cauchy_gate(t: sp.Expr) -> sp.Expr:
    return sp.Rational(1, 2) + sp.atan(t) / sp.pi


SELF_GATES = (_sigmoid, _gelu_gate, _cauchy_gate)  # SiLU, GELU, and another symmetric law


@claim("lem-self-gated",
       statement="phi(t) = t F(t) with F(t) + F(-t) = 1 (SiLU, GELU): phi(t) - phi(-t) = t "
                 "and phi'(t) + phi'(-t) = 1",
       math=r"$\phi(t) = tF(t)$ with $F(t) + F(-t) = 1$ (SiLU, GELU): "
            r"$\phi(t) - \phi(-t) = t$ and $\phi'(t) + \phi'(-t) = 1$",
       method="symbolic", tolerance=0.0,
       variants=[variant("any distribution function F will do (Gumbel's, not symmetric)",
                         gates=(lambda t: sp.exp(-sp.exp(-t)),)),
                 variant("phi'(t) - phi'(-t) = 1 (the sign of the chain rule lost)",
                         slope_sign=-1)])
def check_self_gated(gates: Sequence[Callable] = SELF_GATES, slope_sign: int = 1) -> float:
    """Symbolic residual of phi(t) - phi(-t) - t and phi'(t) + slope_sign phi'(-t) - 1 for
    phi(t) = t F(t), F each of ``gates`` (the logistic sigma, Phi and the Cauchy law's
    distribution function 1/2 + arctan(t)/pi)."""
    exprs = []
    for gate in gates:
        f = _t * gate(_t)
        df = sp.diff(f, _t)
        exprs += [sp.together((f - f.subs(_t, -_t) - _t).rewrite(sp.exp)),
                  sp.together((df + slope_sign * df.subs(_t, -_t) - 1).rewrite(sp.exp))]
    return symbolic_residual(exprs)
