"""Data sets: shapes, ranges, determinism, and clear errors."""

import numpy as np
import pytest

from hiddenunits import data


def test_digits_shapes_and_range():
    x, y = data.digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_digits_split_is_stratified_and_deterministic():
    a, b = data.digits_split(rng=3), data.digits_split(rng=3)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert len(a.y_train) + len(a.y_test) == 1797
    counts = np.bincount(a.y_test, minlength=10) / np.bincount(data.digits()[1], minlength=10)
    assert np.all(np.abs(counts - 0.25) < 0.02)
    # train and test are disjoint: every image is used once
    rows = {r.tobytes() for r in a.x_train} | {r.tobytes() for r in a.x_test}
    assert len(rows) == len({r.tobytes() for r in data.digits()[0]})


def test_standardized_digits_use_training_statistics():
    s = data.standardized_digits(rng=1)
    sd = s.x_train.std(axis=0)
    assert np.allclose(s.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(sd[sd > 0], 1, atol=1e-4)
    assert s.x_train.dtype == np.float32


def test_mnist1d_is_generated_offline_and_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    s = data.mnist1d(num_samples=200, rng=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert s.x_train.shape == (160, 40) and s.x_test.shape == (40, 40)
    assert np.isfinite(s.x_train).all()


@pytest.mark.parametrize(("num_samples", "seed"), [(200, 1), (305, 42)])
def test_mnist1d_equals_the_packages_make_dataset_bit_for_bit(num_samples, seed):
    # data.mnist1d vectorises mnist1d's generator; the package's own is the reference
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    states = random.getstate(), np.random.get_state()  # noqa: NPY002
    try:
        ref = make_dataset(args)  # seeds the global generators
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])  # noqa: NPY002
    s = data.mnist1d(num_samples=num_samples, rng=seed)
    for ours, key in ((s.x_train, "x"), (s.y_train, "y"), (s.x_test, "x_test"),
                      (s.y_test, "y_test")):
        np.testing.assert_array_equal(ours, ref[key].astype(ours.dtype))
        assert ours.shape == ref[key].shape


def test_xor_truth_table():
    x, y = data.xor()
    np.testing.assert_array_equal(y, np.logical_xor(x[:, 0], x[:, 1]).astype(int))


@pytest.mark.parametrize("call", [
    lambda: data.digits_split(test_fraction=1.5),
    lambda: data.digits_split(rng=-1),
    lambda: data.binarized_digits(threshold=2.0),
    lambda: data.mnist1d(num_samples=3),
    lambda: data.mnist1d(rng=np.random.default_rng(0)),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
