"""Shared helpers for gradwalk's benchmark scripts: thread pinning, timing, tables, JSON output.

Every benchmark script starts with::

    import common
    common.pin_thread_env()      # before numpy / torch are imported
    import numpy as np           # noqa: E402
    ...
    info = common.limit_threads(torch)   # after the imports (torch may be None)

so that gradwalk, PyTorch and the hand-written NumPy code run in one process with the same
thread settings (one thread unless ``GRADWALK_BENCH_THREADS`` says otherwise).

Example:
    >>> t = measure(lambda: sum(range(100)), warmup=1, repeat=3)
    >>> t.reps, t.best <= t.median
    (3, True)
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if importlib.util.find_spec("gradwalk") is None:  # run from anywhere without PYTHONPATH
    sys.path.insert(0, REPO)

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")

# Gradients of two engines "match" when max|a - b| <= rtol * max|b| (+ a tiny absolute floor).
RTOL_FLOAT64 = 1e-9
RTOL_FLOAT32 = 1e-4


def bench_threads() -> int:
    """The thread count the benchmarks run with: ``GRADWALK_BENCH_THREADS`` or 1.

    Example:
        >>> bench_threads() >= 1
        True
    """
    return max(1, int(os.environ.get("GRADWALK_BENCH_THREADS", "1")))


def pin_thread_env(threads: int | None = None) -> None:
    """Set the BLAS/OpenMP thread variables; call before numpy or torch is imported.

    Example:
        >>> pin_thread_env(1); os.environ["OMP_NUM_THREADS"]
        '1'
    """
    n = str(threads or bench_threads())
    for var in THREAD_VARS:
        os.environ[var] = n


def limit_threads(torch: Any = None, threads: int | None = None) -> dict:
    """Cap thread pools after the imports (threadpoolctl if installed, torch if given).

    Returns a description of what was applied, for the JSON output.

    Example:
        >>> "threadpoolctl" in limit_threads(None, 1)
        True
    """
    n = threads or bench_threads()
    info: dict[str, Any] = {"threads": n, "env": {v: os.environ.get(v) for v in THREAD_VARS}}
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        info["threadpoolctl"] = f"threadpool_limits({n})"
    except ImportError:
        info["threadpoolctl"] = "not installed (env variables only)"
    if torch is not None:
        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set, or parallel work already started
            pass
        info["torch_threads"] = torch.get_num_threads()
    return info


def try_import_torch() -> Any:
    """``torch`` if it can be imported, else ``None`` (the benchmarks then print "n/a").

    Example:
        >>> try_import_torch() is None or hasattr(try_import_torch(), "tensor")
        True
    """
    if os.environ.get("GRADWALK_BENCH_NO_TORCH"):
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


# ---------------------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall times (seconds) of repeated runs of one function.

    ``best`` (the minimum) is the headline number on a noisy shared machine; ``median`` is shown
    beside it. ``phases`` holds per-phase medians when the function reports phases.

    Example:
        >>> Timing([0.2, 0.1, 0.3]).best
        0.1
    """

    times: list[float]
    phases: dict[str, list[float]] = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def reps(self) -> int:
        return len(self.times)

    def phase_best(self, name: str) -> float:
        """Minimum over the reps of one phase's time."""
        return min(self.phases[name])

    def summary(self, scale: float = 1.0) -> dict:
        """Best/median/reps (times multiplied by ``scale``), and phase bests, for JSON."""
        out = {"best": self.best * scale, "median": self.median * scale, "reps": self.reps}
        for name, ts in self.phases.items():
            out[f"{name}_best"] = min(ts) * scale
            out[f"{name}_median"] = statistics.median(ts) * scale
        return out


def _run_timed(fn: Callable[[], Any], timing: Timing) -> None:
    t0 = time.perf_counter()
    r = fn()
    t1 = time.perf_counter()
    timing.times.append(t1 - t0)
    if isinstance(r, dict) and r.get("_phases"):
        for name, dt in r["_phases"].items():
            timing.phases.setdefault(name, []).append(dt)
    del r  # freed after the clock stopped: teardown of a returned graph is not timed


def measure(fn: Callable[[], Any], *, warmup: int = 1, repeat: int = 5,
            budget_s: float | None = None) -> Timing:
    """Time ``fn()`` ``repeat`` times after ``warmup`` untimed calls.

    If ``fn`` returns a dict with a ``"_phases"`` entry (name -> seconds), the phases are
    recorded too. With ``budget_s``, stop early once that many seconds passed (at least 3 reps).

    Example:
        >>> measure(lambda: None, warmup=0, repeat=4).reps
        4
    """
    return measure_interleaved({"fn": fn}, warmup=warmup, repeat=repeat, budget_s=budget_s)["fn"]


