"""Linear classifier probes (Alain & Bengio 2016), fitted for all layers at once in torch.

A probe of layer ``l`` is a multinomial logistic regression on that layer's features
``H_l`` (N, D_l), with scikit-learn's objective

    F_l(W, b) = (1/N) sum_i CE(W^T h_i + b, y_i) + (lam/2) ||W||_F^2,   lam = 1/(C N),

(the intercept ``b`` is not penalised).  :func:`fit_probes` minimises all ``F_l`` with a
limited-memory BFGS per layer, with per-layer line searches, preconditioned by a damped
Kronecker-factored approximation of each layer's Hessian and run in float32; layers of
equal width are stacked and share every tensor operation.  It stops a layer when
``max |grad F_l| <= tol``, scikit-learn's stopping rule for ``solver="lbfgs"``.

The models probed are a multilayer perceptron and a small 1-D CNN trained on MNIST-1D.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from hiddenunits.bench import benchmark
from hiddenunits.claims import claim
from hiddenunits.data import mnist1d
from hiddenunits.figures import figure
from hiddenunits.nets import make_mlp, torch_generator
from hiddenunits.style import COLORS, new_figure
from hiddenunits.threads import limited_threads

# ---------------------------------------------------------------------------------------
# Features


def standardize(train: Sequence[np.ndarray], test: Sequence[np.ndarray]
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Centre and scale each feature with the training mean and standard deviation.

    ``train[l]`` (N, D_l), ``test[l]`` (M, D_l).  Constant features (standard deviation 0,
    e.g. dead ReLU units) are only centred, so they become 0.
    """
    if len(train) != len(test) or len(train) == 0:
        raise ValueError("need one training and one test array per layer")
    out_train, out_test = [], []
    for a, b in zip(train, test, strict=True):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2:
            raise ValueError(f"features must be (N, D) and (M, D), got {a.shape}, {b.shape}")
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ValueError("features must be finite")
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

    C: float = 0.25  # inverse regularisation strength: lam = 1 / (C N)
    tol: float = 1e-4  # stop a layer when max |gradient| <= tol
    max_iter: int = 1000
    memory: int = 20  # L-BFGS history length
    refresh: int = 5  # recompute the class factor of the preconditioner every `refresh` iterations
    dtype: str = "float32"

    def __post_init__(self):
        if not (self.C > 0 and math.isfinite(self.C)) or not self.tol > 0:
            raise ValueError(f"C and tol must be positive, got C={self.C}, tol={self.tol}")
        if self.max_iter < 1 or self.memory < 0 or self.refresh < 1:
            raise ValueError(f"invalid probe settings: {self}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")


