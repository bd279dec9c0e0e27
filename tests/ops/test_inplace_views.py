"""The no-graph path of ``add_``/``sub_(other, alpha=)`` (``inplace_views.scaled_other``): the
values, dtype and version bump of the general path, and its errors."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import inplace_views


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["add_", "sub_"])
def test_alpha_update_under_no_grad_matches_the_formula(dtype, method):
    rng = np.random.default_rng(0)
    p0, g0 = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)
    p = gradwalk.tensor(p0.copy(), requires_grad=True)
    v = p._version
    with gradwalk.no_grad():
        r = getattr(p, method)(gradwalk.tensor(g0), alpha=-0.01)
    assert r is p and p._version == v + 1 and p.dtype == gradwalk.tensor(p0).dtype
    scaled = g0 * -0.01
    np.testing.assert_array_equal(p.detach().numpy(), p0 + scaled if method == "add_"
                                  else p0 - scaled)


def test_alpha_update_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    p0, g0 = rng.standard_normal(16), rng.standard_normal(16)
    p, tp = gradwalk.tensor(p0.copy()), torch.tensor(p0.copy())
    with gradwalk.no_grad():
        p.add_(gradwalk.tensor(g0), alpha=-0.3)
    tp.add_(torch.tensor(g0), alpha=-0.3)
    # PyTorch's CPU kernel fuses the multiply-add (FMA): equal up to one rounding
    np.testing.assert_allclose(p.numpy(), tp.numpy(), rtol=1e-15, atol=1e-16)


def test_cases_left_to_the_general_path():
    assert inplace_views.scaled_other(np.multiply, np.ones(2), 2.0) is None
    assert inplace_views.scaled_other(np.add, np.ones(2, np.int64), 2.0) is None
    assert inplace_views.scaled_other(np.add, np.ones(2), 2) is None  # an int alpha
    assert inplace_views.scaled_other(np.add, np.array(1.0), 2.0) is None  # 0-d
    x = gradwalk.tensor([1, 2])
    with gradwalk.no_grad():
        x.add_(gradwalk.tensor([1, 1]), alpha=2)  # ints stay ints
        assert x.tolist() == [3, 4]
        with pytest.raises(RuntimeError):
            x.add_(gradwalk.tensor([1.0, 1.0]), alpha=0.5)  # float into an int tensor


def test_alpha_update_with_a_graph_still_records():
    w = gradwalk.ones(3, requires_grad=True)
    h = w * 1
    h.add_(gradwalk.ones(3), alpha=-0.5)
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(h.detach().numpy(), [0.5, 0.5, 0.5])


def test_update_path_of_the_methods_keeps_the_general_path_semantics():
    """``add_``/``sub_`` try ``inplace_views.update_`` first (Note [the update path]): the same
    values and version bump as ``apply_inplace``, and the cases it refuses still raise."""
    p0, g0 = np.arange(4.0), np.full(4, 0.5)
    p, q = gradwalk.tensor(p0.copy()), gradwalk.tensor(p0.copy())
    g = gradwalk.tensor(g0)
    assert inplace_views.update_(p, np.subtract, g, 1)
    assert p._version == 1
    from gradwalk.ops import elementwise, indexing
    with gradwalk.no_grad():
        indexing.apply_inplace(q, elementwise.sub, g)
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    leaf = gradwalk.ones(4, requires_grad=True)
    assert not inplace_views.update_(leaf, np.add, g, -0.1)  # grad mode on: the general path
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.add_(g, alpha=-0.1)
    with pytest.raises(RuntimeError):
        gradwalk.ones(2).add_(gradwalk.ones(3))  # shapes that do not broadcast into self
    view = gradwalk.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        view.add_(gradwalk.ones(2, 3), alpha=2.0)  # an expanded view: the general path's error
