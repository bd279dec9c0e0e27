"""``gradwalk.func.vmap``: the batch dim carried through every op (no loop over samples).

The broad check maps every sample of ``tests/ops/op_samples.py`` over a batch of 3 and compares
with calling it sample by sample. Ops that read values into Python cannot be batched; they must
raise an error that names the op (listed in ``NOT_BATCHABLE``, each one checked).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradwalk
import gradwalk.nn.functional as F
from gradwalk.func import _levels, _transforms, grad, jacrev, vjp, vmap
from tests.fixtures.oracle import oracle

from ..ops import op_samples  # the samples of the registry-generated tests


def t64(a):
    return gradwalk.tensor(np.asarray(a, dtype=np.float64), dtype=gradwalk.float64)


RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------- behaviour


def test_rows_and_in_dims():
    x = RNG.standard_normal((4, 3))
    w = RNG.standard_normal(3)
    out = vmap(lambda r: (r * t64(w)).sum())(t64(x))
    np.testing.assert_allclose(out.numpy(), x @ w)
    out = vmap(lambda c: c.exp().sum(), in_dims=1)(t64(x))  # columns
    np.testing.assert_allclose(out.numpy(), np.exp(x).sum(0))
    out = vmap(lambda a, b: a.dot(b), in_dims=(0, None))(t64(x), t64(w))
    np.testing.assert_allclose(out.numpy(), x @ w)
    out = vmap(lambda a, b: a * b, in_dims=(0, 1))(t64(x), t64(x.T))
    np.testing.assert_allclose(out.numpy(), x * x)


def test_logical_shapes_inside():
    seen = []

    def f(x):
        seen.append((x.shape, x.ndim, x.numel(), len(x)))
        return x.sum(-1)

    vmap(f)(t64(np.zeros((5, 2, 3))))
    assert seen == [((2, 3), 2, 6, 2)]


def test_out_dims_and_pytree_outputs():
    x = RNG.standard_normal((4, 3))
    out = vmap(lambda r: r * 2, out_dims=1)(t64(x))
    np.testing.assert_allclose(out.numpy(), 2 * x.T)
    d = vmap(lambda r: {"s": r.sum(), "p": (r * r,)})(t64(x))
    np.testing.assert_allclose(d["s"].numpy(), x.sum(1))
    np.testing.assert_allclose(d["p"][0].numpy(), x * x)


def test_unbatched_output_is_expanded():
    c = t64([1.0, 2.0])
    out = vmap(lambda r: c * 1.0)(t64(np.zeros((3, 5))))
    np.testing.assert_array_equal(out.numpy(), np.tile([1.0, 2.0], (3, 1)))


def test_pytree_inputs_with_prefix_in_dims():
    p = {"w": t64(RNG.standard_normal((2, 3))), "b": t64(RNG.standard_normal(2))}
    xs = RNG.standard_normal((5, 3))
    out = vmap(lambda p, x: p["w"] @ x + p["b"], in_dims=(None, 0))(p, t64(xs))
    np.testing.assert_allclose(out.numpy(), xs @ p["w"].numpy().T + p["b"].numpy())


def test_nested_vmap():
    x = RNG.standard_normal((3, 4, 5))
    out = vmap(vmap(lambda v: v.softmax(-1)))(t64(x))
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), e / e.sum(-1, keepdims=True))
    outer = vmap(vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))
    a, b = RNG.standard_normal(3), RNG.standard_normal(4)
    np.testing.assert_allclose(outer(t64(a), t64(b)).numpy(), np.outer(a, b))


def test_matmul_cases():
    a = RNG.standard_normal((4, 3))
    m = RNG.standard_normal((3, 2))
    bm = RNG.standard_normal((4, 3, 2))
    np.testing.assert_allclose(vmap(lambda v: v @ t64(m))(t64(a)).numpy(), a @ m)
    np.testing.assert_allclose(vmap(lambda v, w: v @ w)(t64(a), t64(bm)).numpy(),
                               np.einsum("bi,bij->bj", a, bm))
    np.testing.assert_allclose(vmap(lambda w: t64(m.T) @ w)(t64(bm)).numpy(),
                               np.einsum("ij,bjk->bik", m.T, bm))
    np.testing.assert_allclose(vmap(lambda w: w.T @ t64(a[0]))(t64(bm)).numpy(),
                               np.einsum("bij,i->bj", bm, a[0]))


def test_indexing_with_batched_indices():
    x = RNG.standard_normal((4, 6))
    idx = np.array([0, 5, 2, 2])
    out = vmap(lambda r, i: r[i])(t64(x), gradwalk.tensor(idx))
    np.testing.assert_allclose(out.numpy(), x[np.arange(4), idx])
    out = vmap(lambda r: r[1:4:2])(t64(x))
    np.testing.assert_allclose(out.numpy(), x[:, 1:4:2])


def test_where_with_batched_condition_and_relu():
    x = RNG.standard_normal((5, 3))
    out = vmap(lambda r: gradwalk.where(r > 0, r, 0.0))(t64(x))
    np.testing.assert_allclose(out.numpy(), np.maximum(x, 0))


def test_chunk_size_gives_the_same_result():
    x = RNG.standard_normal((7, 3))
    f = lambda r: r.exp().cumsum(0)  # noqa: E731
    np.testing.assert_allclose(vmap(f, chunk_size=3)(t64(x)).numpy(), vmap(f)(t64(x)).numpy())


# --------------------------------------------------------------------- autograd inside vmap


def _mlp_loss(p, x, y):
    h = F.linear(x.unsqueeze(0), p["W0"], p["b0"]).tanh()
    return F.cross_entropy(F.linear(h, p["W1"], p["b1"]), y.unsqueeze(0))


def _mlp_data(n=6, rng=RNG):
    p = {"W0": t64(rng.standard_normal((5, 3))), "b0": t64(rng.standard_normal(5)),
         "W1": t64(rng.standard_normal((4, 5))), "b1": t64(rng.standard_normal(4))}
    return p, t64(rng.standard_normal((n, 3))), gradwalk.tensor(rng.integers(0, 4, n))


def test_per_sample_gradients_match_a_loop():
    p, x, y = _mlp_data()
    got = vmap(grad(_mlp_loss), in_dims=(None, 0, 0))(p, x, y)
    for i in range(x.shape[0]):
        one = grad(_mlp_loss)(p, x[i], y[i])
        for k in p:
            np.testing.assert_allclose(got[k][i].numpy(), one[k].numpy(), rtol=1e-12)
    # their mean is the batch gradient
    leaves = {k: v.detach().requires_grad_() for k, v in p.items()}
    F.cross_entropy(F.linear(F.linear(x, leaves["W0"], leaves["b0"]).tanh(), leaves["W1"],
                             leaves["b1"]), y).backward()
    for k in p:
        np.testing.assert_allclose(got[k].numpy().mean(0), leaves[k].grad.numpy(), rtol=1e-10)


def test_backward_through_vmap_sums_over_the_batch():
    # grad outside vmap: a tensor shared by all samples gets the sum of their gradients
    w = t64([1.0, 2.0, 3.0]).requires_grad_()
    x = RNG.standard_normal((4, 3))
    out = vmap(lambda r: (r * w).sin().sum())(t64(x))
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), (np.cos(x * w.detach().numpy()) * x).sum(0))
    assert type(w.grad._data) is np.ndarray
    xs = t64(x).requires_grad_()
    (g,) = gradwalk.autograd.grad(vmap(lambda r: (r * r).sum())(xs).sum(), xs)
    np.testing.assert_allclose(g.numpy(), 2 * x)


def test_grad_of_vmap_and_jacrev_through_vmap():
    w = t64([0.5, -1.0])
    xs = t64(RNG.standard_normal((3, 2)))
    g = grad(lambda w: vmap(lambda r: (r * w).tanh().sum())(xs).sum())(w)
    expect = ((1 - np.tanh(xs.numpy() * w.numpy()) ** 2) * xs.numpy()).sum(0)
    np.testing.assert_allclose(g.numpy(), expect)
    j = jacrev(lambda w: vmap(lambda r: (r * w).sum())(xs))(w)
    np.testing.assert_allclose(j.numpy(), xs.numpy())


def test_vmap_of_vjp():
    x = t64(RNG.standard_normal(3))
    _, fn = vjp(lambda x: x.exp() * 2, x)
    basis = t64(np.eye(3))
    rows = vmap(fn)(basis)[0]
    np.testing.assert_allclose(rows.numpy(), np.diag(2 * np.exp(x.numpy())))


# ------------------------------------------------------------------------------- misuse


def test_mismatched_batch_sizes():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(lambda a, b: a + b)(t64(np.zeros((3, 2))), t64(np.zeros((4, 2))))


def test_in_dims_errors():
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda a: a, in_dims=2)(t64(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="only Tensor inputs can be mapped"):
        vmap(lambda a, n: a * n)(t64(np.zeros(3)), 2)
    with pytest.raises(ValueError, match="at least one input must be mapped"):
        vmap(lambda a: a, in_dims=None)(t64(np.zeros(3)))
    with pytest.raises(ValueError, match="one in_dim per argument"):
        vmap(lambda a, b: a, in_dims=(0,))(t64(np.zeros(3)), t64(np.zeros(3)))
    with pytest.raises(ValueError, match="ints and None"):
        vmap(lambda a: a, in_dims=0.5)


def test_non_tensor_output():
    with pytest.raises(ValueError, match="must return Tensors"):
        vmap(lambda a: 3)(t64(np.zeros(3)))


def test_data_dependent_control_flow_is_refused():
    def f(r):
        if r.sum() > 0:
            return r
        return -r

    with pytest.raises(RuntimeError, match="vmap: cannot .*Data-dependent control flow"):
        vmap(f)(t64(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match="vmap"):
        vmap(lambda r: gradwalk.tensor(r.item()))(t64(np.ones(2)))


def test_unsupported_function_names_numpy_function_and_op():
    # an op whose forward uses a NumPy function with no batching rule
    from gradwalk.ops import registry

    op = registry.Op("uses_partition", lambda xp, x: np.partition(x, 1), None, None,
                     inputs=("self",), saves=(), save_out=False, node_name=None,
                     elementwise=False)
    with pytest.raises(RuntimeError, match="'partition'.*'uses_partition'"):
        vmap(lambda r: registry.apply1(op, r))(t64(np.ones((2, 3))))


def test_levels_are_closed_after_errors():
    with pytest.raises(ValueError):
        vmap(lambda a: 3)(t64(np.zeros(3)))
    assert _levels.active_levels() == ()


# ------------------------------------------------------------------ every op: vmap vs a loop

# Ops whose public call reads values into Python or NumPy (not batchable); each must raise an
# error that says vmap cannot run it. (``to`` a device copies the values through NumPy.)
NOT_BATCHABLE = {"to_device", "median_all", "nanmedian_all"}  # median: a sort per sample


def _batch_inputs(sample, b=3):
    xs = sample.inputs()
    rng = np.random.default_rng(5)
    # small per-sample perturbations keep the values inside the sample's domain
    return [np.stack([x + 1e-3 * k * rng.standard_normal(x.shape) * (x != 0)
                      for k in range(b)]) for x in xs]


@pytest.mark.parametrize("sample", op_samples.SAMPLES, ids=[s.name for s in op_samples.SAMPLES])
def test_vmap_matches_a_loop(sample):
    batch = _batch_inputs(sample)
    call = lambda *a: sample.call(gradwalk, *a)  # noqa: E731
    if sample.name in NOT_BATCHABLE:
        with pytest.raises(RuntimeError, match="vmap"):
            vmap(call)(*[t64(x) for x in batch])
        return
    got = vmap(call)(*[t64(x) for x in batch])
    expect = np.stack([call(*[t64(x[k]) for x in batch]).detach().numpy()
                       for k in range(batch[0].shape[0])])
    assert got.shape == expect.shape
    np.testing.assert_allclose(got.detach().numpy(), expect, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["tanh", "softmax", "linear", "cross_entropy", "sum_dims",
                                  "gather_prefix", "einsum_batch", "index_tensor_pair",
                                  "var_dim_keepdim", "max_dim", "cat", "pad_reflect",
                                  "conv2d_stride_pad_nobias", "max_pool2d"])
def test_vmap_of_grad_matches_a_loop(name):
    sample = op_samples.SAMPLES_BY_NAME[name]
    batch = _batch_inputs(sample)

    def loss(*a):
        return (sample.call(gradwalk, *a) ** 2).sum()

    argnums = tuple(range(len(batch)))
    got = vmap(grad(loss, argnums=argnums))(*[t64(x) for x in batch])
    for k in range(batch[0].shape[0]):
        one = grad(loss, argnums=argnums)(*[t64(x[k]) for x in batch])
        for g, o in zip(got, one):
            np.testing.assert_allclose(g[k].numpy(), o.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------- PyTorch parity


def _torch_per_sample_grads(torch, p, x, y):
    tF = torch.nn.functional

    def tloss(p, x, y):
        h = tF.linear(x.unsqueeze(0), p["W0"], p["b0"]).tanh()
        return tF.cross_entropy(tF.linear(h, p["W1"], p["b1"]), y.unsqueeze(0))

    tp = {k: torch.tensor(v) for k, v in p.items()}
    return torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tp, torch.tensor(x), torch.tensor(y))


def test_per_sample_gradients_match_torch():
    p, x, y = _mlp_data(rng=np.random.default_rng(11))
    arrays = {k: v.numpy() for k, v in p.items()}
    theirs = oracle(lambda torch: _torch_per_sample_grads(torch, arrays, x.numpy(), y.numpy()))
    ours = vmap(grad(_mlp_loss), in_dims=(None, 0, 0))(p, x, y)
    assert sorted(theirs) == sorted(p)
    for k in p:
        np.testing.assert_allclose(ours[k].numpy(), theirs[k], rtol=1e-10, atol=1e-12)


def test_vmap_in_out_dims_match_torch():
    x = np.random.default_rng(12).standard_normal((3, 4, 5))
    f = lambda a, b: (a * b).sum(0)  # noqa: E731
    ours = vmap(f, in_dims=(2, None), out_dims=1)(t64(x), t64(x[:, :, 0]))
    theirs = oracle(lambda torch: torch.vmap(f, in_dims=(2, None), out_dims=1)(
        torch.tensor(x), torch.tensor(x[:, :, 0])))
    np.testing.assert_allclose(ours.numpy(), theirs)


@pytest.mark.parametrize("case", ["vmap(jacfwd)", "vmap(jacrev)", "vmap(hessian)",
                                  "jacrev(vmap)", "jacfwd(vmap)", "grad(vmap(grad))",
                                  "vmap(vmap(grad))", "jvp(vmap)", "vmap(jvp)"])
def test_transform_compositions_match_torch(case):
    import gradwalk.func as gf

    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal(3)

    def run(M, T):
        g = lambda v: (v.sin() * v).cumsum(0)  # noqa: E731
        s = lambda v: (v.exp() * v.sin()).sum()  # noqa: E731
        f2 = lambda w, v: ((v * w).tanh() ** 2).sum()  # noqa: E731
        X = T(x)
        return {
            "vmap(jacfwd)": lambda: M.vmap(M.jacfwd(g))(X),
            "vmap(jacrev)": lambda: M.vmap(M.jacrev(g))(X),
            "vmap(hessian)": lambda: M.vmap(M.hessian(s))(X),
            "jacrev(vmap)": lambda: M.jacrev(M.vmap(g))(X),
            "jacfwd(vmap)": lambda: M.jacfwd(M.vmap(g))(X),
            "grad(vmap(grad))": lambda: M.grad(
                lambda w: M.vmap(M.grad(f2), in_dims=(None, 0))(w, X).sum())(T(w)),
            "vmap(vmap(grad))": lambda: M.vmap(M.vmap(M.grad(s)))(T(x[:, :, None] * [1.0, 2.0])),
            "jvp(vmap)": lambda: M.jvp(M.vmap(g), (X,), (T(np.ones_like(x)),))[1],
            "vmap(jvp)": lambda: M.vmap(lambda a, v: M.jvp(g, (a,), (v,))[1])(X, T(2 * x)),
        }[case]()

    ours = run(gf, t64)
    theirs = oracle(lambda torch: run(torch.func, torch.tensor))
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-10, atol=1e-12)


_X4 = RNG.standard_normal((3, 4, 5, 6))
_IB = RNG.integers(0, 5, (3, 2))
_JB = RNG.integers(0, 6, (3, 2))
_IU = np.array([1, 3])


def _it(a):
    return gradwalk.tensor(np.asarray(a))


# (name, per-sample function of (r, index), batched index or None): the index cases where
# NumPy moves advanced-index dims (separated or preceded by slices) included
_INDEX_CASES = [
    ("slice_then_batched", lambda r, i: r[:, i], _IB),
    ("batched_first", lambda r, i: r[i % 4], _IB),
    ("two_batched", lambda r, i: r[:, i, i % 6], _IB),
    ("ellipsis_batched", lambda r, i: r[..., i], _JB),
    ("none_and_slice_before", lambda r, i: r[1:, None, i], _IB),
    ("separated_batched", lambda r, j: r[_it([0, 1]), :, j], _JB),
    ("separated_unbatched", lambda r, _: r[_it(_IU), :, _it(_IU)], None),
    ("unbatched_after_slice", lambda r, _: r[:, _it(_IU)], None),
]


@pytest.mark.parametrize("case", _INDEX_CASES, ids=[c[0] for c in _INDEX_CASES])
def test_advanced_indexing_and_its_gradient(case):
    _, fn, idx = case
    i = _it(idx if idx is not None else np.zeros(3, dtype=np.int64))
    for f in (fn, lambda r, i: grad(lambda r: (fn(r, i) ** 3).sum())(r)):
        got = vmap(f)(t64(_X4), i).numpy()
        expect = np.stack([f(t64(_X4[k]), _it(i.numpy()[k])).numpy() for k in range(3)])
        assert got.shape == expect.shape
        np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_second_order_gradients_through_a_finished_vmap():
    # create_graph backward after vmap returned: the batch is summed differentiably
    x = RNG.standard_normal((4, 3))
    w = gradwalk.tensor(RNG.standard_normal(3), dtype=gradwalk.float64, requires_grad=True)
    out = vmap(lambda r: (r * w).sin().sum())(t64(x)).sum()
    (g,) = gradwalk.autograd.grad(out, w, create_graph=True)
    assert type(g._data) is np.ndarray and g.shape == (3,)
    wn = w.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), (np.cos(x * wn) * x).sum(0))
    (h0,) = gradwalk.autograd.grad(g[0], w)
    expect = np.zeros(3)
    expect[0] = -(np.sin(x[:, 0] * wn[0]) * x[:, 0] ** 2).sum()
    np.testing.assert_allclose(h0.numpy(), expect, atol=1e-12)


# ------------------------------------------------------------------ levels are per thread


def test_vmap_levels_and_transform_depth_are_state_of_their_thread():
    inside, done, seen, errors = threading.Event(), threading.Event(), {}, []

    def per_sample(row):
        seen["levels"] = _levels.active_levels()
        seen["depth"] = _transforms.transform_depth()
        inside.set()
        assert done.wait(30)
        return (row * row).sum()

    def run():
        try:
            seen["out"] = vmap(grad(per_sample))(t64(np.arange(6.0).reshape(3, 2)))
        except BaseException as e:  # reported by the test's thread
            errors.append(e)
            inside.set()

    t = threading.Thread(target=run)
    t.start()
    try:
        assert inside.wait(30)
        # the other thread is inside vmap(grad(...)); this one is in no vmap call, no transform
        assert _levels.active_levels() == ()
        assert _transforms.transform_depth() == 0
        # and its own vmap sees only its own level
        mine = []
        out = vmap(lambda r: (mine.append(_levels.active_levels()), r * 2)[1])(t64([1.0, 2.0]))
        assert len(mine) == 1 and len(mine[0]) == 1 and mine[0][0] not in seen["levels"]
        np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])
        # a top-level grad here takes the first-order path (no graph), as outside any transform
        g = grad(lambda x: (x * x).sum())(t64([3.0]))
        assert g.grad_fn is None and g.numpy().tolist() == [6.0]
    finally:
        done.set()
        t.join(30)
    assert not errors, errors
    assert len(seen["levels"]) == 1 and seen["depth"] == 1
    np.testing.assert_array_equal(seen["out"].numpy(), 2 * np.arange(6.0).reshape(3, 2))
    assert _levels.active_levels() == ()
