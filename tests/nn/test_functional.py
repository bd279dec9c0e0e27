"""The ops behind ``gradwalk.nn`` (``gradwalk/ops/conv.py``, ``norm.py``, ``losses.py``): forward
rules (jvp) against finite differences and against the reverse rules (adjointness), and the
functional API's errors."""

import contextlib

import numpy as np
import pytest

import gradwalk
from gradwalk.nn import functional as F
from gradwalk.ops import registry
from tests.fixtures.oracle import oracle


@contextlib.contextmanager
def _recording():
    records = []

    def hook(op, args, res, params):
        records.append((op, args, res, params))

    registry._forward_hooks.append(hook)
    try:
        yield records
    finally:
        registry._forward_hooks.remove(hook)


def _t(rng, *shape, low=None, high=None):
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return gradwalk.tensor(a, requires_grad=True)


def _cases():
    rng = np.random.default_rng(0)
    ids = np.array([0, 2, 1])
    return [
        ("conv", lambda: F.conv2d(_t(rng, 2, 4, 5, 5), _t(rng, 2, 2, 3, 2), _t(rng, 2),
                                  stride=(2, 1), padding=1, groups=2)),
        ("conv", lambda: F.conv1d(_t(rng, 1, 2, 6), _t(rng, 3, 2, 2), padding="same",
                                  dilation=2)),
        ("max_pool", lambda: F.max_pool2d(_t(rng, 1, 2, 5, 5), 3, 2, 1, ceil_mode=True)),
        ("avg_pool", lambda: F.avg_pool2d(_t(rng, 1, 2, 5, 5), 3, 2, 1,
                                          count_include_pad=False)),
        ("layer_norm", lambda: F.layer_norm(_t(rng, 3, 4), (4,), _t(rng, 4), _t(rng, 4))),
        ("batch_norm", lambda: F.batch_norm(_t(rng, 4, 3, 2), None, None, _t(rng, 3),
                                            _t(rng, 3), training=True)),
        ("binary_cross_entropy", lambda: F.binary_cross_entropy(
            _t(rng, 3, 4, low=0.1, high=0.9), _t(rng, 3, 4, low=0.0, high=1.0))),
        ("l1_loss", lambda: F.l1_loss(_t(rng, 3, 4), _t(rng, 3, 4), reduction="none")),
        ("smooth_l1_loss", lambda: F.smooth_l1_loss(_t(rng, 3, 4), _t(rng, 3, 4), beta=0.5)),
        ("cross_entropy", lambda: F.cross_entropy(_t(rng, 3, 5), gradwalk.tensor(ids))),
    ]


CASES = _cases()


def _record(name, make):
    with _recording() as rec:
        make()
    mine = [r for r in rec if r[0].name == name]
    assert mine, f"the call never applied {name}"
    return mine[-1]


@pytest.mark.parametrize("name,make", CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(CASES)])
def test_forward_rule_matches_finite_differences_and_is_adjoint(name, make):
    op, args, res, params = _record(name, make)
    params = params or {}
    datas = [a._data if isinstance(a, gradwalk.Tensor) else a for a in args]
    diff = [isinstance(a, gradwalk.Tensor) and a.requires_grad for a in args]
    rng = np.random.default_rng(1)
    tangents = [rng.standard_normal(d.shape) if f else None for d, f in zip(datas, diff)]
    t = tangents[0] if len(datas) == 1 else tuple(tangents)
    out = res._data
    jt = np.broadcast_to(np.asarray(op.jvp(np, t, out, *datas, **params)), out.shape)

    def shifted(eps):
        ds = [d + eps * tg if tg is not None else d for d, tg in zip(datas, tangents)]
        return np.asarray(op.forward(np, *ds, **params))

    eps = 1e-6
    numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
    np.testing.assert_allclose(jt, numeric, rtol=1e-5, atol=1e-6)
    # adjoint: <u, J t> == sum_i <J^T u, t_i>
    u = rng.standard_normal(out.shape)
    if len(datas) == 1:
        grads = (op.vjp(np, u, out, *datas, **params),)
    else:
        grads = op.vjp(np, u, out, *datas, needs=tuple(diff), **params)
    lhs = float((u * jt).sum())
    rhs = 0.0
    for g, tg, d in zip(grads, tangents, datas):
        if tg is not None:
            g = np.asarray(g)
            if g.shape != d.shape:  # rules may leave broadcasting to the engine
                g = np.broadcast_to(g, np.broadcast_shapes(g.shape, d.shape))
                axes = tuple(range(g.ndim - d.ndim))
                g = g.sum(axis=axes) if axes else g
                g = g.sum(axis=tuple(k for k, s in enumerate(d.shape) if s == 1),
                          keepdims=True)
            rhs += float((g * tg).sum())
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)


def test_conv_of_large_input_is_fast_enough_to_be_vectorized():
    """One conv forward+backward on a CIFAR-sized batch records one node and finishes; the
    number of Python-level steps does not depend on the number of pixels (no timing
    assertion: we count applied ops instead)."""
    x = gradwalk.randn(8, 3, 32, 32, requires_grad=True)
    w = gradwalk.randn(16, 3, 3, 3, requires_grad=True)
    with _recording() as rec:
        y = F.conv2d(x, w, padding=1)
    assert [r[0].name for r in rec] == ["conv"]
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_functional_errors():
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(gradwalk.zeros(1, 1, 3, 3), gradwalk.zeros(1, 1, 2, 2), padding="full")
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(gradwalk.zeros(2, 3), (4,))
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(gradwalk.zeros(2, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(gradwalk.zeros(2, 3, 4), 2)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.conv2d([[1.0]], gradwalk.zeros(1, 1, 1, 1))


@pytest.mark.parametrize("name,kw", [("silu", {}), ("elu", dict(alpha=0.7)),
                                     ("normalize", {}), ("normalize", dict(p=1.0, dim=0))])
def test_composite_functions_match_torch(name, kw):
    x = np.random.default_rng(3).standard_normal((3, 4))

    def run(m):
        t = m.tensor(x, requires_grad=True)
        y = getattr(m.nn.functional, name)(t, **kw)
        (y * y).sum().backward()
        return y.detach().numpy(), t.grad.numpy()

    for a, b in zip(oracle(run), run(gradwalk), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_conv_bias_dtype_error():
    with pytest.raises(RuntimeError, match="expected bias of dtype"):
        F.conv2d(gradwalk.zeros(1, 1, 3, 3), gradwalk.zeros(1, 1, 2, 2),
                 gradwalk.zeros(1, dtype=gradwalk.float64))
