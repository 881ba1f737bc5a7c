"""Data sets of the book, all generated or shipped with a package: never downloaded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Split:
    """A train/test split: ``x`` (N, D) float32, ``y`` (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


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


def digits_split(test_fraction: float = 0.25, seed: int = 0) -> Split:
    """A stratified random train/test split of :func:`digits`."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(_check_seed(seed))
    x, y = digits()
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        n_test = int(round(test_fraction * len(idx)))
        test[rng.choice(idx, size=n_test, replace=False)] = True
    return Split(x[~test], y[~test], x[test], y[test])


def binarized_digits(threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Digits with pixels set to 1 where the intensity exceeds ``threshold``, else 0."""
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold!r}")
    x, y = digits()
    return (x > threshold).astype(np.float32), y


@lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples: int, seed: int) -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = seed
    # make_dataset seeds the global `random` and `numpy.random` generators: restore them.
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    try:
        data = make_dataset(args)  # generated offline; mnist1d's get_dataset would download
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
    arrays = (data["x"].astype(np.float32), data["y"].astype(np.int64),
              data["x_test"].astype(np.float32), data["y_test"].astype(np.int64))
    for a in arrays:
        a.setflags(write=False)
    return arrays


def mnist1d(num_samples: int = 5000, seed: int = 42) -> Split:
    """MNIST-1D (Greydanus & Kobak 2020), generated offline: 40-sample signals, 10 classes.

    The defaults are the data set's published settings (5000 samples, 80/20 split).
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 20:
        raise ValueError(f"num_samples must be an integer >= 20, got {num_samples!r}")
    arrays = _mnist1d_arrays(num_samples, _check_seed(seed))
    return Split(*(a.copy() for a in arrays))


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: ``x`` (4, 2) in {0,1}^2 and ``y`` = x1 XOR x2."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return x, y
