"""Linear classifier probes (Alain & Bengio 2016), fitted for all layers at once in torch.

A probe of layer ``l`` is a multinomial logistic regression on that layer's features
``H_l``, with scikit-learn's objective

    F_l(V, c) = (1/N) sum_i CE(V h_i + c, y_i) + (lam/2) ||V||_F^2,   lam = 1/(C N),

(the intercept ``c`` is not penalised).  As in PyTorch, arrays hold one example per row:
features are (N, D_l) and the coefficients are stored as ``coef = V^T`` (D_l, K).
:func:`fit_probes` minimises all ``F_l`` with a limited-memory BFGS per layer, with
per-layer line searches, preconditioned by a damped Kronecker-factored approximation of
each layer's Hessian and run in float32; layers of equal width are stacked and share
every tensor operation.  It stops a layer when
``max |grad F_l| <= tol``, scikit-learn's stopping rule for ``solver="lbfgs"``.

The models probed are a multilayer perceptron and a small 1-D CNN trained on MNIST-1D.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from hiddenunits.data import mnist1d
from hiddenunits.nets import (
    TrainConfig,
    hidden_outputs,
    make_mlp,
    torch_generator,
    train_classifier,
)
from hiddenunits.threads import limited_threads
from hiddenunits.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_seed,
    check_sizes,
)

# ---------------------------------------------------------------------------------------
# Features


def _check_layers(name: str, features: Sequence[ArrayLike], dtype: type = np.float64
                  ) -> list[np.ndarray]:
    """A non-empty sequence of 2-D finite feature arrays (N_l, D_l), as ``dtype``."""
    if isinstance(features, np.ndarray) or not isinstance(features, Sequence) \
            or len(features) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of (N, D) arrays, one per "
                         "layer")
    return [check_array(f"{name}[{i}]", f, ndim=2, dtype=dtype)
            for i, f in enumerate(features)]


def standardize(train: Sequence[ArrayLike], test: Sequence[ArrayLike]
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(h - mean) / std`` per feature, with the training mean and standard deviation.

    ``train[l]`` (N, D_l), ``test[l]`` (M, D_l); returns float32 arrays of the same shapes.
    Constant features (standard deviation 0, e.g. dead ReLU units) are only centred, so
    they become 0.
    """
    train = _check_layers("train", train)
    test = _check_layers("test", test)
    if len(train) != len(test):
        raise ValueError(f"need one training and one test array per layer, got "
                         f"{len(train)} and {len(test)}")
    out_train, out_test = [], []
    for i, (a, b) in enumerate(zip(train, test, strict=True)):
        if a.shape[1] != b.shape[1] or len(a) < 2:
            raise ValueError(f"layer {i}: features must be (N, D) with N >= 2 and (M, D), "
                             f"got {a.shape} and {b.shape}")
        mean = a.mean(axis=0)
        std = a.std(axis=0)
        std = np.where(std > 1e-12 * max(1.0, float(np.abs(a).max())), std, 1.0)
        out_train.append(((a - mean) / std).astype(np.float32))
        out_test.append(((b - mean) / std).astype(np.float32))
    return out_train, out_test


# ---------------------------------------------------------------------------------------
# The probe fit


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of the probe fit; ``C`` and ``tol`` mean what they mean in scikit-learn."""

    C: float = 0.25
    """Inverse regularisation strength: lam = 1 / (C N)."""
    tol: float = 1e-4
    """Stop a layer when max |gradient| <= tol."""
    max_iter: int = 1000
    """Most iterations per layer."""
    memory: int = 20
    """L-BFGS history length (0: preconditioned gradient descent)."""
    refresh: int = 5
    """Recompute the class factor of the preconditioner every ``refresh`` iterations."""
    dtype: str = "float32"
    """Arithmetic of the fit: ``"float32"`` or ``"float64"``."""

    def __post_init__(self):
        check_real("C", self.C, low=0.0, low_open=True)
        check_real("tol", self.tol, low=0.0, low_open=True)
        check_int("max_iter", self.max_iter, minimum=1)
        check_int("memory", self.memory, minimum=0)
        check_int("refresh", self.refresh, minimum=1)
        check_choice("dtype", self.dtype, ("float32", "float64"))


@dataclass(frozen=True)
class ProbeFit:
    """Fitted probes: ``coef[l]`` (D_l, K), ``intercept[l]`` (K,), and how the fit went."""

    coef: tuple[np.ndarray, ...]
    """Weights of each layer's probe, (D_l, K)."""
    intercept: tuple[np.ndarray, ...]
    """Intercepts of each layer's probe, (K,)."""
    n_iter: tuple[int, ...]
    """Iterations each layer took."""
    converged: tuple[bool, ...]
    """Whether each layer reached the gradient tolerance within ``max_iter``."""

    def predict(self, features: Sequence[ArrayLike]) -> list[np.ndarray]:
        """``argmax_k (V h + c)_k``: predicted class of every example at every layer.

        features: one (M, D_l) array per layer; returns a list of (M,) arrays.
        """
        features = _check_layers("features", features)
        if len(features) != len(self.coef):
            raise ValueError(f"need {len(self.coef)} feature arrays, got {len(features)}")
        for i, (f, w) in enumerate(zip(features, self.coef, strict=True)):
            if f.shape[1] != w.shape[0]:
                raise ValueError(f"features[{i}] must have {w.shape[0]} columns, got "
                                 f"{f.shape[1]}")
        return [np.argmax(f @ w + b, axis=1)
                for f, w, b in zip(features, self.coef, self.intercept, strict=True)]

    def accuracy(self, features: Sequence[ArrayLike], y: ArrayLike) -> np.ndarray:
        """Fraction of correct predictions per layer: (L,)."""
        y = check_array("y", y, ndim=1, dtype=np.int64)
        predictions = self.predict(features)
        if any(len(p) != len(y) for p in predictions):
            raise ValueError("need one label per example of every layer")
        return np.array([np.mean(p == y) for p in predictions])


def _check_xy(features: Sequence[ArrayLike], y: ArrayLike, dtype: type = np.float64
              ) -> tuple[list[np.ndarray], np.ndarray]:
    """Features (one (N, D_l) array per layer) and labels (N,) in 0..K-1, two classes at least."""
    features = _check_layers("features", features, dtype)
    y = check_array("y", y, ndim=1, dtype=np.int64)
    if y.min() < 0:
        raise ValueError("labels must be non-negative integers")
    for i, f in enumerate(features):
        if len(f) != len(y):
            raise ValueError(f"features[{i}] must be (N, D) with N = {len(y)}, got {f.shape}")
    if len(np.unique(y)) < 2:
        raise ValueError("need at least two classes")
    return features, y


