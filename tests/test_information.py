"""Tests of hiddenunits.information against closed forms and enumeration."""

import math

import numpy as np
import pytest

from hiddenunits import information as I


def _h2(e):
    return -e * math.log2(e) - (1 - e) * math.log2(1 - e)


def test_mutual_information_closed_forms():
    assert I.mutual_information(np.full((3, 4), 1 / 12)) == pytest.approx(0.0, abs=1e-15)
    assert I.mutual_information(np.eye(8) / 8) == pytest.approx(3.0)
    e = 0.1  # binary symmetric channel with a uniform input: 1 - H2(e)
    p = np.array([[(1 - e) / 2, e / 2], [e / 2, (1 - e) / 2]])
    assert I.mutual_information(p) == pytest.approx(1 - _h2(e))


def test_push_forward_adds_rows():
    p = np.array([[0.1, 0.2], [0.3, 0.0], [0.15, 0.25]])
    q = I.push_forward(p, ["a", "b", "a"])
    np.testing.assert_allclose(q, [[0.25, 0.45], [0.3, 0.0]])


def test_data_processing_and_a_layer_that_peeks_at_y():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p, maps = I.random_chain(rng)
        infos = I.layer_informations(p, maps, range(p.shape[0]))
        assert all(b <= a + 1e-12 for a, b in zip(infos, infos[1:], strict=False))
    # a "layer" that reads Y is not a function of X: information can grow, so the
    # theorem's hypothesis matters (this is what the check would catch)
    p = np.array([[0.25, 0.25], [0.25, 0.25]])  # X and Y independent: I(Y; X) = 0
    joint = np.zeros((2, 2))
    for x in range(2):
        for y in range(2):
            joint[y, y] += p[x, y]  # H = Y
    assert I.mutual_information(joint) == pytest.approx(1.0)
    assert I.mutual_information(p) == pytest.approx(0.0, abs=1e-15)


def test_injective_layers_keep_and_merging_layers_lose_information():
    p = np.array([[0.3, 0.1], [0.1, 0.3], [0.2, 0.0]])
    keep = I.layer_informations(p, [lambda v: 10 * v], range(3))
    assert keep[1] == pytest.approx(keep[0], abs=1e-15)
    # merging rows 1 and 2 gives the law [[0.3, 0.1], [0.3, 0.3]]: I = H(Y) - H(Y | H)
    merged = I.layer_informations(p, [lambda v: min(v, 1)], range(3))
    assert merged[1] == pytest.approx(_h2(0.4) - 0.4 * _h2(0.25) - 0.6 * 1.0, rel=1e-12)
    assert merged[1] < merged[0]


def test_relu_chain_informations_never_increase():
    rng = np.random.default_rng(1)
    for _ in range(20):
        infos = I.relu_chain_informations(rng)
        assert infos[0] == pytest.approx(1 - _h2(0.2))
        assert all(b <= a + 1e-12 for a, b in zip(infos, infos[1:], strict=False))


def test_best_linear_accuracy():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    assert I.best_linear_accuracy(x, np.array([0, 1, 1, 0])) == 0.75
    assert I.best_linear_accuracy(x, np.array([0, 0, 0, 1])) == 1.0
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(10, 3))
    labels = (pts @ np.array([1.0, -2.0, 0.5]) > 0.1).astype(int)
    assert I.best_linear_accuracy(pts, labels) == 1.0