@dataclass(frozen=True)
class ProbeFit:
    """Fitted probes: ``coef[l]`` (D_l, K), ``intercept[l]`` (K,), and how the fit went."""

    coef: tuple[np.ndarray, ...]
    intercept: tuple[np.ndarray, ...]
    n_iter: tuple[int, ...]
    converged: tuple[bool, ...]

    def predict(self, features: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Predicted class of every example at every layer: a list of (M,) arrays."""
        if len(features) != len(self.coef):
            raise ValueError(f"need {len(self.coef)} feature arrays, got {len(features)}")
        return [np.argmax(np.asarray(f, dtype=np.float64) @ w + b, axis=1)
                for f, w, b in zip(features, self.coef, self.intercept, strict=True)]

    def accuracy(self, features: Sequence[np.ndarray], y: np.ndarray) -> np.ndarray:
        """Fraction of correct predictions per layer: (L,)."""
        y = np.asarray(y)
        return np.array([np.mean(p == y) for p in self.predict(features)])


def _check_xy(features: Sequence[np.ndarray], y: np.ndarray) -> np.ndarray:
    if len(features) == 0:
        raise ValueError("need at least one layer of features")
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min(initial=0) < 0:
        raise ValueError("labels must be a 1-D array of non-negative integers")
    for f in features:
        if np.ndim(f) != 2 or len(f) != len(y):
            raise ValueError(f"each feature array must be (N, D) with N = {len(y)}, "
                             f"got {np.shape(f)}")
        if not np.isfinite(f).all():
            raise ValueError("features must be finite")
    if len(np.unique(y)) < 2:
        raise ValueError("need at least two classes")
    return y


def probe_objective(features: np.ndarray, y: np.ndarray, coef: np.ndarray,
                    intercept: np.ndarray, C: float) -> tuple[float, float]:
    """Objective ``F(W, b)`` and ``max |grad F|`` in float64 numpy (the reference).

    features (N, D), y (N,), coef (D, K), intercept (K,).
    """
    x = np.asarray(features, dtype=np.float64)
    n, k = len(x), coef.shape[1]
    lam = 1.0 / (C * n)
    logits = x @ coef + intercept  # (N, K)
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    f = np.mean(lse - logits[np.arange(n), y]) + 0.5 * lam * np.sum(coef * coef)
    p = np.exp(logits - lse[:, None])
    p[np.arange(n), y] -= 1.0
    g_coef = x.T @ p / n + lam * coef
    g_int = p.sum(axis=0) / n
    del k
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


def fit_probes(features: Sequence[np.ndarray], y: np.ndarray,
               config: ProbeConfig = ProbeConfig(), num_classes: int | None = None
               ) -> ProbeFit:
    """Fit one multinomial logistic-regression probe per layer, layers batched in torch.

    Layers of equal width share stacked tensors (one batched matrix product for all of
    them, up to a group size that stays in cache); each layer keeps its own L-BFGS scalars
    and stops on its own.  Groups run one after another, so that each group's features
    stay in cache while it iterates.
    features: list of (N, D_l) arrays (standardise them first, see :func:`standardize`);
    y: (N,) integer labels in 0..K-1.  Returns the fitted probes.
    """
    y = _check_xy(features, y)
    k = int(num_classes) if num_classes is not None else int(y.max()) + 1
    if k <= int(y.max()):
        raise ValueError(f"num_classes={k} but labels go up to {int(y.max())}")
    n = len(y)
    lam = 1.0 / (config.C * n)
    labels = torch.as_tensor(y, dtype=torch.int64)
    widths = [np.shape(f)[1] for f in features]
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


def fit_probes_sklearn(features: Sequence[np.ndarray], y: np.ndarray,
                       config: ProbeConfig = ProbeConfig()) -> ProbeFit:
    """The same probes with one scikit-learn ``LogisticRegression(solver="lbfgs")`` per layer."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    y = _check_xy(features, y)
    coef, intercept, n_iter, converged = [], [], [], []
    for f in features:
        clf = LogisticRegression(C=config.C, tol=config.tol, max_iter=config.max_iter,
                                 solver="lbfgs")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(np.asarray(f, dtype=np.float64), y)
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
    """

    SITE_NAMES = ("input", "conv1+relu", "pool1", "conv2+relu", "pool2", "conv3+relu",
                  "logits")

    def __init__(self, channels: int = 16, length: int = 40, num_classes: int = 10,
                 seed: int = 0):
        super().__init__()
        if channels < 1 or length < 4 or length % 4 or num_classes < 2:
            raise ValueError(f"invalid CNN sizes: channels={channels}, length={length}, "
                             f"num_classes={num_classes}")
        c = channels
        self.length = length
        self.body = nn.Sequential(
            nn.Conv1d(1, c, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c, 2 * c, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(2 * c, 2 * c, 3, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * c * (length // 4), num_classes))
        gen = torch_generator(seed)
        with torch.no_grad():  # PyTorch's default law U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            for m in self.body:
                if isinstance(m, nn.Conv1d | nn.Linear):
                    bound = 1.0 / math.sqrt(m.weight[0].numel())
                    m.weight.uniform_(-bound, bound, generator=gen)
                    m.bias.uniform_(-bound, bound, generator=gen)

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
    from hiddenunits.nets import hidden_outputs

    return [x, *hidden_outputs(model, x), model(x)]


@dataclass(frozen=True)
class ModelConfig:
    """Which model to build and how to train it on MNIST-1D (``epochs=0``: at init)."""

    arch: str = "mlp"  # "mlp" or "cnn"
    epochs: int = 20
    lr: float = 3e-3
    batch_size: int = 128
    seed: int = 0
    num_samples: int = 5000  # MNIST-1D examples in all (80 % train, 20 % test)
    train_subset: int = 0  # train on the first n training examples only (0: all)

    def __post_init__(self):
        if self.arch not in ("mlp", "cnn"):
            raise ValueError(f"arch must be 'mlp' or 'cnn', got {self.arch!r}")
        if self.epochs < 0 or self.batch_size < 1 or not self.lr > 0 or self.train_subset < 0:
            raise ValueError(f"invalid training settings: {self}")


TRAINED_MLP = ModelConfig("mlp", epochs=20, lr=3e-3)
TRAINED_CNN = ModelConfig("cnn", epochs=8, lr=1e-2)


@dataclass(frozen=True)
class TrainedModel:
    """A model with its training-set and test-set features at every probe site."""

    config: ModelConfig
    site_names: tuple[str, ...]
    train_features: tuple[np.ndarray, ...]  # (N, D_l) each
    test_features: tuple[np.ndarray, ...]  # (M, D_l) each
    y_train: np.ndarray
    y_test: np.ndarray
    x_train: np.ndarray  # (N, 40) the raw signals, for concept labels
    x_test: np.ndarray
    train_acc: float
    test_acc: float
    head_weight: np.ndarray  # (K, D) the final linear layer, (out, in)
    head_bias: np.ndarray  # (K,)


@lru_cache(maxsize=16)
def trained_model(config: ModelConfig) -> TrainedModel:
    """Build (and train, unless ``epochs == 0``) a model; extract its features. Cached."""
    from hiddenunits.nets import TrainConfig, evaluate, train_classifier

    data = mnist1d(num_samples=config.num_samples)
    x_tr, y_tr = data.x_train, data.y_train
    if config.train_subset:
        if config.train_subset > len(y_tr):
            raise ValueError(f"train_subset={config.train_subset} exceeds {len(y_tr)} examples")
        x_tr, y_tr = x_tr[:config.train_subset], y_tr[:config.train_subset]
    with limited_threads(1):
        if config.arch == "mlp":
            mlp = make_mlp(list(MLP_SIZES), init="pytorch", rng=config.seed)
            model: nn.Module = mlp
            names = MLP_SITE_NAMES

            def sites(x: torch.Tensor) -> list[torch.Tensor]:
                return mlp_sites(mlp, x)
        else:
            cnn = SmallCNN(seed=config.seed)
            model, names, sites = cnn, SmallCNN.SITE_NAMES, cnn.sites
        if config.epochs:
            train_classifier(model, x_tr, y_tr,
                             TrainConfig(epochs=config.epochs, batch_size=config.batch_size,
                                         lr=config.lr, optimizer="adam", seed=config.seed))
        model.eval()
        with torch.no_grad():
            f_tr = tuple(f.numpy().copy() for f in sites(torch.as_tensor(x_tr)))
            f_te = tuple(f.numpy().copy() for f in sites(torch.as_tensor(data.x_test)))
        train_acc = evaluate(model, x_tr, y_tr)[1]
        test_acc = evaluate(model, data.x_test, data.y_test)[1]
    head = mlp[-1] if config.arch == "mlp" else cnn.body[-1]
    return TrainedModel(config, names, f_tr, f_te, y_tr, data.y_test, x_tr, data.x_test,
                        train_acc, test_acc, head.weight.detach().double().numpy().copy(),
                        head.bias.detach().double().numpy().copy())


# ---------------------------------------------------------------------------------------
# Probing experiments

CONCEPTS = ("label", "energy", "parity", "mean")
CONCEPT_DESCRIPTIONS = {
    "label": "the digit (10 classes)",
    "energy": "signal energy above its median (quadratic in the input)",
    "parity": "the digit is even",
    "mean": "signal mean above its median (linear in the input)",
}


def concept_labels(concept: str, x: np.ndarray, y: np.ndarray,
                   reference: np.ndarray | None = None) -> np.ndarray:
    """Labels of a property of MNIST-1D examples: x (N, 40) signals, y (N,) digits.

    Thresholds ("above its median") use the median over ``reference`` signals (default x),
    so training and test labels share one threshold.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"need x (N, L) and y (N,), got {x.shape} and {y.shape}")
    ref = x if reference is None else np.asarray(reference, dtype=np.float64)
    if concept == "label":
        return y.astype(np.int64)
    if concept == "parity":
        return (y % 2 == 0).astype(np.int64)
    if concept == "energy":
        return ((x * x).sum(1) > np.median((ref * ref).sum(1))).astype(np.int64)
    if concept == "mean":
        return (x.mean(1) > np.median(ref.mean(1))).astype(np.int64)
    raise ValueError(f"unknown concept {concept!r}; choose one of {CONCEPTS}")


