"""Bad input: a clear error of the right type at the call that misuses, naming the op and the
shapes or dtypes, and never a bare NumPy error."""

import os
import traceback

import numpy as np
import pytest

import gradwalk
import gradwalk.nn.functional as F

A = gradwalk.ones(2, 3)
B = gradwalk.ones(4, 5)
F64 = gradwalk.ones(3, 2, dtype=gradwalk.float64)
NUMPY_DIR = os.path.dirname(np.__file__)

# Phrases only NumPy says: a message containing one leaked out of NumPy.
NUMPY_PHRASES = ["axis", "operands could not be broadcast", "ufunc", "ndarray", "numpy.",
                 "not aligned", "array is not broadcastable", "could not broadcast input array",
                 "inhomogeneous"]


def _check_clear(exc: BaseException) -> None:
    """Raised by gradwalk's own code, with no NumPy error chained in front of it."""
    frames = traceback.extract_tb(exc.__traceback__)
    assert not frames[-1].filename.startswith(NUMPY_DIR), f"raised inside NumPy: {exc}"
    context = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    assert context is None, f"{exc!r} shows a chained {context!r}"
    message = str(exc)
    for phrase in NUMPY_PHRASES:
        assert phrase not in message.lower(), f"NumPy's words in {message!r}"


# (name, call, exception type, words the message must contain)
CASES = [
    # shapes that do not broadcast: the op and both shapes
    ("add", lambda: A + B, RuntimeError, ["add()", "[2, 3]", "[4, 5]"]),
    ("radd", lambda: B + A, RuntimeError, ["add()", "[4, 5]", "[2, 3]"]),
    ("sub", lambda: A - B, RuntimeError, ["sub()", "[2, 3]", "[4, 5]"]),
    ("mul", lambda: A * B, RuntimeError, ["mul()", "[2, 3]", "[4, 5]"]),
    ("div", lambda: A / B, RuntimeError, ["div()", "[2, 3]", "[4, 5]"]),
    ("pow", lambda: A ** B, RuntimeError, ["pow()", "[2, 3]", "[4, 5]"]),
    ("maximum", lambda: gradwalk.maximum(A, B), RuntimeError, ["maximum()", "[2, 3]", "[4, 5]"]),
    ("eq", lambda: A == B, RuntimeError, ["eq()", "[2, 3]", "[4, 5]"]),
    ("lt", lambda: A < B, RuntimeError, ["lt()", "[2, 3]", "[4, 5]"]),
    ("logical_and", lambda: gradwalk.logical_and(A > 0, B > 0), RuntimeError,
     ["logical_and()", "[2, 3]", "[4, 5]"]),
    ("where", lambda: gradwalk.where(A > 0, A, B), RuntimeError, ["where()", "[2, 3]", "[4, 5]"]),
    ("add_", lambda: gradwalk.ones(2, 3).add_(gradwalk.ones(4, 3)), RuntimeError,
     ["add()", "[2, 3]", "[4, 3]"]),
    ("masked_fill", lambda: A.masked_fill(gradwalk.ones(4, dtype=gradwalk.bool), 0.0),
     RuntimeError, ["masked_fill()", "[4]", "[2, 3]"]),
    ("broadcast_to", lambda: A.broadcast_to((4, 5)), RuntimeError, ["[4, 5]", "[2, 3]"]),
    ("expand", lambda: A.expand(4, 3), RuntimeError, ["[4, 3]", "[2, 3]"]),
    # matrix products: the op and the shapes
    ("matmul", lambda: A @ B, RuntimeError, ["matmul()", "2x3", "4x5"]),
    ("matmul 1-D", lambda: gradwalk.ones(3) @ gradwalk.ones(4), RuntimeError,
     ["matmul()", "1x3", "4x1"]),
    ("matmul batched", lambda: gradwalk.ones(2, 3, 4) @ gradwalk.ones(2, 5, 6), RuntimeError,
     ["matmul()", "[2, 3, 4]", "[2, 5, 6]"]),
    ("matmul batch dims", lambda: gradwalk.ones(2, 3, 4) @ gradwalk.ones(3, 4, 5), RuntimeError,
     ["matmul()", "[2]", "[3]"]),
    ("matmul 0-D", lambda: gradwalk.tensor(2.0) @ A, RuntimeError, ["matmul()", "0D"]),
    ("mm", lambda: gradwalk.mm(A, B), RuntimeError, ["mm()", "2x3", "4x5"]),
    ("mm 1-D", lambda: gradwalk.mm(gradwalk.ones(3), B), RuntimeError, ["mm()", "1-D"]),
    ("bmm", lambda: gradwalk.bmm(gradwalk.ones(2, 3, 4), gradwalk.ones(2, 5, 6)), RuntimeError,
     ["bmm()", "[2, 4]", "[2, 5]"]),
    ("mv", lambda: gradwalk.mv(A, gradwalk.ones(4)), RuntimeError, ["mv()", "2x3", "(4)"]),
    ("dot", lambda: gradwalk.dot(gradwalk.ones(3), gradwalk.ones(4)), RuntimeError,
     ["dot()", "[3]", "[4]"]),
    ("linear", lambda: F.linear(A, gradwalk.ones(4, 5)), RuntimeError, ["linear()", "2x3"]),
    # dims out of range: the op and the valid range
    ("sum dim", lambda: A.sum(2), IndexError, ["sum()", "[-2, 1]", "got 2"]),
    ("mean dim", lambda: A.mean(-3), IndexError, ["mean()", "[-2, 1]", "got -3"]),
    ("max dim", lambda: A.max(2), IndexError, ["max()", "got 2"]),
    ("argmax dim", lambda: A.argmax(5), IndexError, ["argmax()", "got 5"]),
    ("softmax dim", lambda: A.softmax(2), IndexError, ["softmax()", "got 2"]),
    ("log_softmax dim", lambda: A.log_softmax(-3), IndexError, ["log_softmax()", "got -3"]),
    ("cat dim", lambda: gradwalk.cat([A, A], 2), IndexError, ["cat()", "got 2"]),
    ("stack dim", lambda: gradwalk.stack([A, A], 4), IndexError, ["stack()", "[-3, 2]"]),
    ("transpose dim", lambda: A.transpose(0, 2), IndexError, ["transpose()", "got 2"]),
    ("unsqueeze dim", lambda: A.unsqueeze(3), IndexError, ["unsqueeze()", "[-3, 2]"]),
    ("squeeze dim", lambda: A.squeeze(2), IndexError, ["squeeze()", "got 2"]),
    ("gather dim", lambda: A.gather(2, gradwalk.zeros(2, 3, dtype=gradwalk.int64)), IndexError,
     ["gather()", "got 2"]),
    ("index_select dim", lambda: A.index_select(2, gradwalk.tensor([0])), IndexError,
     ["index_select()", "got 2"]),
    ("cumsum dim", lambda: A.cumsum(2), IndexError, ["cumsum()", "got 2"]),
    ("flip dim", lambda: A.flip(2), IndexError, ["flip()", "got 2"]),
    ("permute dim", lambda: A.permute(0, 2), IndexError, ["permute()", "got 2"]),
    ("size dim", lambda: A.size(2), IndexError, ["size()", "got 2"]),
    ("dim of a scalar", lambda: gradwalk.tensor(1.0).sum(1), IndexError, ["[-1, 0]", "got 1"]),
    ("non-int dim", lambda: A.sum(dim=1.5), TypeError, ["sum()", "float"]),
    # integer and bool tensors cannot require grad
    ("int requires grad", lambda: gradwalk.tensor([1, 2], requires_grad=True), RuntimeError,
     ["floating point", "int64"]),
    ("int requires_grad_", lambda: gradwalk.arange(3).requires_grad_(), RuntimeError,
     ["floating point", "int64"]),
    ("int32 factory", lambda: gradwalk.zeros(2, dtype=gradwalk.int32, requires_grad=True),
     RuntimeError, ["int32"]),
    ("bool requires grad", lambda: gradwalk.tensor([True]).requires_grad_(), RuntimeError,
     ["floating point", "bool"]),
    # incompatible dtypes: the op and both dtypes
    ("mm dtypes", lambda: gradwalk.mm(A, F64), RuntimeError, ["mm()", "float32", "float64"]),
    ("matmul dtypes", lambda: A @ F64, RuntimeError, ["matmul()", "float32", "float64"]),
    ("bmm dtypes", lambda: gradwalk.bmm(gradwalk.ones(1, 2, 3),
                                        gradwalk.ones(1, 3, 2, dtype=gradwalk.float64)),
     RuntimeError, ["bmm()", "float32", "float64"]),
    ("dot dtypes", lambda: gradwalk.dot(gradwalk.ones(3), gradwalk.ones(3, dtype=gradwalk.float64)),
     RuntimeError, ["dot()", "float32", "float64"]),
    ("gather float index", lambda: A.gather(1, gradwalk.tensor([[0.0]])), RuntimeError,
     ["gather()", "int64", "float32"]),
    ("mean of ints", lambda: gradwalk.arange(3).mean(), RuntimeError, ["mean()", "int64"]),
    ("rand int dtype", lambda: gradwalk.rand(2, dtype=gradwalk.int64), TypeError,
     ["rand()", "int64"]),
    # numpy() while requiring grad
    ("numpy", lambda: gradwalk.ones(2, requires_grad=True).numpy(), RuntimeError,
     ["numpy()", "requires grad", "detach()"]),
    ("np.asarray", lambda: np.asarray(gradwalk.ones(2, requires_grad=True)), RuntimeError,
     ["numpy()", "requires grad"]),
    # indexing out of range
    ("int index", lambda: A[2], IndexError, ["index 2", "dimension 0", "size 2"]),
    ("negative index", lambda: A[-3], IndexError, ["index -3", "dimension 0", "size 2"]),
    ("second dim index", lambda: A[:, 3], IndexError, ["index 3", "dimension 1", "size 3"]),
    ("too many indices", lambda: A[0, 0, 0], IndexError, ["too many indices", "2"]),
    ("tensor index", lambda: A[gradwalk.tensor([0, 2])], IndexError,
     ["index 2", "dimension 0", "size 2"]),
    ("list index", lambda: A[[0, 5]], IndexError, ["index 5", "size 2"]),
    ("float index", lambda: A[1.5], TypeError, ["float"]),
    ("float tensor index", lambda: A[gradwalk.tensor([0.0])], IndexError, ["float32"]),
    ("mask shape", lambda: A[gradwalk.tensor([True, False, True])], IndexError, ["[3]", "[2]"]),
    ("setitem index", lambda: gradwalk.ones(2, 3).__setitem__(5, 1.0), IndexError,
     ["index 5", "size 2"]),
    ("setitem value shape", lambda: gradwalk.ones(2, 3).__setitem__(0, gradwalk.ones(4)),
     RuntimeError, ["[4]", "[3]"]),
    ("gather index", lambda: A.gather(1, gradwalk.tensor([[0, 3]])), RuntimeError,
     ["gather()", "index 3", "size 3"]),
    ("gather negative", lambda: A.gather(1, gradwalk.tensor([[-4, 0]])), RuntimeError,
     ["gather()", "-4"]),
    ("gather ndim", lambda: A.gather(1, gradwalk.tensor([0])), RuntimeError, ["gather"]),
    ("index_select index", lambda: A.index_select(1, gradwalk.tensor([3])), IndexError,
     ["index_select()", "index 3", "size 3"]),
    ("index_select 2-D index", lambda: A.index_select(0, gradwalk.tensor([[0]])), IndexError,
     ["index_select()", "vector"]),
    ("scatter_add index", lambda: gradwalk.zeros(3).scatter_add(0, gradwalk.tensor([5]),
                                                                 gradwalk.ones(1)),
     RuntimeError, ["scatter_add()", "index 5", "size 3"]),
    ("index_add index", lambda: gradwalk.zeros(3).index_add(0, gradwalk.tensor([5]),
                                                             gradwalk.ones(1)),
     IndexError, ["index_add()", "index 5", "size 3"]),
    ("index_add count", lambda: gradwalk.zeros(3).index_add(0, gradwalk.tensor([0, 1]),
                                                             gradwalk.ones(3)),
     RuntimeError, ["index_add()", "(2)", "(3)"]),
    ("cross_entropy target", lambda: F.cross_entropy(gradwalk.ones(2, 3), gradwalk.tensor([0, 5])),
     IndexError, ["cross_entropy()", "5"]),
    # shapes of shape ops
    ("reshape", lambda: A.reshape(4, 2), RuntimeError, ["[4, 2]", "6"]),
    ("view", lambda: A.view(-1, 4), RuntimeError, ["[-1, 4]", "6"]),
    ("cat shapes", lambda: gradwalk.cat([A, B]), RuntimeError, ["[2, 3]", "[4, 5]"]),
    ("stack shapes", lambda: gradwalk.stack([A, B]), RuntimeError, ["stack", "[2, 3]", "[4, 5]"]),
    # values and types
    ("item", lambda: A.item(), RuntimeError, ["6 elements"]),
    ("bool", lambda: bool(A), RuntimeError, ["ambiguous", "[2, 3]"]),
    ("add a string", lambda: A + "x", TypeError, ["add()", "str"]),
    ("add None", lambda: A + None, TypeError, ["add()", "NoneType"]),
    ("tensor of str", lambda: gradwalk.tensor("abc"), TypeError, ["str"]),
    ("negative size", lambda: gradwalk.zeros(2, -1), RuntimeError, ["negative dimension -1"]),
    ("grad of wrong size", lambda: setattr(gradwalk.ones(2, requires_grad=True), "grad",
                                           gradwalk.ones(3)), RuntimeError, ["[2]", "[3]"]),
]


