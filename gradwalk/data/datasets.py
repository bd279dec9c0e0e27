"""Bundled and generated datasets: handwritten digits, two moons, spirals, a small text.

Nothing is downloaded: the digits and the text ship inside the package (see the LICENSE files
beside them), the toy sets are generated from a seed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor

_HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = {"sonnets": "sonnets.txt"}


def load_digits(*, flatten: bool = True, normalize: bool = True,
                dtype: _dt.dtype = _dt.float32) -> tuple[Tensor, Tensor]:
    """The 1,797 handwritten digits (8x8 pixels, classes 0-9) as ``(images, labels)``.

    ``images`` is ``(1797, 64)`` with ``flatten=True``, else ``(1797, 1, 8, 8)`` (channels
    first, for ``Conv2d``); pixel values 0..16 are divided by 16 when ``normalize``.
    ``labels`` is int64. The data is the UCI "Optical Recognition of Handwritten Digits" test set
    (Alpaydin & Kaynak, CC BY 4.0; see gradwalk/data/LICENSE-digits.txt).

    Example:
        >>> import gradwalk
        >>> x, y = gradwalk.data.load_digits()
        >>> x.shape, y.shape, y.dtype, float(x.max())
        (gradwalk.Size([1797, 64]), gradwalk.Size([1797]), gradwalk.int64, 1.0)
    """
    with np.load(os.path.join(_HERE, "digits.npz"), allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    npd = _dt.to_numpy_dtype(dtype)
    x = images.astype(npd)
    if normalize:
        x /= npd.type(16)
    x = x.reshape(len(x), 64) if flatten else x.reshape(len(x), 1, 8, 8)
    return Tensor._wrap(np.ascontiguousarray(x)), Tensor._wrap(labels.astype(np.int64))


def train_test_split(*tensors: Tensor, test_size: float | int = 0.2, seed: int = 0,
                     stratify: Tensor | None = None) -> list[Tensor]:
    """Split tensors (same first dim) at random into train and test parts.

    Returns ``[a_train, a_test, b_train, b_test, ...]`` (scikit-learn's order). ``test_size``
    is a fraction or a count; ``stratify`` (labels) keeps each class's share in both parts.

    Example:
        >>> import gradwalk
        >>> x, y = gradwalk.data.load_digits()
        >>> x_tr, x_te, y_tr, y_te = gradwalk.data.train_test_split(x, y, test_size=0.25)
        >>> x_tr.shape, x_te.shape
        (gradwalk.Size([1347, 64]), gradwalk.Size([450, 64]))
    """
    if not tensors:
        raise ValueError("train_test_split needs at least one tensor")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"train_test_split: first dimensions differ: "
                         f"{[t.shape[0] for t in tensors]}")
    n_test = int(np.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size} leaves no train or no test samples out of {n}")
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        labels = np.asarray(stratify._data)
        test_parts = []
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            test_parts.append(idx[: int(round(len(idx) * n_test / n))])
        test_idx = rng.permutation(np.concatenate(test_parts))
        mask = np.ones(n, dtype=bool)
        mask[test_idx] = False
        train_idx = rng.permutation(np.flatnonzero(mask))
    out = []
    for t in tensors:
        out += [Tensor._wrap(t._data[train_idx]), Tensor._wrap(t._data[test_idx])]
    return out


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles in 2-D, ``n`` points, labels 0 and 1 (scikit-learn's shape).

    Example:
        >>> import gradwalk
        >>> x, y = gradwalk.data.make_moons(100, noise=0.05, seed=1)
        >>> x.shape, int(y.sum())
        (gradwalk.Size([100, 2]), 50)
    """
    if n < 2:
        raise ValueError(f"make_moons needs n >= 2, got {n}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    x = x + rng.normal(scale=noise, size=x.shape)
    perm = rng.permutation(n)
    return Tensor._wrap(x[perm].astype(np.float32)), Tensor._wrap(y[perm])


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2,
                 seed: int = 0) -> tuple[Tensor, Tensor]:
    """``classes`` interleaved spiral arms in 2-D, ``n`` points in all (CS231n's toy problem).

    Example:
        >>> import gradwalk
        >>> x, y = gradwalk.data.make_spirals(300, classes=3, seed=0)
        >>> x.shape, sorted(set(y.tolist()))
        (gradwalk.Size([300, 2]), [0, 1, 2])
    """
    if classes < 1 or n < classes:
        raise ValueError(f"make_spirals needs 1 <= classes <= n, got n={n}, classes={classes}")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        m = n // classes + (1 if c < n % classes else 0)
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, m) + rng.normal(scale=noise, size=m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(m, c, np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    perm = rng.permutation(n)
    return Tensor._wrap(x[perm].astype(np.float32)), Tensor._wrap(y[perm])


def load_text(name: str = "sonnets") -> str:
    """A small bundled public-domain text (about 5 KB), for character-level models.

    ``"sonnets"``: eight of Shakespeare's sonnets (1609; see LICENSE-sonnets.txt).

    Example:
        >>> import gradwalk
        >>> text = gradwalk.data.load_text()
        >>> text.splitlines()[2]
        "Shall I compare thee to a summer's day?"
    """
    if name not in TEXTS:
        raise ValueError(f"unknown text {name!r}; bundled texts: {sorted(TEXTS)}")
    with open(os.path.join(_HERE, TEXTS[name]), encoding="utf-8") as f:
        return f.read()


def char_vocab(text: str) -> tuple[list[str], dict[str, int]]:
    """The sorted characters of ``text`` and a char-to-index map.

    Example:
        >>> from gradwalk.data import char_vocab
        >>> char_vocab("abca")
        (['a', 'b', 'c'], {'a': 0, 'b': 1, 'c': 2})
    """
    chars = sorted(set(text))
    return chars, {c: i for i, c in enumerate(chars)}


def encode_text(text: str, stoi: dict[str, int] | None = None) -> Tensor:
    """``text`` as an int64 tensor of character indices (``stoi`` from ``char_vocab``).

    Example:
        >>> from gradwalk.data import encode_text
        >>> encode_text("abba")
        tensor([0, 1, 1, 0])
    """
    if stoi is None:
        stoi = char_vocab(text)[1]
    try:
        return Tensor._wrap(np.array([stoi[c] for c in text], dtype=np.int64))
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None


__all__: Sequence[str] = ["load_digits", "train_test_split", "make_moons", "make_spirals",
                          "load_text", "char_vocab", "encode_text"]
