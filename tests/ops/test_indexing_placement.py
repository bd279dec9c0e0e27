"""Indexing with PyTorch's placement of the advanced dims, read, written and differentiated.

Every index pattern of up to three items over ints, slices, None, Ellipsis, integer tensors and
Python bools (Note [advanced index placement] in gradwalk/ops/indexing.py), plus the mixed
patterns of five items that NumPy places differently, is compared with PyTorch: the values read,
a write through ``__setitem__`` and the gradient of a weighted sum of the read.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

SHAPE = (2, 3, 2)
ATOMS = (1, -1, slice(None), slice(1, None), None, Ellipsis, "I", "J", True)


def _patterns() -> list[tuple]:
    out = []
    for k in (1, 2, 3):
        for combo in itertools.product(ATOMS, repeat=k):
            if combo.count(Ellipsis) <= 1:
                out.append(combo)
    return out


PATTERNS = _patterns()
MIXED = [  # (shape, pattern): the examples and their relatives
    ((2, 3, 12, 4, 3), (1, slice(None), slice(3, 11, 2), "I", slice(0, 2))),
    ((3, 2, 3), ("I", slice(None), "K")),
    ((2, 3, 2, 3), (slice(None), "I", slice(None), "K")),
    ((2, 3, 2, 3), (1, "I", slice(None), "K")),
    ((2, 3, 2, 3), ("I", 1, "K")),
    ((2, 3, 2, 3), (slice(None), "I", 0, "K")),
    ((2, 3, 2, 3), (0, slice(None), "J", 1)),
    ((2, 3, 2, 3), (None, 1, Ellipsis, "I")),
    ((2, 3, 2, 3), ("M", 1, "I")),
    ((2, 3, 2, 3), (1, "M", slice(None), "I")),
]


def _build(m, pattern):
    out = []
    for a in pattern:
        if a == "I":
            out.append(m.tensor([0, 1, 0]))
        elif a == "K":
            out.append(m.tensor([2, 0, 1]))
        elif a == "J":
            out.append(m.tensor([[1], [0]]))
        elif a == "M":
            out.append(m.tensor([True, False]))
        else:
            out.append(a)
    return tuple(out)


def _run(m, shape, pattern):
    """Read, write and gradient of ``x[pattern]``; None when the library refuses the index."""
    n = int(np.prod(shape))
    base = np.arange(n, dtype=np.float64).reshape(shape)
    x = m.tensor(base, requires_grad=True)
    index = _build(m, pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = x[index]
        except (IndexError, RuntimeError, TypeError, ValueError):
            return None
        w = m.tensor(np.linspace(-1.0, 1.0, r.numel()).reshape(tuple(r.shape)))
        (r * w).sum().backward()
        y = m.tensor(base)
        y[_build(m, pattern)] = -w - 1.0
    return [r.detach().numpy(), x.grad.numpy(), y.numpy()]


def _pack(results):
    """The results of many cases as one array and their shapes (a compact recording)."""
    shapes = [None if r is None else [list(a.shape) for a in r] for r in results]
    flat = [a.ravel() for r in results if r is not None for a in r]
    return {"shapes": shapes, "values": np.concatenate(flat) if flat else np.zeros(0)}


def _unpack(packed):
    values = np.asarray(packed["values"])
    out, k = [], 0
    for shapes in packed["shapes"]:
        if shapes is None:
            out.append(None)
            continue
        arrays = []
        for s in shapes:
            n = int(np.prod(s))
            arrays.append(values[k:k + n].reshape(s))
            k += n
        out.append(arrays)
    return out


def _torch_all(torch, cases):
    return _pack([_run(torch, s, p) for s, p in cases])


@pytest.mark.parametrize("cases", [[(SHAPE, p) for p in PATTERNS[i::4]] for i in range(4)]
                         + [MIXED], ids=["all0", "all1", "all2", "all3", "mixed"])
def test_index_patterns_as_pytorch(cases):
    ref = _unpack(oracle(lambda torch: _torch_all(torch, cases)))
    for (shape, pattern), want in zip(cases, ref, strict=True):
        got = _run(gradwalk, shape, pattern)
        if want is None:
            continue  # PyTorch refuses the index; gradwalk's errors are tested elsewhere
        assert got is not None, f"{pattern}: gradwalk raised, torch computed"
        for what, a, b in zip(("read", "grad", "write"), got, want, strict=True):
            assert a.shape == tuple(np.shape(b)), (pattern, what, a.shape, np.shape(b))
            np.testing.assert_array_equal(a, b, err_msg=f"{pattern}: {what}")


def test_index_jvp_follows_the_placement():
    import gradwalk.autograd.forward_ad as fwd

    x = gradwalk.arange(24.0).reshape(2, 3, 4)
    idx = gradwalk.tensor([0, 2])
    with fwd.dual_level():
        d = fwd.make_dual(x, x * 10)
        out = d[1, :, idx]
        t = fwd.unpack_dual(out).tangent
    assert tuple(out.shape) == (3, 2)
    np.testing.assert_array_equal(t.numpy(), (x * 10)[1][:, [0, 2]].numpy())


def _python_indices(m):
    """Indices made of Python objects PyTorch reads in its own way."""
    return [range(1, 3), [], [[0, 1], [1, 0]], [0, [1, 2]], [[0, 1], slice(None), 1],
            ((0, 1),), (slice(None), []), ([True, False, True],), (Ellipsis, None, [1, 0]),
            (m.tensor(1), slice(None), m.tensor([0, 1])), (m.tensor(True),), ([], []),
            (None, Ellipsis, None), (1, None, Ellipsis, -1)]


def _run_python(m):
    warnings.simplefilter("ignore")
    out = []
    for index in _python_indices(m):
        x = m.tensor(np.arange(18.0).reshape(3, 3, 2), requires_grad=True)
        r = x[index]
        r.sum().backward()
        y = m.tensor(np.arange(18.0).reshape(3, 3, 2))
        y[index] = -1.0
        out.append([r.detach().numpy(), x.grad.numpy(), y.numpy()])
    return _pack(out)


def test_python_objects_as_indices():
    got = _unpack(_run_python(gradwalk))
    want = _unpack(oracle(_run_python))
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        for what, a, b in zip(("read", "grad", "write"), g, w, strict=True):
            assert a.shape == b.shape, (k, what, a.shape, b.shape)
            np.testing.assert_array_equal(a, b, err_msg=f"index {k}: {what}")
