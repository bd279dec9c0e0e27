"""The surface generated from the op declarations, and what a declaration derives and checks."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradwalk
from gradwalk.func import jvp
from gradwalk.ops import registry, shape, surface
from gradwalk.ops.generated import FUNCTIONS
from gradwalk.tensor import Tensor


def test_every_generated_op_has_its_function_method_and_inplace_method():
    generated = [op for op in registry.REGISTRY.values() if op.function is not None]
    assert len(generated) >= 30
    for op in generated:
        assert getattr(gradwalk, op.name, None) is op.function, f"gradwalk.{op.name} is missing"
        assert Tensor.__dict__.get(op.name) is op.function, f"Tensor.{op.name} is missing"
        assert callable(getattr(Tensor, op.name + "_", None)), f"Tensor.{op.name}_ is missing"
        assert op.explain is None or len(op.explain) == 1
        assert ">>> gradwalk." in op.function.__doc__
    assert set(FUNCTIONS) == {op.name for op in generated}


def test_methods_listed_by_the_surface_exist_and_are_their_functions():
    for module, names in surface.METHODS.items():
        for name in names.split():
            method = getattr(Tensor, name, None)
            assert method is not None, f"Tensor.{name} is missing"
            assert method is getattr(module, name) or name in vars(Tensor), name
    for name in surface.INPLACE.split():
        assert callable(getattr(Tensor, name + "_", None)), f"Tensor.{name}_ is missing"
    for alias, name in surface.ALIASES.items():
        assert getattr(Tensor, alias) is getattr(Tensor, name)


def test_every_public_tensor_method_is_documented():
    undocumented = [name for name, member in inspect.getmembers(Tensor)
                    if not name.startswith("_") and (callable(member) or isinstance(
                        inspect.getattr_static(Tensor, name), property))
                    and not inspect.getdoc(inspect.getattr_static(Tensor, name))]
    assert not undocumented, f"Tensor methods without a docstring: {undocumented}"


def test_generated_method_and_inplace_method_match_the_function():
    x = gradwalk.tensor([0.5, 1.5, 8.0])
    np.testing.assert_allclose(x.cbrt().numpy(), np.cbrt(x.numpy()), rtol=1e-6)
    y = x.clone()
    assert y.cbrt_() is y
    np.testing.assert_allclose(y.numpy(), np.cbrt(x.numpy()), rtol=1e-6)
    with pytest.raises(TypeError, match="cbrt\\(\\): argument 'input' must be a Tensor"):
        gradwalk.cbrt(2.0)
    assert gradwalk.sqrt(gradwalk.tensor([4])).dtype == gradwalk.float32  # ints cast
    assert gradwalk.abs(gradwalk.tensor([-4])).dtype == gradwalk.int64  # int_ok keeps them


def test_a_vjp_reading_an_unsaved_input_fails_at_declaration():
    with pytest.raises(TypeError, match=r"'bad_op'.*reads 'b' \(input 1, 'other'\).*saves"):
        registry.binary("bad_op", lambda xp, a, b: a * b,
                        lambda xp, g, out, a, b, *, needs: (g * b, g * a), saves=(0,))
    assert "bad_op" not in registry.REGISTRY


def test_elementwise_jvp_is_derived_from_the_vjp():
    mul = registry.REGISTRY["mul"]
    sin = registry.REGISTRY["sin"]
    assert sin.jvp is sin.vjp  # one input: the rule applied to the tangent
    a, b = gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0, -1.0])
    ta, tb = gradwalk.tensor([0.5, 0.25]), gradwalk.tensor([2.0, 1.0])
    _, tangent = jvp(lambda u, v: u * v, (a, b), (ta, tb))
    np.testing.assert_allclose(tangent.numpy(), (ta * b + a * tb).numpy())
    assert mul.jvp(np, (None, None), None, 1.0, 2.0) is None


def test_linear_jvp_is_derived_from_the_forward_and_view_ops_share_one_declaration():
    assert shape.VIEW.vjp is shape.RESHAPE.vjp is shape.SQUEEZE.vjp is shape.UNSQUEEZE.vjp
    assert (shape.RESHAPE.node_name, shape.UNSQUEEZE.node_name) == (
        "ViewBackward0", "UnsqueezeBackward0")
    x, t = gradwalk.arange(6.0), gradwalk.ones(6)
    _, tangent = jvp(lambda u: u.reshape(2, 3).flip(0), (x,), (t * 2,))
    np.testing.assert_allclose(tangent.numpy(), np.full((2, 3), 2.0))
