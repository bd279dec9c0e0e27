"""Factories: PyTorch's names, arguments, dtype inference and defaults; the seeded RNG."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle


@pytest.fixture
def default_float64():
    gradwalk.set_default_dtype(gradwalk.float64)
    try:
        yield
    finally:
        gradwalk.set_default_dtype(gradwalk.float32)


def _same_name(gw_dtype, torch_dtype: str) -> bool:
    """gradwalk's dtype has the name of torch's (given as its repr)."""
    return repr(gw_dtype).replace("gradwalk.", "torch.") == torch_dtype


# ---------------------------------------------------------------------------------- tensor()

INFERENCE = [
    (3.0, gradwalk.float32),
    (3, gradwalk.int64),
    (True, gradwalk.bool),
    ([1, 2.5], gradwalk.float32),
    ([True, 2], gradwalk.int64),
    ([[1, 2], [3, 4]], gradwalk.int64),
    ([[True], [False]], gradwalk.bool),
    (np.array([1.0, 2.0]), gradwalk.float64),
    (np.array([1.0], dtype=np.float32), gradwalk.float32),
    (np.array([1], dtype=np.int32), gradwalk.int32),
    (np.float64(1.5), gradwalk.float64),
    (np.array([1], dtype=np.uint8), gradwalk.uint8),
]


@pytest.mark.parametrize("data,expected", INFERENCE)
def test_tensor_infers_dtype_like_pytorch(data, expected):
    assert gradwalk.tensor(data).dtype is expected


@pytest.mark.parametrize("data,expected", INFERENCE)
def test_tensor_dtype_inference_matches_torch(data, expected):
    assert _same_name(gradwalk.tensor(data).dtype, oracle(lambda torch: torch.tensor(data).dtype))


def test_tensor_values_and_shape():
    t = gradwalk.tensor([[1.5, 2.0, -3.0], [4.0, 5.0, 6.25]])
    assert t.shape == (2, 3)
    assert t.tolist() == [[1.5, 2.0, -3.0], [4.0, 5.0, 6.25]]
    assert gradwalk.tensor(2.5).shape == ()


def test_tensor_explicit_dtype_converts():
    assert gradwalk.tensor([1, 2], dtype=gradwalk.float64).tolist() == [1.0, 2.0]
    assert gradwalk.tensor([1.7, -1.7], dtype=gradwalk.int64).tolist() == [1, -1]  # truncates
    assert gradwalk.tensor([0, 2], dtype=gradwalk.bool).tolist() == [False, True]


def test_tensor_copies_numpy_data_but_as_tensor_and_from_numpy_share():
    a = np.array([1.0, 2.0])
    copied, shared, from_np = gradwalk.tensor(a), gradwalk.as_tensor(a), gradwalk.from_numpy(a)
    a[0] = 10.0
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [10.0, 2.0]
    assert from_np.tolist() == [10.0, 2.0]
    assert from_np.dtype is gradwalk.float64


def test_tensor_of_a_tensor_copies():
    src = gradwalk.tensor([1.0, 2.0])
    dst = gradwalk.tensor(src)
    src[0] = 5.0
    assert dst.tolist() == [1.0, 2.0]


def test_tensor_from_list_of_tensors():
    t = gradwalk.tensor([gradwalk.tensor(1.0), gradwalk.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]
    assert t.dtype is gradwalk.float32


def test_as_tensor_keeps_tensor_and_converts_lists():
    t = gradwalk.ones(2)
    assert gradwalk.as_tensor(t) is t
    assert gradwalk.as_tensor(t, dtype=gradwalk.float64).dtype is gradwalk.float64
    assert gradwalk.as_tensor([1, 2]).dtype is gradwalk.int64


def test_from_numpy_rejects_non_arrays_and_unsupported_dtypes():
    with pytest.raises(TypeError, match="ndarray"):
        gradwalk.from_numpy([1.0])
    with pytest.raises(TypeError, match="uint16"):
        gradwalk.from_numpy(np.zeros(2, dtype=np.uint16))
    assert gradwalk.from_numpy(np.zeros(2, dtype=complex)).dtype is gradwalk.complex128


def test_tensor_rejects_bad_data():
    with pytest.raises(TypeError, match="str"):
        gradwalk.tensor("abc")
    with pytest.raises(ValueError, match="ragged"):
        gradwalk.tensor([[1, 2], [3]])


def test_tensor_requires_grad_and_name():
    t = gradwalk.tensor([1.0], requires_grad=True, name="w")
    assert t.requires_grad and t.is_leaf and t.name == "w"


# ---------------------------------------------------------------------------------- fills

@pytest.mark.parametrize("factory,value", [(gradwalk.zeros, 0.0), (gradwalk.ones, 1.0),
                                           (gradwalk.empty, None)])
def test_filled_factories_size_forms(factory, value):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = factory(*args)
        assert t.shape == (2, 3) and t.dtype is gradwalk.float32
        if value is not None:
            assert (t.numpy() == value).all()
    assert factory().shape == ()
    assert factory(0).shape == (0,)
    assert factory(2, dtype=gradwalk.int64).dtype is gradwalk.int64
    assert factory(2, requires_grad=True).requires_grad


def test_size_errors():
    with pytest.raises(TypeError, match="float"):
        gradwalk.zeros(2.5)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        gradwalk.ones(2, -1)


def test_full_dtype_follows_the_fill_value():
    assert gradwalk.full((2,), 7).dtype is gradwalk.int64
    assert gradwalk.full((2,), 1.5).dtype is gradwalk.float32
    assert gradwalk.full((2,), True).dtype is gradwalk.bool
    assert gradwalk.full((2, 2), 3.0, dtype=gradwalk.float64).tolist() == [[3.0, 3.0]] * 2
    assert gradwalk.full([3], -1.0).tolist() == [-1.0] * 3


def test_like_factories_keep_shape_and_dtype():
    src = gradwalk.arange(6).reshape(2, 3)
    for fn, fill in [(gradwalk.zeros_like, 0), (gradwalk.ones_like, 1),
                     (gradwalk.empty_like, None)]:
        t = fn(src)
        assert t.shape == (2, 3) and t.dtype is gradwalk.int64
        if fill is not None:
            assert t.tolist() == [[fill] * 3] * 2
        assert fn(src, dtype=gradwalk.float64).dtype is gradwalk.float64
    assert gradwalk.full_like(src, 2.7).tolist() == [[2] * 3] * 2  # cast to the int dtype
    assert gradwalk.full_like(gradwalk.zeros(2), 2.5).tolist() == [2.5, 2.5]
    f = gradwalk.ones(2, 2)
    assert gradwalk.rand_like(f).shape == (2, 2)
    assert gradwalk.randn_like(f, dtype=gradwalk.float64).dtype is gradwalk.float64
    r = gradwalk.randint_like(src, 5, 9)
    assert r.shape == (2, 3) and r.dtype is gradwalk.int64
    assert ((r >= 5) & (r < 9)).all()


def test_like_factories_do_not_inherit_requires_grad():
    src = gradwalk.ones(2, requires_grad=True)
    assert not gradwalk.zeros_like(src).requires_grad
    assert gradwalk.zeros_like(src, requires_grad=True).requires_grad


# ---------------------------------------------------------------------------------- random

def test_rand_randn_shapes_ranges_dtypes():
    gradwalk.manual_seed(0)
    u = gradwalk.rand(4000)
    assert u.dtype is gradwalk.float32
    assert (u >= 0).all() and (u < 1).all()
    assert abs(u.mean().item() - 0.5) < 0.03
    n = gradwalk.randn(100, 40)
    assert n.shape == (100, 40) and n.dtype is gradwalk.float32
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    assert gradwalk.randn(3, dtype=gradwalk.float64).dtype is gradwalk.float64
    assert gradwalk.rand(2, 3, requires_grad=True).requires_grad


@pytest.mark.parametrize("fn", [gradwalk.rand, gradwalk.randn])
def test_rand_with_an_integer_dtype_raises(fn):
    with pytest.raises(TypeError, match="floating point"):
        fn(3, dtype=gradwalk.int64)


def test_randint_forms_and_bounds():
    gradwalk.manual_seed(1)
    a = gradwalk.randint(3, 7, (500,))
    assert a.dtype is gradwalk.int64 and a.shape == (500,)
    assert a.min().item() == 3 and a.max().item() == 6  # 500 draws cover all four values
    b = gradwalk.randint(5, (2, 3))  # randint(high, size)
    assert b.shape == (2, 3) and ((b >= 0) & (b < 5)).all()
    assert gradwalk.randint(0, 2, size=(4,), dtype=gradwalk.int32).dtype is gradwalk.int32
    with pytest.raises(RuntimeError, match="from=5 >= to=2"):
        gradwalk.randint(5, 2, (3,))


def test_manual_seed_repeats_every_random_factory():
    def draw():
        return (gradwalk.rand(5).tolist(), gradwalk.randn(2, 3).tolist(),
                gradwalk.randint(0, 100, (6,)).tolist(), gradwalk.randperm(8).tolist())

    gradwalk.manual_seed(123)
    first = draw()
    gradwalk.manual_seed(123)
    assert draw() == first
    gradwalk.manual_seed(124)
    assert draw()[0] != first[0]
    assert gradwalk.initial_seed() == 124


def test_generator_is_independent_of_the_global_seed():
    g = gradwalk.Generator().manual_seed(7)
    a = gradwalk.rand(4, generator=g).tolist()
    gradwalk.manual_seed(0)
    gradwalk.rand(10)  # draws from the default generator do not disturb g
    g.manual_seed(7)
    assert gradwalk.rand(4, generator=g).tolist() == a


def test_rng_state_roundtrip():
    gradwalk.manual_seed(5)
    state = gradwalk.get_rng_state()
    a = gradwalk.randn(4).tolist()
    gradwalk.set_rng_state(state)
    assert gradwalk.randn(4).tolist() == a


def test_randperm_is_a_permutation():
    p = gradwalk.randperm(50)
    assert sorted(p.tolist()) == list(range(50)) and p.dtype is gradwalk.int64


# ---------------------------------------------------------------------------------- ranges

def test_arange_values_and_dtypes():
    assert gradwalk.arange(4).tolist() == [0, 1, 2, 3]
    assert gradwalk.arange(4).dtype is gradwalk.int64
    assert gradwalk.arange(1, 7, 2).tolist() == [1, 3, 5]
    t = gradwalk.arange(0, 1, 0.25)
    assert t.dtype is gradwalk.float32 and t.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert gradwalk.arange(5, 0, -1.5).tolist() == [5.0, 3.5, 2.0, 0.5]
    assert gradwalk.arange(3, dtype=gradwalk.float64).dtype is gradwalk.float64
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        gradwalk.arange(0, 3, 0)


def test_linspace_and_eye():
    assert gradwalk.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert gradwalk.linspace(0, 1, 1).tolist() == [0.0]
    assert gradwalk.linspace(0, 1, 0).shape == (0,)
    assert gradwalk.linspace(-1, 1, 3).dtype is gradwalk.float32
    assert gradwalk.eye(3).tolist() == np.eye(3).tolist()
    assert gradwalk.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert gradwalk.eye(2, dtype=gradwalk.int64).dtype is gradwalk.int64


RANGE_CASES = {
    "arange int": lambda t: t.arange(7),
    "arange start end": lambda t: t.arange(-3, 4),
    "arange float step": lambda t: t.arange(0, 1, 0.1),
    "arange negative step": lambda t: t.arange(5, 0, -1.5),
    "arange float64": lambda t: t.arange(0, 2, 0.3, dtype=t.float64),
    "arange float end": lambda t: t.arange(2.5),
    "linspace": lambda t: t.linspace(-2, 3, 7),
    "linspace float64": lambda t: t.linspace(0, 1, 11, dtype=t.float64),
    "linspace int": lambda t: t.linspace(0, 10, 5, dtype=t.int64),
    "eye": lambda t: t.eye(4),
    "eye rect": lambda t: t.eye(2, 4),
    "full": lambda t: t.full((2, 2), 7),
    "full float": lambda t: t.full((3,), -0.5),
    "ones int": lambda t: t.ones(3, dtype=t.int32),
    "full_like int": lambda t: t.full_like(t.arange(3), 2.7),
}


@pytest.mark.parametrize("name", sorted(RANGE_CASES))
def test_factories_match_torch(name):
    make = RANGE_CASES[name]
    g, (t_dtype, t) = make(gradwalk), oracle(lambda torch: (make(torch).dtype, make(torch)))
    assert _same_name(g.dtype, t_dtype)
    assert g.shape == t.shape
    if g.is_floating_point():  # linspace may round differently in the last place
        eps = float(np.finfo(g.numpy().dtype).eps)
        np.testing.assert_allclose(g.numpy(), t, rtol=2 * eps, atol=2 * eps)
    else:
        np.testing.assert_array_equal(g.numpy(), t)


# ---------------------------------------------------------------------------------- default dtype

def test_default_dtype_starts_float32():
    assert gradwalk.get_default_dtype() is gradwalk.float32


def test_set_default_dtype_changes_float_factories(default_float64):
    assert gradwalk.get_default_dtype() is gradwalk.float64
    assert gradwalk.tensor(1.5).dtype is gradwalk.float64
    assert gradwalk.tensor([1, 2.5]).dtype is gradwalk.float64
    for t in [gradwalk.zeros(2), gradwalk.ones(2), gradwalk.rand(2), gradwalk.randn(2),
              gradwalk.arange(0, 1, 0.5), gradwalk.linspace(0, 1, 3), gradwalk.eye(2),
              gradwalk.full((2,), 1.5)]:
        assert t.dtype is gradwalk.float64
    # integers, bools and explicit dtypes are not affected
    assert gradwalk.tensor(3).dtype is gradwalk.int64
    assert gradwalk.arange(3).dtype is gradwalk.int64
    assert gradwalk.tensor(True).dtype is gradwalk.bool
    assert gradwalk.zeros(2, dtype=gradwalk.float32).dtype is gradwalk.float32
    # an int tensor combined with a Python float takes the default dtype
    assert (gradwalk.arange(3) * 0.5).dtype is gradwalk.float64


def test_set_default_dtype_accepts_only_floating_types():
    with pytest.raises(TypeError, match="floating"):
        gradwalk.set_default_dtype(gradwalk.int64)
    assert gradwalk.get_default_dtype() is gradwalk.float32


def test_dtype_aliases():
    assert gradwalk.float is gradwalk.float32
    assert gradwalk.double is gradwalk.float64
    assert gradwalk.long is gradwalk.int64
    assert gradwalk.int is gradwalk.int32
    assert repr(gradwalk.float32) == "gradwalk.float32"
    assert gradwalk.float64.is_floating_point and not gradwalk.int64.is_floating_point


def test_manual_seed_accepts_torchs_range():
    """Negative seeds wrap modulo 2**64 as in torch; outside [-2**63, 2**64 - 1] is an error."""
    for seed, mapped in ((-1, 2**64 - 1), (-2, 2**64 - 2), (-2**63, 2**63), (2**64 - 1, 2**64 - 1),
                         (7, 7)):
        assert gradwalk.manual_seed(seed).initial_seed() == mapped
        a = gradwalk.rand(3).tolist()
        gradwalk.manual_seed(mapped)
        assert gradwalk.rand(3).tolist() == a  # the same stream as the wrapped seed
    for bad in (2**64, -2**63 - 1):
        with pytest.raises(ValueError, match="outside"):
            gradwalk.manual_seed(bad)
    gradwalk.manual_seed(0)


def _torch_seeds(torch):
    seeds = [torch.manual_seed(seed).initial_seed() for seed in SEEDS]
    errors = [error_of(torch.manual_seed, bad) for bad in BAD_SEEDS]
    torch.manual_seed(0)
    return seeds, errors


SEEDS, BAD_SEEDS = (-1, -2, -2**63, 2**64 - 1, 12345), (2**64, -2**63 - 1)


def test_manual_seed_initial_seed_matches_torch():
    seeds, errors = oracle(_torch_seeds)
    for seed, theirs in zip(SEEDS, seeds):
        assert gradwalk.manual_seed(seed).initial_seed() == theirs
    for raised in errors:
        assert raised is not None and "ValueError" in raised, raised
    gradwalk.manual_seed(0)


# ---------------------------------------------------------------------------------- normal dtypes

def _normal_dtypes(torch) -> list:
    f64 = torch.zeros(3, dtype=torch.float64)
    f32 = torch.zeros(3)
    return [repr(torch.normal(f64, f64).dtype), repr(torch.normal(0.0, f64).dtype),
            repr(torch.normal(f64, 1.0).dtype), repr(torch.normal(f32, f64).dtype),
            repr(torch.normal(0.0, 1.0, (2,)).dtype),
            repr(torch.normal(0.0, 1.0, (2,), dtype=torch.float64).dtype),
            tuple(torch.normal(f32, 1.0).shape)]


def test_normal_keeps_the_dtype_of_its_tensors():
    ours = [v.replace("gradwalk.", "torch.") if isinstance(v, str) else v
            for v in _normal_dtypes(gradwalk)]
    assert ours == oracle(_normal_dtypes)
    t = gradwalk.normal(0.0, 1.0, 3, requires_grad=True, layout=gradwalk.strided)
    assert t.requires_grad and t.shape == (3,)
