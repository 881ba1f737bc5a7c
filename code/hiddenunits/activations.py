"""Activation functions phi, their derivatives phi', and the table of their properties.

The eight functions are those of :data:`hiddenunits.nets.ACTIVATIONS` with the same
parameters (leaky slope 0.01, ELU alpha = 1, exact erf-GELU, softplus beta = 1), written
here in float64 numpy so that their properties can be computed to high accuracy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
import torch
from matplotlib.figure import Figure
from scipy import integrate, optimize, special

from hiddenunits.claims import claim
from hiddenunits.figures import figure
from hiddenunits.nets import ACTIVATIONS
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "gelu", "silu")
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
          "softplus": "softplus", "elu": "ELU", "gelu": "GELU", "silu": "SiLU"}
LEAKY_SLOPE = 0.01  # as in nets.ACTIVATIONS
_SQRT2 = math.sqrt(2.0)


def _check_name(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown activation {name!r}; choose one of {NAMES}")
    return name


def _as_float_array(t) -> np.ndarray:
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("inputs must be finite")
    return arr


def _softplus(t: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, t)  # log(1 + e^t) without overflow


def phi(name: str, t) -> np.ndarray:
    """The activation phi(t), elementwise, in float64."""
    t = _as_float_array(t)
    match _check_name(name):
        case "sigmoid":
            return special.expit(t)
        case "tanh":
            return np.tanh(t)
        case "relu":
            return np.maximum(t, 0.0)
        case "leaky_relu":
            return np.where(t > 0, t, LEAKY_SLOPE * t)
        case "softplus":
            return _softplus(t)
        case "elu":
            return np.where(t > 0, t, np.expm1(np.minimum(t, 0.0)))
        case "gelu":
            return t * special.ndtr(t)  # t * Phi(t)
        case _:  # silu
            return t * special.expit(t)


def dphi(name: str, t) -> np.ndarray:
    """The derivative phi'(t); at a kink, the value PyTorch's autograd uses.

    ReLU and leaky ReLU take their left derivative at 0 (0 and the slope), as autograd does.
    """
    t = _as_float_array(t)
    match _check_name(name):
        case "sigmoid":
            s = special.expit(t)
            return s * (1.0 - s)
        case "tanh":
            return 1.0 - np.tanh(t) ** 2
        case "relu":
            return (t > 0).astype(np.float64)
        case "leaky_relu":
            return np.where(t > 0, 1.0, LEAKY_SLOPE)
        case "softplus":
            return special.expit(t)
        case "elu":
            return np.where(t > 0, 1.0, np.exp(np.minimum(t, 0.0)))
        case "gelu":
            return special.ndtr(t) + t * np.exp(-0.5 * t**2) / math.sqrt(2 * math.pi)
        case _:  # silu
            s = special.expit(t)
            return s * (1.0 + t * (1.0 - s))


def torch_activation(name: str) -> torch.nn.Module:
    """The PyTorch module of ``name`` used by :func:`hiddenunits.nets.make_mlp`."""
    return ACTIVATIONS[_check_name(name)]()


def autograd_derivative(name: str, t) -> np.ndarray:
    """phi'(t) computed by PyTorch's autograd in float64 (an independent reference)."""
    x = torch.tensor(_as_float_array(t), dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch_activation(name)(x).sum(), x)
    return g.numpy()


# ---------------------------------------------------------------------------------------
# Why nonlinearity: affine maps compose to an affine map.
# ---------------------------------------------------------------------------------------

def symbolic_residual(exprs) -> float:
    """0.0 when sympy proves every expression is identically 0, else a positive residual.

    The residual is the largest absolute value of the expressions at a fixed rational
    point (1.0 if they all happen to vanish there), so a failed proof reports a size.
    """
    exprs = [sp.simplify(sp.expand(e)) for e in exprs]
    if all(e == 0 for e in exprs):
        return 0.0
    values = []
    for e in exprs:
        point = {s: sp.Rational(3, 7) + k for k, s in enumerate(sorted(e.free_symbols, key=str))}
        values.append(abs(float(sp.N(e.subs(point)))))
    return max(values) or 1.0


def affine_composition_residual(widths=(3, 2, 2, 2), perturb: bool = False) -> float:
    """Symbolic residual of  f_L o ... o f_1 (x) = W x + b  with W = W_L...W_1 and
    b = sum_l W_L...W_{l+1} b_l, for affine layers f_l(x) = W_l x + b_l of the given widths.

    ``perturb`` adds a deliberate error to the claimed bias (to show the check can fail).
    """
    widths = tuple(int(w) for w in widths)
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must be >= 2 positive sizes, got {widths!r}")
    x = sp.Matrix(sp.symbols(f"x0:{widths[0]}"))
    out = x
    w_total = sp.eye(widths[0])
    b_total = sp.zeros(widths[0], 1)
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        w = sp.Matrix(n_out, n_in, lambda i, j, k=layer: sp.Symbol(f"w{k}_{i}{j}"))
        b = sp.Matrix(n_out, 1, lambda i, j, k=layer: sp.Symbol(f"b{k}_{i}"))
        out = w * out + b
        w_total, b_total = w * w_total, w * b_total + b
    claimed = w_total * x + b_total
    if perturb:
        claimed = claimed + sp.ones(widths[-1], 1) * sp.Symbol("eps")
    return symbolic_residual(list(out - claimed))


@claim("prop-affine-composition", chapter="activations",
       statement="a composition of affine maps is affine: W = W_L...W_1, b = sum W..W b_l",
       method="symbolic", tolerance=0.0)
def check_affine_composition() -> float:
    # three layers of widths 3 -> 2 -> 2 -> 2 with symbolic entries; depth follows by induction
    return affine_composition_residual((3, 2, 2, 2))


# ---------------------------------------------------------------------------------------
# The sigmoid and tanh identities.
# ---------------------------------------------------------------------------------------

_t = sp.Symbol("t", real=True)


def _sigmoid_sym(t):
    return 1 / (1 + sp.exp(-t))


QUARTER = sp.Rational(1, 4)


def sigmoid_identity_residual(bound=QUARTER) -> float:
    """Residual of  sigma' = sigma(1 - sigma),  bound - sigma' = (sigma - 1/2)^2,
    and  {t : sigma(t) = 1/2} = {0}  (sympy).  A wrong ``bound`` gives a positive residual."""
    s = _sigmoid_sym(_t)
    r = symbolic_residual([sp.diff(s, _t) - s * (1 - s),
                           (bound - s * (1 - s)) - (s - sp.Rational(1, 2)) ** 2])
    roots = sp.solveset(sp.Eq(s, sp.Rational(1, 2)), _t, domain=sp.S.Reals)
    return r + (0.0 if roots == sp.FiniteSet(0) else 1.0)


@claim("lem-sigmoid-derivative", chapter="activations",
       statement="sigma' = sigma(1-sigma) <= 1/4, with equality only at t = 0",
       method="symbolic", tolerance=0.0)
def check_sigmoid_derivative() -> float:
    return sigmoid_identity_residual()


def tanh_identity_residual(scale=2) -> float:
    """Residual of  tanh(t) = 2 sigma(2t) - 1,  tanh'(t) = 4 sigma(2t)(1 - sigma(2t))
    and  1 - tanh'(t) = tanh(t)^2  (sympy).  ``scale`` replaces the inner 2 (a wrong value
    gives a positive residual)."""
    s2 = _sigmoid_sym(scale * _t)
    th = sp.tanh(_t).rewrite(sp.exp)
    dth = sp.diff(th, _t)
    return symbolic_residual([sp.together(th - (2 * s2 - 1)),
                              sp.together(dth - 4 * s2 * (1 - s2)),
                              sp.together((1 - dth) - th**2)])


@claim("lem-tanh-sigmoid", chapter="activations",
       statement="tanh(t) = 2 sigma(2t) - 1, so tanh'(t) = 4 sigma'(2t) <= 1",
       method="symbolic", tolerance=0.0)
def check_tanh_sigmoid() -> float:
    return tanh_identity_residual()


def self_gated_residual(wrong: bool = False) -> float:
    """Residual of  phi(t) - phi(-t) = t  and  phi'(t) + phi'(-t) = 1  for phi(t) = t F(t)
    with F = sigma (SiLU) and F = Phi (GELU)  (sympy).  ``wrong`` uses F(t) = e^t / 2,
    which is not a symmetric distribution function, to show the check can fail."""
    gates = [_sigmoid_sym(_t), (1 + sp.erf(_t / sp.sqrt(2))) / 2]
    if wrong:
        gates = [sp.exp(_t) / 2]
    exprs = []
    for gate in gates:
        f = _t * gate
        f_neg = f.subs(_t, -_t)
        df = sp.diff(f, _t)
        exprs += [sp.together((f - f_neg - _t).rewrite(sp.exp)),
                  sp.together((df + df.subs(_t, -_t) - 1).rewrite(sp.exp))]
    return symbolic_residual(exprs)


@claim("lem-self-gated", chapter="activations",
       statement="SiLU, GELU: phi(t) - phi(-t) = t and phi'(t) + phi'(-t) = 1",
       method="symbolic", tolerance=0.0)
def check_self_gated() -> float:
    return self_gated_residual()


# ---------------------------------------------------------------------------------------
# The property table.
# ---------------------------------------------------------------------------------------

def gaussian_moment(name: str, fn: Callable[[np.ndarray], np.ndarray] | None = None,
                    scale: float = 1.0) -> float:
    """E[g(Z)] for Z ~ N(0, scale^2), g = phi_name (or ``fn``), by adaptive quadrature.

    The integral is split at 0, where ReLU-like functions have their kink.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    g = fn if fn is not None else (lambda t: phi(name, t))
    if fn is None:
        _check_name(name)

    def integrand(z: float) -> float:
        return float(g(np.array(scale * z))) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    left = integrate.quad(integrand, -np.inf, 0.0, epsabs=1e-13, epsrel=1e-12)[0]
    right = integrate.quad(integrand, 0.0, np.inf, epsabs=1e-13, epsrel=1e-12)[0]
    return left + right


