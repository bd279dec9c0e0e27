"""Run every gradwalk benchmark, each in a fresh interpreter (thread settings set before imports).

Run: ``python3 benchmarks/run_all.py [--quick] [--json-dir DIR] [--only overhead,mlp,...]``.
Exit status is non-zero if a sanity check (gradients against PyTorch) failed or a script crashed.

Example:
    >>> [name for name, _ in SCRIPTS]
    ['overhead', 'mlp', 'deep', 'unbind', 'small', 'rnn']
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = [("overhead", "bench_overhead.py"), ("mlp", "bench_mlp.py"), ("deep", "bench_deep.py"),
           ("unbind", "bench_unbind.py"), ("small", "bench_small.py"), ("rnn", "bench_rnn.py")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions, batch 128 only, a 100,000-op deep chain")
    ap.add_argument("--json-dir", default=None, help="write <name>.json for each benchmark here")
    ap.add_argument("--only", default=None,
                    help="comma-separated subset: " + ",".join(n for n, _ in SCRIPTS))
    args = ap.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else {name for name, _ in SCRIPTS}
    failed = []
    t_all = time.perf_counter()
    for name, script in SCRIPTS:
        if name not in wanted:
            continue
        cmd = [sys.executable, os.path.join(HERE, script)]
        if args.quick:
            cmd.append("--quick")
        if args.json_dir:
            cmd += ["--json", os.path.join(args.json_dir, f"{name}.json")]
        shown = " ".join(os.path.relpath(c) if c.endswith(".py") else c for c in cmd[1:])
        print(f"\n## {name}: python3 {shown}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"## {name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(name)
    print(f"\n## total {time.perf_counter() - t_all:.1f} s; "
          f"{'all sanity checks OK' if not failed else 'FAILED: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
