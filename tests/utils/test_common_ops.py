"""The most common ~226 names of PyTorch's tutorial and nn code (``tests/utils/common_ops.txt``,
Note [the common-ops list] in ``tests/utils/common_ops.py``): every one exists in gradwalk, and
at least 95% of those that PyTorch's op database covers pass its OpInfo comparison."""

from __future__ import annotations

import pytest

import gradwalk
from tests.utils import common_ops

ROWS = common_ops.read()


def test_the_list_holds_226_distinct_names():
    assert len(ROWS) == 226 and len(set(ROWS)) == 226
    assert {k for k, _ in ROWS} == {"torch", "F", "Tensor", "nn"}


def test_every_common_name_is_in_gradwalk():
    missing = [f"{k}.{n}" for k, n in ROWS if not hasattr(common_ops.namespace(gradwalk, k), n)]
    assert missing == []


def test_every_common_name_is_in_pytorch():
    torch = pytest.importorskip("torch")
    assert [f"{k}.{n}" for k, n in ROWS if not hasattr(common_ops.namespace(torch, k), n)] == []


def test_the_list_is_what_the_script_builds():
    torch = pytest.importorskip("torch")
    if torch.__version__.split("+")[0] != "2.13.0":
        pytest.skip("the counts are of torch 2.13.0's sources")
    assert common_ops.render(common_ops.build(torch)) == common_ops.OUT.read_text()


def test_common_ops_pass_their_opinfo_comparison():
    torch = pytest.importorskip("torch")
    pytest.importorskip("expecttest")  # torch's op database imports it
    n, ok, problems = common_ops.parity(torch)
    assert n >= 100  # most listed names are ops with entries
    assert ok >= 0.95 * n, problems