def derivative_extremes(name: str, lo: float = -40.0, hi: float = 40.0,
                        num: int = 80_001) -> tuple[float, float, float, float]:
    """(max phi', its argmax, min phi', its argmin) over [lo, hi]: a grid, then a local
    bounded refinement around the best grid point."""
    _check_name(name)
    grid = np.linspace(lo, hi, num)
    d = dphi(name, grid)
    out = []
    for sign in (1.0, -1.0):
        k = int(np.argmax(sign * d))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, num - 1)]
        res = optimize.minimize_scalar(lambda u, sign=sign: -sign * float(dphi(name, u)),
                                       bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-12})
        best = (float(d[k]), float(grid[k]))
        value = -sign * float(res.fun)  # phi' at the refined point
        if sign * value > sign * best[0]:
            best = (value, float(res.x))
        out.extend(best)
    return out[0], out[1], out[2], out[3]




@lru_cache(maxsize=32)
def forward_backward_cost(name: str, num: int = 1 << 20, repeats: int = 7,
                          seed: int = 0) -> float:
    """Nanoseconds per element of y = phi(x) plus its backward pass, float32, one thread.

    The best of ``repeats`` timings (after a warm-up) of autograd on a vector of ``num``
    standard normal entries; the minimum is the least disturbed by other processes.
    """
    module = torch_activation(name)
    if num < 1 or repeats < 1:
        raise ValueError("num and repeats must be positive")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num, generator=gen).requires_grad_(True)  # (num,)
    ones = torch.ones(num)
    best = math.inf
    with limited_threads():
        for k in range(repeats + 1):
            start = time.perf_counter()
            torch.autograd.grad(module(x), x, grad_outputs=ones)
            elapsed = time.perf_counter() - start
            if k > 0:  # k = 0 warms up the allocator and caches
                best = min(best, elapsed)
    return 1e9 * best / num


