"""Lazy modules against PyTorch in float64: the sizes read from the first input, the class they
become, the state dict, and (with PyTorch's drawn values copied in) outputs and gradients."""

import copy
import pickle

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

CASES = {
    "LazyLinear": ((3,), {}, (4, 5)),
    "LazyLinear-nobias": ((3,), {"bias": False}, (2, 4, 5)),
    "LazyConv1d": ((4, 3), {"padding": 1}, (2, 5, 7)),
    "LazyConv2d": ((4, 3), {"stride": 2, "groups": 1}, (2, 6, 7, 7)),
    "LazyConv2d-groups": ((4, 3), {"groups": 2}, (2, 6, 5, 5)),
    "LazyConv2d-unbatched": ((4, 2), {}, (3, 5, 5)),
    "LazyConv3d": ((2, 2), {}, (1, 3, 4, 4, 4)),
    "LazyConvTranspose1d": ((4, 3), {"stride": 2}, (2, 5, 6)),
    "LazyConvTranspose2d": ((4, 2), {"groups": 2, "output_padding": 1, "stride": 2},
                            (2, 6, 4, 4)),
    "LazyConvTranspose3d": ((2, 2), {"stride": 2}, (1, 4, 2, 3, 2)),
    "LazyBatchNorm1d": ((), {}, (6, 3)),
    "LazyBatchNorm1d-3d": ((), {"momentum": None}, (4, 3, 5)),
    "LazyBatchNorm2d": ((), {"affine": False}, (2, 3, 4, 4)),
    "LazyBatchNorm2d-nobias": ((), {"bias": False}, (2, 3, 4, 4)),
    "LazyBatchNorm3d": ((), {"track_running_stats": False}, (2, 3, 2, 3, 3)),
    "LazyInstanceNorm1d": ((), {}, (2, 3, 6)),
    "LazyInstanceNorm2d": ((), {"affine": False, "track_running_stats": False}, (2, 3, 4, 4)),
}


def _run(lib, case, weights=None):
    name = case.split("-")[0]
    args, kwargs, shape = CASES[case]
    rng = np.random.default_rng(4)
    x1 = lib.tensor(rng.standard_normal(shape))
    x2 = lib.tensor(rng.standard_normal(shape))
    m = getattr(lib.nn, name)(*args, dtype=lib.float64, **kwargs)
    before = (type(m).__name__, repr(m), m.has_uninitialized_params(),
              sorted(k for k, _ in m.named_parameters()))
    params = list(m.parameters())
    opt = lib.optim.SGD(params, lr=0.1) if params else None  # made before the first call
    y1 = m(x1)
    after = (type(m).__name__, repr(m), {k: tuple(v.shape) for k, v in m.state_dict().items()},
             all(p is q for p, q in zip(params, m.parameters())))
    if weights is not None:  # PyTorch's drawn values, so that both continue alike
        m.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    drawn = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    y2 = m(x2)
    if opt is not None:
        (y2 * y2).sum().backward()
        grads = {k: p.grad.numpy().copy() for k, p in m.named_parameters()}
        opt.step()
    else:
        grads = {}
    final = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    return before, after, drawn, y1.shape == x1.shape or tuple(y1.shape), \
        y2.detach().numpy(), grads, final


@pytest.mark.parametrize("case", list(CASES))
def test_lazy_module_matches_pytorch(case):
    ref = oracle(lambda torch: _run(torch, case))
    ours = _run(gradwalk, case, weights=ref[2])
    assert ours[0][0] == ref[0][0] and ours[0][2] == ref[0][2] and ours[0][3] == ref[0][3]
    assert ours[0][1].replace("gradwalk", "torch") == ref[0][1]
    assert ours[1][0] == ref[1][0] and not ours[1][0].startswith("Lazy")
    assert ours[1][1] == ref[1][1]
    assert ours[1][2] == {k: tuple(v) for k, v in ref[1][2].items()}
    assert ours[1][3] and ref[1][3]  # the optimizer's tensors are the module's
    assert ours[3] == ref[3]
    np.testing.assert_allclose(ours[4], ref[4], rtol=1e-10, atol=1e-12)
    assert sorted(ours[5]) == sorted(ref[5])
    for k in ref[5]:
        np.testing.assert_allclose(ours[5][k], ref[5][k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert sorted(ours[6]) == sorted(ref[6])
    for k in ref[6]:
        np.testing.assert_allclose(ours[6][k], ref[6][k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_a_state_dict_materializes_a_lazy_module_as_pytorch():
    def run(lib):
        m = lib.nn.Sequential(lib.nn.LazyLinear(3), lib.nn.ReLU(), lib.nn.LazyLinear(2))
        uninit = [repr(v) for v in m.state_dict().values()]
        sd = {"0.weight": lib.ones(3, 4), "0.bias": lib.zeros(3), "2.weight": lib.ones(2, 3),
              "2.bias": lib.arange(2.0)}
        m.load_state_dict(sd)
        shapes = [tuple(p.shape) for p in m.parameters()]
        y = m(lib.ones(1, 4)).detach().numpy()
        return uninit, shapes, y, repr(m), m[0].in_features

    ours, ref = run(gradwalk), oracle(run)
    assert ours[0] == ref[0] == ["<UninitializedParameter>"] * 4
    assert ours[1] == [tuple(s) for s in ref[1]]
    np.testing.assert_array_equal(ours[2], ref[2])
    assert ours[3] == ref[3] and ours[4] == ref[4]


def test_to_before_the_first_call_sets_the_dtype_it_materializes_with():
    m = gradwalk.nn.Sequential(gradwalk.nn.LazyLinear(2), gradwalk.nn.LazyBatchNorm1d())
    m.double()
    m(gradwalk.ones(4, 3, dtype=gradwalk.float64))
    assert {p.dtype for p in m.parameters()} == {gradwalk.float64}
    assert m[1].running_mean.dtype == gradwalk.float64


def test_uninitialized_tensors_refuse_use_clearly():
    m = gradwalk.nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = m.weight.shape
    with pytest.raises((RuntimeError, ValueError), match="uninitialized"):
        gradwalk.matmul(gradwalk.ones(2, 2), m.weight)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        np.asarray(m.weight._data)
    assert repr(m.weight) == "<UninitializedParameter>"
    conv = gradwalk.nn.LazyConv2d(4, 3)
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input"):
        conv(gradwalk.ones(5, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        gradwalk.nn.LazyConv2d(4, 3, groups=2)(gradwalk.ones(1, 3, 5, 5))


def test_lazy_modules_copy_and_pickle_before_and_after_the_first_call():
    m = gradwalk.nn.LazyLinear(3)
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(c).__name__ == "LazyLinear" and c.has_uninitialized_params()
        assert c(gradwalk.ones(2, 4)).shape == (2, 3) and type(c).__name__ == "Linear"
    m(gradwalk.ones(1, 5))
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(c.weight.detach().numpy(), m.weight.detach().numpy())


def test_uninitialized_parameter_materializes_in_place():
    p = gradwalk.nn.UninitializedParameter(dtype=gradwalk.float64)
    same = p
    p.materialize((2, 3))
    assert same is p and type(p) is gradwalk.nn.Parameter and p.shape == (2, 3)
    assert p.dtype == gradwalk.float64 and p.requires_grad
    b = gradwalk.nn.UninitializedBuffer()
    b.materialize((4,))
    assert type(b) is gradwalk.Tensor and not b.requires_grad