def probe_objective(features: ArrayLike, y: ArrayLike, coef: ArrayLike,
                    intercept: ArrayLike, C: float) -> tuple[float, float]:
    """Objective ``F(V, c)`` and ``max |grad F|`` in float64 numpy (the reference).

    features (N, D), y (N,) labels in 0..K-1, coef (D, K), intercept (K,), C > 0.
    """
    (x,), y = _check_xy([features], y)
    n, d = x.shape
    coef = check_array("coef", coef, ndim=2)
    k = coef.shape[1]
    if coef.shape[0] != d:
        raise ValueError(f"coef must have shape ({d}, K), got {coef.shape}")
    intercept = check_array("intercept", intercept, shape=(k,))
    if y.max() >= k:
        raise ValueError(f"labels go up to {y.max()} but the probe has {k} classes")
    lam = 1.0 / (check_real("C", C, low=0.0, low_open=True) * n)
    logits = x @ coef + intercept  # (N, K)
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    f = np.mean(lse - logits[np.arange(n), y]) + 0.5 * lam * np.sum(coef * coef)
    p = np.exp(logits - lse[:, None])
    p[np.arange(n), y] -= 1.0
    g_coef = x.T @ p / n + lam * coef
    g_int = p.sum(axis=0) / n
    return float(f), float(max(np.abs(g_coef).max(), np.abs(g_int).max()))


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-layer inner products of two (G, D + 1, K) stacks: (G,)."""
    return (a * b).sum(dim=(1, 2))


# A group's features are read twice per iteration.  Kept below this size they stay in the
# processor's cache while the group iterates; on the two-core machine the book was written
# on, a matrix product with 10 columns ran at about 80 GFLOP/s from a working set up to
# ~20 MB and at about 33 GFLOP/s from DRAM (82 MB and more).
GROUP_BYTES = 12 * 2**20


def _plan_groups(widths: Sequence[int], n: int, itemsize: int) -> list[list[int]]:
    """Split layers (given by width) into groups of equal width, each group's features
    within ``GROUP_BYTES``."""
    groups: list[list[int]] = []
    open_group: dict[int, list[int]] = {}
    for i, width in enumerate(widths):
        group = open_group.get(width)
        if group is None or (len(group) + 1) * n * (width + 1) * itemsize > GROUP_BYTES:
            group = open_group[width] = []
            groups.append(group)
        group.append(i)
    return groups


class _Group:
    """Probes of layers with equal width D, fitted together on stacked tensors.

    The features are stored once, transposed and with a row of ones for the intercept:
    ``xt`` (G, D + 1, N).  Parameters theta = [W; b] (G, D + 1, K), logits z (G, K, N).
    Every scalar of L-BFGS (step length, curvatures, two-loop coefficients) is kept per
    layer, so the layers are independent problems solved in the same tensor ops.

    L-BFGS is used in its matrix form: the last m steps ``S`` and gradient changes ``Y``
    (G, m, P), P = (D + 1) K, in a ring buffer, with ``SY = S Y^T`` (G, m, m).  The two
    loops of the usual recursion are then two triangular solves with m x m matrices plus a
    few batched products, instead of 4m small operations.
    """

    def __init__(self, idx: list[int], features: list[np.ndarray], y: torch.Tensor, k: int,
                 lam: float, cfg: ProbeConfig):
        dtype = getattr(torch, cfg.dtype)
        g, (n, d) = len(features), np.shape(features[0])
        self.idx = list(idx)  # positions of these layers in the caller's list
        self.xt = torch.empty(g, d + 1, n, dtype=dtype)
        grams = np.empty((g, d, d), dtype=cfg.dtype)
        for j, f in enumerate(features):
            a = np.ascontiguousarray(f, dtype=cfg.dtype)
            if not a.flags.writeable:  # torch only wraps writable arrays (read, not written)
                a = a.copy()
            self.xt[j, :d] = torch.from_numpy(a).T
            grams[j] = a.T @ a / n  # numpy computes a.T @ a as a symmetric rank-k update
        self.xt[:, d] = 1.0
        # The preconditioner approximates the Hessian of the weights by a Kronecker product
        # with damping split between the factors (Martens & Grosse 2015):
        # (A + c pi I) x (Sigma + (c / pi) I), c = sqrt(lam), Sigma the feature covariance,
        # A the class curvature.  pi balances the mean eigenvalues of the factors, taken
        # at theta = 0 where A = (I - 11^T / K) / K; so the feature factor is fixed and is
        # inverted once (Cholesky, in float64).
        sigma = torch.from_numpy(grams).double()  # (G, D, D)
        mean_s = sigma.diagonal(dim1=1, dim2=2).mean(1).clamp(min=1e-12)  # (G,)
        self.pi = torch.sqrt((k - 1) / k**2 / mean_s)
        chol = torch.linalg.cholesky(
            sigma + (math.sqrt(lam) / self.pi)[:, None, None] * torch.eye(d, dtype=torch.float64))
        self.inv_sigma = torch.cholesky_inverse(chol).to(dtype)  # (G, D, D)
        self.ysel = y[None, None, :].expand(g, 1, n)  # (G, 1, N) labels, for gather
        self.onehot = nn.functional.one_hot(y, k).to(dtype).T.contiguous()  # (K, N)
        self.n, self.lam, self.cfg = n, lam, cfg
        self.pen = torch.ones(d + 1, 1, dtype=dtype)
        self.pen[-1] = 0.0  # the intercept is not penalised
        self.lam_pen = lam * self.pen
        m, size = cfg.memory, (d + 1) * k
        self.S = torch.zeros(g, m, size, dtype=dtype)
        self.Y = torch.zeros(g, m, size, dtype=dtype)
        self.SY = torch.zeros(g, m, m, dtype=dtype)
        self.rho = torch.zeros(g, m, dtype=dtype)  # 1 / (s_i . y_i); 0: pair unused
        self.slot = 0  # ring-buffer slot of the next pair (and of the oldest one)
        self.eye = torch.eye(m, dtype=dtype)
        self.iters = torch.zeros(g, dtype=torch.int64)
        self.it = 0
        self.theta = torch.zeros(g, d + 1, k, dtype=dtype)
        self.z = torch.zeros(g, k, n, dtype=dtype)  # logits at theta = 0
        self.p = torch.full((g, k, n), 1.0 / k, dtype=dtype)
        self.f = torch.full((g,), math.log(k), dtype=dtype)
        self.penalty = torch.zeros(g, dtype=dtype)  # (lam / 2) |W|^2 at theta
        self.g = self.gradient(self.p, self.theta)
        self._refresh()

    def gradient(self, p: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Gradient (G, D + 1, K) from the softmax probabilities p (G, K, N) at theta."""
        return torch.baddbmm(self.lam_pen * theta, self.xt, (p - self.onehot).transpose(1, 2),
                             alpha=1.0 / self.n)

    def _refresh(self) -> None:
        """Inverse of the class factor, from the class curvature mean_i diag(p_i) - p_i p_i^T.

        The weights get (A + sqrt(lam) pi I)^-1; the intercept, whose Hessian is exactly A
        for centred features, gets the pseudo-inverse of A.
        """
        a = torch.diag_embed(self.p.mean(2)) - self.p @ self.p.transpose(1, 2) / self.n
        alpha, r = np.linalg.eigh(a.double().numpy())  # (G, K), (G, K, K): tiny, numpy
        damp = math.sqrt(self.lam) * self.pi.numpy()[:, None]
        keep = alpha > 1e-6 * alpha.max(axis=1, keepdims=True)
        pinv = np.where(keep, 1.0 / np.where(keep, alpha, 1.0), 0.0)
        rt = r.transpose(0, 2, 1)
        self.inv_a = torch.from_numpy((r / (alpha + damp)[:, None, :]) @ rt).to(self.xt.dtype)
        self.pinv_a = torch.from_numpy((r * pinv[:, None, :]) @ rt).to(self.xt.dtype)

    def precondition(self, v: torch.Tensor) -> torch.Tensor:
        """Apply the inverse Kronecker-factored curvature to v (G, D + 1, K)."""
        w = self.inv_sigma @ (v[:, :-1] @ self.inv_a)
        return torch.cat([w, v[:, -1:] @ self.pinv_a], dim=1)

    def direction(self) -> torch.Tensor:
        """The L-BFGS direction -H g (G, D + 1, K), H built on the preconditioner."""
        if self.cfg.memory == 0:
            return -self.precondition(self.g)
        shape, g = self.g.shape, self.g.reshape(len(self.g), -1, 1)
        m = self.cfg.memory
        order = (self.slot + torch.arange(m)) % m  # ring-buffer slots, oldest first
        sy = self.SY[:, order][:, :, order]  # s_i . y_j in time order
        rho = self.rho[:, order, None]
        # first loop, newest to oldest: a_i = rho_i (s_i.g - sum_{j > i} a_j s_i.y_j)
        a = torch.linalg.solve_triangular(self.eye + rho * torch.triu(sy, diagonal=1),
                                          rho * (self.S @ g)[:, order], upper=True)
        a_slot = torch.empty_like(a)
        a_slot[:, order] = a
        z = self.precondition((g - self.Y.transpose(1, 2) @ a_slot).reshape(shape))
        z = z.reshape(g.shape)
        # second loop, oldest to newest: b_i = rho_i (y_i.z_i), z_i = z + sum_{j<i} (a_j - b_j) s_j
        lower = torch.tril(sy.transpose(1, 2), diagonal=-1)
        b = torch.linalg.solve_triangular(self.eye + rho * lower,
                                          rho * ((self.Y @ z)[:, order] + lower @ a),
                                          upper=False)
        ab = torch.empty_like(a)
        ab[:, order] = a - b
        return -(z + self.S.transpose(1, 2) @ ab).reshape(shape)

    def grad_max(self) -> torch.Tensor:
        """max |gradient| per layer: (G,)."""
        return self.g.abs().amax(dim=(1, 2))

    def drop(self, keep: torch.Tensor) -> None:
        """Keep only the layers where ``keep`` (G,) is true."""
        self.idx = [i for i, k in zip(self.idx, keep.tolist(), strict=True) if k]
        for name in ("xt", "ysel", "theta", "z", "pi", "inv_sigma", "f", "penalty", "g", "p",
                     "inv_a", "pinv_a", "iters", "S", "Y", "SY", "rho"):
            setattr(self, name, getattr(self, name)[keep])

    def step(self) -> None:
        """One L-BFGS iteration for every layer, with per-layer Armijo backtracking.

        The logits are affine in the step length t, z(theta + t d) = z + t X d, so one
        product u = X d serves every trial t, and the gradient is computed once, at the
        accepted point: two passes over the features per iteration.
        """
        if self.it > 0 and self.it % self.cfg.refresh == 0:
            self._refresh()
        d = self.direction()
        slope = _dot(self.g, d)
        bad = ~(slope < 0)
        if bad.any():  # not a descent direction: fall back to the preconditioned gradient
            d[bad] = -self.precondition(self.g)[bad]
            slope = _dot(self.g, d)
        u = torch.bmm(d.transpose(1, 2).contiguous(), self.xt)  # (G, K, N)
        # the penalty along the ray is a quadratic in t
        pd = self.lam_pen * d
        p1, p2 = _dot(self.theta, pd), _dot(d, pd)
        t = torch.ones_like(slope)
        for _ in range(40):
            t3 = t[:, None, None]
            z = torch.addcmul(self.z, t3, u)
            lse = torch.logsumexp(z, dim=1, keepdim=True)  # (G, 1, N)
            pen = self.penalty + t * (p1 + 0.5 * t * p2)
            f = (lse - z.gather(1, self.ysel)).sum(dim=(1, 2)) / self.n + pen
            ok = f <= self.f + 1e-4 * t * slope
            if ok.all():
                break
            t = torch.where(ok, t, 0.5 * t)
        theta = torch.addcmul(self.theta, t3, d)
        p = torch.exp(z - lse)
        g = self.gradient(p, theta)
        if self.cfg.memory:  # overwrite the oldest pair in place
            s, y = (theta - self.theta).flatten(1), (g - self.g).flatten(1)
            sy = (s * y).sum(1)
            norms = torch.linalg.vector_norm(s, dim=1) * torch.linalg.vector_norm(y, dim=1)
            good = sy > 1e-10 * norms
            j = self.slot
            self.S[:, j], self.Y[:, j] = s, y
            self.SY[:, j] = (self.Y @ s[:, :, None])[:, :, 0]  # s_j . y_i, every i
            self.SY[:, :, j] = (self.S @ y[:, :, None])[:, :, 0]  # s_i . y_j
            self.rho[:, j] = torch.where(good, 1.0 / torch.where(good, sy, 1.0), 0.0)  # 0: ignored
            self.slot = (j + 1) % self.cfg.memory
        self.theta, self.z, self.f, self.g, self.p, self.penalty = theta, z, f, g, p, pen
        self.iters += 1
        self.it += 1


