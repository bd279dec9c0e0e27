"""NumPy's floating-point RuntimeWarnings stay inside gradwalk; the user's NumPy still warns."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import gradwalk
from gradwalk import _warnings

F = gradwalk.nn.functional
nn = gradwalk.nn


def _inf_nan_program(dtype=gradwalk.float64):
    """Forward, first- and second-order backward, layers, losses and optimizers on inf/NaN."""
    x = gradwalk.tensor([1000.0, 0.0, -1.0, float("inf"), float("nan"), -1000.0], dtype=dtype,
                        requires_grad=True)
    z = gradwalk.zeros(6, dtype=dtype)
    outs = [x.exp(), x.log(), gradwalk.log(z), z / z, x / z, x.sqrt(), x ** 1000, x ** -1,
            x ** 0.5, gradwalk.pow(x, x), x.reciprocal(), x.sigmoid(), x.tanh(), x.sin(),
            F.softmax(x, 0), F.log_softmax(x, 0), F.softmax(gradwalk.full((3,), float("inf")), 0),
            x.sum(), x.prod(), x.mean(), x.var(), x.std(), x.norm(), x.logsumexp(0), x.max(),
            x.cumsum(0), F.relu(x), F.gelu(x), F.softplus(x), F.normalize(x, dim=0),
            F.layer_norm(x, (6,)), F.mse_loss(x, z), F.l1_loss(x, z), F.smooth_l1_loss(x, z),
            F.binary_cross_entropy(x.sigmoid(), z), F.binary_cross_entropy_with_logits(x, z),
            F.cross_entropy(x.reshape(1, 6), gradwalk.tensor([0])),
            F.nll_loss(F.log_softmax(x.reshape(1, 6), 1), gradwalk.tensor([1])),
            gradwalk.where(x > 0, x.log(), x), (x * 0).exp() * x]
    total = sum(o.sum() for o in outs)
    (gx,) = gradwalk.autograd.grad(total, x, create_graph=True)
    (gx.sum() + total).backward()  # second order through the first-order graph
    model = nn.Sequential(nn.Linear(6, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 3),
                          nn.BatchNorm1d(3))
    conv = nn.Conv1d(1, 2, 3)
    inputs = gradwalk.tensor([[1e300] * 6, [float("inf")] * 6, [0.0] * 6])
    for cls in (gradwalk.optim.SGD, gradwalk.optim.Adam, gradwalk.optim.AdamW,
                gradwalk.optim.RMSprop, gradwalk.optim.Adagrad):
        opt = cls(model.parameters(), lr=1e300)
        opt.zero_grad()
        F.cross_entropy(model(inputs), gradwalk.tensor([0, 1, 2])).backward()
        opt.step()
    conv(gradwalk.tensor([[[1e308, 1e308, float("inf"), 0.0]]])).sum().backward()
    repr(x * float("inf"))
    return total


def test_an_inf_nan_program_raises_no_warning_under_simplefilter_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = _inf_nan_program()
        _inf_nan_program(gradwalk.float32)
    assert np.isnan(total.item())  # the program did make NaNs


def test_an_inf_nan_program_records_no_warning():
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        _inf_nan_program()
    assert [str(w.message) for w in log] == []


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_under_pytest_filterwarnings_error():
    # gradwalk was imported at collection, whose filters pytest dropped; the marker's filter
    # put the entry back in front
    assert tuple(warnings.filters[:2]) == _warnings.ENTRIES
    _inf_nan_program()
    with pytest.raises(RuntimeWarning, match="overflow encountered in exp"):
        np.exp(np.array(1000.0))


def _users_numpy_code():
    """The same floating-point events written by the user in NumPy directly."""
    big, zero = np.array([1000.0]), np.zeros(1)
    return [lambda: np.exp(big), lambda: np.log(zero), lambda: zero / zero,
            lambda: np.sqrt(-big), lambda: np.power(big, 1000.0),
            lambda: np.sum(np.array([np.inf, -np.inf])),  # NumPy's Python wrapper of a ufunc
            lambda: np.array([np.inf, -np.inf]).mean(),
            lambda: np.float32(3e38) * np.float32(10)]


@pytest.mark.parametrize("index", range(len(_users_numpy_code())))
def test_the_users_own_numpy_code_still_warns(index):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="encountered in"):
            _users_numpy_code()[index]()
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        _users_numpy_code()[index]()
    numpy_wrappers = (np._core.fromnumeric.__file__, np._core._methods.__file__)
    assert log and all(w.filename in (__file__, *numpy_wrappers) for w in log)


def test_the_users_other_filters_keep_their_order_and_meaning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=UserWarning, module="somewhere")
        ours = _warnings.ENTRIES
        assert tuple(warnings.filters[:2]) == ours
        assert warnings.filters[2][:3] == ("ignore", None, UserWarning)
        assert warnings.filters[3][0] == "error" and warnings.filters[3][2] is Warning
        assert all(warnings.filters.count(e) == 1 for e in ours)
        with pytest.raises(UserWarning):
            warnings.warn("still an error", stacklevel=1)
        warnings.resetwarnings()
        assert tuple(warnings.filters) == ours
        warnings.filters.clear()  # as when a catch_warnings block drops what an import added
        warnings.simplefilter("error")
        assert tuple(warnings.filters[:2]) == ours
        gradwalk.tensor([1000.0]).exp()


def test_installing_again_wraps_once():
    before = warnings.simplefilter
    _warnings.install()
    assert warnings.simplefilter is before
    assert warnings.simplefilter.__wrapped__.__module__ == "warnings"


def test_anomaly_mode_still_reports_the_origin_of_a_nan():
    x = gradwalk.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="LogBackward0") as info:
            with gradwalk.autograd.detect_anomaly():
                gradwalk.log(x)
        assert "test_warnings.py" in str(info.value)
        y = gradwalk.tensor([0.0, 1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            with gradwalk.autograd.detect_anomaly(check_forward=False):
                (y.sqrt() * 0.0).sum().backward()


def test_a_fresh_interpreter_with_dash_w_error():
    code = (
        "import numpy as np, gradwalk\n"
        "x = gradwalk.tensor([1000.0, -1.0], requires_grad=True)\n"
        "(x.exp() + x.log() + x.sqrt()).sum().backward()\n"
        "try:\n"
        "    np.log(np.array(-1.0))\n"
        "except RuntimeWarning as e:\n"
        "    print('user:', e)\n")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, timeout=120, cwd=_repo_root())
    assert out.returncode == 0, out.stderr
    assert out.stdout == "user: invalid value encountered in log\n" and out.stderr == ""


def _repo_root():
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(gradwalk.__file__)))