@dataclass(frozen=True)
class ProbeCurve:
    """Probe accuracy per site of one model for one concept."""

    site_names: tuple[str, ...]
    widths: tuple[int, ...]
    train_acc: np.ndarray  # (L,)
    test_acc: np.ndarray  # (L,)
    n_test: int
    n_iter: tuple[int, ...]

    @property
    def test_error(self) -> np.ndarray:
        return 1.0 - self.test_acc

    @property
    def test_se(self) -> np.ndarray:
        """Binomial standard error of each test accuracy."""
        return np.sqrt(self.test_acc * (1.0 - self.test_acc) / self.n_test)


@lru_cache(maxsize=32)
def probe_curve(model: ModelConfig, concept: str = "label",
                config: ProbeConfig = ProbeConfig()) -> ProbeCurve:
    """Fit probes for ``concept`` at every site of ``model`` (cached)."""
    m = trained_model(model)
    y_tr = concept_labels(concept, m.x_train, m.y_train)
    y_te = concept_labels(concept, m.x_test, m.y_test, reference=m.x_train)
    tr, te = standardize(m.train_features, m.test_features)
    with limited_threads(1):
        fit = fit_probes(tr, y_tr, config, num_classes=int(max(y_tr.max(), y_te.max())) + 1)
    return ProbeCurve(m.site_names, tuple(f.shape[1] for f in tr), fit.accuracy(tr, y_tr),
                      fit.accuracy(te, y_te), len(y_te), fit.n_iter)