def _check_config(config: ProbeConfig) -> ProbeConfig:
    if not isinstance(config, ProbeConfig):
        raise ValueError(f"config must be a ProbeConfig, got {type(config).__name__}")
    return config


def fit_probes(features: Sequence[ArrayLike], y: ArrayLike,
               config: ProbeConfig = ProbeConfig(), num_classes: int | None = None
               ) -> ProbeFit:
    """Fit one multinomial logistic-regression probe per layer, layers batched in torch.

    Layers of equal width share stacked tensors (one batched matrix product for all of
    them, up to a group size that stays in cache); each layer keeps its own L-BFGS scalars
    and stops on its own.  Groups run one after another, so that each group's features
    stay in cache while it iterates.
    features: list of (N, D_l) arrays (standardise them first, see :func:`standardize`);
    y: (N,) integer labels in 0..K-1; ``num_classes``: K (default: the largest label + 1).
    Returns the fitted probes.
    """
    config = _check_config(config)
    features, y = _check_xy(features, y, getattr(np, config.dtype))
    k = (int(y.max()) + 1 if num_classes is None
         else check_int("num_classes", num_classes, minimum=2))
    if k <= int(y.max()):
        raise ValueError(f"num_classes={k} but labels go up to {int(y.max())}")
    n = len(y)
    lam = 1.0 / (config.C * n)
    labels = torch.tensor(y, dtype=torch.int64)  # a copy: y may be read-only
    widths = [f.shape[1] for f in features]
    batches = _plan_groups(widths, n, np.dtype(config.dtype).itemsize)
    num = len(features)
    theta: list[torch.Tensor | None] = [None] * num
    n_iter, converged = [0] * num, [False] * num

    def retire(group: _Group, mask: torch.Tensor, ok: bool) -> None:
        for j in torch.nonzero(mask).flatten().tolist():
            i = group.idx[j]
            theta[i], n_iter[i], converged[i] = group.theta[j], int(group.iters[j]), ok
        group.drop(~mask)

    for batch in batches:
        group = _Group(batch, [features[i] for i in batch], labels, k, lam, config)
        for it in range(config.max_iter + 1):
            done = group.grad_max() <= config.tol
            if done.any():
                retire(group, done, True)
            if not group.idx:
                break
            if it == config.max_iter:  # out of iterations
                retire(group, torch.ones(len(group.idx), dtype=torch.bool), False)
                break
            group.step()
    return ProbeFit(
        coef=tuple(t[:-1].double().numpy() for t in theta),
        intercept=tuple(t[-1].double().numpy() for t in theta),
        n_iter=tuple(n_iter), converged=tuple(converged))


