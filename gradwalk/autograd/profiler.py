"""``gradwalk.autograd.profiler``: time the ops of a program, as ``torch.autograd.profiler``.

``with profile() as prof:`` records one event per op run (its forward kernel, named
``gradwalk::<op>``, and its backward rule, named by its node, ``MulBackward0``) and per
``record_function`` block; ``prof.key_averages().table()`` prints PyTorch's table.

Note [how the profiler times ops]
    Nothing is paid outside a profile. Entering the first active profile wraps the ``forward``
    and ``vjp`` of every op in the registry with a timer (and leaving the last one puts them
    back), so an op's event spans its kernel on raw arrays, not the Python around it (building
    the node, checking arguments). Ranges nest per thread: an event's self time is its total
    minus its children's totals, as PyTorch counts it; times are ``time.perf_counter_ns`` in
    microseconds. Only CPU time is measured (``use_cuda``/``use_device`` are accepted and add
    nothing), and ``profile_memory``/``with_flops``/``with_stack`` are accepted and ignored.

Example:
    >>> import gradwalk
    >>> from gradwalk.autograd import profiler
    >>> x = gradwalk.randn(8, 8, requires_grad=True)
    >>> with profiler.profile() as prof:
    ...     with profiler.record_function("forward"):
    ...         y = (x @ x).relu().sum()
    ...     y.backward()
    >>> sorted(e.key for e in prof.key_averages())[:3]
    ['MmBackward0', 'ReluBackward0', 'SumBackward0']
    >>> "Self CPU time total" in prof.key_averages().table(sort_by="cpu_time_total")
    True
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from ..ops import registry as _registry

__all__ = ["profile", "record_function", "FunctionEvent", "FunctionEventAvg", "EventList"]

_lock = threading.Lock()
_active: list[profile] = []  # the open profiles (all threads)
_saved: dict = {}  # op name -> (forward, vjp) while wrapped
_local = threading.local()  # .stack: the open events of this thread


class FunctionEvent:
    """One timed range: an op's kernel, a backward rule or a ``record_function`` block."""

    def __init__(self, name: str, start_ns: int, input_shapes: list | None = None) -> None:
        self.name = self.key = name
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.child_ns = 0
        self.input_shapes = input_shapes or []
        self.count = 1
        self.thread = threading.get_ident()

    @property
    def cpu_time_total(self) -> float:
        """The range's length, in microseconds."""
        return (self.end_ns - self.start_ns) / 1000

    @property
    def self_cpu_time_total(self) -> float:
        """The range's length less its children's, in microseconds."""
        return (self.end_ns - self.start_ns - self.child_ns) / 1000

    def __repr__(self) -> str:
        return (f"<FunctionEvent name={self.name} cpu_time={_fmt(self.cpu_time_total)} "
                f"self_cpu_time={_fmt(self.self_cpu_time_total)}>")


class FunctionEventAvg:
    """The events of one name (``key``) summed: ``count``, totals and the mean ``cpu_time``."""

    def __init__(self, key: str) -> None:
        self.key = self.name = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes: list = []

    def add(self, e: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        self.count += e.count
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        """The mean time of one call, in microseconds."""
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)}"
                f" cpu_time={_fmt(self.cpu_time)} count={self.count}>")


class EventList(list):
    """A list of events with PyTorch's summaries (``key_averages``, ``table``)."""

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One ``FunctionEventAvg`` per name (and input shapes, when asked), in first-seen order.

        Example:
            >>> from gradwalk.autograd.profiler import EventList, FunctionEvent
            >>> ev = EventList([FunctionEvent("a", 0), FunctionEvent("a", 5)])
            >>> [(e.key, e.count) for e in ev.key_averages()]
            [('a', 2)]
        """
        groups: dict = {}
        for e in self:
            k = (e.key, str(e.input_shapes)) if group_by_input_shape else e.key
            if k not in groups:
                groups[k] = FunctionEventAvg(e.key)
                groups[k].input_shapes = e.input_shapes if group_by_input_shape else []
            groups[k].add(e)
        return EventList(groups.values())

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the events' self times, in microseconds."""
        return sum(e.self_cpu_time_total for e in self)

    def total_average(self) -> FunctionEventAvg:
        """All events summed into one ``FunctionEventAvg`` (key ``Total``)."""
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width:
              int = 55, header: str | None = None, top_level_events_only: bool = False,
              **kwargs: Any) -> str:
        """PyTorch's table: name, self and total CPU time (and their shares), mean, calls.

        Example:
            >>> from gradwalk.autograd.profiler import EventList, FunctionEvent
            >>> e = FunctionEvent("work", 0)
            >>> e.end_ns = 2_000_000
            >>> lines = EventList([e]).table().splitlines()
            >>> lines[1].split()[:4]
            ['Name', 'Self', 'CPU', '%']
            >>> lines[3].split()
            ['work', '100.00%', '2.000ms', '100.00%', '2.000ms', '2.000ms', '1']
            >>> lines[-1]
            'Self CPU time total: 2.000ms'
        """
        rows = list(self)
        if sort_by is not None:
            if rows and not hasattr(rows[0], sort_by):
                raise ValueError(f"table(): unknown sort_by {sort_by!r}; use one of "
                                 "'cpu_time_total', 'self_cpu_time_total', 'cpu_time', 'count'")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        width = max([len("Name")] + [len(e.key) for e in rows])
        width = min(width, max_name_column_width) + 4
        heads = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                 "# of Calls"]
        line = "-" * width + "  " + "  ".join(["-" * 12] * len(heads)) + "  "

        def row(cells):
            return cells[0].rjust(width) + "  " + "".join(c.rjust(12) + "  " for c in cells[1:])

        out = [line, row(["Name"] + heads), line]
        for e in rows:
            name = e.key if len(e.key) <= width - 4 else e.key[:width - 7] + "..."
            avg = e.cpu_time_total / max(e.count, 1)
            out.append(row([name, f"{100 * e.self_cpu_time_total / total:.2f}%",
                            _fmt(e.self_cpu_time_total),
                            f"{100 * e.cpu_time_total / total:.2f}%", _fmt(e.cpu_time_total),
                            _fmt(avg), str(e.count)]))
        out += [line, f"Self CPU time total: {_fmt(self.self_cpu_time_total)}", ""]
        return ("" if header is None else header + "\n") + "\n".join(out)