@dataclass(frozen=True)
class ActivationProperties:
    """Computed properties of one activation (derivatives as PyTorch's autograd gives them)."""

    name: str
    mean_gauss: float  # E[phi(Z)], Z ~ N(0, 1)
    max_derivative: float  # sup phi'
    argmax_derivative: float
    derivative_at_0: float  # by autograd
    derivative_left: float  # phi'(-40), the left limit to 1e-17
    derivative_right: float  # phi'(+40)
    min_derivative: float  # < 0 means not monotone
    argmin_derivative: float
    min_value: float  # min phi over [-40, 40]
    cost_ns: float  # forward + backward, ns per element, float32, one thread

    @property
    def monotone(self) -> bool:
        return self.min_derivative >= 0.0

    @property
    def saturation(self) -> str:
        """Where phi' tends to 0: 'both sides', 'left', 'right' or 'none'."""
        left, right = self.derivative_left < 1e-6, self.derivative_right < 1e-6
        return {(True, True): "both sides", (True, False): "left",
                (False, True): "right", (False, False): "none"}[(left, right)]


@lru_cache(maxsize=16)
def activation_properties(name: str, with_cost: bool = True) -> ActivationProperties:
    """Compute :class:`ActivationProperties` of ``name`` (quadrature, grids, autograd)."""
    dmax, amax, dmin, amin = derivative_extremes(name)
    grid = np.linspace(-40.0, 40.0, 80_001)
    values = phi(name, grid)
    k = int(np.argmin(values))
    minval = float(values[k])
    if 0 < k < grid.size - 1:  # an interior minimum: refine it
        res = optimize.minimize_scalar(lambda u: float(phi(name, u)),
                                       bounds=(grid[k - 1], grid[k + 1]), method="bounded",
                                       options={"xatol": 1e-12})
        minval = min(minval, float(res.fun))
    return ActivationProperties(
        name=name,
        mean_gauss=gaussian_moment(name),
        max_derivative=dmax, argmax_derivative=amax,
        derivative_at_0=float(autograd_derivative(name, 0.0)),
        derivative_left=float(dphi(name, -40.0)), derivative_right=float(dphi(name, 40.0)),
        min_derivative=dmin, argmin_derivative=amin, min_value=minval,
        cost_ns=forward_backward_cost(name) if with_cost else math.nan)