def concept_depth(acc: np.ndarray, slack: float = 0.02) -> int:
    """First layer whose probe accuracy is within ``slack`` of the best over all layers."""
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 1 or len(acc) == 0 or not np.isfinite(acc).all():
        raise ValueError("acc must be a non-empty 1-D array of finite accuracies")
    if not 0 <= slack < 1:
        raise ValueError(f"slack must lie in [0, 1), got {slack}")
    return int(np.flatnonzero(acc >= acc.max() - slack)[0])


MODELS = {
    "MLP at init": ModelConfig("mlp", epochs=0),
    "MLP trained": TRAINED_MLP,
    "CNN at init": ModelConfig("cnn", epochs=0),
    "CNN trained": TRAINED_CNN,
}


# ---------------------------------------------------------------------------------------
# A final linear layer and the training set

SEPARABLE_MLP = ModelConfig("mlp", epochs=60, lr=3e-3, batch_size=100, num_samples=1000)


def pairwise_violations(h: np.ndarray, y: np.ndarray, weight: np.ndarray,
                        bias: np.ndarray) -> np.ndarray:
    """For each example, whether some class k != y_i has (w_y - w_k).h_i + b_y - b_k <= 0.

    h (N, D) penultimate features, y (N,), weight (K, D), bias (K,): (N,) booleans.  No
    violation anywhere means the K classes of h are separated pairwise by the hyperplanes
    of the final linear layer.
    """
    h = np.asarray(h, dtype=np.float64)
    y = np.asarray(y)
    if h.ndim != 2 or weight.ndim != 2 or weight.shape[1] != h.shape[1]:
        raise ValueError(f"need h (N, D) and weight (K, D), got {h.shape}, {weight.shape}")
    if y.shape != (len(h),) or bias.shape != (weight.shape[0],):
        raise ValueError("y must be (N,) and bias (K,)")
    z = h @ weight.T + bias  # (N, K)
    margin = z[np.arange(len(y)), y][:, None] - z  # (N, K)
    margin[np.arange(len(y)), y] = np.inf
    return (margin <= 0).any(axis=1)


