"""Registry-generated op tests: every op's forward, reverse rule, double backward and forward rule.

For each sample of ``op_samples.SAMPLES`` (float64 inputs):

* the forward equals the NumPy reference;
* the gradient (the public path: op rule + engine, broadcasting undone centrally) equals the
  full finite-difference Jacobian contracted with a random cotangent;
* with ``create_graph=True`` the gradient of ``<grad, w>`` equals finite differences of the
  first gradient (in the inputs, and in the cotangent, which checks the transpose of the rule);
* the op's forward rule, called directly on the node the call recorded (``op.jvp`` with the
  registry's conventions), equals finite differences of the op's forward, is the adjoint of
  its reverse rule (``<u, J t> == <J^T u, t>``), and gives the same tangent under ``dxp``.

Samples on kinks and ties (``smooth=False``) skip the finite differences only.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import zlib

import numpy as np
import pytest

import gradwalk
import gradwalk.ops
from gradwalk.ops import registry

try:
    from . import op_samples
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    import op_samples

# Every op module, so that every declaration is in the registry (dxp declares scatter_into and
# index_add_into, inplace_views copy_slices...), whether or not ``import gradwalk`` loads it.
for _mod in pkgutil.iter_modules(gradwalk.ops.__path__):
    importlib.import_module(f"gradwalk.ops.{_mod.name}")

SAMPLES = op_samples.SAMPLES
ids = [s.name for s in SAMPLES]
SMOOTH = [s for s in SAMPLES if s.smooth]  # finite differences apply
smooth_ids = [s.name for s in SMOOTH]


# ---------------------------------------------------------------------------------------------
# helpers


def _rng(sample, salt: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{sample.name}/{salt}".encode()))


def _leaves(xs, requires_grad: bool):
    return [gradwalk.tensor(x, requires_grad=requires_grad) for x in xs]


def _value(sample, xs) -> np.ndarray:
    """The sample's output for arrays ``xs`` (no input requires grad)."""
    return np.array(sample.call(gradwalk, *_leaves(xs, False))._data, dtype=np.float64)


def _dense(grads, xs):
    return [np.zeros_like(x) if g is None else np.asarray(g._data, dtype=np.float64)
            for g, x in zip(grads, xs)]


def _first_grad(sample, xs, v):
    """``J^T v`` through the public path, first order (raw arrays, zeros for no gradient)."""
    ts = _leaves(xs, True)
    out = sample.call(gradwalk, *ts)
    grads = gradwalk.autograd.grad(out, ts, gradwalk.tensor(v), allow_unused=True)
    return _dense(grads, xs)


def _fd_grad(f, xs, i, eps):
    """d f / d xs[i] by central differences, for a scalar function ``f`` of the arrays."""
    g = np.zeros_like(xs[i])
    for k in range(xs[i].size):
        plus = [x.copy() for x in xs]
        minus = [x.copy() for x in xs]
        plus[i].flat[k] += eps
        minus[i].flat[k] -= eps
        g.flat[k] = (f(plus) - f(minus)) / (2 * eps)
    return g


def _close(actual, expected, sample, what):
    if isinstance(actual, list):
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _close(a, e, sample, f"{what}, input {i}")
        return
    np.testing.assert_allclose(actual, expected, rtol=sample.rtol, atol=sample.atol,
                               err_msg=f"{sample.name} ({sample.op}): {what}")


@contextlib.contextmanager
def _recording():
    """Record every op application: ``(op, args, result, params)``."""
    records = []

    def hook(op, args, res, params):
        records.append((op, args, res, params))

    registry._forward_hooks.append(hook)
    try:
        yield records
    finally:
        registry._forward_hooks.remove(hook)


def _recorded(sample):
    """Run the sample (inputs require grad) and return the last application of its op."""
    xs = sample.inputs()
    with _recording() as records:
        sample.call(gradwalk, *_leaves(xs, True))
    mine = [r for r in records if r[0].name == sample.op]
    assert mine, f"{sample.name}: the call never applied op {sample.op!r}"
    return mine[-1]


def _has_tangent(a) -> bool:
    return isinstance(a, gradwalk.Tensor) and a._data.dtype.kind in "fc" and a.requires_grad


def _random(rng, shape, dtype):
    """Standard normal values of ``dtype``; complex ones get a random imaginary part too (a
    complex node inside a sample: its rules are checked in real coordinates)."""
    r = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        r = r + 1j * rng.standard_normal(shape)
    return r.astype(dtype)