def property_rows(names=NAMES) -> list[list[str]]:
    """Rows of the chapter's property table (formatted strings)."""
    rows = []
    relu_cost = activation_properties("relu").cost_ns
    for name in names:
        p = activation_properties(name)
        rows.append([LABELS[name], f"{p.mean_gauss:.3f}", f"{p.max_derivative:.3f}",
                     f"{p.derivative_at_0:.3g}", p.saturation,
                     "yes" if p.monotone else f"no ($\\min\\phi'={p.min_derivative:.3f}$)",
                     f"{p.cost_ns:.2f} ({p.cost_ns / relu_cost:.1f})"])
    return rows


PROPERTY_HEADERS = ["$\\phi$", "$\\mathbb{E}\\,\\phi(Z)$", "$\\sup \\phi'$", "$\\phi'(0)$",
                    "$\\phi' \\to 0$ on", "monotone", "ns/element (vs ReLU)"]


@figure("activations")
def fig_activation_shapes() -> Figure:
    """The eight activations (left) and their derivatives (right) on [-4, 4]."""
    fig, (ax0, ax1) = new_figure(1, 2, height=3.3)
    t = np.linspace(-4, 4, 801)
    colors = [COLORS[c] for c in ("blue", "orange", "green", "sky", "vermillion",
                                  "purple", "black", "grey")]
    styles = ["-", "-", "-", ":", "--", "-.", "-", "--"]
    for name, c, ls in zip(NAMES, colors, styles, strict=True):
        ax0.plot(t, phi(name, t), color=c, ls=ls, label=LABELS[name])
        ax1.plot(t, dphi(name, t), color=c, ls=ls)
    ax0.set(xlabel="$t$", ylabel="$\\phi(t)$", ylim=(-1.2, 4))
    ax1.set(xlabel="$t$", ylabel="$\\phi'(t)$", ylim=(-0.2, 1.2))
    ax1.axhline(0.25, color=COLORS["grey"], lw=0.8)
    ax0.legend(ncol=2, loc="upper left")
    return fig


def captioned_table(headers, rows, caption: str, name: str) -> str:
    """A MyST ``{table}`` directive holding a pipe table, with a caption and a label.

    Cell outputs are rendered as MyST, so ``{numref}`` can refer to ``name``.
    """
    from hiddenunits.book.notebook import markdown_table

    if not name.startswith("tab-"):
        raise ValueError(f"table labels start with 'tab-', got {name!r}")
    return f"```{{table}} {caption}\n:name: {name}\n\n{markdown_table(headers, rows)}\n```"


def show_captioned_table(headers, rows, caption: str, name: str) -> None:
    """Display :func:`captioned_table` in a chapter."""
    from IPython.display import Markdown, display

    display(Markdown(captioned_table(headers, rows, caption, name)))
