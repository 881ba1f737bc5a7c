"""Checks of chapter 3, "Nonlinearity, linear separability and probes".

Each check takes the statement as keyword arguments (the true statement by default) and
returns its error; the false variants call the same check with a wrong statement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp
import torch

from hiddenunits import capacity, probes
from hiddenunits import information as info
from hiddenunits import xor as X
from hiddenunits.book.checks.montecarlo import z_level
from hiddenunits.book.claims import claim, variant
from hiddenunits.data import xor
from hiddenunits.nets import make_mlp

CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))


# --------------------------------------------------------------------------- affine models
@claim("prop-xor-least-squares",
       statement="least squares with intercept on XOR has the unique minimiser w = 0, b = 1/2",
       math=r"the least-squares affine fit to the XOR points has the unique minimiser "
            r"$w = 0$, $b = 1/2$",
       method="symbolic", tolerance=0.0,
       variants=[variant("b = 1/4", b=Fraction(1, 4)),
                 variant("w = (1/3, 1/3), b = 0 (the fit without intercept)",
                         w=(Fraction(1, 3), Fraction(1, 3)), b=0)])
def check_xor_least_squares(w: Sequence = (0, 0), b: Fraction = Fraction(1, 2)) -> float:
    """Largest |partial derivative| of the XOR least-squares loss at (w, b), exactly.

    The loss sum_i (w^T x_i + b - y_i)^2 is a quadratic: the point is its unique minimiser
    iff the gradient vanishes there and the (constant) Hessian is positive definite.  Both
    are computed with sympy in exact rational arithmetic; a Hessian that is not positive
    definite (no unique minimiser) gives inf.
    """
    w1, w2, c = sp.symbols("w1 w2 b", real=True)
    x, y = xor()
    loss = sum((w1 * int(p[0]) + w2 * int(p[1]) + c - int(t)) ** 2
               for p, t in zip(x, y, strict=True))
    params = (w1, w2, c)
    point = dict(zip(params, (sp.Rational(str(v)) for v in (*w, b)), strict=True))
    gradient = [sp.diff(loss, v).subs(point) for v in params]
    if not sp.hessian(loss, params).is_positive_definite:
        return math.inf
    return float(max(abs(g) for g in gradient))


def _affine(u: int, v: int) -> sp.Expr:
    w1, w2, b = sp.symbols("w1 w2 b", real=True)
    return w1 * u + w2 * v + b


def _with_product(u: int, v: int) -> sp.Expr:
    return _affine(u, v) + sp.Symbol("c", real=True) * u * v


@claim("lem-xor-affine-identity",
       statement="every affine f satisfies f(0,0) + f(1,1) = f(0,1) + f(1,0)",
       math=r"every affine $f$ on $\mathbb{R}^2$ satisfies $f(0,0) + f(1,1) = f(0,1) + f(1,0)$",
       method="symbolic", tolerance=0.0,
       variants=[variant("f(0,0) + f(0,1) = f(1,0) + f(1,1) (an edge, not the diagonals)",
                         pairs=(((0, 0), (0, 1)), ((1, 0), (1, 1)))),
                 variant("also for f with a product term c x1 x2", model=_with_product)])
def check_affine_identity(pairs: tuple = (((0, 0), (1, 1)), ((0, 1), (1, 0))),
                          model: Callable[[int, int], sp.Expr] = _affine) -> float:
    """Sum of |coefficients| of f(p) + f(q) - f(r) - f(s) for symbolic f, (p, q), (r, s) = pairs.

    ``model(u, v)`` is f at the corner (u, v) with symbolic parameters; the residual is a
    polynomial in them, identically 0 exactly when the identity holds for every f.
    """
    (p, q), (r, s) = pairs
    residual = sp.expand(model(*p) + model(*q) - model(*r) - model(*s))
    if residual == 0:
        return 0.0
    return float(sum(abs(c) for c in sp.Poly(residual, *residual.free_symbols).coeffs()))


def _and_labels() -> np.ndarray:
    return np.array([0, 0, 0, 1])


def _with_product_feature() -> np.ndarray:
    x, _ = xor()
    return np.column_stack([x, x[:, 0] * x[:, 1]])


@claim("cor-xor-not-separable",
       statement="no affine threshold classifier separates XOR (maximal margin is 0)",
       math=r"no affine threshold classifier separates the XOR points: the maximal margin "
            r"is $0$",
       method="numeric", tolerance=1e-7,
       variants=[variant("AND instead of XOR", labels=_and_labels),
                 variant("XOR with the product feature x1 x2 appended",
                         points=_with_product_feature)])
def check_xor_not_separable(points: Callable[[], np.ndarray] = lambda: xor()[0],
                            labels: Callable[[], np.ndarray] = lambda: xor()[1]) -> float:
    """|maximal margin| of the labelled points, by a linear programme (HiGHS).

    Tolerance 1e-7 is HiGHS's default primal/dual feasibility tolerance.
    """
    return abs(X.max_margin(points(), labels()))


# --------------------------------------------------------------------------- ReLU networks
HOMOGENEITY_SCALES = (0.0, 0.25, 0.5, 2.0, 8.0)  # powers of two: c x is exact in floats


@claim("lem-relu-homogeneous",
       statement="relu(c t) = c relu(t) for c >= 0, so a bias-free ReLU net has f(c x) = c f(x)",
       math=r"$\operatorname{relu}(ct) = c\operatorname{relu}(t)$ for $c \ge 0$, so a "
            r"bias-free ReLU network has $f(cx) = c f(x)$",
       method="exact", tolerance=0.0,
       variants=[variant("for c <= 0 (a negative scale)", sign=-1),
                 variant("for ReLU networks with biases", bias=True)])
def check_relu_homogeneous(sign: int = 1, bias: bool = False) -> float:
    """Symbolic cases of relu(c t) - c relu(t), plus max |f(c x) - c f(x)| on random nets.

    c ranges over ``sign`` times the non-negative reals.  Symbolically: the number of cases
    (t > 0, t < 0, t = 0; c > 0, c = 0) in which sympy does not reduce the residual to 0.
    Numerically: ReLU MLPs 3-16-1 and 3-16-16-16-1 in float64 (with biases when ``bias``),
    64 Gaussian inputs, c in sign x {0, 1/4, 1/2, 2, 8}: powers of two, so c x, and with it
    every product and sum of the network, is exact in floating point, and the true
    statement gives exactly 0.
    """
    s, r = sp.symbols("s r", positive=True)
    cases = [(sign * s, r), (sign * s, -r), (sign * s, sp.Integer(0)),
             (sp.Integer(0), r), (sp.Integer(0), -r)]
    symbolic = sum(sp.simplify(sp.Max(0, c * t) - c * sp.Max(0, t)) != 0 for c, t in cases)
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for seed, sizes in enumerate(((3, 16, 1), (3, 16, 16, 16, 1))):
        net = make_mlp(sizes, "relu", "pytorch", rng=seed, bias=bias).double()
        x = torch.randn(64, 3, dtype=torch.float64, generator=gen)
        with torch.no_grad():
            fx = net(x)
            for c in HOMOGENEITY_SCALES:
                worst = max(worst, (net(sign * c * x) - sign * c * fx).abs().max().item())
    return float(symbolic) + worst


def _deciding_directions(forms: Sequence[tuple[Fraction, Fraction]]
                         ) -> list[tuple[Fraction, Fraction]]:
    """Directions on which a positively homogeneous function of R^2, linear between the
    lines {l(x) = 0} of the given linear ``forms``, vanishes only if it vanishes everywhere.

    They are the rays of those lines and one direction inside each sector between two
    consecutive rays: on a sector the function is linear, and a linear function that is 0
    on two independent directions (or, for a half-plane, on its boundary line and one
    inner direction) is 0 on the whole sector.
    """
    rays = {(-q, p) for p, q in forms if (p, q) != (0, 0)}
    rays |= {(-u, -v) for u, v in rays}
    if not rays:  # the function is linear on the whole plane
        return [(Fraction(1), Fraction(0)), (Fraction(0), Fraction(1))]
    order = sorted(rays, key=lambda r: math.atan2(r[1], r[0]))
    inner = []
    for (u1, v1), (u2, v2) in zip(order, order[1:] + order[:1], strict=True):
        if u1 * v2 - v1 * u2 > 0:  # the sector's angle is below pi: the sum lies inside
            inner.append((u1 + u2, v1 + v2))
        else:  # a half-plane (one line only): the normal pointing into it
            inner.append((-v1, u1))
    return order + inner


@claim("prop-xor-exact-solution",
       statement="W = [[1,-1],[-1,1]], a = (1,1) gives f(x) = |x1 - x2| = XOR on {0,1}^2",
       math=r"$W = \begin{pmatrix} 1 & -1 \\ -1 & 1 \end{pmatrix}$, $a = (1, 1)$ give "
            r"$f(x) = \lvert x_1 - x_2\rvert$, which is $x_1 \oplus x_2$ on $\{0,1\}^2$",
       method="exact", tolerance=0.0,
       variants=[variant("a = (1, -1)", a=(1, -1)),
                 variant("W = I (no mixing of the inputs)", w=((1, 0), (0, 1)))])
def check_exact_solution(w: Sequence = ((1, -1), (-1, 1)), a: Sequence = (1, 1)) -> float:
    """Largest |f - |x1 - x2|| on deciding directions and |f - XOR| on the corners, exactly.

    f = a^T relu(W x) and |x1 - x2| are positively homogeneous and linear between the
    lines where a pre-activation or x1 - x2 vanishes, so f = |x1 - x2| on all of R^2 iff
    they agree on the directions of ``_deciding_directions`` (a complete test, in
    rational arithmetic).
    """
    w = tuple(tuple(Fraction(v) for v in row) for row in w)
    a = tuple(Fraction(v) for v in a)
    forms = [*w, (Fraction(1), Fraction(-1))]
    directions = _deciding_directions(forms)
    values = X.relu_net_exact(w, a, tuple(directions) + CORNERS)
    targets = [abs(u - v) for u, v in directions] + [u ^ v for u, v in CORNERS]
    return float(max(abs(f - t) for f, t in zip(values, targets, strict=True)))


TRANSPOSED_11 = Fraction("0.8707") * (Fraction("1.1485") - Fraction("1.0205"))


@claim("prop-article-weights",
       statement="the article's printed weights fit XOR to 1e-4 read as (out, in), "
                 "but give f(1,1) = 0.8707 (1.1485 - 1.0205) read as (in, out)",
       math=r"read as `(out, in)`, the article's printed weights fit XOR to $10^{-4}$ with "
            r"both pre-activations negative at $(1,1)$; read transposed they give "
            r"$f(1,1) = 0.8707\,(1.1485 - 1.0205)$",
       method="exact", tolerance=1e-4,
       variants=[variant("the fit read as (in, out)", layout="in_out"),
                 variant("output weights in the other order, a = (0.9815, 0.8707)",
                         output=X.ARTICLE_A[::-1])])
def check_article_weights(layout: str = "out_in", output: Sequence = X.ARTICLE_A,
                          transposed_11: Fraction = TRANSPOSED_11) -> float:
    """Largest of: |f - XOR| on the corners in ``layout``; the larger pre-activation at
    (1,1) if positive; |f(1,1) - transposed_11| in the other layout.  Exact rationals.

    The weights are printed to four decimals, so products of two of them are only
    determined to about 1e-4: the tolerance.
    """
    w, _ = X.article_weights_exact(layout)
    _, y = xor()
    fit = max(abs(v - int(t)) for v, t in zip(X.relu_net_exact(w, output), y, strict=True))
    positive = max(Fraction(0), *(row[0] + row[1] for row in w))
    other, _ = X.article_weights_exact("in_out" if layout == "out_in" else "out_in")
    transposed = abs(X.relu_net_exact(other, output)[3] - transposed_11)
    return float(max(fit, positive, transposed))


DEAD_PROBABILITY = X.dead_at_init_probability()  # 7/16


def _both_weights_nonpositive(w: np.ndarray) -> np.ndarray:
    return (w <= 0).all(axis=-1)


@claim("prop-dead-unit",
       statement="a unit with both input weights <= 0 never moves and XOR is then unsolvable; "
                 "at PyTorch's init this happens with probability 7/16",
       math=r"a hidden unit with both input weights $\le 0$ never moves under gradient "
            r"descent, and XOR is then unsolvable; at PyTorch's initialisation some unit is "
            r"dead with probability $1 - (3/4)^2 = 7/16$",
       method="monte-carlo", tolerance=z_level(1),
       variants=[variant("probability 1/16 (both units dead)", probability=Fraction(1, 16)),
                 variant("probability 1/4 (one unit dead)", probability=Fraction(1, 4)),
                 variant("a unit is dead when one of its input weights is <= 0",
                         dead=lambda w: (w <= 0).any(axis=-1))])
def check_dead_unit(probability: Fraction = DEAD_PROBABILITY,
                    dead: Callable[[np.ndarray], np.ndarray] = _both_weights_nonpositive
                    ) -> float:
    """|z| of the fraction of runs with a ``dead`` unit at init against ``probability``.

    1000 runs of gradient descent (500 steps) from PyTorch's initialisation.  Exact part:
    if a unit that ``dead`` calls dead moved, or a run with such a unit solved XOR, the
    statement is refuted and the check returns inf.  Monte Carlo part: one binomial
    z-score, false-alarm rate 1e-3.
    """
    res = X.xor_gd_runs()
    _, y = xor()
    dead0 = dead(res.w0)  # (S, 2)
    moved = np.abs(res.w - res.w0).max(axis=-1)  # (S, 2) largest change per unit
    solved = ((res.outputs > 0.5) == (y == 1)).all(axis=1)
    if (moved[dead0] > 0).any() or solved[dead0.any(axis=1)].any():
        return math.inf
    p = float(probability)
    se = math.sqrt(p * (1 - p) / len(dead0))
    return abs(dead0.any(axis=1).mean() - p) / se


# --------------------------------------------------------------------------- final layer
def _all_pairwise_violations(h: np.ndarray, y: np.ndarray, weight: np.ndarray,
                             bias: np.ndarray) -> np.ndarray:
    """Whether *every* pairwise hyperplane (w_y - w_k).h + b_y - b_k = 0 misplaces h_i."""
    z = np.asarray(h, dtype=np.float64) @ weight.T + bias  # (N, K)
    margin = z[np.arange(len(y)), y][:, None] - z  # (N, K)
    margin[np.arange(len(y)), y] = -np.inf
    return (margin <= 0).all(axis=1)


def _one_vs_rest_violations(h: np.ndarray, y: np.ndarray, weight: np.ndarray,
                            bias: np.ndarray) -> np.ndarray:
    """Whether the logit hyperplanes v_k^T h + c_k = 0 misplace h_i: its class's logit
    <= 0, or another class's >= 0."""
    z = np.asarray(h, dtype=np.float64) @ weight.T + bias  # (N, K)
    own = np.zeros(z.shape, dtype=bool)
    own[np.arange(len(y)), y] = True
    return ((z <= 0) & own).any(axis=1) | ((z >= 0) & ~own).any(axis=1)


