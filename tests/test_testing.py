"""``gradwalk.testing.assert_close`` against ``torch.testing.assert_close``: same verdicts and
messages."""

import pytest

import gradwalk
import gradwalk.testing
from tests.fixtures.oracle import oracle

CASES = [
    lambda L: ((L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.5, 3.0])), {}),
    lambda L: ((L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64)), {}),
    lambda L: ((L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64)),
               {"check_dtype": False}),
    lambda L: ((L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])), {}),
    lambda L: ((L.tensor([1, 2]), L.tensor([1, 3])), {}),
    lambda L: ((1.0, 1.1), {}),
    lambda L: ((1, 2), {}),
    lambda L: ((L.tensor([[1.0, float("nan")]]), L.tensor([[1.0, float("nan")]])), {}),
    lambda L: ((L.tensor([[1.0, float("nan")]]), L.tensor([[1.0, float("nan")]])),
               {"equal_nan": True}),
    lambda L: (([L.tensor([1.0]), L.tensor([2.0])], [L.tensor([1.0]), L.tensor([2.1])]), {}),
    lambda L: (({"a": 1}, {"a": 2}), {}),
    lambda L: ((L.tensor([1.0, 1.05]), L.tensor([1.0, 1.0])), {"rtol": 0.1, "atol": 0.0}),
    lambda L: ((L.tensor([1.0, 1.05], dtype=L.float64), L.tensor([1.0, 1.0],
                                                                   dtype=L.float64)), {}),
    lambda L: ((L.tensor([True, False]), L.tensor([True, True])), {}),
]


def _verdict(call):
    try:
        call()
    except AssertionError as e:
        return str(e).replace("torch.", "gradwalk.")
    return None


def _torch_verdict(torch, case):
    (ta, tb), kw = CASES[case](torch)
    return _verdict(lambda: torch.testing.assert_close(ta, tb, **kw))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_same_verdict_and_message(case):
    ref = oracle(lambda torch: _torch_verdict(torch, case))
    (ga, gb), kw = CASES[case](gradwalk)
    ours = _verdict(lambda: gradwalk.testing.assert_close(ga, gb, **kw))
    assert ours == ref


def test_custom_message_and_errors():
    with pytest.raises(AssertionError, match="^custom$"):
        gradwalk.testing.assert_close(gradwalk.ones(1), gradwalk.zeros(1), msg="custom")
    with pytest.raises(ValueError, match="rtol"):
        gradwalk.testing.assert_close(gradwalk.ones(1), gradwalk.ones(1), atol=1.0)
    with pytest.raises(TypeError):
        gradwalk.testing.assert_close(gradwalk.ones(1), "one")