@claim("prop-final-layer-separable", chapter="separability",
       statement="100% training accuracy of a net ending in a linear layer makes the "
                 "penultimate training features linearly separable (by that layer)",
       method="exact", tolerance=0.0)
def check_final_layer_separable() -> float:
    """Fraction of training examples the final layer's pairwise hyperplanes fail to separate.

    The statement's premise (training accuracy 100%) is part of the check: without it the
    check returns inf.  Exact: counts of a finite set.
    """
    m = trained_model(SEPARABLE_MLP)
    if m.train_acc < 1.0:
        return math.inf
    bad = pairwise_violations(m.train_features[-2], m.y_train, m.head_weight, m.head_bias)
    return float(bad.mean())


def separable_model_summary() -> dict[str, float]:
    """Training and test accuracy of the final layer of the 100%-training-accuracy MLP."""
    m = trained_model(SEPARABLE_MLP)
    bad_te = pairwise_violations(m.test_features[-2], m.y_test, m.head_weight, m.head_bias)
    return {"n_train": float(len(m.y_train)), "train_acc": m.train_acc,
            "test_acc": m.test_acc, "test_violations": float(bad_te.mean())}


# ---------------------------------------------------------------------------------------
# Figures


def _curve_axes(ax, curves: dict[str, ProbeCurve], colors: dict[str, str],
                error: bool = True) -> None:
    for name, c in curves.items():
        values = c.test_error if error else c.test_acc
        layers = np.arange(len(values))
        ax.errorbar(layers, values, yerr=2 * c.test_se, color=colors[name], marker="o",
                    ms=4, capsize=2, label=name)
    first = next(iter(curves.values()))
    ax.set_xticks(range(len(first.site_names)), first.site_names, rotation=40, ha="right")


@figure("separability")
def fig_probe_errors():
    """Probe test error per layer, MLP and CNN on MNIST-1D, at initialisation and trained."""
    fig, axes = new_figure(1, 2, width=6.4, height=3.3, sharey=True)
    for ax, arch in zip(axes, ("MLP", "CNN"), strict=True):
        curves = {f"{arch} {when}": probe_curve(MODELS[f"{arch} {when}"])
                  for when in ("at init", "trained")}
        colors = {f"{arch} at init": COLORS["grey"], f"{arch} trained": COLORS["blue"]}
        _curve_axes(ax, curves, colors)
        ax.set_title(arch)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7.5)
    axes[0].set_ylabel("probe test error")
    return fig


@figure("separability")
def fig_concept_depth():
    """Probe test accuracy per layer of three properties, trained MLP and CNN."""
    fig, axes = new_figure(1, 2, width=6.4, height=3.3, sharey=True)
    colors = {"energy": COLORS["orange"], "parity": COLORS["purple"], "mean": COLORS["green"]}
    for ax, (arch, model) in zip(axes, (("MLP", TRAINED_MLP), ("CNN", TRAINED_CNN)), strict=True):
        curves = {c: probe_curve(model, c) for c in colors}
        _curve_axes(ax, curves, colors, error=False)
        for c, curve in curves.items():
            depth = concept_depth(curve.test_acc)
            ax.plot(depth, curve.test_acc[depth], marker="*", ms=12, color=colors[c],
                    markeredgecolor="black")
        ax.axhline(0.5, color=COLORS["black"], lw=0.8, ls=":")
        ax.set_title(f"trained {arch}")
        ax.set_ylim(0.45, 1.02)
    axes[0].set_ylabel("probe test accuracy")
    axes[0].legend(fontsize=7.5, loc="lower right")
    return fig


