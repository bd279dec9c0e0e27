"""The structural ops against PyTorch (recorded): values and gradients of the stacks, splits,
diagonals, windows, rolls, rotations and products; the views that write through (``diagonal``,
``Tensor.unfold``); the copies that do not (``flip``, ``rot90``, ``*_copy``); constructors and
PyTorch's errors. The OpInfo harness (tests/ops/test_opinfo_parity.py) checks them further."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 4))
B3 = RNG.standard_normal((2, 3, 3))
V = RNG.standard_normal(5)


def _grad_pair(m, fn, *arrays):
    xs = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    total = sum((o * m.tensor(np.linspace(-1.0, 1.5, o.numel()).reshape(tuple(o.shape)))).sum()
                for o in outs)
    grads = m.autograd.grad(total, xs, allow_unused=True)
    return [o.detach().numpy() for o in outs] + [
        np.zeros(a.shape) if g is None else g.numpy() for g, a in zip(grads, arrays)]


CASES = {
    "atleast_3d": (lambda m, a: m.atleast_3d(a[0]), (A,)),
    "hstack": (lambda m, a: m.hstack([a, a[:, :1]]), (A,)),
    "vstack_1d": (lambda m, v: m.vstack([v, v * 2]), (V,)),
    "dstack": (lambda m, a: m.dstack([a, a]), (A,)),
    "column_stack": (lambda m, v, a: m.column_stack([v[:3], a]), (V, A)),
    "tensor_split_indices": (lambda m, a: m.tensor_split(a, [1, -1, 9], dim=1), (A,)),
    "hsplit": (lambda m, a: m.hsplit(a, 2), (A,)),
    "vsplit_list": (lambda m, a: m.vsplit(a, [2]), (A,)),
    "split_with_sizes": (lambda m, v: v.split_with_sizes([2, 3]), (V,)),
    "unflatten": (lambda m, a: a.unflatten(1, (2, -1)), (A,)),
    "tile": (lambda m, a: a.tile((2, 1, 2)), (A,)),
    "roll_flat": (lambda m, a: m.roll(a, 5), (A,)),
    "roll_dims": (lambda m, a: a.roll((-1, 2), (1, 0)), (A,)),
    "rot90_k3": (lambda m, b: m.rot90(b, 3, (2, 0)), (B3,)),
    "rot90_k2": (lambda m, b: b.rot90(2, (1, 2)), (B3,)),
    "fliplr": (lambda m, a: m.fliplr(a), (A,)),
    "flipud": (lambda m, v: m.flipud(v), (V,)),
    "repeat_interleave": (lambda m, a: a.repeat_interleave(2, dim=1), (A,)),
    "repeat_interleave_flat": (lambda m, a: m.repeat_interleave(a, 2), (A,)),
    "diag_matrix": (lambda m, a: m.diag(a, 1), (A,)),
    "diagflat": (lambda m, a: m.diagflat(a[:2, :2], -1), (A,)),
    "diagonal_batch": (lambda m, b: b.diagonal(1, -1, -2), (B3,)),
    "diag_embed": (lambda m, a: m.diag_embed(a, -1, 0, 2), (A,)),
    "diagonal_scatter": (lambda m, b, a: m.diagonal_scatter(b, a[:2, :3] * 2, 0, 1, 2),
                         (B3, A)),
    "select_scatter": (lambda m, a, v: m.select_scatter(a, v[:4], 0, -1), (A, V)),
    "slice_scatter": (lambda m, a: m.slice_scatter(a, a[:, :2] * 3, 1, 0, 4, 2), (A,)),
    "trace": (lambda m, a: m.trace(a), (A,)),
    "unfold": (lambda m, a: a.unfold(1, 3, 1), (A,)),
    "unfold_overlap_dim0": (lambda m, b: b.unfold(0, 1, 1), (B3,)),
    "meshgrid_xy": (lambda m, v, a: m.meshgrid(v, a[0], indexing="xy"), (V, A)),
    "cartesian_prod": (lambda m, v, a: m.cartesian_prod(v[:2], a[0, :3]), (V, A)),
    "combinations": (lambda m, v: m.combinations(v[:4], 3), (V,)),
    "combinations_repl": (lambda m, v: m.combinations(v[:3], 2, with_replacement=True), (V,)),
    "block_diag": (lambda m, v, a: m.block_diag(v[:2], a[:2, :2], v[0]), (V, A)),
    "kron": (lambda m, a, b: m.kron(a, b), (A, B3)),
    "tensordot_int": (lambda m, b: m.tensordot(b, b.permute(1, 2, 0), 2), (B3,)),
    "broadcast_tensors": (lambda m, a, v: m.broadcast_tensors(a[:, :1], v[:4]), (A, V)),
    "sum_to_size": (lambda m, b: b.sum_to_size(3, 1), (B3,)),
    "copies": (lambda m, b: (m.permute_copy(b, (2, 0, 1)), m.t_copy(b[0]),
                             m.transpose_copy(b, 0, 2), m.unsqueeze_copy(b, 1),
                             m.squeeze_copy(b[:1]), m.view_copy(b, (6, 3)),
                             m.expand_copy(b[:, :1], (2, 4, 3)), m.alias_copy(b),
                             m.diagonal_copy(b, 0, 1, 2), m.narrow_copy(b, 2, 1, 2),
                             m.unfold_copy(b, 1, 2, 1)), (B3,)),
    "unbind_split_copies": (lambda m, b: m.unbind_copy(b, 1) + m.split_with_sizes_copy(
        b, [1, 2], 2), (B3,)),
    "mH_H": (lambda m, a, b: (a.H, b.mH), (A, B3)),
    "fill": (lambda m, a: m.fill(a, a[0, 0] * 3), (A,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_structural_ops_as_pytorch(name):
    fn, arrays = CASES[name]
    got = _grad_pair(gradwalk, fn, *arrays)
    want = oracle(lambda torch: _grad_pair(torch, fn, *arrays))
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.shape == np.shape(b), (a.shape, np.shape(b))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_views_write_through_and_copies_do_not():
    def run(m):
        x = m.tensor(B3.copy())
        x.diagonal(0, 1, 2).mul_(10)
        x.unfold(2, 2, 1)[0, 0, 0].zero_()
        m.rot90(x, 1, (1, 2)).add_(100)
        m.fliplr(x[0]).add_(100)
        m.diagonal_copy(x, 0, 1, 2).add_(100)
        return x.numpy()

    np.testing.assert_allclose(run(gradwalk), oracle(run), rtol=1e-12)


def test_gradient_through_a_write_into_the_diagonal():
    def run(m):
        x = m.tensor(B3, requires_grad=True)
        y = x * 2
        y.diagonal(0, 1, 2).mul_(y[:, 0].clone())
        (y * m.tensor(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
        return [y.detach().numpy(), x.grad.numpy()]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_constructors_as_pytorch():
    def run(m):
        x = m.ones(2, dtype=m.int32)
        return [m.tril_indices(3, 4, 1).numpy(), m.triu_indices(4, 3, -1).numpy(),
                m.tril_indices(0, 0).numpy(), x.new_zeros(2, 3).numpy(),
                x.new_ones((1, 2)).numpy(), x.new_full((2,), 5).numpy(),
                x.new_tensor([1, 2]).numpy(), x.new_empty(3).numpy().shape,
                x.new_zeros(2, dtype=m.float64).numpy(), list(m.broadcast_shapes((2, 1), 3)),
                m.repeat_interleave(m.tensor([2, 0, 1])).numpy()]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        if isinstance(a, np.ndarray):
            assert a.dtype == np.asarray(b).dtype and a.shape == np.shape(b)
            np.testing.assert_array_equal(a, b)
        else:
            assert tuple(a) == tuple(b)


ERRORS = {
    "hsplit_uneven": lambda m: m.hsplit(m.zeros(2, 5), 2),
    "rot90_same_dims": lambda m: m.rot90(m.zeros(2, 2), 1, (0, 0)),
    "diag_3d": lambda m: m.diag(m.zeros(2, 2, 2)),
    "trace_1d": lambda m: m.trace(m.zeros(3)),
    "unfold_too_big": lambda m: m.zeros(3).unfold(0, 4, 1),
    "tensordot_mismatch": lambda m: m.tensordot(m.zeros(2, 3), m.zeros(4, 5), 1),
    "broadcast_shapes": lambda m: m.broadcast_shapes((2,), (3,)),
    "sum_to_size": lambda m: m.zeros(2, 3).sum_to_size(4),
    "roll_mismatch": lambda m: m.roll(m.zeros(3, 3), (1, 2), 0),
    "select_out_of_range": lambda m: m.zeros(2, 3).select(1, 3),
    "unflatten_bad": lambda m: m.zeros(6).unflatten(0, (4, -1)),
    "view_0d_size_change": lambda m: m.tensor(1.0).view(m.float16),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_pytorch(name):
    want = oracle(lambda torch: error_of(ERRORS[name], torch))
    assert want is not None
    with pytest.raises((RuntimeError, IndexError, ValueError)) as err:
        ERRORS[name](gradwalk)
    assert want[0] in {c.__name__ for c in type(err.value).__mro__}, (want, err.value)
