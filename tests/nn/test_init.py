"""``gradwalk.nn.init``: gains, fans, distribution bounds and moments with fixed seeds."""

import math

import numpy as np
import pytest

import gradwalk
from gradwalk.nn import init
from tests.fixtures.oracle import oracle


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                      ("tanh", None), ("relu", None), ("leaky_relu", None),
                                      ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nl, param):
    assert init.calculate_gain(nl, param) == pytest.approx(
        oracle(lambda torch: torch.nn.init.calculate_gain(nl, param)), rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(gradwalk.empty(shape)) == oracle(
        lambda torch: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))
    with pytest.raises(ValueError, match="fewer than 2"):
        init._calculate_fan_in_and_fan_out(gradwalk.empty(3))


def _draw(fn, shape=(200, 300), seed=0, **kw):
    gradwalk.manual_seed(seed)
    t = gradwalk.empty(shape, dtype=gradwalk.float64)
    out = fn(t, **kw)
    assert out is t
    return t.numpy()


def test_uniform_and_normal():
    u = _draw(init.uniform_, a=-2.0, b=1.0)
    assert u.min() >= -2.0 and u.max() < 1.0
    assert abs(u.mean() + 0.5) < 0.02 and abs(u.std() - 3 / math.sqrt(12)) < 0.02
    n = _draw(init.normal_, mean=1.0, std=0.5)
    assert abs(n.mean() - 1.0) < 0.01 and abs(n.std() - 0.5) < 0.01
    tn = _draw(init.trunc_normal_, std=2.0, a=-1.0, b=1.5)
    assert tn.min() >= -1.0 and tn.max() <= 1.5


def test_xavier():
    bound = math.sqrt(6 / 500)
    u = _draw(init.xavier_uniform_, gain=1.0)
    assert np.abs(u).max() <= bound and abs(u.std() - bound / math.sqrt(3)) < 0.01 * bound * 5
    n = _draw(init.xavier_normal_, gain=2.0)
    assert abs(n.std() - 2.0 * math.sqrt(2 / 500)) < 0.002


@pytest.mark.parametrize("mode,fan", [("fan_in", 300), ("fan_out", 200)])
def test_kaiming(mode, fan):
    std = math.sqrt(2.0) / math.sqrt(fan)
    u = _draw(init.kaiming_uniform_, mode=mode, nonlinearity="relu")
    assert np.abs(u).max() <= math.sqrt(3) * std and abs(u.std() - std) < 0.02 * std
    n = _draw(init.kaiming_normal_, mode=mode, nonlinearity="relu")
    assert abs(n.std() - std) < 0.02 * std and abs(n.mean()) < 0.05 * std
    a = _draw(init.kaiming_uniform_, a=math.sqrt(5))  # Linear's default: bound 1/sqrt(fan_in)
    assert np.abs(a).max() <= 1 / math.sqrt(300)
    assert a.std() == pytest.approx(1 / math.sqrt(300) / math.sqrt(3), rel=0.02)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gradwalk.empty(2, 2), mode="fan_avg")


def test_constant_eye_orthogonal_dirac_and_seeding():
    assert (_draw(init.constant_, val=0.3) == 0.3).all()
    assert (_draw(init.ones_) == 1).all() and (_draw(init.zeros_) == 0).all()
    np.testing.assert_array_equal(_draw(init.eye_, shape=(2, 3)), np.eye(2, 3))
    q = _draw(init.orthogonal_, shape=(4, 6))
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)
    d = gradwalk.empty(4, 2, 3, 3)
    init.dirac_(d, groups=2)
    x = gradwalk.randn(1, 4, 5, 5)
    y = gradwalk.nn.functional.conv2d(x, d, padding=1, groups=2)
    np.testing.assert_allclose(y.numpy()[:, [0, 2]], x.numpy()[:, [0, 2]], atol=1e-6)
    np.testing.assert_array_equal(_draw(init.normal_, seed=3), _draw(init.normal_, seed=3))
    assert not np.array_equal(_draw(init.normal_, seed=3), _draw(init.normal_, seed=4))


def test_init_on_parameters_records_no_graph_and_bumps_version():
    p = gradwalk.nn.Parameter(gradwalk.empty(3, 3))
    v = p._version
    init.normal_(p)
    assert p.grad_fn is None and p.requires_grad and p._version > v