def test_scramble_chain():
    chain = I.xor_scramble_chain()
    assert chain.accuracy == (0.75, 1.0, 0.75)
    np.testing.assert_allclose(chain.information, 1.0)
    # the representations of the proof: H_1 on the corners, then H_2 = XOR again
    np.testing.assert_array_equal(chain.representations[1],
                                  [[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(chain.representations[2], [[0, 0], [1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError):
        chain.representations[1][0, 0] = 5.0


def test_seed_or_generator():
    p1, maps1 = I.random_chain(3)
    p2, maps2 = I.random_chain(np.random.default_rng(3))
    np.testing.assert_array_equal(p1, p2)
    assert [m(5) for m in maps1] == [m(5) for m in maps2]
    assert I.relu_chain_informations(4) == I.relu_chain_informations(np.random.default_rng(4))


@pytest.mark.parametrize("call", [
    lambda: I.mutual_information(np.array([[0.5, 0.6]])),
    lambda: I.mutual_information(np.array([[-0.5, 1.5]])),
    lambda: I.mutual_information(np.array([0.5, 0.5])),
    lambda: I.mutual_information(np.array([[0.5, 0.5j]])),
    lambda: I.mutual_information(np.zeros((0, 2))),
    lambda: I.push_forward(np.eye(2) / 2, ["a"]),
    lambda: I.push_forward(np.eye(2) / 2, "ab"),
    lambda: I.push_forward(np.eye(2) / 2, [[1], [2]]),
    lambda: I.layer_informations(np.eye(2) / 2, [None], range(2)),
    lambda: I.layer_informations(np.eye(2) / 2, [], range(3)),
    lambda: I.best_linear_accuracy(np.zeros((13, 2)), np.zeros(13, dtype=int)),
    lambda: I.best_linear_accuracy(np.zeros((4, 2)), np.array([0, 1, 2, 0])),
    lambda: I.separable(np.zeros((4, 2)), np.zeros(3, dtype=int)),
    lambda: I.random_chain(np.random.default_rng(0), n_x=0),
    lambda: I.random_chain("seed"),
    lambda: I.random_chain(0, widths=(3, 0)),
    lambda: I.noisy_xor_law(n_bits=1),
    lambda: I.noisy_xor_law(noise=0.7),
    lambda: I.random_relu_layers(0, n_in=2.5),
    lambda: I.relu_chain_profile([(np.ones((3, 3)), np.zeros(3))]),
    lambda: I.relu_chain_profile([(np.ones((3, 2)), np.zeros(2))]),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_logistic_cross_entropy_and_usable_information():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor_y = np.array([0, 1, 1, 0])
    # XOR: the best logistic fit is the constant 1/2: one bit, no usable information
    assert I.logistic_cross_entropy(x, xor_y) == pytest.approx(1.0, abs=1e-12)
    assert I.linear_v_information(x, xor_y) == pytest.approx(0.0, abs=1e-12)
    # AND is separable: the infimum 0 is approached by scaling a separator
    and_y = np.array([0, 0, 0, 1])
    assert I.logistic_cross_entropy(x, and_y) == 0.0
    assert I.linear_v_information(x, and_y) == pytest.approx(_h2(0.25))
    # one feature, overlapping classes: compare with a fine grid of (w, b)
    h = np.array([[0.0], [1.0], [2.0], [3.0], [1.5]])
    y = np.array([0, 1, 0, 1, 1])
    w, b = np.meshgrid(np.linspace(-3, 3, 601), np.linspace(-6, 6, 601))
    z = (2 * y - 1)[:, None, None] * (w[None] * h[:, 0, None, None] + b[None])
    grid = np.logaddexp(0, -z).mean(axis=0).min() / math.log(2)
    assert I.logistic_cross_entropy(h, y) <= grid + 1e-12
    assert I.logistic_cross_entropy(h, y) == pytest.approx(grid, abs=1e-4)


def test_usable_information_is_at_most_mutual_information():
    rng = np.random.default_rng(2)
    for _ in range(5):
        h, y = rng.normal(size=(8, 2)), rng.integers(0, 2, size=8)
        v = I.linear_v_information(h, y)
        assert -1e-12 <= v <= I.empirical_mutual_information(h, y) + 1e-12
    # equal points with different labels: the information is below the label entropy
    h = np.array([[0.0], [0.0], [1.0], [1.0]])
    y = np.array([0, 1, 1, 1])
    assert I.empirical_mutual_information(h, y) == pytest.approx(_h2(0.25) - 0.5)


def test_best_linear_accuracy_agrees_with_all_dichotomies():
    from hiddenunits import capacity

    rng = np.random.default_rng(3)
    for _ in range(4):
        pts, lab = rng.normal(size=(7, 2)), rng.integers(0, 2, size=7)
        best = max(int((d == lab).sum()) for d in capacity.separable_dichotomies(pts))
        assert I.best_linear_accuracy(pts, lab) == best / 7