def _real_float(a):
    """float64, or complex128 for complex values (never a silent drop of the imaginary part)."""
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _tangents(sample, args, rng):
    """A random tangent per input with one (None elsewhere), in the op's tangent space."""
    ts = [_random(rng, a.shape, a._data.dtype) if _has_tangent(a) else None for a in args]
    if sample.tangent_space is not None:
        ts = [None if t is None else sample.tangent_space(k, t) for k, t in enumerate(ts)]
    return ts


def _call_jvp(op, tangents, out, datas, params):
    """``op.jvp`` per Note [rules]: a bare tangent for one input, else a tuple (None = zero)."""
    t = tangents[0] if len(datas) == 1 else tuple(tangents)
    r = op.jvp(np, t, out, *datas, **(params or {}))
    if r is None:
        return np.zeros(out.shape)
    r = _real_float(r)
    # like reverse rules, forward rules may leave broadcasting to the caller
    assert np.broadcast_shapes(r.shape, out.shape) == out.shape, (
        f"{op.name}: jvp returned shape {r.shape}, not broadcastable to the output {out.shape}")
    return np.broadcast_to(r, out.shape)


def _sum_to(g, shape):
    nd = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(nd))) if nd else g
    axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


# ---------------------------------------------------------------------------------------------
# the registry is covered


def test_every_registered_op_has_a_sample():
    covered = {s.op for s in SAMPLES}
    missing = sorted(set(registry.REGISTRY) - covered)
    assert not missing, (
        f"ops declared in the registry without a sample in tests/ops/op_samples.py: {missing}. "
        "Add one sample per op (a public call, shapes, domain, NumPy reference).")


def test_every_sample_names_a_registered_op():
    unknown = sorted({s.op for s in SAMPLES} - set(registry.REGISTRY))
    assert not unknown, f"samples name ops that are not in the registry: {unknown}"


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_sample_records_its_op_node(sample):
    op, args, res, params = _recorded(sample)
    node = res.grad_fn
    assert node is not None and node.op is op, (
        f"{sample.name}: the result of {op.name} has no node of that op")


# ---------------------------------------------------------------------------------------------
# forward


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_forward_matches_numpy(sample):
    xs = sample.inputs()
    out = sample.call(gradwalk, *_leaves(xs, False))
    expected = np.asarray(sample.ref(*xs))
    assert out.shape == expected.shape, f"{sample.name}: shape {out.shape} != {expected.shape}"
    assert out._data.dtype == np.float64, f"{sample.name}: dtype {out._data.dtype}"
    np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-12,
                               err_msg=f"{sample.name} ({sample.op}): forward")


# ---------------------------------------------------------------------------------------------
# reverse rule


@pytest.mark.parametrize("sample", SMOOTH, ids=smooth_ids)
def test_reverse_rule_matches_finite_differences(sample):
    xs = sample.inputs()
    out_shape = _value(sample, xs).shape
    v = _rng(sample, "v").standard_normal(out_shape)
    grads = _first_grad(sample, xs, v)
    for i, x in enumerate(xs):
        assert grads[i].shape == x.shape
        expected = _fd_grad(lambda ys: float(np.sum(v * _value(sample, ys))), xs, i, sample.eps)
        _close(grads[i], expected, sample, f"gradient of input {i}")


# ---------------------------------------------------------------------------------------------
# double backward


@pytest.mark.parametrize("sample", [s for s in SMOOTH if s.double],
                         ids=[s.name for s in SMOOTH if s.double])
def test_double_backward_matches_finite_differences(sample):
    xs = sample.inputs()
    rng = _rng(sample, "double")
    out_shape = _value(sample, xs).shape
    v = rng.standard_normal(out_shape)
    ws = [rng.standard_normal(x.shape) for x in xs]

    ts = _leaves(xs, True)
    vt = gradwalk.tensor(v, requires_grad=True)
    out = sample.call(gradwalk, *ts)
    grads = gradwalk.autograd.grad(out, ts, vt, create_graph=True, allow_unused=True)
    _close(_dense(grads, xs), _first_grad(sample, xs, v), sample, "create_graph gradient")
    terms = [(g * gradwalk.tensor(w)).sum() for g, w in zip(grads, ws)
             if g is not None and g.requires_grad]
    if terms:
        s = terms[0]
        for term in terms[1:]:
            s = s + term
        second = _dense(gradwalk.autograd.grad(s, ts + [vt], allow_unused=True), xs + [v])
    else:  # the gradient does not depend on the inputs or the cotangent
        second = [np.zeros_like(a) for a in xs + [v]]

    def inner(ys):
        return float(sum(np.sum(g * w) for g, w in zip(_first_grad(sample, ys, v), ws)))

    for i in range(len(xs)):
        _close(second[i], _fd_grad(inner, xs, i, sample.eps), sample,
               f"second derivative in input {i}")
    # d<J^T v, w>/dv = J w: the reverse rule's own reverse rule
    eps = sample.eps
    jw = (_value(sample, [x + eps * w for x, w in zip(xs, ws)])
          - _value(sample, [x - eps * w for x, w in zip(xs, ws)])) / (2 * eps)
    _close(second[-1], jw, sample, "second derivative in the cotangent")