# ---------------------------------------------------------------------------------------
# Benchmark


def _best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


SPEED_TARGET = 5.0  # the batched fit should be at least this many times faster ...
ACCURACY_TARGET_PP = 1.0  # ... with test accuracy within this many points on every layer


def compare_with_sklearn(config: ProbeConfig = ProbeConfig(), repeats: int = 3,
                         threads: int = 1) -> dict:
    """Fit the label probes of the trained MLP and CNN both ways; time and score them.

    Both methods get the same standardised features (float64 for scikit-learn, float32
    for torch), the same C and tol, and ``threads`` threads (torch's pool, and BLAS and
    OpenMP through threadpoolctl).  Times are the best of ``repeats`` runs, after an
    untimed warm-up of both on a small slice (so that neither pays for imports).  The result
    also says whether the targets (``SPEED_TARGET``, ``ACCURACY_TARGET_PP``) were met.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")

    names, tr, te, y_tr, y_te = [], [], [], None, None
    for arch, model in (("MLP", TRAINED_MLP), ("CNN", TRAINED_CNN)):
        m = trained_model(model)
        a, b = standardize(m.train_features, m.test_features)
        first = 0 if arch == "MLP" else 1  # the input is the same for both models
        names += [f"{arch} {s}" if i else s for i, s in enumerate(m.site_names)][first:]
        tr += a[first:]
        te += b[first:]
        y_tr, y_te = m.y_train, m.y_test  # the same examples for both models
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


@benchmark("probes", "batched torch probes vs one scikit-learn LogisticRegression per layer")
def bench_probes() -> int:
    """Print time and probe test accuracy of both methods; 0 when torch is >= 5x faster
    with accuracy within 1 percentage point on every layer."""
    r = compare_with_sklearn()
    cfg = r["config"]
    print(f"Probes: multinomial logistic regression, C = {cfg.C} (lam = 1/(C N)), "
          f"stop at max|grad| <= {cfg.tol}; features standardised with training statistics;")
    print(f"scikit-learn LogisticRegression(solver='lbfgs') per layer in float64 vs "
          f"batched torch L-BFGS ({cfg.dtype}); {r['threads']} thread(s) each; "
          f"best of {r['repeats']}.")
    head = (f"{'layer':<18}{'D':>5}{'it sk':>7}{'it torch':>9}{'acc sk':>8}{'acc torch':>10}"
            f"{'diff pp':>9}{'F sk':>10}{'F torch':>10}")
    print(head)
    print("-" * len(head))
    diffs = 100 * (r["acc_torch"] - r["acc_sklearn"])
    for i, name in enumerate(r["names"]):
        print(f"{name:<18}{r['widths'][i]:>5}{r['iter_sklearn'][i]:>7}{r['iter_torch'][i]:>9}"
              f"{r['acc_sklearn'][i]:>8.3f}{r['acc_torch'][i]:>10.3f}{diffs[i]:>+9.2f}"
              f"{r['obj_sklearn'][i]:>10.5f}{r['obj_torch'][i]:>10.5f}")
    print("-" * len(head))
    print(f"time: scikit-learn {r['t_sklearn']:.2f} s, torch {r['t_torch']:.2f} s, "
          f"speed ratio {r['ratio']:.1f}x (target >= {SPEED_TARGET:g}x)")
    print(f"largest accuracy difference {r['worst_pp']:.2f} percentage points "
          f"(target <= {ACCURACY_TARGET_PP:g}); all fits converged: {r['converged']}")
    met = r["met"]
    print("target met" if met else "target NOT met")
    return 0 if met else 1