@claim("prop-final-layer-separable",
       statement="with a final linear layer, an example is misclassified (ties as errors) iff "
                 "a pairwise hyperplane of that layer misplaces it; so 100% training "
                 "accuracy makes the penultimate training features linearly separable",
       math=r"for $\hat y = \arg\max_k (Vh + c)_k$ (ties counted as errors), an example is "
            r"misclassified if and only if a hyperplane $(v_{y_i} - v_l)^\top h + c_{y_i} - "
            r"c_l = 0$ misplaces $h(x_i)$; so 100% training accuracy makes "
            r"$\{h(x_i)\}$ linearly separable",
       method="exact", tolerance=0.0,
       variants=[variant("misclassified iff every pairwise hyperplane misplaces it",
                         violations=_all_pairwise_violations),
                 variant("the one-vs-rest hyperplanes (the sign of each logit)",
                         violations=_one_vs_rest_violations),
                 variant("the features one layer earlier", layer=-3)])
def check_final_layer_separable(
        violations: Callable[..., np.ndarray] = probes.pairwise_violations,
        layer: int = -2) -> float:
    """Largest fraction of examples on which misclassified != misplaced, over three sets.

    The MLP of ``probes.SEPARABLE_MLP`` is trained to 100% training accuracy (the premise:
    inf if it is not reached).  On its training set, its test set and the training set of
    the same network at initialisation, an example is *misclassified* by the network's own
    output (float32 logits, ties as errors) and *misplaced* by ``violations`` applied to
    the features at site ``layer`` with the final layer's weights (float64).  On the
    training set alone (the old check) the identity is vacuous: there both sets are empty,
    for the false variant "every hyperplane" as for the true "some hyperplane".
    """
    trained = probes.trained_model(probes.SEPARABLE_MLP)
    if trained.network.model_acc < 1.0:
        return math.inf
    init = probes.trained_model(probes.SEPARABLE_MLP_INIT)
    worst = 0.0
    for m, split in ((trained, trained.network), (trained, trained.test),
                     (init, init.network)):
        wrong = probes.misclassified(split.features[-1], split.y)
        misplaced = violations(split.features[layer], split.y, m.head_weight, m.head_bias)
        worst = max(worst, float(np.mean(wrong != misplaced)))
    return worst


