"""Data sets of the book, all generated or shipped with a package: never downloaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hiddenunits.validation import check_int, check_real, check_seed


@dataclass(frozen=True)
class Split:
    """A train/test split: ``x`` (N, D) float32, ``y`` (N,) int64."""

    x_train: np.ndarray
    """Training inputs (N_train, D)."""
    y_train: np.ndarray
    """Training labels (N_train,)."""
    x_test: np.ndarray
    """Test inputs (N_test, D)."""
    y_test: np.ndarray
    """Test labels (N_test,)."""


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()  # ships with scikit-learn: 1797 images of 8x8 pixels in 0..16
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: ``x`` (1797, 64) in [0, 1], ``y`` (1797,) labels 0..9."""
    x, y = _digits_arrays()
    return x.copy(), y.copy()


def digits_split(test_fraction: float = 0.25, rng: int | np.random.Generator = 0) -> Split:
    """A stratified random train/test split of :func:`digits` (scikit-learn's
    ``train_test_split`` with ``stratify``)."""
    from sklearn.model_selection import train_test_split

    test_fraction = check_real("test_fraction", test_fraction, low=0.0, high=1.0,
                               low_open=True, high_open=True)
    seed = rng if not isinstance(rng, np.random.Generator) else int(rng.integers(2 ** 32))
    x, y = digits()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=check_seed(seed))
    return Split(x_train, y_train, x_test, y_test)


def standardized_digits(test_fraction: float = 0.25,
                        rng: int | np.random.Generator = 0) -> Split:
    """:func:`digits_split` with each pixel standardized by its training mean and std.

    Pixels constant on the training set (std 0) are only centred (they become 0).
    """
    split = digits_split(test_fraction, rng)
    mu = split.x_train.mean(axis=0)
    sd = split.x_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)

    def f(x: np.ndarray) -> np.ndarray:
        return ((x - mu) / sd).astype(np.float32)

    return Split(f(split.x_train), split.y_train, f(split.x_test), split.y_test)


def binarized_digits(threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Digits with pixels set to 1 where the intensity exceeds ``threshold``, else 0."""
    threshold = check_real("threshold", threshold, low=0.0, high=1.0, high_open=True)
    x, y = digits()
    return (x > threshold).astype(np.float32), y


def _make_mnist1d(args) -> dict[str, np.ndarray]:
    """``mnist1d.data.make_dataset(args)`` (mnist1d 0.0.2), the same arrays bit for bit.

    mnist1d transforms one example at a time and builds a scipy ``interp1d`` for every
    interpolation (4 per example, two of them of the unused time axis): about 1 ms an
    example.  Here the random numbers are drawn in mnist1d's order from a private
    ``RandomState`` seeded as mnist1d seeds the global one (so the global state is never
    touched), and the same floating-point operations are applied to all examples at once;
    ``np.interp`` is what ``interp1d(kind="linear")`` calls for 1-D float64 data.
    ``tests/test_data.py`` compares the result with ``make_dataset``.  Keys ``x``, ``y``,
    ``x_test``, ``y_test``, as mnist1d's.
    """
    from mnist1d.data import get_templates
    from scipy.ndimage import gaussian_filter1d

    templates = get_templates()
    if args.shuffle_seq:
        raise ValueError("shuffle_seq is not supported")
    rs = np.random.RandomState(args.seed)  # noqa: NPY002 (mnist1d's legacy stream)
    low, high = args.padding
    length = args.template_len + high  # every example is dilated to this length
    grid = np.linspace(0, 1, length)
    num_classes = len(templates["y"])
    labels = np.repeat(templates["y"], args.num_samples // num_classes)
    n = len(labels)
    pad, shift = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    scale, shear = np.empty(n), np.empty(n)
    corr, iid = np.empty((n, length)), np.empty((n, length))
    for i in range(n):  # mnist1d.transform.transform's draws, in its order
        pad[i] = low + int(rs.rand() * (high - low + 1))
        scale[i] = rs.rand()
        shift[i] = rs.choice(args.max_translation)
        corr[i] = rs.randn(length)
        iid[i] = rs.randn(length)
        shear[i] = rs.rand()
    perm = rs.permutation(n)
    x = np.empty((n, length))
    for i in range(n):  # pad with zeros, then dilate
        signal = np.concatenate([templates["x"][labels[i]] + 1e-8, np.zeros(pad[i])])
        x[i] = np.interp(grid, np.linspace(0, 1, len(signal)), signal)
    x *= (1 + args.scale_coeff * (scale - 0.5))[:, None]
    # translate: mnist1d's concatenate([x[-k:], x[:-k]]) is a roll by k
    x = np.take_along_axis(x, (np.arange(length) - shift[:, None]) % length, axis=1)
    mask = x != 0
    x = mask * x + (1 - mask) * gaussian_filter1d(args.corr_noise_scale * corr, 2, axis=1)
    x = x + args.iid_noise_scale * iid
    x = x - (args.shear_scale * (shear - 0.5))[:, None] * np.linspace(-0.5, 0.5, length)
    final = np.linspace(0, 1, args.final_seq_length)
    xs = np.stack([np.interp(final, grid, row) for row in x])[perm]
    ys = labels[perm]
    xs = (xs - xs.mean()) / xs.std()
    split = int(n * args.train_split)
    return {"x": xs[:split], "x_test": xs[split:], "y": ys[:split], "y_test": ys[split:]}


@lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples: int, seed: int) -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args

    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = seed
    data = _make_mnist1d(args)  # generated offline; mnist1d's get_dataset would download
    arrays = (data["x"].astype(np.float32), data["y"].astype(np.int64),
              data["x_test"].astype(np.float32), data["y_test"].astype(np.int64))
    for a in arrays:
        a.setflags(write=False)
    return arrays


def mnist1d(num_samples: int = 5000, rng: int = 42) -> Split:
    """MNIST-1D (Greydanus 2020), generated offline: 40-sample signals, 10 classes.

    The defaults are the data set's published settings (5000 samples, 80/20 split).
    ``rng`` is a seed only: mnist1d's generator takes nothing else.
    """
    num_samples = check_int("num_samples", num_samples, minimum=20)
    arrays = _mnist1d_arrays(num_samples, check_seed(rng))
    return Split(*(a.copy() for a in arrays))


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: ``x`` (4, 2) in {0,1}^2 and ``y`` = x1 XOR x2."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return x, y
