"""Jacobians by forward mode vs reverse mode: where each one wins.

``f(x) = tanh(W2 @ sin(W1 @ x))`` maps ``n`` inputs to ``m`` outputs (float64). The Jacobian
``(m, n)`` takes ``n`` forward passes (one ``jvp`` per input direction) or ``m`` reverse passes
(one ``vjp`` per output), here vectorized with ``vmap`` (``vectorize=True``) and, for small
sizes, as a Python loop of passes (``vectorize=False``). Expected: forward mode wins when
``n < m`` (few inputs, many outputs), reverse mode when ``n > m`` (many inputs, one output);
``strategy="auto"`` picks by the sizes.

Run: ``python3 benchmarks/bench_jacobian.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import common

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
from gradwalk.autograd.functional import jacobian  # noqa: E402

torch = common.try_import_torch()

HIDDEN = 64
SIZES = [(2, 256), (8, 256), (32, 256), (256, 256), (256, 32), (256, 8), (256, 1), (1024, 1)]
QUICK = [(2, 128), (128, 128), (128, 2), (512, 1)]
LOOP_MAX = 64  # time the loop of passes only when the number of passes is at most this


def make_f(n: int, m: int, seed: int = 0):
    """``f`` and an input point for ``n`` inputs and ``m`` outputs.

    Example:
        >>> f, x = make_f(3, 5)
        >>> f(x).shape
        gradwalk.Size([5])
    """
    rng = np.random.default_rng(seed)
    W1 = gradwalk.tensor(rng.standard_normal((HIDDEN, n)) / np.sqrt(n), dtype=gradwalk.float64)
    W2 = gradwalk.tensor(rng.standard_normal((m, HIDDEN)) / np.sqrt(HIDDEN),
                         dtype=gradwalk.float64)
    x = gradwalk.tensor(rng.standard_normal(n), dtype=gradwalk.float64)

    def f(v):
        return (W2 @ (W1 @ v).sin()).tanh()

    return f, x


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    repeat = args.repeat or (3 if args.quick else 5)
    rows = []
    results = []
    for n, m in (QUICK if args.quick else SIZES):
        f, x = make_f(n, m)
        fns = {
            "forward": lambda f=f, x=x: jacobian(f, x, vectorize=True, strategy="forward-mode"),
            "reverse": lambda f=f, x=x: jacobian(f, x, vectorize=True, strategy="reverse-mode"),
        }
        if n <= LOOP_MAX:
            fns["forward loop"] = lambda f=f, x=x: jacobian(f, x, strategy="forward-mode")
        if m <= LOOP_MAX:
            fns["reverse loop"] = lambda f=f, x=x: jacobian(f, x, strategy="reverse-mode")
        jf, jr = fns["forward"](), fns["reverse"]()
        ok = common.max_rel_err(jf.numpy(), jr.numpy()) <= common.RTOL_FLOAT64
        ts = common.measure_interleaved(fns, warmup=1, repeat=repeat)
        _, auto = jacobian(f, x, strategy="auto", return_mode=True)
        fwd, rev = ts["forward"].best, ts["reverse"].best
        winner = "forward" if fwd < rev else "reverse"
        loop_f = ts["forward loop"].best * 1e3 if "forward loop" in ts else None
        loop_r = ts["reverse loop"].best * 1e3 if "reverse loop" in ts else None
        rows.append([str(n), str(m), fwd * 1e3, rev * 1e3, common.fmt(common.ratio(rev, fwd)),
                     winner, auto.split("-")[0], loop_f, loop_r, "OK" if ok else "MISMATCH"])
        results.append({"n_in": n, "n_out": m, "forward_ms": fwd * 1e3, "reverse_ms": rev * 1e3,
                        "forward_loop_ms": loop_f, "reverse_loop_ms": loop_r, "auto": auto,
                        "agree": ok})
    print(f"\nJacobian of f: R^n -> R^m, f(x) = tanh(W2 sin(W1 x)), hidden {HIDDEN}, float64 "
          "(best ms)")
    print(common.table(["n in", "m out", "forward (vmap)", "reverse (vmap)", "rev / fwd",
                        "faster", "auto picks", "forward loop", "reverse loop", "J agree"],
                       rows))
    print("\nrev / fwd > 1: forward mode is faster (few inputs, many outputs); < 1: reverse mode "
          "is faster (many inputs, few outputs).")
    common.write_json(args.json, {"results": results})


if __name__ == "__main__":
    main()
