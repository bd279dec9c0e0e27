"""Index ops against PyTorch: the wrong answers they used to give and the ops added beside them
(flip copies, dtype views, narrow, 0-d inputs, take_along_dim, scatter/gather with a smaller
index, scatter_reduce with its gradients, index_copy/fill/put, masked_select/scatter, take, put).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

RNG = np.random.default_rng(7)
X34 = RNG.standard_normal((3, 4))
X4 = RNG.standard_normal(4)


def _grad_pair(m, fn, *arrays):
    """``fn``'s value and the gradients of a weighted sum of it for float inputs."""
    xs = [m.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(m, *xs)
    w = m.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)))
    leaves = [x for x in xs if x.requires_grad]
    grads = m.autograd.grad((out * w).sum(), leaves, allow_unused=True) if (
        leaves and out.requires_grad) else []
    return [out.detach().numpy()] + [None if g is None else g.numpy() for g in grads]


def _same(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        if b is None:
            assert a is None or not np.any(a)
            continue
        assert a.shape == np.shape(b), (a.shape, np.shape(b))
        assert str(a.dtype) == str(np.asarray(b).dtype), (a.dtype, np.asarray(b).dtype)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_flip_is_a_copy():
    def run(m):
        x = m.tensor(X34.copy())
        outs = []
        for f in (lambda t: t.flip(0), lambda t: m.flip(t, (0, 1))):
            f(x).mul_(10)
            outs.append(x.numpy().copy())
        return outs

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_array_equal(a, b)
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    x.flip(0).mul_(10)  # a copy: the leaf is untouched and no error is raised
    assert x.tolist() == [1.0, 2.0]


DTYPE_VIEWS = [("float32", "int32", (2, 4)), ("float32", "int64", (2, 4)),
               ("float32", "int16", (3, 2)), ("int32", "int64", (2, 2)),
               ("float64", "float32", (3,)), ("float64", "uint8", (1, 2)),
               ("int64", "int32", (2, 3)), ("float32", "bool", (2,)),
               ("int32", "int64", (3,)), ("float32", "float16", ())]


@pytest.mark.parametrize("src,dst,shape", DTYPE_VIEWS)
def test_view_with_a_dtype_reinterprets_bits(src, dst, shape):
    def run(m):
        x = m.arange(int(np.prod(shape)), dtype=getattr(m, src)).reshape(shape)
        return error_of(lambda mm: x.view(getattr(mm, dst)), m) or x.view(getattr(m, dst)).numpy()

    want = oracle(run)
    if isinstance(want, np.ndarray):
        got = run(gradwalk)
        assert got.shape == want.shape and str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(got, want)
    else:
        with pytest.raises(RuntimeError):
            gradwalk.arange(int(np.prod(shape)), dtype=getattr(gradwalk, src)).reshape(
                shape).view(getattr(gradwalk, dst))


def test_view_with_a_dtype_shares_memory_and_refuses_a_strided_last_dim():
    x = gradwalk.zeros(2, 4)
    y = x.view(gradwalk.int64)
    y[0, 0] = 1
    assert x[0, 0].item() != 0 and x._version == y._version
    with pytest.raises(RuntimeError, match="stride"):
        gradwalk.zeros(4, 3).t().view(gradwalk.int16)


@pytest.mark.parametrize("start,length", [(-3, 2), (-4, 4), (1, 2), (0, 0), (-1, 1)])
def test_narrow_negative_start(start, length):
    fn = lambda m, x: x.narrow(1, start, length) * 2  # noqa: E731
    _same(_grad_pair(gradwalk, fn, X34), oracle(lambda torch: _grad_pair(torch, fn, X34)))


ZERO_D = {
    "cumsum": lambda m, x: m.cumsum(x, 0),
    "cumsum_neg": lambda m, x: x.cumsum(-1),
    "index_select": lambda m, x: m.index_select(x, 0, m.tensor([0])),
    "index_select_0d_index": lambda m, x: x.index_select(0, m.tensor(0)),
    "gather": lambda m, x: m.gather(x, 0, m.tensor([0, 0])),
    "scatter": lambda m, x: x.scatter(0, m.tensor(0), x * 3),
    "index_add": lambda m, x: x.index_add(0, m.tensor([0]), x * 2, alpha=3),
}


@pytest.mark.parametrize("name", sorted(ZERO_D))
def test_zero_d_inputs_keep_their_shape(name):
    a = np.array(1.5)
    fn = ZERO_D[name]
    _same(_grad_pair(gradwalk, fn, a), oracle(lambda torch: _grad_pair(torch, fn, a)))


@pytest.mark.parametrize("as_tuple", [False, True])
@pytest.mark.parametrize("value", [0.0, 2.0])
def test_nonzero_of_zero_d(value, as_tuple):
    def run(m):
        r = m.nonzero(m.tensor(value), as_tuple=as_tuple)
        return [t.numpy() for t in r] if as_tuple else r.numpy()

    got, want = run(gradwalk), oracle(run)
    for a, b in zip(got if as_tuple else [got], want if as_tuple else [want], strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype


IDX_CASES = {
    "take_along_dim_broadcast": (lambda m, x: m.take_along_dim(x, m.tensor([[0], [3], [1]]), 1),
                                 X34),
    "take_along_dim_bcast_input": (lambda m, x: m.take_along_dim(
        x[:1], m.tensor([[0, 1], [3, 3], [1, 2]]), 1), X34),
    "take_along_dim_none": (lambda m, x: m.take_along_dim(x, m.tensor([5, 0, 11])), X34),
    "take_along_dim_method": (lambda m, x: x.take_along_dim(m.tensor([[2, 0, 1, 1]]), 0), X34),
    "gather_smaller": (lambda m, x: m.gather(x, 1, m.tensor([[1], [0]])), X34),
    "scatter_smaller": (lambda m, x: x.scatter(1, m.tensor([[1], [0]]), x[:2, 1:2] * 3), X34),
    "scatter_smaller_dim0": (lambda m, x: x.scatter(0, m.tensor([[2, 0]]), x[2:, 1:3] * 3),
                             X34),
    "scatter_value": (lambda m, x: x.scatter(1, m.tensor([[1, 2]]), value=4.0), X34),
    "scatter_add_smaller": (lambda m, x: x.scatter_add(0, m.tensor([[2, 0], [2, 2]]),
                                                       x[1:, 1:3] * 5), X34),
    "index_copy": (lambda m, x: x.index_copy(1, m.tensor([3, 0]), x[:, :2] * 7), X34),
    "index_fill": (lambda m, x: x.index_fill(1, m.tensor([3, 0, 3]), -2.0), X34),
    "index_fill_tensor": (lambda m, x: x.index_fill(0, m.tensor([1, 1]), x[0, 0] * 2), X34),
    "index_put": (lambda m, x: x.index_put((m.tensor([0, 2]), m.tensor([1, 1])), x[0, :2]),
                  X34),
    "index_put_accumulate": (lambda m, x: x.index_put(
        (m.tensor([0, 0, 2]),), x[1] * 2, accumulate=True), X34),
    "masked_select": (lambda m, x: m.masked_select(x, m.tensor([True, False, True, True])), X34),
    "masked_scatter": (lambda m, x: x.masked_scatter(m.tensor([[True], [False], [True]]),
                                                     x.flip(1) * 3), X34),
    "take": (lambda m, x: m.take(x, m.tensor([[0, 11], [-1, 5]])), X34),
    "put": (lambda m, x: x.put(m.tensor([0, 11, 4]), x[1, :3] * 3), X34),
    "put_accumulate": (lambda m, x: x.put(m.tensor([1, 1, 4]), x[1, :3], accumulate=True),
                       X34),
}


@pytest.mark.parametrize("name", sorted(IDX_CASES))
def test_index_ops_as_pytorch(name):
    fn, a = IDX_CASES[name]
    _same(_grad_pair(gradwalk, fn, a), oracle(lambda torch: _grad_pair(torch, fn, a)))


TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 0.0, -1.0, 2.0], [0.0, 0.0, 4.0, 1.0]])
SRC = np.array([[3.0, 0.0, 2.0, 5.0], [3.0, -1.0, 0.0, 2.0]])
INDEX = [[0, 2, 1, 0], [0, 2, 2, 1]]


