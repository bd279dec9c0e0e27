"""Deep graph: a 1,000,000-op scalar chain; build time, backward time, peak memory per engine.

The chain is the one of ``bench_overhead.py`` (``x * 1.0001``, ``x + 0.001``, ``sin``, ``tanh``,
repeated) on a float64 scalar, recorded with autograd and then backpropagated once, at Python's
default recursion limit. Each engine runs in its own subprocess (fresh interpreter, one thread),
so the peak RSS (``resource.getrusage``) is per engine; "peak delta" is the growth over the RSS
measured after imports and a 100-op warm-up. The hand-written NumPy tape is the floor. The row
``gradwalk-nogc`` repeats gradwalk's run with ``gc.disable()`` around build and backward (a
diagnostic of the cyclic collector's share, not a setting users run with).

Run: ``python3 benchmarks/bench_deep.py [--quick] [--n 1000000] [--json out.json]``.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time

import common

ENGINES = ("gradwalk", "torch", "numpy")
# A diagnostic variant: the same gradwalk run with Python's cyclic GC disabled during build and
# backward, showing how much of the time the collector's passes over the live graph take.
VARIANTS = ("gradwalk-nogc",)
N_DEEP = 1_000_000
N_QUICK = 100_000
CHILD_TIMEOUT_S = 600
# PyTorch's autograd graph costs a few hundred bytes per node; refuse to start it (and say so)
# when the machine has less than this much memory available.
MIN_AVAILABLE_MB_PER_MOP = 3000


def rss_mb() -> float:
    """Current resident set size of this process in MiB (psutil, else /proc/self/statm).

    Example:
        >>> rss_mb() > 0
        True
    """
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux).

    Example:
        >>> peak_rss_mb() >= 0
        True
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def available_mb() -> float | None:
    """``MemAvailable`` from /proc/meminfo in MiB, or ``None`` where unknown.

    Example:
        >>> available_mb() is None or available_mb() > 0
        True
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def child(engine: str, n: int) -> dict:
    """One engine, one process: warm up, build the chain, backward, tear down; a result dict."""
    common.pin_thread_env()
    nogc = engine.endswith("-nogc")
    engine = engine.removesuffix("-nogc")
    import numpy as np
    from chain import NumpyChain, TensorChain

    if engine == "numpy":
        mod = None
    elif engine == "torch":
        mod = common.try_import_torch()
        if mod is None:
            return {"status": "n/a", "reason": "torch is not installed"}
    else:
        import gradwalk as mod
    common.limit_threads(mod if engine == "torch" else None)
    x0 = np.array(0.5)
    make = (lambda k: NumpyChain(x0, k)) if mod is None else (lambda k: TensorChain(mod, x0, k))
    make(100).fwdbwd()  # warm-up: imports, caches
    c = make(n)
    gc.collect()
    res = {"status": "ok", "n_ops": n, "recursionlimit": sys.getrecursionlimit(),
           "rss_before_mb": rss_mb(), "peak_before_mb": peak_rss_mb()}
    if nogc:
        gc.disable()
    t0 = time.perf_counter()
    try:
        handle = c.fwd()
        t1 = time.perf_counter()
        res["rss_after_build_mb"] = rss_mb()
        grad = c.bwd(handle)
        t2 = time.perf_counter()
        gc.enable()
    except BaseException as e:  # RecursionError, MemoryError, ...
        return {**res, "status": "error", "error": f"{type(e).__name__}: {str(e)[:300]}",
                "failed_after_s": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}
    res.update(build_s=t1 - t0, backward_s=t2 - t1, peak_rss_mb=peak_rss_mb(),
               rss_after_backward_mb=rss_mb(), grad=float(grad))
    res["peak_delta_mb"] = res["peak_rss_mb"] - res["rss_before_mb"]
    t3 = time.perf_counter()
    try:
        del handle, c
        gc.collect()
        res["teardown_s"] = time.perf_counter() - t3
    except BaseException as e:
        res["teardown_error"] = f"{type(e).__name__}: {str(e)[:200]}"
    res["rss_after_teardown_mb"] = rss_mb()
    return res