# --------------------------------------------------------------------------- information
def _layer_steps(p: np.ndarray, values: list[Hashable], layers: Sequence[Callable],
                 skip: bool) -> list[tuple[float, float]]:
    """``(I(Y; H_l), I(Y; output of layer l))`` for each layer of the chain H_(l+1) = g_l(H_l).

    The output of layer l is g_l(H_l), or with ``skip`` the pair (g_l(H_l), X): a layer
    that also reads the input through a long skip connection.  ``values[x]`` is the input
    value of row x of the joint law ``p``.
    """
    infos = info.layer_informations(p, layers, values)  # I(Y; H_0), I(Y; H_1), ...
    if not skip:
        return list(itertools.pairwise(infos))
    h, steps = list(values), []
    for before, g in zip(infos, layers, strict=False):
        h = [g(v) for v in h]
        seen = list(zip(h, values, strict=True))
        steps.append((before, info.mutual_information(info.push_forward(p, seen))))
    return steps


DPI_TRIALS = 200
"""Random chains of maps between finite sets, and random ReLU networks, per check."""


def _layer_with(kind: str, n: int, rng: np.random.Generator) -> Callable[[int], int]:
    """A random map on {0, ..., n-1}: ``"injective"`` (into 2n values) or ``"surjective"``
    (onto n // 2 values, so not injective)."""
    if kind == "injective":
        table = rng.permutation(2 * n)[:n]
    else:
        m = max(n // 2, 1)
        table = rng.permutation(np.concatenate([np.arange(m), rng.integers(0, m, n - m)]))
    return lambda v, t=table: int(t[v])


@claim("thm-data-processing",
       statement="for deterministic layers I(Y; H_{l+1}) <= I(Y; H_l), with equality when "
                 "the layer is injective on the values H_l takes",
       math=r"for deterministic layers $H_{\ell+1} = g_\ell(H_\ell)$, "
            r"$I(Y; H_{\ell+1}) \le I(Y; H_\ell)$, with equality when $g_\ell$ is injective "
            r"on the values of $H_\ell$",
       method="exact", tolerance=1e-12,
       variants=[variant("the reversed inequality I(Y; H_{l+1}) >= I(Y; H_l)",
                         inequality=">="),
                 variant("a layer that also reads the input X (a long skip connection)",
                         skip=True),
                 variant("equality for a layer that is not injective (it merges values)",
                         equality="surjective")])
def check_data_processing(inequality: str = "<=", skip: bool = False,
                          equality: str = "injective") -> float:
    """Largest violation of the inequality and of the equality case, in bits.

    The inequality: along ``DPI_TRIALS`` random chains of maps between finite sets (16
    input values, 3 labels, layers of 12, 6, 3 values) and as many random ReLU networks
    (widths 6, 3, 2) on
    all 16 inputs of {0,1}^4 with a noisy XOR label.  The equality case: one random
    ``equality`` layer on each random law.  Every mutual information is an exact finite
    sum; the only error is float64 round-off of sums of at most 48 terms of size
    <= log2(48), far below the tolerance 1e-12.
    """
    sign = 1.0 if inequality == "<=" else -1.0
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(DPI_TRIALS):
        p, maps = info.random_chain(rng)
        values = list(range(p.shape[0]))
        steps = _layer_steps(p, values, maps, skip)
        worst = max(worst, *(sign * (after - before) for before, after in steps))
        (before, after), = _layer_steps(p, values, [_layer_with(equality, len(values), rng)],
                                        skip)
        worst = max(worst, abs(after - before))
    p, xs = info.noisy_xor_law()
    values: list[Hashable] = [tuple(row) for row in xs.tolist()]
    for _ in range(DPI_TRIALS):
        steps = _layer_steps(p, values, info.random_relu_layers(rng), skip)
        worst = max(worst, *(sign * (after - before) for before, after in steps))
    return max(worst, 0.0)


# --------------------------------------------------------------------------- accessibility
@lru_cache(maxsize=256)
def _dichotomies(key: bytes, n: int, d: int, affine: bool) -> frozenset[tuple[int, ...]]:
    """Separable dichotomies of the points stored in ``key`` ((n, d) float64 bytes)."""
    points = np.frombuffer(key, dtype=np.float64).reshape(n, d)
    return frozenset(map(tuple, capacity.separable_dichotomies(points, affine).tolist()))


def dichotomies(points: np.ndarray, affine: bool = True) -> frozenset[tuple[int, ...]]:
    """The separable dichotomies of ``points`` (N, d), as a set of label tuples (cached).

    ``affine``: by hyperplanes w^T h + b = 0 (True) or through the origin (False).
    """
    p = np.ascontiguousarray(points, dtype=np.float64)
    return _dichotomies(p.tobytes(), *p.shape, affine)


def _affine_layer(h: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return h @ a.T + b


def _relu_layer(h: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(h @ a.T + b, 0.0)


def affine_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(H, A, b)``: point sets (N, D) and maps R^D -> R^m, of full column rank or not.

    The XOR points with the first layer of :func:`information.xor_scramble_chain` (rank
    2) and with a projection onto a line (rank 1); Gaussian points in R^2 and R^3 with
    Gaussian maps that narrow (m < D), keep (m = D) or widen (m > D) the layer, and one
    square map of rank 1.
    """
    rng = np.random.default_rng(3)
    x, _ = xor()
    w1, b1 = info.XOR_LAYER1
    cases = [(x, w1, b1), (x, np.array([[1.0, 2.0]]), np.array([0.5]))]
    for n, d, widths in ((5, 2, (1, 2, 4)), (5, 3, (2, 5))):
        h = rng.normal(size=(n, d))
        for m in widths:
            cases.append((h, rng.normal(size=(m, d)), rng.normal(size=m)))
        u, v = rng.normal(size=(d, 1)), rng.normal(size=(1, d))
        cases.append((h, u @ v, rng.normal(size=d)))  # square, rank 1
    return cases


@claim("prop-affine-accessibility",
       statement="every dichotomy that a hyperplane separates after an affine layer A h + b "
                 "it separates before, so linear accessibility cannot increase; equal when "
                 "A has full column rank",
       math=r"for an affine layer $g(h) = Ah + b$, every dichotomy of $\{g(h_i)\}$ that a "
            r"hyperplane separates is separable on $\{h_i\}$, so "
            r"$\operatorname{acc}_{\mathrm{lin}}(Y; g(H)) \le "
            r"\operatorname{acc}_{\mathrm{lin}}(Y; H)$; equality for every $Y$ when $A$ has "
            r"full column rank",
       method="exact", tolerance=0.0,
       variants=[variant("also through a ReLU layer relu(A h + b)", layer=_relu_layer),
                 variant("equality for every affine layer, whatever the rank of A",
                         equality="always")])
def check_affine_accessibility(layer: Callable[..., np.ndarray] = _affine_layer,
                               equality: str = "full column rank") -> float:
    """Number of dichotomies that break the statement, summed over :func:`affine_cases`.

    For each case, the separable dichotomies of H and of ``layer(H, A, b)`` are counted
    by :func:`hiddenunits.capacity.separable_dichotomies` (one linear programme per
    dichotomy that a least-squares fit does not already separate).  A dichotomy counts
    against the statement if it is separable after the layer but not before, or, where
    ``equality`` applies ("full column rank": rank A = D; "always"), separable before but
    not after.
    """
    errors = 0
    for h, a, b in affine_cases():
        before, after = dichotomies(h), dichotomies(layer(h, a, b))
        errors += len(after - before)
        if equality == "always" or np.linalg.matrix_rank(a) == h.shape[1]:
            errors += len(before - after)
    return float(errors)


def accessibility_cases() -> list[dict[str, np.ndarray]]:
    """Small networks with two logits on six labelled points, and the XOR solution.

    Each case: input ``x`` (N, 2), labels ``y`` (N,), penultimate features ``h`` and
    logits ``z`` = V h + c.  The random cases are ReLU networks 2-3-3-2 with standard
    Gaussian weights and biases, inputs and labels also random; the XOR case is the exact
    solution of ``prop-xor-exact-solution`` with the logits (1/2, a^T h).
    """
    rng = np.random.default_rng(5)
    cases = []
    x, y = xor()
    h = X.hidden(x, X.EXACT_W)
    cases.append({"x": x, "y": y, "h": h,
                  "z": np.column_stack([np.full(4, 0.5), h @ X.EXACT_A])})
    for _ in range(5):
        x = rng.normal(size=(6, 2))
        y = rng.integers(0, 2, size=6)
        h1 = np.maximum(x @ rng.normal(size=(3, 2)).T + rng.normal(size=3), 0.0)
        h = np.maximum(h1 @ rng.normal(size=(3, 3)).T + rng.normal(size=3), 0.0)
        cases.append({"x": x, "y": y, "h": h,
                      "z": h @ rng.normal(size=(2, 3)).T + rng.normal(size=2)})
    return cases


@lru_cache(maxsize=256)
def _best_correct(key: bytes, n: int, d: int, labels: tuple[int, ...]) -> int:
    points = np.frombuffer(key, dtype=np.float64).reshape(n, d)
    return round(n * info.best_linear_accuracy(points, np.array(labels)))


def _best_accuracy(points: np.ndarray, labels: np.ndarray) -> Fraction:
    """Exact best affine accuracy (:func:`information.best_linear_accuracy`), cached."""
    p = np.ascontiguousarray(points, dtype=np.float64)
    return Fraction(_best_correct(p.tobytes(), *p.shape, tuple(labels.tolist())), len(p))


@claim("prop-accessibility-logits",
       statement="for y = argmax(V h + c): accuracy of the model <= linear accessibility at "
                 "the logits <= linear accessibility at the penultimate layer",
       math=r"for $\hat y = \arg\max_k (Vh + c)_k$ with logits $Z = VH + c$, on any set of "
            r"examples $\operatorname{acc}(\hat y) \le \operatorname{acc}_{\mathrm{lin}}(Y; Z) "
            r"\le \operatorname{acc}_{\mathrm{lin}}(Y; H)$",
       method="exact", tolerance=0.0,
       variants=[variant("also at the input: accessibility there >= the model's accuracy",
                         site="x"),
                 variant("equality at the penultimate layer", equality=True)])
def check_accessibility_logits(site: str = "z", equality: bool = False) -> float:
    """Largest violation, as a fraction of the examples, over :func:`accessibility_cases`.

    The model's accuracy is that of arg max z (ties as errors); the best affine accuracy
    at ``site`` ("z": the logits, then also z against h; "x": the input) is exact: the
    labelings closest to the labels are tested for separability by linear programmes
    until one is separable.  With ``equality``, the distance between the accessibility
    at h and the model's accuracy also counts.
    """
    worst = Fraction(0)
    for c in accessibility_cases():
        z, y = c["z"], c["y"]
        model = Fraction(int((~probes.misclassified(z, y)).sum()), len(y))
        at = _best_accuracy(c[site], y)
        worst = max(worst, model - at)
        if site == "z":
            worst = max(worst, at - _best_accuracy(c["h"], y))
        if equality:
            worst = max(worst, abs(_best_accuracy(c["h"], y) - model))
    return float(worst)


@claim("prop-probe-not-monotone",
       statement="a deterministic ReLU chain on XOR keeps I(Y; H_l) = 1 bit while the best "
                 "linear accuracy goes 3/4, 1, 3/4",
       math=r"a deterministic ReLU chain on XOR keeps $I(Y; H_\ell) = 1$ bit while the best "
            r"affine accuracy goes $3/4, 1, 3/4$",
       method="exact", tolerance=1e-12,
       variants=[variant("accuracy never decreases: 3/4, 1, 1", accuracy=(0.75, 1.0, 1.0)),
                 variant("best accuracy 1/2 on XOR (chance)", accuracy=(0.5, 1.0, 0.5))])
def check_probe_not_monotone(information: Sequence[float] = (1.0, 1.0, 1.0),
                             accuracy: Sequence[float] = (0.75, 1.0, 0.75)) -> float:
    """Largest distance of the chain's computed informations and accuracies from the stated.

    Informations by exact enumeration (log2 of exact ratios: only float64 round-off);
    best affine accuracies by testing all 16 labelings of the four points for
    separability with a linear programme (exact fractions of 4).
    """
    chain = info.xor_scramble_chain()
    err_i = max(abs(v - w) for v, w in zip(chain.information, information, strict=True))
    err_a = max(abs(v - w) for v, w in zip(chain.accuracy, accuracy, strict=True))
    return max(err_i, err_a)


# --------------------------------------------------------------------------- usable information
def v_information_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(H, y, A, b)``: labelled point sets and affine maps on which I_V is compared.

    The XOR points with the first layer of :func:`information.xor_scramble_chain`, and
    four sets of ten Gaussian points in R^2 with random labels, each with maps to R^1,
    R^2 and R^3 (Gaussian A and b).
    """
    rng = np.random.default_rng(11)
    x, y = xor()
    cases = [(x, y, *info.XOR_LAYER1)]
    for _ in range(4):
        h, labels = rng.normal(size=(10, 2)), rng.integers(0, 2, size=10)
        for m in (1, 2, 3):
            cases.append((h, labels, rng.normal(size=(m, 2)), rng.normal(size=m)))
    return cases


@claim("prop-v-information",
       statement="0 <= I_V(H -> Y) <= I(Y; H); linear usable information cannot increase "
                 "through an affine layer, but a ReLU layer on XOR raises it from 0 to 1 bit "
                 "while I(Y; H) stays 1 bit",
       math=r"$0 \le I_{\mathcal V}(H \to Y) \le I(Y; H)$; "
            r"$I_{\mathcal V}(g(H) \to Y) \le I_{\mathcal V}(H \to Y)$ for an affine layer "
            r"$g$; on XOR, $I_{\mathcal V}(X \to Y) = 0$ and "
            r"$I_{\mathcal V}(\operatorname{relu}(W_1 X + b_1) \to Y) = 1$ bit",
       method="numeric", tolerance=1e-9,
       variants=[variant("no increase through a ReLU layer either", layer=_relu_layer),
                 variant("the XOR layer without its ReLU, W_1 X + b_1, also reaches 1 bit",
                         xor_layer=_affine_layer)])
def check_v_information(layer: Callable[..., np.ndarray] = _affine_layer,
                        xor_layer: Callable[..., np.ndarray] = _relu_layer) -> float:
    """Largest violation in bits: of 0 <= I_V(H) <= I(Y; H) and I_V(layer(H)) <= I_V(H)
    over :func:`v_information_cases`, and of I_V(X) = 0, I_V(xor_layer(X)) = 1 on XOR.

    I_V is :func:`hiddenunits.information.linear_v_information`: the label entropy minus
    the smallest logistic cross-entropy, 0 exactly when the classes are separable (a
    linear programme decides), else a BFGS minimum of a smooth convex function.  The
    tolerance 1e-9 bits covers that minimisation (gradient tolerance 1e-12).
    """
    worst = 0.0
    for h, y, a, b in v_information_cases():
        g = layer(h, a, b)
        before = info.linear_v_information(h, y)
        after = info.linear_v_information(g, y)
        worst = max(worst, after - before)
        for rep, value in ((h, before), (g, after)):  # (i): 0 <= I_V <= I(Y; H)
            worst = max(worst, -value, value - info.empirical_mutual_information(rep, y))
    x, y = xor()
    w1, b1 = info.XOR_LAYER1
    worst = max(worst, abs(info.linear_v_information(x, y)),
                abs(info.linear_v_information(xor_layer(x, w1, b1), y) - 1.0))
    return worst


# --------------------------------------------------------------------------- Cover's theorem
COVER_CASES = ((1, (3, 4, 5)), (2, (4, 5, 6, 7)), (3, (5, 6)))
"""(d, values of N) of the affine count; the homogeneous count uses the same N in R^3."""


def _collinear(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """N points on one line of R^d (not in general position when d >= 2)."""
    return rng.normal(size=(n, 1)) * rng.normal(size=(1, d)) + rng.normal(size=(1, d))


def _gaussian(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(n, d))


@claim("thm-cover-counting",
       statement="N vectors in general position in R^d have C(N, d) = 2 sum_{k<d} "
                 "binom(N-1, k) dichotomies separable through the origin; N points of R^d "
                 "whose lifts (x, 1) are in general position have C(N, d+1) affine ones",
       math=r"$N$ vectors in general position in $\mathbb{R}^d$ have "
            r"$C(N, d) = 2\sum_{k=0}^{d-1}\binom{N-1}{k}$ dichotomies separable by a "
            r"hyperplane through the origin; $N$ points whose lifts $(x_i, 1)$ are in "
            r"general position have $C(N, d+1)$ separable by an affine one",
       method="exact", tolerance=0.0,
       variants=[variant("the affine count is C(N, d) (the bias forgotten)", shift=0),
                 variant("every dichotomy is separable (2^N)",
                         formula=lambda n, p: 2**n),
                 variant("for any points, e.g. collinear ones", points=_collinear),
                 variant("for N <= d points with no d+1 of them on an affine hyperplane "
                         "(a vacuous condition): 3 collinear points in R^3",
                         points=_collinear, cases=((3, (3,)),))])
def check_cover_counting(formula: Callable[[int, int], int] = capacity.cover_count,
                         shift: int = 1,
                         points: Callable[..., np.ndarray] = _gaussian,
                         cases: tuple = COVER_CASES) -> float:
    """Largest |LP count - formula| over ``cases``, affine and homogeneous.

    Affine: N ``points`` in R^d, formula(N, d + shift).  Homogeneous: N points in R^3
    against formula(N, 3).  Each count enumerates the 2^N dichotomies and decides each
    by a linear programme (:func:`hiddenunits.capacity.separable_dichotomies`).
    Gaussian points are in general position with probability 1.
    """
    rng = np.random.default_rng(7)
    worst = 0
    for d, ns in cases:
        for n in ns:
            p = points(n, d, rng)
            worst = max(worst, abs(len(dichotomies(p)) - formula(n, d + shift)))
            q = points(n, 3, rng)
            worst = max(worst, abs(len(dichotomies(q, affine=False)) - formula(n, 3)))
    return float(worst)
