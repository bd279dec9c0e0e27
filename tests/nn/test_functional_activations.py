"""The composite activations of ``nn/functional_activations.py`` and their modules against
PyTorch: values, gradients (kinks included), double backward, forward mode, ``repr``."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

# inputs with the kinks of every function on them: 0, +-0.5, +-1, +-3, 6 and a random spread
POINTS = np.array([-7.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.5])


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([POINTS, rng.standard_normal(14) * 3]).reshape(4, 6)


PIECEWISE_LINEAR = {"hardtanh", "relu6", "hardsigmoid", "threshold", "hardshrink", "softshrink",
                    "rrelu"}

# torch's float64 backward of these multiplies by a float32 1/6 (relative error 3e-8); gradwalk's
# is exact, so the comparison allows torch's rounding
TORCH_ROUNDS = {"hardsigmoid": 5e-8}

# torch's double backward of selu (an elu) is 0 at exactly x = 0, while its first derivative
# there takes the negative branch (scale * alpha); the composite's second derivative at 0 is the
# negative branch's. The comparison skips that single point (a known, documented difference).
SECOND_DERIVATIVE_AT_ZERO = {"selu"}

CASES = [
    ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("mish", {}), ("selu", {}), ("celu", {}),
    ("celu", {"alpha": 0.5}), ("softsign", {}), ("softmin", {"dim": 1}),
    ("softmin", {"dim": 0}), ("logsigmoid", {}), ("glu", {}), ("glu", {"dim": 1}),
    ("tanhshrink", {}), ("threshold", {"threshold": 0.5, "value": -2.0}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 1.0}), ("softshrink", {}),
    ("softshrink", {"lambd": 1.0}), ("rrelu", {"lower": 0.1, "upper": 0.3}),
]


def _call(lib, name, x, kw):
    return getattr(lib.nn.functional, name)(x, **kw)


def _derivatives(lib, name, kw, a):
    """Value, gradient for a seeded cotangent and the gradient of that gradient's square."""
    x = lib.tensor(a, requires_grad=True)
    y = _call(lib, name, x, kw)
    c = np.random.default_rng(1).standard_normal(tuple(y.shape))
    (g,) = lib.autograd.grad((y * lib.tensor(c)).sum(), x, create_graph=True)
    out = [y.detach().numpy(), g.detach().numpy()]
    gg = None
    if g.requires_grad:
        try:
            (gg,) = lib.autograd.grad((g * g).sum(), x, allow_unused=True)
        except RuntimeError:
            # torch has no double backward for some piecewise-linear functions, whose
            # second derivative is zero wherever it exists
            assert lib is not gradwalk and name in PIECEWISE_LINEAR
    out.append(np.zeros_like(a) if gg is None else gg.numpy())
    return out


@pytest.mark.parametrize("name,kw", CASES, ids=lambda v: str(v))
def test_forward_backward_double_backward(name, kw):
    a = _inputs()
    ref = oracle(lambda torch: _derivatives(torch, name, kw, a))
    ours_all = _derivatives(gradwalk, name, kw, a)
    for what, t, ours in zip(("value", "grad", "grad of grad"), ref, ours_all):
        assert ours.dtype == t.dtype, what
        rtol = TORCH_ROUNDS.get(name, 1e-10) if what == "grad" else 1e-10
        if what == "grad of grad" and name in SECOND_DERIVATIVE_AT_ZERO:
            keep = a != 0
            ours, t = ours[keep], t[keep]
        np.testing.assert_allclose(ours, t, rtol=rtol, atol=1e-12, err_msg=what)


def _tangent(lib, name, kw, a, v):
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        y = _call(lib, name, fw.make_dual(lib.tensor(a), lib.tensor(v)), kw)
        return fw.unpack_dual(y).tangent.numpy()


