"""``gradwalk.func``: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian; their nesting,
argnums/has_aux/pytrees, misuse errors, and parity with ``torch.func`` in float64."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from gradwalk.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap
from tests.fixtures.oracle import oracle


def t64(a):
    return gradwalk.tensor(np.asarray(a, dtype=np.float64), dtype=gradwalk.float64)


RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
Y = RNG.standard_normal((3, 4))


def f_scalar(x):
    return (x.sin() * x.exp()).sum() + (x ** 3).mean()


def f_vec(x):
    return (x.tanh() * x.sigmoid()).cumsum(0)


def f_two(a, b):
    return (b @ a).tanh().sum() + (a * a).sum()


# ------------------------------------------------------------------------------- behaviour


def test_grad_of_a_polynomial():
    x = t64([1.0, 2.0, 3.0])
    np.testing.assert_allclose(grad(lambda x: (x ** 3).sum())(x).numpy(), 3 * x.numpy() ** 2)


def test_grad_does_not_touch_dot_grad_and_result_needs_no_grad():
    x = t64([1.0, 2.0]).requires_grad_()
    g = grad(lambda x: (x * x).sum())(x.detach())
    assert x.grad is None and not g.requires_grad


def test_grad_of_grad_and_third_order():
    x = t64(0.7)
    d1 = grad(lambda x: x ** 4)
    d2 = grad(d1)
    d3 = grad(d2)
    assert d1(x).item() == pytest.approx(4 * 0.7 ** 3)
    assert d2(x).item() == pytest.approx(12 * 0.7 ** 2)
    assert d3(x).item() == pytest.approx(24 * 0.7)


def test_grad_argnums_and_pytrees():
    a, b = t64(X), t64(Y)
    ga, gb = grad(f_two, argnums=(0, 1))(a, b)
    assert ga.shape == a.shape and gb.shape == b.shape
    g1 = grad(f_two, argnums=1)(a, b)
    np.testing.assert_allclose(g1.numpy(), gb.numpy())
    g_neg = grad(f_two, argnums=-1)(a, b)
    np.testing.assert_allclose(g_neg.numpy(), gb.numpy())
    params = {"w": t64([1.0, 2.0]), "b": (t64(3.0),)}
    gp = grad(lambda p: (p["w"] ** 2).sum() * p["b"][0])(params)
    assert set(gp) == {"w", "b"} and isinstance(gp["b"], tuple)
    np.testing.assert_allclose(gp["w"].numpy(), [6.0, 12.0])
    assert gp["b"][0].item() == pytest.approx(5.0)


def test_grad_has_aux_and_grad_and_value():
    x = t64([1.0, 2.0])
    g, aux = grad(lambda x: ((x * x).sum(), {"n": x.numel()}), has_aux=True)(x)
    assert aux == {"n": 2}
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    g, v = grad_and_value(lambda x: (x * x).sum())(x)
    assert v.item() == 5.0
    g, (v, aux) = grad_and_value(lambda x: ((x * x).sum(), "tag"), has_aux=True)(x)
    assert aux == "tag" and v.item() == 5.0


def test_unused_input_gets_zero_gradient():
    ga, gb = grad(lambda a, b: (a * 2).sum(), argnums=(0, 1))(t64([1.0]), t64([5.0, 6.0]))
    np.testing.assert_array_equal(gb.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(ga.numpy(), [2.0])


def test_grad_works_under_no_grad():
    with gradwalk.no_grad():
        g = grad(lambda x: (x * x).sum())(t64([3.0]))
    assert g.item() == 6.0


def test_grad_composes_with_outer_autograd():
    x = t64([1.0, 2.0]).requires_grad_()
    g = grad(lambda x: (x ** 3).sum())(x)  # 3 x^2, still connected to x
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0]))


def test_closure_over_an_outer_grad_input():
    # d/dx [ d/dy (x * y^2) at y = x ] = d/dx (2 x^2) = 4 x
    def inner(x):
        return grad(lambda y: x * y * y)(x)

    assert grad(inner)(t64(1.5)).item() == pytest.approx(6.0)


def test_vjp_and_multiple_calls():
    x = t64(X)
    out, vjp_fn = vjp(lambda x: x.exp(), x)
    (g1,) = vjp_fn(t64(np.ones(4)))
    (g2,) = vjp_fn(t64(np.full(4, 2.0)))
    np.testing.assert_allclose(g1.numpy(), np.exp(X))
    np.testing.assert_allclose(g2.numpy(), 2 * np.exp(X))
    np.testing.assert_allclose(out.numpy(), np.exp(X))


def test_vjp_tuple_outputs_and_aux():
    x = t64(X)
    out, vjp_fn, aux = vjp(lambda x: ((x * 2, x.sum()), "aux"), x, has_aux=True)
    assert aux == "aux" and isinstance(out, tuple)
    (g,) = vjp_fn((t64(np.ones(4)), t64(1.0)))
    np.testing.assert_allclose(g.numpy(), np.full(4, 3.0))


def test_jvp_basic_and_aux():
    x = t64(X)
    v = t64(np.arange(4.0))
    out, tan = jvp(lambda x: x * x, (x,), (v,))
    np.testing.assert_allclose(tan.numpy(), 2 * X * np.arange(4.0))
    assert not tan.requires_grad
    out, tan, aux = jvp(lambda x: (x.sum(), 7), (x,), (v,), has_aux=True)
    assert aux == 7 and tan.item() == pytest.approx(6.0)


def test_jacrev_and_jacfwd_agree_and_match_finite_differences():
    x = t64(X)
    jr = jacrev(f_vec)(x).numpy()
    jf = jacfwd(f_vec)(x).numpy()
    eps = 1e-6
    fd = np.stack([(f_vec(t64(X + eps * e)).numpy() - f_vec(t64(X - eps * e)).numpy()) / (2 * eps)
                   for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(jr, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-14)


def test_jacobian_shapes_argnums_and_tuple_outputs():
    a, b = t64(X), t64(Y)
    f = lambda a, b: (b @ a, a.sum())  # noqa: E731 - outputs (3,) and ()
    for tr in (jacrev, jacfwd):
        (j0a, j0b), (j1a, j1b) = tr(f, argnums=(0, 1))(a, b)
        assert j0a.shape == (3, 4) and j0b.shape == (3, 3, 4)
        assert j1a.shape == (4,) and j1b.shape == (3, 4)
        np.testing.assert_allclose(j0a.numpy(), Y)
        np.testing.assert_allclose(j1a.numpy(), np.ones(4))


def test_jacrev_chunk_size_gives_the_same_result():
    x = t64(X)
    np.testing.assert_allclose(jacrev(f_vec, chunk_size=1)(x).numpy(), jacrev(f_vec)(x).numpy())


def test_hessian_and_nested_jacobians():
    x = t64(X)
    h = hessian(f_scalar)(x).numpy()
    np.testing.assert_allclose(h, h.T, rtol=1e-12)
    np.testing.assert_allclose(jacrev(jacrev(f_scalar))(x).numpy(), h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jacfwd(jacrev(f_scalar))(x).numpy(), h, rtol=1e-10, atol=1e-12)
    d = np.diag(2 * np.exp(X) * np.cos(X) + 6 * X / 4)  # f_scalar is separable
    np.testing.assert_allclose(h, d, rtol=1e-10, atol=1e-12)


def test_hessian_vector_product_forward_over_reverse():
    x, v = t64(X), t64(np.ones(4))
    _, hv = jvp(grad(f_scalar), (x,), (v,))
    np.testing.assert_allclose(hv.numpy(), hessian(f_scalar)(x).numpy() @ np.ones(4))


def test_reverse_over_forward():
    # grad of <v, J v> for f = sum(x^3): <v, 6 x v> ... tangent = 3 x^2 v summed -> grad 6 x v
    v = t64([1.0, -2.0])

    def tangent(x):
        return jvp(lambda x: (x ** 3).sum(), (x,), (v,))[1]

    np.testing.assert_allclose(grad(tangent)(t64([1.0, 2.0])).numpy(), [6.0, -24.0])


# ------------------------------------------------------------------------------- misuse


def test_grad_requires_a_scalar_output():
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        grad(lambda x: x * 2)(t64([1.0, 2.0]))


def test_grad_rejects_non_tensor_and_integer_inputs():
    with pytest.raises(TypeError, match="Tensors"):
        grad(lambda x: x)(3.0)
    with pytest.raises(TypeError, match="floating point"):
        grad(lambda x: x.sum())(gradwalk.tensor([1, 2]))


def test_bad_argnums():
    with pytest.raises(RuntimeError, match="argnums"):
        grad(f_two, argnums=2)(t64(X), t64(Y))
    with pytest.raises(TypeError, match="argnums"):
        grad(f_two, argnums=1.0)(t64(X), t64(Y))
    with pytest.raises(RuntimeError, match="duplicates"):
        grad(f_two, argnums=(0, 0))(t64(X), t64(Y))


def test_has_aux_requires_a_pair():
    with pytest.raises(RuntimeError, match="has_aux"):
        grad(lambda x: x.sum(), has_aux=True)(t64([1.0]))


def test_vjp_fn_checks_cotangents():
    _, vjp_fn = vjp(lambda x: x * 2, t64([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp_fn(t64([1.0]))
    with pytest.raises(RuntimeError, match="pytree structure"):
        vjp_fn((t64([1.0, 1.0]), t64([1.0, 1.0])))


def test_jvp_checks_primals_and_tangents():
    with pytest.raises(RuntimeError, match="tuples"):
        jvp(lambda x: x, t64([1.0]), t64([1.0]))
    with pytest.raises(RuntimeError, match="same shape"):
        jvp(lambda x: x, (t64([1.0]),), (t64([1.0, 2.0]),))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(lambda x: x, (t64([1.0]),), (t64([1.0]), t64([1.0])))


def test_nested_forward_mode_is_refused_with_a_remedy():
    with pytest.raises(RuntimeError, match="jacfwd\\(jacrev"):
        jacfwd(jacfwd(lambda x: (x ** 3).sum()))(t64([1.0, 2.0]))


# ------------------------------------------------------------------------- PyTorch parity


def _cmp(ours, theirs):
    """gradwalk's (nested) result against torch's recorded one (arrays in the same nesting)."""
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _cmp(a, b)
        return
    assert isinstance(theirs, np.ndarray)
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["grad", "grad_argnums", "jacrev", "jacfwd", "hessian",
                                  "jacrev_argnums", "jacfwd_jacrev", "jacrev_jacrev"])
def test_matches_torch_func(name):
    import gradwalk.func as gf

    def ours_and_theirs(m):
        f = {"grad": lambda T: T.grad(f_scalar),
             "grad_argnums": lambda T: T.grad(f_two, argnums=(0, 1)),
             "jacrev": lambda T: T.jacrev(f_vec),
             "jacfwd": lambda T: T.jacfwd(f_vec),
             "hessian": lambda T: T.hessian(f_scalar),
             "jacrev_argnums": lambda T: T.jacrev(lambda a, b: (b @ a).sin(), argnums=(0, 1)),
             "jacfwd_jacrev": lambda T: T.jacfwd(T.jacrev(f_two, argnums=1), argnums=1),
             "jacrev_jacrev": lambda T: T.jacrev(T.jacrev(f_two))}[name](m)
        return f

    two = name in ("grad_argnums", "jacrev_argnums", "jacfwd_jacrev", "jacrev_jacrev")
    ours = ours_and_theirs(gf)(*((t64(X), t64(Y)) if two else (t64(X),)))
    theirs = oracle(lambda torch: ours_and_theirs(torch.func)(
        *((torch.tensor(X), torch.tensor(Y)) if two else (torch.tensor(X),))))
    _cmp(ours, theirs)


def _torch_vjp_jvp(torch, v):
    _, tfn = torch.func.vjp(f_vec, torch.tensor(X))
    return tfn(torch.tensor(v)), torch.func.jvp(f_vec, (torch.tensor(X),), (torch.tensor(v),))


def test_vjp_and_jvp_match_torch_func():
    v = np.random.default_rng(7).standard_normal(4)
    theirs_vjp, theirs_jvp = oracle(lambda torch: _torch_vjp_jvp(torch, v))
    _, fn = vjp(f_vec, t64(X))
    _cmp(fn(t64(v)), theirs_vjp)
    _cmp(jvp(f_vec, (t64(X),), (t64(v),)), theirs_jvp)


def test_vmap_of_jacrev_matches_torch():
    xs = np.random.default_rng(8).standard_normal((5, 4))
    theirs = oracle(lambda torch: torch.func.vmap(torch.func.jacrev(f_vec))(torch.tensor(xs)))
    _cmp(vmap(jacrev(f_vec))(t64(xs)), theirs)


def test_jacobians_with_aux_keep_its_structure():
    x = t64(X)
    for tr in (jacrev, jacfwd):
        j, aux = tr(lambda x: (x * 2, {"s": x.sum(), "p": (x * x,)}), has_aux=True)(x)
        np.testing.assert_allclose(j.numpy(), 2 * np.eye(4))
        assert set(aux) == {"s", "p"}
        assert aux["s"].item() == pytest.approx(X.sum())
        np.testing.assert_allclose(aux["p"][0].numpy(), X * X)
