"""Bundled and generated datasets: shapes, dtypes, labels, determinism."""

import numpy as np
import pytest

import gradwalk
from gradwalk import data


def test_digits_shapes_values_and_labels():
    x, y = data.load_digits()
    assert x.shape == (1797, 64) and x.dtype == gradwalk.float32
    assert y.shape == (1797,) and y.dtype == gradwalk.int64
    xa, ya = x.numpy(), y.numpy()
    assert xa.min() == 0.0 and xa.max() == 1.0
    assert np.all(np.isclose(xa * 16, np.round(xa * 16)))  # pixel counts 0..16
    counts = np.bincount(ya)
    assert len(counts) == 10 and counts.min() >= 170 and counts.sum() == 1797
    raw, _ = data.load_digits(flatten=False, normalize=False, dtype=gradwalk.float64)
    assert raw.shape == (1797, 1, 8, 8) and raw.dtype == gradwalk.float64
    np.testing.assert_array_equal(raw.numpy().reshape(1797, 64) / 16, xa)
    # The digit images differ from class to class: class means are far apart.
    means = np.stack([xa[ya == c].mean(0) for c in range(10)])
    dists = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert dists[~np.eye(10, dtype=bool)].min() > 0.5


def test_digits_first_sample_is_a_zero():
    x, y = data.load_digits(flatten=False, normalize=False)
    img = x.numpy()[0, 0]
    assert y[0].item() == 0
    assert img[3:5, 3:5].sum() < img[:, 1:3].sum()  # a ring: dark centre, ink on the sides


def test_train_test_split_partitions_and_stratifies():
    x, y = data.load_digits()
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.2, seed=1, stratify=y)
    assert x_tr.shape[0] + x_te.shape[0] == 1797
    assert x_tr.shape[0] == y_tr.shape[0] and x_te.shape[0] == y_te.shape[0]
    te = np.bincount(y_te.numpy(), minlength=10)
    assert te.min() >= 33 and te.max() <= 38
    rows = {tuple(r) for r in x_tr.numpy()} | {tuple(r) for r in x_te.numpy()}
    assert len(rows) == len({tuple(r) for r in x.numpy()})
    a = data.train_test_split(x, test_size=100, seed=3)
    b = data.train_test_split(x, test_size=100, seed=3)
    np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())
    assert a[1].shape == (100, 64)
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(x, test_size=0)


def test_moons():
    x, y = data.make_moons(200, noise=0.0, seed=0)
    assert x.shape == (200, 2) and y.shape == (200,) and x.dtype == gradwalk.float32
    xa, ya = x.numpy(), y.numpy()
    assert ya.sum() == 100
    outer = xa[ya == 0]
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, rtol=1e-5)
    inner = xa[ya == 1] - np.array([1.0, 0.5])
    np.testing.assert_allclose(np.linalg.norm(inner, axis=1), 1.0, rtol=1e-5)
    x2, _ = data.make_moons(200, noise=0.1, seed=0)
    x3, _ = data.make_moons(200, noise=0.1, seed=0)
    np.testing.assert_array_equal(x2.numpy(), x3.numpy())
    assert not np.allclose(x2.numpy(), xa)


def test_spirals():
    x, y = data.make_spirals(301, classes=4, noise=0.0, seed=2)
    assert x.shape == (301, 2) and sorted(np.bincount(y.numpy())) == [75, 75, 75, 76]
    assert np.linalg.norm(x.numpy(), axis=1).max() <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="classes"):
        data.make_spirals(2, classes=3)


def test_text_and_vocab():
    text = data.load_text()
    assert 3000 < len(text) < 20000 and "Shall I compare thee" in text
    chars, stoi = data.char_vocab(text)
    ids = data.encode_text(text, stoi)
    assert ids.shape == (len(text),) and ids.dtype == gradwalk.int64
    assert "".join(chars[i] for i in ids.tolist()[:40]) == text[:40]
    with pytest.raises(ValueError, match="unknown text"):
        data.load_text("nope")
    with pytest.raises(ValueError, match="vocabulary"):
        data.encode_text("@", {"a": 0})