def test_scatter_reads_only_the_part_of_src_the_index_covers():
    def run(m):
        x = m.tensor(X34)
        src = m.tensor(X34[::-1].copy())
        return [x.scatter(1, m.tensor([[1], [0]]), src).numpy(),
                x.scatter_add(0, m.tensor([[2, 0]]), src).numpy(),
                m.gather(x, 1, m.tensor([[3, 3, 0], [1, 0, 0]])).numpy()]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_values_and_gradients(reduce, include_self):
    def fn(m, x, s):
        return x.scatter_reduce(0, m.tensor(INDEX), s, reduce, include_self=include_self)

    _same(_grad_pair(gradwalk, fn, TIES, SRC),
          oracle(lambda torch: _grad_pair(torch, fn, TIES, SRC)))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_integers(reduce):
    def run(m):
        x = m.tensor([[5, 1], [-3, 2], [0, 7]])
        s = m.tensor([[4, -8], [2, 9]])
        return [x.scatter_reduce(0, m.tensor([[1, 1], [1, 0]]), s, reduce,
                                 include_self=inc).numpy() for inc in (True, False)]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce(reduce):
    def run(m):
        x = m.tensor(X34)
        return [x.scatter(1, m.tensor([[0, 0], [3, 3]]), m.tensor(X34[:, ::-1].copy()),
                          reduce=reduce).numpy(),
                x.scatter(0, m.tensor([[1, 1, 0]]), 2.5, reduce=reduce).numpy()]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_index_errors_are_clear():
    x = gradwalk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        gradwalk.take_along_dim(x, gradwalk.tensor([0, 1]), 1)
    with pytest.raises(RuntimeError, match="reduce argument"):
        x.scatter_reduce(0, gradwalk.tensor([[0]]), x, "max")
    with pytest.raises(IndexError, match="out of range"):
        gradwalk.take(x, gradwalk.tensor([12]))
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, -2, 3)