def measure_interleaved(fns: dict[str, Callable[[], Any]], *, warmup: int = 1, repeat: int = 5,
                        budget_s: float | None = None) -> dict[str, Timing]:
    """Time several functions round-robin, so machine noise hits all of them alike.

    Example:
        >>> ts = measure_interleaved({"a": lambda: 1, "b": lambda: 2}, warmup=0, repeat=2)
        >>> sorted(ts), ts["a"].reps
        (['a', 'b'], 2)
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    gc.collect()
    out = {name: Timing([]) for name in fns}
    start = time.perf_counter()
    for i in range(repeat):
        for name, fn in fns.items():
            _run_timed(fn, out[name])
        if budget_s is not None and i >= 2 and time.perf_counter() - start > budget_s:
            break
    return out


# ---------------------------------------------------------------------------------------- checks


def max_rel_err(got: Any, ref: Any) -> float:
    """``max|got - ref| / max|ref|`` in float64 (absolute error when ``ref`` is all zero).

    Example:
        >>> max_rel_err([1.0, 2.0], [1.0, 2.0])
        0.0
    """
    import numpy as np

    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    diff = float(np.max(np.abs(a - b))) if b.size else 0.0
    return diff / scale if scale > 0 else diff


def check(label: str, pairs: Sequence[tuple[Any, Any]], rtol: float) -> bool:
    """Compare (got, ref) arrays; print ``OK`` or ``MISMATCH`` with the worst relative error.

    Example:
        >>> check("demo", [([1.0], [1.0])], 1e-9)
        sanity check demo: OK (max rel err 0.0e+00)
        True
    """
    worst = max(max_rel_err(g, r) for g, r in pairs)
    ok = worst <= rtol
    print(f"sanity check {label}: {'OK' if ok else 'MISMATCH'} (max rel err {worst:.1e})")
    return ok


# ---------------------------------------------------------------------------------------- output


def fmt(x: float | str | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, or ``n/a`` for ``None``.

    Example:
        >>> fmt(0.012345), fmt(1.4), fmt(1234.5), fmt(None)
        ('0.0123', '1.40', '1234', 'n/a')
    """
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    if x != x:
        return "nan"
    if x == 0 or abs(x) >= 10 ** (digits - 1):
        return f"{x:.0f}"
    return f"{x:#.{digits}g}"


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or ``None`` if either is missing.

    Example:
        >>> ratio(1.0, 4.0), ratio(1.0, None)
        (0.25, None)
    """
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], markdown: bool = True) -> str:
    """A small table (markdown by default); numbers are formatted with :func:`fmt`.

    Example:
        >>> print(table(["a", "b"], [["x", 1.5]]))
        | a | b    |
        |---|------|
        | x | 1.50 |
    """
    cells = [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(parts: Sequence[str]) -> str:
        return "| " + " | ".join(p.ljust(w) for p, w in zip(parts, widths)) + " |"

    out = [line(headers)]
    if markdown:
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def verdict(value: float | None, target: float) -> str:
    """``met`` / ``NOT met`` for "value <= target", or ``n/a``.

    Example:
        >>> verdict(0.5, 0.7), verdict(0.9, 0.7), verdict(None, 0.7)
        ('met', 'NOT met', 'n/a')
    """
    if value is None:
        return "n/a"
    return "met" if value <= target else "NOT met"


def env_info() -> dict:
    """Versions, CPU, thread settings and git commit, for the JSON output and the doc.

    Example:
        >>> "python" in env_info()
        True
    """
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(ln.split(":", 1)[1].strip() for ln in f
                               if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    for mod in ("numpy", "torch", "gradwalk"):
        m = sys.modules.get(mod)
        if m is not None:
            info[mod] = getattr(m, "__version__", "?")
            continue
        try:
            info[mod] = importlib.metadata.version(mod)
        except importlib.metadata.PackageNotFoundError:
            info[mod] = None
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        info["git"] = rev.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["git"] = None
    return info


def print_env(threads_info: dict) -> None:
    """One line describing the run: versions, CPU and thread settings.

    Example:
        >>> print_env({"threads": 1, "threadpoolctl": "x"})  # doctest: +ELLIPSIS
        # python ...
    """
    e = env_info()
    print(f"# python {e['python']}, numpy {e['numpy']}, torch {e['torch'] or 'n/a'}, "
          f"git {e['git']}, cpu {e.get('cpu', '?')} x{e['nproc']}, "
          f"threads {threads_info.get('threads')} ({threads_info.get('threadpoolctl')}), "
          f"{e['date_utc']} UTC")


def write_json(path: str | None, payload: dict) -> None:
    """Write ``payload`` plus :func:`env_info` to ``path`` (nothing when ``path`` is None).

    Example:
        >>> write_json(None, {})
    """
    if not path:
        return
    payload = {"env": env_info(), **payload}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=_json_default)
    print(f"# wrote {path}")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Timing):
        return asdict(obj)
    return float(obj)


def base_parser(description: str) -> argparse.ArgumentParser:
    """The flags every benchmark script shares: ``--quick``, ``--repeat``, ``--json``.

    Example:
        >>> base_parser("x").parse_args(["--quick"]).quick
        True
    """
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller sizes")
    ap.add_argument("--repeat", type=int, default=None, help="timed repetitions per engine")
    ap.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    return ap
