"""``gradwalk.autograd.profiler``: op and block timings, PyTorch's names and table layout."""

from __future__ import annotations

import json
import time

import pytest

import gradwalk
from gradwalk.autograd import profiler
from gradwalk.ops import registry
from tests.fixtures.oracle import oracle


def _program(torch, prof_mod):
    x = torch.ones(4, 4, dtype=torch.float64, requires_grad=True)
    with prof_mod.profile(record_shapes=True) as prof:
        with prof_mod.record_function("forward_block"):
            y = (x * 3.0).sum()
        with prof_mod.record_function("backward_block"):
            y.backward()
    return prof


def _torch_summary(torch):
    prof = _program(torch, torch.autograd.profiler)
    keys = {e.key: e.count for e in prof.key_averages()}
    table = prof.key_averages().table(sort_by="cpu_time_total").splitlines()
    return {"blocks": [keys.get("forward_block"), keys.get("backward_block")],
            "header": table[1].split(), "footer": table[-1].split(":")[0],
            "grads": [n for n in ("MulBackward0", "SumBackward0") if n in keys]}


def test_blocks_backward_rules_and_the_table_as_pytorch():
    ref = oracle(_torch_summary)
    prof = _program(gradwalk, profiler)
    keys = {e.key: e.count for e in prof.key_averages()}
    table = prof.key_averages().table(sort_by="cpu_time_total").splitlines()
    assert [keys.get("forward_block"), keys.get("backward_block")] == ref["blocks"]
    assert table[1].split() == ref["header"]
    assert table[-1].split(":")[0] == ref["footer"]
    assert [n for n in ("MulBackward0", "SumBackward0") if n in keys] == ref["grads"]
    assert keys["gradwalk::mul"] == 1 and keys["gradwalk::sum"] == 1


def test_self_time_excludes_children_and_totals_nest():
    with profiler.profile() as prof:
        with profiler.record_function("outer"):
            time.sleep(0.002)
            with profiler.record_function("inner"):
                time.sleep(0.003)
    outer, inner = prof.function_events
    assert (outer.name, inner.name) == ("outer", "inner")
    assert inner.cpu_time_total >= 3000 and outer.cpu_time_total >= 5000
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total
                                                      - inner.cpu_time_total)
    assert prof.self_cpu_time_total == pytest.approx(outer.cpu_time_total)


def test_ops_are_unwrapped_after_the_profile_and_nothing_is_recorded_outside():
    mul = registry.REGISTRY["mul"]
    before = mul.forward, mul.vjp
    with profiler.profile() as prof:
        assert mul.forward is not before[0]
        with profiler.profile() as inner:
            gradwalk.ones(2) * 2
        assert mul.forward is not before[0]  # the outer profile is still open
    assert (mul.forward, mul.vjp) == before
    gradwalk.ones(2) * 2
    assert [e.key for e in prof.function_events] == ["gradwalk::mul"]
    assert [e.key for e in inner.function_events] == ["gradwalk::mul"]
    with profiler.profile(enabled=False) as off:
        gradwalk.ones(2) * 2
    assert len(off.function_events) == 0


def test_record_function_as_a_decorator_and_the_shapes():
    @profiler.record_function("step")
    def step(a, b):
        return a @ b

    with profiler.profile(record_shapes=True) as prof:
        step(gradwalk.ones(3, 2), gradwalk.ones(2, 3))
    names = [e.name for e in prof.function_events]
    assert names[0] == "step" and len(names) >= 2
    by_shape = {(e.key, str(e.input_shapes)) for e in prof.key_averages(group_by_input_shape=True)}
    assert any("[3, 2], [2, 3]" in s for _, s in by_shape)


def test_chrome_trace_and_errors(tmp_path):
    with profiler.profile() as prof:
        gradwalk.ones(3).exp()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert [e["name"] for e in events] == ["gradwalk::exp"] and events[0]["dur"] >= 0
    with pytest.raises(ValueError, match="unknown sort_by"):
        prof.key_averages().table(sort_by="no_such_column")
    p = profiler.profile()
    with p, pytest.raises(RuntimeError, match="not reentrant"):
        p.__enter__()
