"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled; as context
managers, decorators (generators too), and per thread."""

import threading

import pytest

import gradwalk


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    assert gradwalk.is_grad_enabled()
    yield
    assert gradwalk.is_grad_enabled(), "a test left grad mode off"
    assert not gradwalk.is_inference_mode_enabled()


def _leaf():
    return gradwalk.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_context_records_nothing():
    x = _leaf()
    with gradwalk.no_grad():
        assert not gradwalk.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = _leaf()
    with gradwalk.no_grad():
        with gradwalk.enable_grad():
            assert gradwalk.is_grad_enabled()
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_as_context_and_as_function():
    x = _leaf()
    with gradwalk.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with gradwalk.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not gradwalk.is_grad_enabled()
    assert gradwalk.is_grad_enabled()
    gradwalk.set_grad_enabled(False)  # a plain call takes effect at once
    try:
        assert not gradwalk.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        gradwalk.set_grad_enabled(True)
    assert gradwalk.is_grad_enabled()


def test_inference_mode():
    x = _leaf()
    with gradwalk.inference_mode():
        assert gradwalk.is_inference_mode_enabled() and not gradwalk.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad
    with gradwalk.inference_mode(False):
        assert not gradwalk.is_inference_mode_enabled() and gradwalk.is_grad_enabled()


def test_modes_are_restored_after_an_exception():
    # set_grad_enabled(False) switches the mode when constructed: make each one right here
    for make in [gradwalk.no_grad, gradwalk.inference_mode,
                 lambda: gradwalk.set_grad_enabled(False)]:
        with pytest.raises(ValueError):
            with make():
                raise ValueError("boom")
        assert gradwalk.is_grad_enabled()


def test_a_mode_object_can_be_entered_twice_nested():
    ng = gradwalk.no_grad()
    with ng:
        with gradwalk.enable_grad():
            with ng:
                assert not gradwalk.is_grad_enabled()
            assert gradwalk.is_grad_enabled()
        assert not gradwalk.is_grad_enabled()


@pytest.mark.parametrize("decorator", [
    gradwalk.no_grad(), gradwalk.no_grad, gradwalk.inference_mode(), gradwalk.inference_mode,
])
def test_off_modes_as_decorators(decorator):
    @decorator
    def f(x):
        """doc"""
        return x * 2, gradwalk.is_grad_enabled()

    y, enabled = f(_leaf())
    assert not y.requires_grad and not enabled
    assert gradwalk.is_grad_enabled()
    assert f.__doc__ == "doc" and f.__name__ == "f"  # functools.wraps


@pytest.mark.parametrize("decorator", [gradwalk.enable_grad(), gradwalk.enable_grad])
def test_enable_grad_as_decorator(decorator):
    @decorator
    def f(x):
        return x * 2

    with gradwalk.no_grad():
        assert f(_leaf()).requires_grad
        assert not gradwalk.is_grad_enabled()


def test_set_grad_enabled_as_decorator_does_not_change_the_mode_at_definition():
    @gradwalk.set_grad_enabled(False)
    def f(x):
        return x * 2

    assert gradwalk.is_grad_enabled()
    assert not f(_leaf()).requires_grad
    assert gradwalk.is_grad_enabled()


def test_decorated_function_restores_after_exception():
    @gradwalk.no_grad()
    def f():
        raise KeyError("x")

    with pytest.raises(KeyError):
        f()
    assert gradwalk.is_grad_enabled()


def test_decorated_generator_runs_each_step_under_the_mode():
    x = _leaf()

    @gradwalk.no_grad()
    def gen(n):
        for _ in range(n):
            received = yield (x * 2).requires_grad, gradwalk.is_grad_enabled()
            assert received in (None, "hi")
        return "done"

    seen = []
    for requires, enabled in gen(3):
        seen.append((requires, enabled, gradwalk.is_grad_enabled()))
    # inside each step: no graph; between steps, the caller's mode (on)
    assert seen == [(False, False, True)] * 3

    g = gen(2)
    next(g)
    assert g.send("hi") == (False, False)
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"


def test_decorated_generator_close_and_throw():
    state = {}

    @gradwalk.no_grad()
    def gen():
        try:
            while True:
                try:
                    yield 1
                except ValueError:
                    state["thrown"] = gradwalk.is_grad_enabled()
        finally:
            state["closed"] = gradwalk.is_grad_enabled()

    g = gen()
    next(g)
    assert g.throw(ValueError) == 1
    g.close()
    assert state == {"thrown": False, "closed": False}


def test_grad_mode_is_per_thread():
    """A thread's no_grad does not leak into another thread, in either direction."""
    inside_worker = threading.Event()
    main_checked = threading.Event()
    seen = {}

    def worker():
        with gradwalk.no_grad():
            inside_worker.set()
            main_checked.wait(10)
            seen["worker"] = gradwalk.is_grad_enabled()
            seen["worker_graph"] = (_leaf() * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    assert inside_worker.wait(10)
    seen["main"] = gradwalk.is_grad_enabled()
    seen["main_graph"] = (_leaf() * 2).requires_grad
    main_checked.set()
    t.join(10)
    assert seen == {"main": True, "main_graph": True, "worker": False, "worker_graph": False}


def test_main_threads_no_grad_does_not_leak_into_a_new_thread():
    seen = {}
    with gradwalk.no_grad():
        t = threading.Thread(target=lambda: seen.update(worker=gradwalk.is_grad_enabled()))
        t.start()
        t.join(10)
    assert seen == {"worker": True}


def test_backward_works_under_no_grad_for_a_graph_built_before():
    x = _leaf()
    y = (x * x).sum()
    with gradwalk.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_parameter_update_under_no_grad():
    w = _leaf()
    (w * 3).sum().backward()
    with gradwalk.no_grad():
        w -= 0.5 * w.grad
    assert w.is_leaf and w.requires_grad and w.tolist() == [-0.5, 0.5]
