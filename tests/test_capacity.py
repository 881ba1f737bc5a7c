"""Tests of hiddenunits.capacity against Cover's closed form, brute force and geometry."""

import itertools
import math

import numpy as np
import pytest

from hiddenunits import capacity as C


def test_cover_count_closed_form_and_recursion():
    assert C.cover_count(4, 3) == 14  # four points in the plane: all but the diagonals
    assert C.cover_count(1, 5) == 2
    assert C.cover_count(6, 1) == 2
    for n in range(1, 12):
        assert C.cover_count(n, n) == 2**n  # N <= p: every dichotomy
        assert C.cover_count(2 * n, n) == 2 ** (2 * n - 1)  # capacity: exactly half
        for p in range(2, 8):
            assert C.cover_count(n + 1, p) == C.cover_count(n, p) + C.cover_count(n, p - 1)


def test_separable_fraction_is_the_count_over_two_to_the_n():
    ns = np.arange(1, 30)
    frac = C.separable_fraction(ns, 7)
    exact = np.array([C.cover_count(int(n), 7) / 2**int(n) for n in ns])
    np.testing.assert_allclose(frac, exact, rtol=1e-12)
    assert C.separable_fraction(14, 7) == pytest.approx(0.5, abs=1e-15)
    assert isinstance(C.separable_fraction(3, 2), float)


def _brute_force_1d(points):
    """Dichotomies of points on a line by thresholds: the labels of sorted cut positions."""
    order = np.argsort(points)
    out = set()
    for cut in range(len(points) + 1):
        lab = np.zeros(len(points), dtype=int)
        lab[order[cut:]] = 1
        out.add(tuple(lab))
        out.add(tuple(1 - lab))
    return out


def test_one_dimension_matches_thresholds():
    rng = np.random.default_rng(0)
    x = rng.normal(size=7)
    found = {tuple(d) for d in C.separable_dichotomies(x[:, None])}
    assert found == _brute_force_1d(x)
    assert len(found) == C.cover_count(7, 2) == 14


@pytest.mark.parametrize("n,d", [(5, 2), (6, 2), (6, 3), (7, 3)])
def test_counts_match_cover_for_gaussian_points(n, d):
    pts = C.gaussian_points(n, d, rng=10 * n + d)
    assert C.count_separable_dichotomies(pts) == C.cover_count(n, d + 1)
    assert C.count_separable_dichotomies(pts, affine=False) == C.cover_count(n, d)


def test_dichotomies_are_closed_under_complement_and_correct():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(6, 2))
    found = C.separable_dichotomies(pts)
    as_set = {tuple(d) for d in found}
    assert all(tuple(1 - np.array(d)) in as_set for d in as_set)
    # a separating line found by brute force over lines through pairs of points
    for lab in itertools.product((0, 1), repeat=6):
        assert (lab in as_set) == C.is_separable(pts, np.array(lab))


def test_xor_square_misses_exactly_the_diagonals():
    square = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    found = {tuple(d) for d in C.separable_dichotomies(square)}
    assert len(found) == 14
    assert (0, 1, 1, 0) not in found and (1, 0, 0, 1) not in found


def test_degenerate_points_have_fewer():
    line = np.column_stack([np.arange(5.0), 2 * np.arange(5.0) + 1])  # collinear
    assert C.count_separable_dichotomies(line) == 10  # as on a line: 2N
    twice = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0]])  # a repeated point
    assert (1, 0, 0) not in {tuple(d) for d in C.separable_dichotomies(twice)}
    assert not C.is_separable(twice, [1, 0, 0])


def test_homogeneous_separability_needs_the_origin_outside():
    # points on both sides of the origin on a line through it: w^T x has opposite signs
    pts = np.array([[1.0, 1.0], [-1.0, -1.0]])
    assert not C.is_separable(pts, [1, 1], affine=False)
    assert C.is_separable(pts, [1, 1], affine=True)


@pytest.mark.parametrize("call", [
    lambda: C.cover_count(0, 2),
    lambda: C.cover_count(3, 0),
    lambda: C.separable_fraction([0, 1], 2),
    lambda: C.separable_fraction(3, 0),
    lambda: C.is_separable(np.zeros((3, 2)), [0, 1]),
    lambda: C.is_separable(np.zeros((3, 2)), [0, 1, 2]),
    lambda: C.is_separable(np.zeros(3), [0, 1, 0]),
    lambda: C.is_separable(np.zeros((3, 2)), [0, 1, 0], affine="yes"),
    lambda: C.separable_dichotomies(np.zeros((C.MAX_COUNTED_POINTS + 1, 2))),
    lambda: C.separable_dichotomies(np.full((3, 2), np.nan)),
    lambda: C.gaussian_points(0, 2),
    lambda: C.gaussian_points(3, 2, rng=-1),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_cover_count_is_an_integer():
    assert isinstance(C.cover_count(10, 4), int)
    assert C.cover_count(10, 4) == 2 * sum(math.comb(9, k) for k in range(4))