# ---------------------------------------------------------------------------------------------
# forward rule (jvp), called directly on the recorded node's op


@pytest.mark.parametrize("sample", SMOOTH, ids=smooth_ids)
def test_jvp_matches_finite_differences(sample):
    op, args, res, params = _recorded(sample)
    rng = _rng(sample, "jvp")
    datas = [a._data if isinstance(a, gradwalk.Tensor) else a for a in args]
    tangents = _tangents(sample, args, rng)
    assert any(t is not None for t in tangents)
    out = res._data
    jvp = _call_jvp(op, tangents, out, datas, params)

    forward = sample.jvp_forward or op.forward
    eps = sample.eps

    def at(sign):
        moved = [d if t is None else d + sign * eps * t for d, t in zip(datas, tangents)]
        return _real_float(forward(np, *moved, **(params or {})))

    _close(jvp, (at(1) - at(-1)) / (2 * eps), sample, "jvp")


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_jvp_is_adjoint_of_vjp(sample):
    op, args, res, params = _recorded(sample)
    node = res.grad_fn
    rng = _rng(sample, "adjoint")
    datas = [a._data if isinstance(a, gradwalk.Tensor) else a for a in args]
    tangents = _tangents(sample, args, rng)
    out = res._data
    jvp = _call_jvp(op, tangents, out, datas, params)
    u = _random(rng, out.shape, out.dtype)

    # the reverse rule, called the way the engine calls it (saved values, ``needs``)
    saved = [s._data if isinstance(s, gradwalk.Tensor) else s for s in node.saved]
    kw = dict(params or {})
    if len(saved) == 1:
        grads = (op.vjp(np, u, node.out, *saved, **kw),)
    else:
        grads = op.vjp(np, u, node.out, *saved, needs=tuple(e is not None for e in node.edges),
                       **kw)
    rhs = 0.0
    for g, t, a in zip(grads, tangents, args):
        if t is not None and g is not None:
            # the real inner product Re(sum(conj(a) b)): PyTorch's complex gradient convention
            rhs += float(np.sum(np.conj(_sum_to(_real_float(g), a.shape)) * t).real)
    lhs = float(np.sum(np.conj(u) * jvp).real)
    tol = (1e-9 if sample.atol < 1e-5 else 1e-4) * max(1.0, abs(lhs), abs(rhs))
    assert abs(lhs - rhs) <= tol, (
        f"{sample.name} ({op.name}): <u, J t> = {lhs} but <J^T u, t> = {rhs}")


@pytest.mark.parametrize("sample", SAMPLES, ids=ids)
def test_jvp_rule_runs_on_the_differentiable_namespace(sample):
    """The forward rule with ``xp = dxp`` on Tensors (forward mode under ``create_graph``, or
    reverse over forward) gives the tangent it gives on raw arrays."""
    from gradwalk.ops import dxp

    op, args, res, params = _recorded(sample)
    rng = _rng(sample, "jvp")
    datas = [a._data if isinstance(a, gradwalk.Tensor) else a for a in args]
    tangents = _tangents(sample, args, rng)
    expected = _call_jvp(op, tangents, res._data, datas, params)
    ts = [None if t is None else gradwalk.tensor(t, requires_grad=True) for t in tangents]
    t = ts[0] if len(args) == 1 else tuple(ts)
    r = op.jvp(dxp, t, res, *args, **(params or {}))
    assert isinstance(r, gradwalk.Tensor), f"{sample.name}: jvp under dxp gave {type(r)}"
    _close(np.broadcast_to(r._data, res.shape), expected, sample, "jvp under dxp")