def run_child(engine: str, n: int) -> dict:
    """Run :func:`child` in a fresh interpreter; collect its ``RESULT`` line."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", engine, "--n", str(n)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"no result after {CHILD_TIMEOUT_S} s"}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    why = "killed (out of memory?)" if p.returncode in (-9, 137) else f"exit {p.returncode}"
    tail = " / ".join(ln.strip() for ln in p.stderr.strip().splitlines()[-3:])
    return {"status": "crash",
            "reason": f"{why} after {time.perf_counter() - t0:.1f} s: {tail[-300:]}"}


def main(argv: list[str] | None = None) -> int:
    ap = common.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help=f"chain length ({N_DEEP:,})")
    ap.add_argument("--engines", default=",".join(ENGINES + VARIANTS),
                    help="comma-separated, from: " + ", ".join(ENGINES + VARIANTS))
    ap.add_argument("--child", choices=ENGINES + VARIANTS, help=argparse_hidden())
    args = ap.parse_args(argv)
    n = args.n or (N_QUICK if args.quick else N_DEEP)
    if args.child:
        print("RESULT " + json.dumps(child(args.child, n)), flush=True)
        return 0
    common.print_env({"threads": common.bench_threads(), "threadpoolctl": "per child"})
    results = {}
    for engine in args.engines.split(","):
        avail = available_mb()
        need = MIN_AVAILABLE_MB_PER_MOP * n / 1e6
        if engine == "torch" and avail is not None and avail < need:
            results[engine] = {"status": "skipped",
                               "reason": f"only {avail:.0f} MB available, want {need:.0f} MB"}
        else:
            print(f"# running {engine} at n={n:,} ...", flush=True)
            results[engine] = run_child(engine, n)
    rows = []
    for engine, r in results.items():
        if r["status"] != "ok":
            rows.append([engine, r["status"], "", "", "", "", "", "", r.get("reason") or
                         r.get("error", "")])
            continue
        note = r.get("teardown_error", "")
        rows.append([engine, "yes", r["build_s"], r["backward_s"], r["build_s"] / n * 1e6,
                     r["backward_s"] / n * 1e6, r["peak_rss_mb"], r["peak_delta_mb"],
                     f"teardown {common.fmt(r.get('teardown_s'))} s; grad {r['grad']:.3g} {note}"])
    print(f"\n{n:,}-op scalar chain, one build + one backward, recursion limit "
          f"{sys.getrecursionlimit()} (each engine in its own process)")
    print(common.table(["engine", "backward ok", "build s", "backward s", "build us/op",
                        "bwd us/op", "peak RSS MB", "peak delta MB", "notes"], rows))
    ok = _sanity(results)
    common.write_json(args.json, {"bench": "deep", "n_ops": n, "sanity_ok": ok,
                                  "results": results})
    return 0 if ok else 1


def _sanity(results: dict) -> bool:
    """gradwalk's and NumPy's gradient against torch's (or NumPy's); gradwalk must have run."""
    grads = {k: r["grad"] for k, r in results.items() if r["status"] == "ok"}
    grads.pop("gradwalk-nogc", None)
    if "gradwalk" not in grads:
        print("sanity check deep grads: MISMATCH (gradwalk did not finish)")
        return False
    ref = "torch" if "torch" in grads else "numpy"
    pairs = [(g, grads[ref]) for k, g in grads.items() if k != ref]
    if not pairs:
        print("sanity check deep grads: n/a (only one engine ran)")
        return True
    return common.check(f"deep grads (vs {ref})", pairs, common.RTOL_FLOAT64)


def argparse_hidden() -> str:
    """Help text that hides the internal ``--child`` flag."""
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    raise SystemExit(main())