@pytest.mark.parametrize("name,call,exc_type,words", CASES, ids=[c[0] for c in CASES])
def test_misuse_raises_a_clear_error(name, call, exc_type, words):
    with pytest.raises(exc_type) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"
    _check_clear(info.value)


# autograd misuse


def test_backward_twice_names_the_remedy():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x.exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as info:
        y.backward()
    _check_clear(info.value)


def test_backward_of_non_scalar_names_the_shape_and_remedy():
    x = gradwalk.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\[2, 3\].*gradient") as info:
        (x * 2).backward()
    _check_clear(info.value)


def test_backward_without_grad_fn():
    with pytest.raises(RuntimeError, match="does not require grad") as info:
        gradwalk.ones(2).sum().backward()
    _check_clear(info.value)


def test_in_place_on_a_leaf_that_requires_grad():
    w = gradwalk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf Variable that requires grad.*no_grad") as info:
        w.add_(1.0)
    _check_clear(info.value)


def test_modified_saved_value_names_op_shape_and_versions():
    x = gradwalk.ones(3, requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    with gradwalk.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*\[3\]") as info:
        y.backward()
    assert "version 1" in str(info.value) and "expected version 0" in str(info.value)
    _check_clear(info.value)


def test_the_checker_itself_catches_bare_numpy_errors():
    """Guard the guard: a raw NumPy error fails the checks above."""
    with pytest.raises(ValueError) as info:
        np.ones((2, 3)) + np.ones((4, 5))
    with pytest.raises(AssertionError):
        _check_clear(info.value)