def _fmt(us: float) -> str:
    """PyTorch's time format: ``1.500s``, ``2.000ms``, ``3.000us``."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


# ---------------------------------------------------------------------------------- recording


def _stack() -> list:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def _open(name: str, shapes: list | None = None) -> FunctionEvent | None:
    if not _active:
        return None
    e = FunctionEvent(name, 0, shapes)
    _stack().append(e)
    e.start_ns = time.perf_counter_ns()
    return e


def _close(e: FunctionEvent | None) -> None:
    if e is None:
        return
    e.end_ns = time.perf_counter_ns()
    s = _stack()
    if s and s[-1] is e:
        s.pop()
    if s:
        s[-1].child_ns += e.end_ns - e.start_ns
    for p in list(_active):
        p._record(e)


def _timed(fn: Callable, name: str, with_shapes: bool) -> Callable:
    @functools.wraps(fn)
    def run(xp, *args, **kwargs):
        shapes = ([list(getattr(a, "shape", ())) for a in args] if with_shapes and any(
            p.record_shapes for p in _active) else None)
        e = _open(name, shapes)
        try:
            return fn(xp, *args, **kwargs)
        finally:
            _close(e)

    run._profiled = fn  # type: ignore[attr-defined]
    return run


def _wrap_ops() -> None:
    for name, op in _registry.REGISTRY.items():
        _saved[name] = (op.forward, op.vjp)
        op.forward = _timed(op.forward, f"gradwalk::{name}", True)
        if op.vjp is not None:
            op.vjp = _timed(op.vjp, op.node_name, False)


def _unwrap_ops() -> None:
    for name, (fwd, vjp) in _saved.items():
        op = _registry.REGISTRY[name]
        op.forward, op.vjp = fwd, vjp
    _saved.clear()


class profile:  # PyTorch's name
    """Record the time of every op (forward kernel and backward rule) and ``record_function``
    block run inside it (Note [how the profiler times ops]).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.profiler import profile
        >>> with profile(record_shapes=True) as prof:
        ...     y = gradwalk.ones(2, 3) * 2
        >>> [(e.key, e.count, e.input_shapes) for e in prof.key_averages(True)]
        [('gradwalk::mul', 1, [[2, 3], []])]
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, **kwargs: Any) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.function_events: EventList = EventList()
        self._entered = False

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self._entered:
            raise RuntimeError("profiler context manager is not reentrant")
        self._entered = True
        with _lock:
            if not _active:
                _wrap_ops()
            _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled or not self._entered:
            return
        with _lock:
            _active.remove(self)
            if not _active:
                _unwrap_ops()
        self.function_events.sort(key=lambda e: e.start_ns)

    def _record(self, e: FunctionEvent) -> None:
        self.function_events.append(e)

    def key_averages(self, group_by_input_shape: bool = False, **kwargs: Any) -> EventList:
        """The events grouped by name (``EventList.key_averages``)."""
        return self.function_events.key_averages(group_by_input_shape)

    def table(self, **kwargs: Any) -> str:
        """The table of every event (``EventList.table``)."""
        return self.function_events.table(**kwargs)

    def total_average(self) -> FunctionEventAvg:
        """All events summed (``EventList.total_average``)."""
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the events' self times, in microseconds."""
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (``chrome://tracing``, Perfetto)."""
        import json

        t0 = min((e.start_ns for e in self.function_events), default=0)
        trace = [{"name": e.name, "ph": "X", "cat": "cpu_op", "pid": 0, "tid": e.thread,
                  "ts": (e.start_ns - t0) / 1000, "dur": e.cpu_time_total}
                 for e in self.function_events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)

    def __str__(self) -> str:
        return self.table()


class record_function:  # PyTorch's name
    """Label a block (a context manager) or a function (a decorator) in the profile.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.profiler import profile, record_function
        >>> with profile() as prof:
        ...     with record_function("scale"):
        ...         y = gradwalk.ones(3) * 2
        >>> [e.name for e in prof.function_events]
        ['scale', 'gradwalk::mul']
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._event: FunctionEvent | None = None

    def __enter__(self) -> record_function:
        self._event = _open(self.name)
        return self

    def __exit__(self, *exc: Any) -> None:
        e, self._event = self._event, None
        _close(e)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return run
