"""The shared argument checks: what they accept, and the one error they raise."""

import math

import numpy as np
import pytest

from hiddenunits import validation as v


def test_check_int_accepts_numpy_integers_and_rejects_bool_and_float():
    assert v.check_int("k", np.int32(3), minimum=1) == 3
    assert type(v.check_int("k", np.int64(3))) is int
    for bad in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match="k must be an integer"):
            v.check_int("k", bad)
    with pytest.raises(ValueError, match=">= 1"):
        v.check_int("k", 0, minimum=1)
    with pytest.raises(ValueError, match="<= 3"):
        v.check_int("k", 4, maximum=3)


def test_check_real_bounds_and_types():
    assert v.check_real("x", np.float32(0.25), low=0, high=1) == 0.25
    assert v.check_real("x", np.array(0.5)) == 0.5
    for bad in (math.nan, math.inf, 1 + 2j, True, "1"):
        with pytest.raises(ValueError, match="x must be"):
            v.check_real("x", bad)
    assert v.check_real("x", math.inf, finite=False) == math.inf
    with pytest.raises(ValueError, match="> 0"):
        v.check_real("x", 0.0, low=0.0, low_open=True)
    with pytest.raises(ValueError, match="<= 1"):
        v.check_probability("x", 1.5)


def test_check_array():
    a = v.check_array("w", [[1, 2], [3, 4]], ndim=2)
    assert a.dtype == np.float64 and a.shape == (2, 2)
    for bad, message in [(np.zeros((0, 3)), "empty"), (np.ones(3) * 1j, "complex"),
                         ([1, np.nan], "non-finite"), (np.ones(3), "2 axes"),
                         ([[1, 2], [3]], "array of numbers"), (["a", "b"], "numbers")]:
        with pytest.raises(ValueError, match=message):
            v.check_array("w", bad, ndim=2 if message == "2 axes" else None)
    with pytest.raises(ValueError, match=r"shape \(any, 3\)"):
        v.check_array("w", np.ones((2, 2)), shape=(None, 3))
    assert v.check_array("y", [0.0, 2.0], dtype=np.int64).tolist() == [0, 2]
    with pytest.raises(ValueError, match="integers"):
        v.check_array("y", [0.5, 2.0], dtype=np.int64)


def test_check_rng_accepts_seed_or_generator():
    g = np.random.default_rng(0)
    assert v.check_rng(g) is g
    assert v.check_rng(5).random() == np.random.default_rng(5).random()
    assert v.check_rng(np.uint8(5)).random() == np.random.default_rng(5).random()
    for bad in (-1, 1.5, "0", None, np.random.RandomState(0)):
        with pytest.raises(ValueError, match="rng|seed"):
            v.check_rng(bad)


def test_check_choice_lists_the_choices():
    with pytest.raises(ValueError, match="'a', 'b'"):
        v.check_choice("name", "c", ("a", "b"))


def test_check_sizes():
    assert v.check_sizes("s", np.array([3, 4])) == (3, 4)
    for bad in ("34", [3, 0], [3, 2.5], 5):
        with pytest.raises(ValueError):
            v.check_sizes("s", bad)


def test_scalar_in_scalar_out():
    assert type(v.scalar_or_array(np.float64(2.0), 1.0)) is float
    assert type(v.scalar_or_array(np.array(2.0), np.array(1.0))) is float
    out = v.scalar_or_array(np.array([1.0, 2.0]), [1, 2])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64


def test_seeded_call_caches_seeds_and_recomputes_for_generators():
    from functools import lru_cache

    calls = []

    @lru_cache(maxsize=4)
    def draw(n, rng):
        calls.append(rng)
        return tuple(v.check_rng(rng).random(n))

    a = v.seeded_call(draw, 3, 7)
    assert v.seeded_call(draw, 3, 7) == a and len(calls) == 1
    g = np.random.default_rng(7)
    assert v.seeded_call(draw, 3, g) == a and len(calls) == 2
    with pytest.raises(ValueError, match="seed"):
        v.seeded_call(draw, 3, -1)