def fit_probes_sklearn(features: Sequence[ArrayLike], y: ArrayLike,
                       config: ProbeConfig = ProbeConfig()) -> ProbeFit:
    """The same probes with one scikit-learn ``LogisticRegression(solver="lbfgs")`` per layer.

    features: list of (N, D_l) arrays; y: (N,) integer labels.  Fitted in float64.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    config = _check_config(config)
    features, y = _check_xy(features, y)
    coef, intercept, n_iter, converged = [], [], [], []
    for f in features:
        clf = LogisticRegression(C=config.C, tol=config.tol, max_iter=config.max_iter,
                                 solver="lbfgs")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(f, y)
        coef.append(clf.coef_.T.copy())
        intercept.append(clf.intercept_.copy())
        n_iter.append(int(np.max(clf.n_iter_)))
        converged.append(n_iter[-1] < config.max_iter)
    return ProbeFit(tuple(coef), tuple(intercept), tuple(n_iter), tuple(converged))


# ---------------------------------------------------------------------------------------
# The probed models


class SmallCNN(nn.Module):
    """A 1-D CNN for 40-sample signals: three conv + ReLU blocks, two max-pools, a linear head.

    Probe sites (:meth:`sites`): the input, after every ReLU and pool, and the logits.
    Weights and biases follow PyTorch's default law U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    drawn from ``rng`` (a seed or a ``torch.Generator``).
    """

    SITE_NAMES = ("input", "conv1+relu", "pool1", "conv2+relu", "pool2", "conv3+relu",
                  "logits")

    def __init__(self, channels: int = 16, length: int = 40, num_classes: int = 10,
                 rng: int | torch.Generator = 0):
        super().__init__()
        c = check_int("channels", channels, minimum=1)
        length = check_int("length", length, minimum=4)
        if length % 4:
            raise ValueError(f"length must be a multiple of 4 (two pools of 2), got {length}")
        num_classes = check_int("num_classes", num_classes, minimum=2)
        self.length = length
        self.body = nn.Sequential(
            nn.Conv1d(1, c, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c, 2 * c, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(2 * c, 2 * c, 3, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * c * (length // 4), num_classes))
        gen = torch_generator(rng)
        with torch.no_grad():  # PyTorch's default law, from our generator
            for m in self.body:
                if isinstance(m, nn.Conv1d | nn.Linear):
                    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                    bound = 1.0 / math.sqrt(m.weight[0].numel())  # 1 / sqrt(fan_in)
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, K) of signals x (N, length)."""
        return self.body(x[:, None, :])

    def sites(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features at every probe site, each flattened to (N, D)."""
        out = [x]
        h = x[:, None, :]
        for m in self.body:
            h = m(h)
            if isinstance(m, nn.ReLU | nn.MaxPool1d):
                out.append(h.flatten(1))
        out.append(h)
        return out


MLP_SIZES = (40, 100, 100, 100, 100, 10)
MLP_SITE_NAMES = ("input", "hidden 1", "hidden 2", "hidden 3", "hidden 4", "logits")


def mlp_sites(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Input, every hidden layer (after its ReLU) and the logits of an MLP: list of (N, D)."""
    return [x, *hidden_outputs(model, x), model(x)]


ARCHITECTURES = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelConfig:
    """Which model to build and how to train it on MNIST-1D (``epochs=0``: at init).

    The ``0.8 num_samples`` training examples of MNIST-1D are split in two: the network
    is trained on the first ``network_examples``, and the probes on the rest, which the
    network never saw.  The ``0.2 num_samples`` test examples are used only to score.
    """

    arch: str = "mlp"
    """``"mlp"`` (``MLP_SIZES``, ReLU) or ``"cnn"`` (:class:`SmallCNN`)."""
    epochs: int = 20
    """Passes of Adam over the network's training examples (0: the model at init)."""
    lr: float = 3e-3
    """Adam's learning rate."""
    batch_size: int = 128
    """Minibatch size."""
    seed: int = 0
    """Seed of the initial weights and of the minibatch order."""
    num_samples: int = 5000
    """MNIST-1D examples in all (80 % training examples, 20 % test examples)."""
    network_examples: int = 2000
    """How many of the training examples train the network; the rest train the probes."""
    swap: bool = False
    """Exchange the two parts: the network is trained on the last training examples (the
    probes' part) and the probes are fitted on the first ``network_examples``."""

    def __post_init__(self):
        check_choice("arch", self.arch, ARCHITECTURES)
        check_int("epochs", self.epochs, minimum=0)
        check_real("lr", self.lr, low=0.0, low_open=True)
        check_int("batch_size", self.batch_size, minimum=1)
        check_seed(self.seed)
        check_int("num_samples", self.num_samples, minimum=20)
        check_int("network_examples", self.network_examples, minimum=1)
        check_bool("swap", self.swap)
        train = int(0.8 * self.num_samples)
        if self.network_examples > train - 2:
            raise ValueError(f"network_examples={self.network_examples} must leave at least "
                             f"2 of the {train} training examples to the probes")


TRAINED_MLP = ModelConfig("mlp", epochs=40, lr=1e-2)
TRAINED_CNN = ModelConfig("cnn", epochs=16, lr=3e-2)

TUNING_GRID = {"mlp": {"lr": (1e-3, 3e-3, 1e-2, 3e-2), "epochs": (10, 20, 40, 80)},
               "cnn": {"lr": (3e-3, 1e-2, 3e-2), "epochs": (8, 16)}}
"""Adam's learning rate and the number of epochs tried for each architecture.  The CNN's
epochs stop at 16 to keep the chapter fast: a CNN epoch costs several MLP epochs."""
TUNING_SEEDS = (0, 1)
"""Seeds of the networks trained for each setting of the grid."""


def tuning_accuracies(arch: str) -> dict[tuple[float, int], np.ndarray]:
    """``{(lr, epochs): accuracies}`` for every setting of ``TUNING_GRID[arch]``, one
    accuracy per seed of ``TUNING_SEEDS``.

    The accuracy is the trained network's accuracy on the probes' training examples (which
    it never saw: a validation set); the test examples are not looked at.  Trains
    ``len(lr) * len(epochs) * len(TUNING_SEEDS)`` networks.
    """
    check_choice("arch", arch, ARCHITECTURES)
    grid = TUNING_GRID[arch]
    return {(lr, epochs): np.array([
        trained_model(ModelConfig(arch, epochs=epochs, lr=lr, seed=s)).probe.model_acc
        for s in TUNING_SEEDS]) for lr in grid["lr"] for epochs in grid["epochs"]}


def shortfall(accuracies: dict[tuple[float, int], np.ndarray], setting: tuple[float, int]
              ) -> tuple[float, float]:
    """How far ``setting`` is below the best setting of a tuning grid, and the standard
    error of a setting's mean accuracy: ``(best mean - mean at setting, SE)``.

    ``accuracies``: ``{setting: one accuracy per seed}``, as from :func:`tuning_accuracies`.
    The SE comes from the spread over seeds, pooled over the settings (each has the same
    seeds): ``sqrt(mean of the per-setting variances / number of seeds)``.  Over seeds the
    accuracy of a network varies far more than the binomial error of one network's
    accuracy on the validation examples, so the binomial SE would be too small.
    """
    if not isinstance(accuracies, dict) or not accuracies:
        raise ValueError("accuracies must be a non-empty dict {(lr, epochs): accuracies}")
    values = [np.asarray(a, dtype=float) for a in accuracies.values()]
    seeds = {len(a) for a in values}
    if len(seeds) != 1 or min(seeds) < 2 or any(a.ndim != 1 for a in values):
        raise ValueError("every setting needs the same number (at least 2) of accuracies")
    if setting not in accuracies:
        raise ValueError(f"setting {setting!r} is not in the grid")
    (n,) = seeds
    se = math.sqrt(np.mean([a.var(ddof=1) for a in values]) / n)
    best = max(a.mean() for a in values)
    return float(best - np.mean(accuracies[setting])), float(se)

SPLITS = ("network", "probe", "test")
"""The three sets of examples: the network's training set, the probes' training set (never
seen by the network) and the test set (seen by neither)."""


@dataclass(frozen=True)
class SplitFeatures:
    """One set of examples with the model's features at every probe site (read-only)."""

    features: tuple[np.ndarray, ...]
    """Features at each site, (N, D_l) float32; the examples are rows."""
    x: np.ndarray
    """The raw signals (N, 40), for concept labels."""
    y: np.ndarray
    """The digits (N,)."""
    model_acc: float
    """Accuracy of the model's own prediction on these examples."""


@dataclass(frozen=True)
class TrainedModel:
    """A model with its features on the three sets of examples (``SPLITS``).

    Every array is read-only (the model is cached and shared).
    """

    config: ModelConfig
    """How the model was built and trained."""
    site_names: tuple[str, ...]
    """Names of the probe sites, input first, logits last."""
    network: SplitFeatures
    """The examples the network was trained on."""
    probe: SplitFeatures
    """The examples the probes are trained on (not seen by the network)."""
    test: SplitFeatures
    """The test examples."""
    head_weight: np.ndarray
    """The final linear layer's weights (K, D), ``(out, in)``, float64."""
    head_bias: np.ndarray
    """The final linear layer's bias (K,), float64."""

    def split(self, name: str) -> SplitFeatures:
        """The set of examples ``name``, one of ``SPLITS``."""
        return getattr(self, check_choice("split", name, SPLITS))


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a copy that owns its data
    a.setflags(write=False)
    return a


def _splits(num_samples: int, network_examples: int, swap: bool = False
            ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST-1D's signals and digits, ``(x, y)`` for each of ``SPLITS``."""
    data = mnist1d(num_samples=num_samples)
    k = network_examples
    first = (data.x_train[:k], data.y_train[:k])
    rest = (data.x_train[k:], data.y_train[k:])
    return {"network": rest if swap else first, "probe": first if swap else rest,
            "test": (data.x_test, data.y_test)}


@lru_cache(maxsize=16)
def trained_model(config: ModelConfig) -> TrainedModel:
    """Build (and train, unless ``epochs == 0``) a model; extract its features. Cached."""
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig, got {type(config).__name__}")
    data = _splits(config.num_samples, config.network_examples, config.swap)
    x_net, y_net = data["network"]
    with limited_threads(1):
        if config.arch == "mlp":
            mlp = make_mlp(list(MLP_SIZES), init="pytorch", rng=config.seed)
            model: nn.Module = mlp
            names = MLP_SITE_NAMES

            def sites(x: torch.Tensor) -> list[torch.Tensor]:
                return mlp_sites(mlp, x)
        else:
            cnn = SmallCNN(rng=config.seed)
            model, names, sites = cnn, SmallCNN.SITE_NAMES, cnn.sites
        if config.epochs:
            train_classifier(model, x_net, y_net,
                             TrainConfig(epochs=config.epochs, batch_size=config.batch_size,
                                         lr=config.lr, optimizer="adam", seed=config.seed),
                             history=False)  # unused: skip the per-epoch evaluations
        model.eval()
        out = {}
        for name, (x, y) in data.items():
            with torch.no_grad():
                feats = tuple(_frozen(f.numpy()) for f in sites(torch.as_tensor(x)))
            acc = float(np.mean(np.argmax(feats[-1], axis=1) == y))
            out[name] = SplitFeatures(feats, _frozen(x), _frozen(y), acc)
    head = mlp[-1] if config.arch == "mlp" else cnn.body[-1]
    return TrainedModel(config, names, out["network"], out["probe"], out["test"],
                        _frozen(head.weight.detach().double().numpy()),
                        _frozen(head.bias.detach().double().numpy()))


# ---------------------------------------------------------------------------------------
# Probing experiments

CONCEPTS = ("label", "energy", "parity", "mean", "control", "random")
CONCEPT_DESCRIPTIONS = {
    "label": "the digit (10 classes)",
    "energy": "signal energy above its median (quadratic in the input)",
    "parity": "the digit is even",
    "mean": "signal mean above its median (linear in the input)",
    "control": "a random class for each of CONTROL_TYPES types of signal (a control task)",
    "random": "a random class for each reference signal (a control task with one type per "
              "example): only memorisation fits it",
}
CONTROL_TYPES = 100
"""Types of the control task: the Voronoi cells of this many reference signals."""
CONTROL_SEED = 0
"""Seed of the control task's prototypes and of its random classes."""


def control_labels(x: ArrayLike, reference: ArrayLike, num_types: int = CONTROL_TYPES,
                   num_classes: int = 10, rng: int = CONTROL_SEED) -> np.ndarray:
    """Control task: each signal gets the random class of its *type*, (N,) integers.

    After Hewitt & Liang (2019), whose control tasks give each word type a random output:
    here ``num_types`` prototypes are drawn from the ``reference`` signals, each gets a
    class uniform in 0..num_classes-1, and a signal's type is its nearest prototype
    (Euclidean).  The labels are a deterministic function of the signal that has nothing
    to do with its digit.  x (N, L), reference (M, L) with M >= num_types; ``rng``: a seed.
    """
    x = check_array("x", x, ndim=2)
    ref = check_array("reference", reference, shape=(None, x.shape[1]))
    num_types = check_int("num_types", num_types, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if num_types > len(ref):
        raise ValueError(f"need at least num_types={num_types} reference signals, got "
                         f"{len(ref)}")
    gen = np.random.default_rng(check_seed(rng))
    protos = ref[gen.choice(len(ref), size=num_types, replace=False)]  # (T, L)
    classes = gen.integers(0, num_classes, size=num_types)
    d2 = (x * x).sum(1)[:, None] - 2.0 * x @ protos.T + (protos * protos).sum(1)[None, :]
    return classes[np.argmin(d2, axis=1)]


def concept_labels(concept: str, x: ArrayLike, y: ArrayLike,
                   reference: ArrayLike | None = None) -> np.ndarray:
    """Labels of a property of MNIST-1D examples: x (N, L) signals, y (N,) digits.

    ``concept`` is one of ``CONCEPTS``: ``"label"`` (the digit), ``"energy"`` (sum of
    squares above its median), ``"parity"`` (the digit is even), ``"mean"`` (signal mean
    above its median), ``"control"`` (:func:`control_labels`) or ``"random"``
    (:func:`control_labels` with every reference signal a prototype, so that each
    training example gets its own random class).  Thresholds and prototypes come from
    the ``reference`` signals (default x), so that the labels of the training and the
    test examples are the same function of the signal.
    """
    check_choice("concept", concept, CONCEPTS)
    x = check_array("x", x, ndim=2)
    y = check_array("y", y, shape=(len(x),), dtype=np.int64)
    ref = x if reference is None else check_array("reference", reference,
                                                  shape=(None, x.shape[1]))
    if concept == "label":
        return y.copy()
    if concept == "parity":
        return (y % 2 == 0).astype(np.int64)
    if concept == "control":
        return control_labels(x, ref)
    if concept == "random":
        return control_labels(x, ref, num_types=len(ref))
    if concept == "energy":
        return ((x * x).sum(1) > np.median((ref * ref).sum(1))).astype(np.int64)
    return (x.mean(1) > np.median(ref.mean(1))).astype(np.int64)


@dataclass(frozen=True)
class ProbeCurve:
    """Probe accuracy per site of one model for one concept (arrays read-only)."""

    site_names: tuple[str, ...]
    """Names of the probe sites."""
    widths: tuple[int, ...]
    """Feature dimension D_l of each site."""
    train_acc: np.ndarray
    """Probe accuracy on the examples it was fitted to, (L,)."""
    test_acc: np.ndarray
    """Probe accuracy on the test examples, (L,)."""
    n_test: int
    """Number of test examples."""
    n_iter: tuple[int, ...]
    """Iterations of each probe's fit."""
    seconds: float
    """Time :func:`fit_probes` took for all sites."""
    test_correct: np.ndarray
    """Whether each site's probe classifies each test example correctly, (L, n_test)."""

    @property
    def test_error(self) -> np.ndarray:
        """1 - test accuracy, per site."""
        return 1.0 - self.test_acc

    @property
    def test_se(self) -> np.ndarray:
        """Binomial standard error of each test accuracy."""
        return np.sqrt(self.test_acc * (1.0 - self.test_acc) / self.n_test)

    def error_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """Rise of the test error from each site to the next, and its paired standard error.

        Both (L-1,).  The same test examples score every site, so the difference of two
        sites' errors is the mean of a per-example difference ``d_i`` in {-1, 0, 1}; its
        standard error is ``std(d) / sqrt(n)`` (the normal approximation of McNemar's
        test), usually much smaller than that of either error.
        """
        d = self.test_correct[:-1].astype(float) - self.test_correct[1:].astype(float)
        return d.mean(axis=1), paired_se(d)


def _fit_curve(names: Sequence[str], train: Sequence[np.ndarray], x_train: np.ndarray,
               y_train: np.ndarray, test: Sequence[np.ndarray], x_test: np.ndarray,
               y_test: np.ndarray, concept: str, config: ProbeConfig) -> ProbeCurve:
    """Standardise, fit one probe per site for ``concept``, score on both sets."""
    y_tr = concept_labels(concept, x_train, y_train)
    y_te = concept_labels(concept, x_test, y_test, reference=x_train)
    tr, te = standardize(train, test)
    with limited_threads(1):
        start = time.perf_counter()
        fit = fit_probes(tr, y_tr, config, num_classes=int(max(y_tr.max(), y_te.max())) + 1)
        seconds = time.perf_counter() - start
    correct = np.array([p == y_te for p in fit.predict(te)])
    return ProbeCurve(tuple(names), tuple(f.shape[1] for f in tr),
                      _frozen(fit.accuracy(tr, y_tr)), _frozen(correct.mean(axis=1)),
                      len(y_te), fit.n_iter, seconds, _frozen(correct))


def probe_curve(model: ModelConfig, concept: str = "label", fit_on: str = "probe",
                config: ProbeConfig = ProbeConfig()) -> ProbeCurve:
    """Probes for ``concept`` (one of ``CONCEPTS``) at every site of ``model`` (cached).

    The probes are fitted on the examples ``fit_on`` (``"probe"``, which the network never
    saw, or ``"network"``, its own training examples) and scored on the test examples.
    """
    check_choice("concept", concept, CONCEPTS)
    check_choice("fit_on", fit_on, ("probe", "network"))
    # one cache entry per curve, however the arguments are spelled (lru_cache keys
    # probe_curve(m) and probe_curve(m, "label", fit_on="probe") apart)
    return _probe_curve(model, concept, fit_on, _check_config(config))


@lru_cache(maxsize=64)
def _probe_curve(model: ModelConfig, concept: str, fit_on: str, config: ProbeConfig
                 ) -> ProbeCurve:
    m = trained_model(model)
    a, b = m.split(fit_on), m.test
    return _fit_curve(m.site_names, a.features, a.x, a.y, b.features, b.x, b.y, concept,
                      config)


def paired_se(d: ArrayLike) -> np.ndarray:
    """Standard error of the mean of paired per-example differences, along the last axis.

    d (..., n) with n >= 2: ``std(d, ddof=1) / sqrt(n)``.
    """
    d = check_array("d", d)
    if d.ndim < 1 or d.shape[-1] < 2:
        raise ValueError(f"need at least 2 differences along the last axis, got {d.shape}")
    return d.std(axis=-1, ddof=1) / math.sqrt(d.shape[-1])


@dataclass(frozen=True)
class SplitEffect:
    """What fitting probes on the network's own training examples changes, per site."""

    site_names: tuple[str, ...]
    """Names of the probe sites."""
    effect: np.ndarray
    """Test accuracy of probes fitted on the network's examples minus that of probes
    fitted on held-out ones, averaged over the two roles of the two halves, (L,)."""
    se: np.ndarray
    """Paired standard error of ``effect`` over the test examples, (L,)."""
    fit_effect: np.ndarray
    """The same difference for the accuracy on the examples each probe was fitted to."""


def split_effect(model: ModelConfig, concept: str = "label") -> SplitEffect:
    """Effect of fitting probes on the network's own training examples, the halves swapped.

    ``model`` is trained on one part of the training examples (A) and a copy with
    ``swap=True`` on the other (B).  For each network, probes fitted on its own part and
    on the other part are scored on the same test examples; averaging the two networks'
    differences (own minus held-out) cancels what differs between A and B as samples.
    The standard error is paired over the test examples.  Both parts must have the same
    size (``network_examples`` half the training examples).
    """
    if not isinstance(model, ModelConfig):
        raise ValueError(f"model must be a ModelConfig, got {type(model).__name__}")
    if 2 * model.network_examples != int(0.8 * model.num_samples):
        raise ValueError("the two parts must have the same size: network_examples must be "
                         "half of the training examples")
    diffs, fits, names = [], [], ()
    for cfg in (replace(model, swap=False), replace(model, swap=True)):
        own = probe_curve(cfg, concept, fit_on="network")
        held = probe_curve(cfg, concept, fit_on="probe")
        diffs.append(own.test_correct.astype(float) - held.test_correct.astype(float))
        fits.append(own.train_acc - held.train_acc)
        names = own.site_names
    d = 0.5 * (diffs[0] + diffs[1])
    return SplitEffect(names, _frozen(d.mean(axis=1)), _frozen(paired_se(d)),
                       _frozen(0.5 * (fits[0] + fits[1])))


def distinct_vectors(model: ModelConfig) -> tuple[int, ...]:
    """Number of distinct feature vectors at each site of ``model`` over all its examples.

    Equal to the number of examples at a site exactly when that site's map is injective
    on them (the equality case of the data processing inequality).
    """
    m = trained_model(model)
    out = []
    for i in range(len(m.site_names)):
        rows = np.concatenate([m.split(s).features[i] for s in SPLITS]) + 0.0  # -0.0 -> 0.0
        out.append(len({r.tobytes() for r in rows}))
    return tuple(out)


CONCEPT_SLACK = 0.02
"""The book's default slack of :func:`concept_depth`: two percentage points."""


def concept_depth(acc: ArrayLike, slack: float = CONCEPT_SLACK) -> int:
    """First layer whose probe accuracy is within ``slack`` of the best over all layers."""
    acc = check_array("acc", acc, ndim=1)
    slack = check_real("slack", slack, low=0.0, high=1.0, high_open=True)
    return int(np.flatnonzero(acc >= acc.max() - slack)[0])


MODELS = {
    "MLP at init": ModelConfig("mlp", epochs=0),
    "MLP trained": TRAINED_MLP,
    "CNN at init": ModelConfig("cnn", epochs=0),
    "CNN trained": TRAINED_CNN,
}

# ---------------------------------------------------------------------------------------
# Width-matched controls: probes on random ReLU features of the raw signal

RANDOM_FEATURE_WIDTHS = (100, 320, 640)
"""The widths of the probe sites of the MLP (100) and the CNN (320 and 640)."""
RANDOM_FEATURE_SEEDS = (1, 2, 3)
"""Seeds of the random layers: one control per (width, seed)."""


def random_relu_features(x: ArrayLike, width: int, rng: int | torch.Generator = 0
                         ) -> np.ndarray:
    """``relu(W x + b)`` for each row of x, with PyTorch's default law for ``nn.Linear``.

    W (width, L) and b (width,) are uniform on [-1/sqrt(L), 1/sqrt(L)], drawn from ``rng``
    (a seed or a ``torch.Generator``): the first hidden layer of the MLP at initialisation,
    at any width.  x (N, L); returns (N, width) float32.
    """
    x = check_array("x", x, ndim=2, dtype=np.float32)
    width = check_int("width", width, minimum=1)
    layer = nn.Linear(x.shape[1], width)
    gen = torch_generator(rng)
    bound = 1.0 / math.sqrt(x.shape[1])
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        layer.bias.uniform_(-bound, bound, generator=gen)
        return torch.relu(layer(torch.from_numpy(x))).numpy()


@dataclass(frozen=True)
class ControlCurve:
    """Probe accuracy on random ReLU features of the signal, per width and seed."""

    widths: tuple[int, ...]
    """Widths of the random layers."""
    seeds: tuple[int, ...]
    """Seeds of the random layers."""
    train_acc: np.ndarray
    """Probe accuracy on its training examples, (len(widths), len(seeds))."""
    test_acc: np.ndarray
    """Probe accuracy on the test examples, (len(widths), len(seeds))."""
    seconds: float
    """Time :func:`fit_probes` took for all of them."""

    def at(self, width: int) -> np.ndarray:
        """Test accuracies (over seeds) of the random features of ``width``."""
        if width not in self.widths:
            raise ValueError(f"no control of width {width}; widths are {self.widths}")
        return self.test_acc[self.widths.index(width)]


def random_feature_curve(concept: str = "label",
                         widths: tuple[int, ...] = RANDOM_FEATURE_WIDTHS,
                         seeds: tuple[int, ...] = RANDOM_FEATURE_SEEDS,
                         model: ModelConfig = TRAINED_MLP,
                         config: ProbeConfig = ProbeConfig()) -> ControlCurve:
    """Probes for ``concept`` on one random ReLU layer of each width and seed (cached).

    Fitted on the probes' training examples of ``model``'s split of MNIST-1D and scored on
    its test examples, exactly as the probes of the models.
    """
    check_choice("concept", concept, CONCEPTS)
    widths = check_sizes("widths", widths)
    seeds = tuple(check_seed(s) for s in seeds)
    if not seeds:
        raise ValueError("need at least one seed")
    if not isinstance(model, ModelConfig):
        raise ValueError(f"model must be a ModelConfig, got {type(model).__name__}")
    return _random_feature_curve(concept, widths, seeds, model, _check_config(config))


@lru_cache(maxsize=8)
def _random_feature_curve(concept: str, widths: tuple[int, ...], seeds: tuple[int, ...],
                          model: ModelConfig, config: ProbeConfig) -> ControlCurve:
    data = _splits(model.num_samples, model.network_examples)
    (x_tr, y_tr), (x_te, y_te) = data["probe"], data["test"]
    feats_tr, feats_te = [], []
    for w in widths:
        for s in seeds:
            gen = torch_generator(s)
            feats_tr.append(random_relu_features(x_tr, w, gen))
            gen = torch_generator(s)  # the same layer for the test signals
            feats_te.append(random_relu_features(x_te, w, gen))
    names = [f"random {w}, seed {s}" for w in widths for s in seeds]
    c = _fit_curve(names, feats_tr, x_tr, y_tr, feats_te, x_te, y_te, concept, config)
    shape = (len(widths), len(seeds))
    return ControlCurve(widths, seeds, _frozen(c.train_acc.reshape(shape)),
                        _frozen(c.test_acc.reshape(shape)), c.seconds)


# ---------------------------------------------------------------------------------------
# A final linear layer and the training set

SEPARABLE_MLP = ModelConfig("mlp", epochs=60, lr=3e-3, batch_size=200, network_examples=800)
"""An MLP trained on 800 MNIST-1D examples until its training accuracy is 100%."""
SEPARABLE_MLP_INIT = replace(SEPARABLE_MLP, epochs=0)
"""The same network at initialisation."""


def _check_layer_inputs(h: ArrayLike, y: ArrayLike, weight: ArrayLike, bias: ArrayLike
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    h = check_array("h", h, ndim=2)
    weight = check_array("weight", weight, shape=(None, h.shape[1]))
    bias = check_array("bias", bias, shape=(len(weight),))
    y = check_array("y", y, shape=(len(h),), dtype=np.int64)
    if y.min() < 0 or y.max() >= len(weight):
        raise ValueError(f"labels must lie in 0..{len(weight) - 1}")
    return h, y, weight, bias


def pairwise_violations(h: ArrayLike, y: ArrayLike, weight: ArrayLike,
                        bias: ArrayLike) -> np.ndarray:
    """For each example, whether some class k != y_i has (w_y - w_k).h_i + b_y - b_k <= 0.

    h (N, D) penultimate features, y (N,), weight (K, D), bias (K,): (N,) booleans.  No
    violation anywhere means the K classes of h are separated pairwise by the hyperplanes
    of the final linear layer.
    """
    h, y, weight, bias = _check_layer_inputs(h, y, weight, bias)
    z = h @ weight.T + bias  # (N, K)
    margin = z[np.arange(len(y)), y][:, None] - z  # (N, K)
    margin[np.arange(len(y)), y] = np.inf
    return (margin <= 0).any(axis=1)


def misclassified(logits: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Whether ``argmax_k logits_k`` misses y_i, ties in the arg max counted as errors.

    logits (N, K), y (N,) in 0..K-1: (N,) booleans.
    """
    z = check_array("logits", logits, ndim=2)
    y = check_array("y", y, shape=(len(z),), dtype=np.int64)
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"labels must lie in 0..{z.shape[1] - 1}")
    top = z.max(axis=1, keepdims=True)
    ties = (z == top).sum(axis=1) > 1
    return (z[np.arange(len(y)), y] < top[:, 0]) | ties


def separable_model_summary() -> dict[str, float]:
    """The MLP trained to 100% training accuracy: sizes, accuracies, test violations.

    Keys ``n_train``, ``n_test``, ``train_acc``, ``test_acc``, ``test_violations`` (fraction
    of test examples some pairwise final-layer hyperplane misplaces) and ``init_errors``
    (fraction of training examples the same network misclassifies at initialisation).
    """
    m = trained_model(SEPARABLE_MLP)
    init = trained_model(SEPARABLE_MLP_INIT)
    bad_te = pairwise_violations(m.test.features[-2], m.test.y, m.head_weight, m.head_bias)
    return {"n_train": float(len(m.network.y)), "n_test": float(len(m.test.y)),
            "train_acc": m.network.model_acc, "test_acc": m.test.model_acc,
            "test_violations": float(bad_te.mean()),
            "init_errors": float(misclassified(init.network.features[-1],
                                               init.network.y).mean())}


# ---------------------------------------------------------------------------------------
# Speed: the batched fit against scikit-learn


def _best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


SPEED_TARGET = 5.0
"""The batched fit should be at least this many times faster than scikit-learn ..."""
ACCURACY_TARGET_PP = 1.0
"""... with test accuracy within this many percentage points on every layer."""


def compare_with_sklearn(config: ProbeConfig = ProbeConfig(), repeats: int = 3,
                         threads: int = 1) -> dict:
    """Fit the label probes of the trained MLP and CNN both ways; time and score them.

    The probes are fitted on the probes' training examples and scored on the test examples.
    Both methods get the same standardised features (float64 for scikit-learn, float32
    for torch), the same C and tol, and ``threads`` threads (torch's pool, and BLAS and
    OpenMP through threadpoolctl).  Times are the best of ``repeats`` runs, after an
    untimed warm-up of both on a small slice (so that neither pays for imports).

    Returns a dictionary: ``names``, ``widths`` (per layer), ``t_torch``, ``t_sklearn``
    (seconds), ``ratio`` (t_sklearn / t_torch), ``worst_pp`` (largest test-accuracy
    difference, percentage points), ``met`` (whether ``SPEED_TARGET`` and
    ``ACCURACY_TARGET_PP`` were met and every fit converged), per-layer ``acc_torch``,
    ``acc_sklearn``, ``iter_torch``, ``iter_sklearn``, ``obj_torch``, ``obj_sklearn``,
    ``grad_torch``, ``grad_sklearn`` (objective and max |gradient| in float64),
    ``converged``, and the settings ``config``, ``threads``, ``repeats``.
    """
    config = _check_config(config)
    repeats = check_int("repeats", repeats, minimum=1)
    threads = check_int("threads", threads, minimum=1)

    names, tr, te, y_tr, y_te = [], [], [], None, None
    for arch, model in (("MLP", TRAINED_MLP), ("CNN", TRAINED_CNN)):
        m = trained_model(model)
        a, b = standardize(m.probe.features, m.test.features)
        first = 0 if arch == "MLP" else 1  # the input is the same for both models
        names += [f"{arch} {s}" if i else s for i, s in enumerate(m.site_names)][first:]
        tr += a[first:]
        te += b[first:]
        y_tr, y_te = m.probe.y, m.test.y  # the same examples for both models
    tr64 = [a.astype(np.float64) for a in tr]
    with limited_threads(threads):
        # untimed warm-up on a small slice: imports, thread pools and first-call costs
        fit_probes([tr[0][:200]], y_tr[:200], config)
        fit_probes_sklearn([tr64[0][:200]], y_tr[:200], config)
        t_torch, fit = _best_time(lambda: fit_probes(tr, y_tr, config), repeats)
        t_sk, sk = _best_time(lambda: fit_probes_sklearn(tr64, y_tr, config), repeats)
    objective = [[probe_objective(a, y_tr, f.coef[i], f.intercept[i], config.C)
                  for i, a in enumerate(tr64)] for f in (fit, sk)]
    acc_torch, acc_sk = fit.accuracy(te, y_te), sk.accuracy(te, y_te)
    ratio, worst = t_sk / t_torch, float(100 * np.abs(acc_torch - acc_sk).max())
    converged = all(fit.converged) and all(sk.converged)
    return {"names": names, "widths": [a.shape[1] for a in tr], "t_torch": t_torch,
            "t_sklearn": t_sk, "ratio": ratio, "worst_pp": worst,
            "met": ratio >= SPEED_TARGET and worst <= ACCURACY_TARGET_PP and converged,
            "acc_torch": acc_torch, "acc_sklearn": acc_sk, "iter_torch": fit.n_iter,
            "iter_sklearn": sk.n_iter, "obj_torch": [o[0] for o in objective[0]],
            "obj_sklearn": [o[0] for o in objective[1]],
            "grad_torch": [o[1] for o in objective[0]],
            "grad_sklearn": [o[1] for o in objective[1]],
            "converged": converged, "config": config, "threads": threads,
            "repeats": repeats}