@pytest.mark.parametrize("name,kw", CASES, ids=lambda v: str(v))
def test_forward_mode(name, kw):
    a = _inputs(2)
    v = np.random.default_rng(3).standard_normal(a.shape)
    ref = oracle(lambda torch: _tangent(torch, name, kw, a, v))
    np.testing.assert_allclose(_tangent(gradwalk, name, kw, a, v), ref,
                               rtol=TORCH_ROUNDS.get(name, 1e-10), atol=1e-12)


def _prelu(lib, a, w):
    x, wt = lib.tensor(a, requires_grad=True), lib.tensor(w, requires_grad=True)
    y = lib.nn.functional.prelu(x, wt)
    y.sum().backward()
    return [y.detach().numpy(), x.grad.numpy(), wt.grad.numpy()]


def test_prelu_per_channel_weight_gradient():
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((2, 3, 4)), rng.random(3)
    ref = oracle(lambda torch: _prelu(torch, a, w))
    for t, ours in zip(ref, _prelu(gradwalk, a, w)):
        np.testing.assert_allclose(ours, t, rtol=1e-12)


def test_float32_keeps_its_dtype():
    x = gradwalk.tensor([[-4.0, 0.5], [4.0, 0.0]])
    for name, kw in CASES:
        assert _call(gradwalk, name, x, kw).dtype == gradwalk.float32, name


@pytest.mark.parametrize("call,err", [
    (lambda lib: lib.nn.functional.glu(lib.ones(3)), RuntimeError),
    (lambda lib: lib.nn.functional.softshrink(lib.ones(3), -1.0), RuntimeError),
    (lambda lib: lib.nn.functional.prelu(lib.ones(2, 3), lib.ones(2)), RuntimeError),
    (lambda lib: lib.nn.Softmax2d()(lib.ones(3)), ValueError),
])
def test_errors_as_pytorch(call, err):
    raised = oracle(lambda torch: error_of(call, torch))
    assert raised is not None and err.__name__ in raised, raised
    with pytest.raises(err):
        call(gradwalk)


MODULES = [
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Mish", (), {}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (), {}), ("CELU", (0.5,), {}),
    ("Softsign", (), {}), ("Softmin", (1,), {}), ("Softmin", (), {}), ("LogSigmoid", (), {}),
    ("GLU", (), {}), ("Tanhshrink", (), {}), ("Threshold", (0.1, 20), {}),
    ("Hardshrink", (), {}), ("Softshrink", (0.3,), {}), ("PReLU", (), {}), ("PReLU", (6,), {}),
    ("RReLU", (), {}), ("Softmax2d", (), {}),
]


def _module_run(lib, name, args, kw):
    m = getattr(lib.nn, name)(*args, **kw).double().eval()
    a = _inputs(4).reshape(2, 6, 2)
    x = lib.tensor(a, requires_grad=True)
    y = m(x * 1.0)  # a computed input: in-place modules accept it
    y.sum().backward()
    return {"repr": repr(m), "params": sorted(k for k, _ in m.named_parameters()),
            "y": y.detach().numpy(), "x.grad": x.grad.numpy(),
            "param_grads": [p.grad.numpy() for _, p in m.named_parameters()]}


@pytest.mark.parametrize("name,args,kw", MODULES, ids=lambda v: str(v))
def test_modules_match_pytorch(name, args, kw):
    ref = oracle(lambda torch: _module_run(torch, name, args, kw))
    ours = _module_run(gradwalk, name, args, kw)
    assert ours["repr"] == ref["repr"]
    assert ours["params"] == ref["params"]
    np.testing.assert_allclose(ours["y"], ref["y"], rtol=1e-10, atol=1e-12)
    rtol = TORCH_ROUNDS.get(name.lower(), 1e-10)
    np.testing.assert_allclose(ours["x.grad"], ref["x.grad"], rtol=rtol, atol=1e-12)
    for tp, gp in zip(ref["param_grads"], ours["param_grads"]):
        np.testing.assert_allclose(gp, tp, rtol=1e-10)


def test_rrelu_training_draws_slopes_in_range():
    gradwalk.manual_seed(0)
    x = -gradwalk.ones(1000)
    y = gradwalk.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
