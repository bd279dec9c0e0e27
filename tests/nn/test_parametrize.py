"""Parametrizations (``nn.utils.parametrize``, ``nn.utils.parametrizations``) and the old
hook-based ``weight_norm``/``spectral_norm`` against PyTorch in float64: state-dict keys and
shapes, weights, forward outputs, the gradients of the originals, and a few SGD steps."""

import copy
import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

STEPS = 3


def _layer(lib, kind):
    rng = np.random.default_rng(3)
    if kind == "linear":
        m = lib.nn.Linear(4, 3, dtype=lib.float64)
        x = rng.standard_normal((5, 4))
    elif kind == "square":
        m = lib.nn.Linear(4, 4, dtype=lib.float64)
        x = rng.standard_normal((5, 4))
    elif kind == "conv":
        m = lib.nn.Conv2d(2, 3, 2, dtype=lib.float64)
        x = rng.standard_normal((2, 2, 4, 4))
    else:  # a transposed convolution: spectral_norm's default dim is 1 there
        m = lib.nn.ConvTranspose2d(2, 3, 2, dtype=lib.float64)
        x = rng.standard_normal((2, 2, 3, 3))
    sd = {k: lib.tensor(rng.standard_normal(tuple(v.shape))) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    return m, lib.tensor(x)


def _arrays(sd):
    return {k: v.detach().numpy().copy() for k, v in sd.items()}


def _train(lib, m, x, steps=STEPS):
    """Forward, backward and an SGD step, ``steps`` times: outputs, gradients and weights."""
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        y = m(x)
        (y * y).sum().backward()
        grads = {n: p.grad.numpy().copy() for n, p in m.named_parameters()}
        out.append((y.detach().numpy().copy(), grads, m.weight.detach().numpy().copy()))
        opt.step()
    return out, list(m.state_dict()), _arrays(m.state_dict())


def _check_run(ours, ref):
    (steps, keys, sd), (ref_steps, ref_keys, ref_sd) = ours, ref
    assert keys == ref_keys  # the order too (the oracle's dicts are sorted)
    for k in ref_sd:
        np.testing.assert_allclose(sd[k], ref_sd[k], rtol=1e-10, atol=1e-12, err_msg=k)
    for (y, g, w), (ry, rg, rw) in zip(steps, ref_steps):
        np.testing.assert_allclose(y, ry, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w, rw, rtol=1e-10, atol=1e-12)
        assert sorted(g) == sorted(rg)
        for k in rg:
            np.testing.assert_allclose(g[k], rg[k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_matches_pytorch(kind, dim):
    def run(lib):
        m, x = _layer(lib, kind)
        m = lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
        shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
        return type(m).__name__, shapes, _train(lib, m, x)

    name, shapes, ours = run(gradwalk)
    ref_name, ref_shapes, ref = oracle(run)
    assert name == ref_name == "Parametrized" + type(_layer(gradwalk, kind)[0]).__name__
    assert {k: tuple(v) for k, v in shapes.items()} == {
        k: tuple(v) for k, v in ref_shapes.items()}
    _check_run(ours, ref)


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
@pytest.mark.parametrize("train", [True, False])
def test_spectral_norm_matches_pytorch_from_its_power_vectors(kind, train):
    """The power iteration starts from random vectors: gradwalk takes PyTorch's (after its 15
    initial iterations) through the state dict, then both run the same steps."""
    def run(lib, start=None):
        m, x = _layer(lib, kind)
        m = lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=2)
        first = _arrays(m.state_dict())
        if start is not None:
            m.load_state_dict({k: lib.tensor(v) for k, v in start.items()})
        m.train(train)
        return first, _train(lib, m, x)

    ref_first, ref = oracle(lambda torch: run(torch))
    first, ours = run(gradwalk, ref_first)
    assert sorted(first) == sorted(ref_first)
    _check_run(ours, ref)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_matches_pytorch_on_a_square_weight(orthogonal_map, trivialization):
    def run(lib):
        m, x = _layer(lib, "square")
        m = lib.nn.utils.parametrizations.orthogonal(
            m, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
        w = m.weight.detach().numpy()
        return np.abs(w.T @ w - np.eye(4)).max(), _train(lib, m, x)

    err, ours = run(gradwalk)
    ref_err, ref = oracle(run)
    assert err < 1e-12 and ref_err < 1e-12
    _check_run(ours, ref)


def test_orthogonal_refuses_what_pytorch_refuses():
    m = gradwalk.nn.utils.parametrizations.orthogonal(
        gradwalk.nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = gradwalk.eye(3)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        gradwalk.nn.utils.parametrizations.orthogonal(gradwalk.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="matrix or batch of matrices"):
        gradwalk.nn.utils.parametrizations.orthogonal(gradwalk.nn.Linear(3, 3), "bias")


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_old_weight_norm_matches_pytorch(kind):
    def run(lib):
        m, x = _layer(lib, kind)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = lib.nn.utils.weight_norm(m)
        deprecated = any(issubclass(i.category, FutureWarning) for i in w)
        result = _train(lib, m, x)
        m = lib.nn.utils.remove_weight_norm(m)
        return deprecated, result, list(m.state_dict()), _arrays(m.state_dict())

    ours, ref = run(gradwalk), oracle(run)
    assert ours[0] and ref[0]
    _check_run(ours[1], ref[1])
    assert ours[2] == ref[2] == ["bias", "weight"]
    for k in ref[3]:
        np.testing.assert_allclose(ours[3][k], ref[3][k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "convT"])
def test_old_spectral_norm_matches_pytorch_from_its_power_vectors(kind):
    def run(lib, start=None):
        m, x = _layer(lib, kind)
        m = lib.nn.utils.spectral_norm(m)
        first = _arrays(m.state_dict())
        if start is not None:
            m.load_state_dict({k: lib.tensor(v) for k, v in start.items()})
        result = _train(lib, m, x)
        m = lib.nn.utils.remove_spectral_norm(m)
        return first, result, list(m.state_dict()), _arrays(m.state_dict())

    ref_first, ref, ref_keys, ref_after = oracle(lambda torch: run(torch))
    first, ours, keys, after = run(gradwalk, ref_first)
    assert sorted(first) == sorted(ref_first)
    _check_run(ours, ref)
    assert keys == ref_keys
    for k in ref_after:
        np.testing.assert_allclose(after[k], ref_after[k], rtol=1e-10, atol=1e-12)


def test_an_old_weight_norm_state_dict_loads_into_the_parametrization():
    old = gradwalk.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = gradwalk.nn.utils.weight_norm(old)
    new = gradwalk.nn.utils.parametrizations.weight_norm(gradwalk.nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy(),
                               rtol=1e-6)


class _Symmetric(gradwalk.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class _Scale(gradwalk.nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, A):
        return A / 2


def _custom(lib):
    """PyTorch's own example parametrizations, as ``lib`` modules."""
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

        def right_inverse(self, A):
            return A.triu()

    class Scale(lib.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, A):
            return A / 2

    return Symmetric, Scale


def test_a_chain_of_parametrizations_and_assignment_match_pytorch():
    def run(lib):
        P = lib.nn.utils.parametrize
        Symmetric, Scale = _custom(lib)
        m, x = _layer(lib, "square")
        P.register_parametrization(m, "weight", Symmetric())
        P.register_parametrization(m, "weight", Scale())
        keys = list(m.state_dict())
        result = _train(lib, m, x)
        sym = np.arange(16.0).reshape(4, 4)
        m.weight = lib.tensor(sym + sym.T)
        assigned = m.weight.detach().numpy().copy()
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
        original = m.weight.detach().numpy().copy()
        return keys, result, assigned, original, type(m).__name__

    ours, ref = run(gradwalk), oracle(run)
    assert ours[0] == ref[0] == ["bias", "parametrizations.weight.original"]
    _check_run(ours[1], ref[1])
    for a, b in zip(ours[2:4], ref[2:4]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert ours[4] == ref[4] == "Linear"


def test_remove_keeps_the_parameter_object_an_optimizer_holds():
    P = gradwalk.nn.utils.parametrize
    m = gradwalk.nn.Linear(3, 3)
    w = m.weight
    P.register_parametrization(m, "weight", _Symmetric())
    assert m.parametrizations.weight.original is w
    P.remove_parametrizations(m, "weight")
    assert m.weight is w and type(m) is gradwalk.nn.Linear
    np.testing.assert_array_equal(w.detach().numpy(), w.detach().numpy().T)
    assert not P.is_parametrized(m) and "parametrizations" not in m._modules


def test_cached_builds_the_weight_once():
    P = gradwalk.nn.utils.parametrize
    calls = []

    class Count(gradwalk.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    m = P.register_parametrization(gradwalk.nn.Linear(2, 2), "weight", Count())
    calls.clear()
    with P.cached():
        _ = m.weight, m.weight, m(gradwalk.ones(1, 2))
    assert len(calls) == 1
    _ = m.weight, m.weight
    assert len(calls) == 3


def test_shape_and_dtype_changes_are_refused_unless_unsafe():
    P = gradwalk.nn.utils.parametrize

    class Row(gradwalk.nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(gradwalk.nn.Linear(2, 2), "weight", Row())
    m = P.register_parametrization(gradwalk.nn.Linear(2, 2), "weight", Row(), unsafe=True)
    assert m.weight.shape == (1, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(gradwalk.nn.Linear(2, 2), "kernel", Row())
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(gradwalk.nn.Linear(2, 2), "bias")


def test_parametrized_modules_deepcopy_but_refuse_pickling():
    import pickle

    m = gradwalk.nn.utils.parametrizations.weight_norm(gradwalk.nn.Linear(2, 2))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    np.testing.assert_array_equal(c.weight.detach().numpy(), m.weight.detach().numpy())
    assert c.parametrizations.weight.original1 is not m.parametrizations.weight.original1
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(m)


def test_a_buffer_can_be_parametrized():
    P = gradwalk.nn.utils.parametrize
    m = gradwalk.nn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", _Scale())
    assert sorted(k for k in m.state_dict() if "running_var" in k) == [
        "parametrizations.running_var.original"]
    np.testing.assert_allclose(m.running_var.numpy(), np.ones(3))
