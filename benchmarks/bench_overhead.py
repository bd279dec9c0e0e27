"""Per-op overhead: a chain of 1,000 elementwise ops, gradwalk vs PyTorch vs hand-written NumPy.

The chain repeats ``x * 1.0001``, ``x + 0.001``, ``sin``, ``tanh`` (the same workload as the
``chain_scalar`` / ``chain_vec16`` workloads of the cross-engine benchmark harness) on a float64
scalar (0-d) and on a float64 vector of 16 elements (``.sum()`` at the end). Phases:

- ``nograd``: forward without graph recording (``no_grad``; plain NumPy for the floor);
- ``fwd``: forward with graph recording (NumPy: forward that keeps a hand-written tape);
- ``fwd+bwd``: forward, backward and reading the gradient of the input;
- ``bwd``: derived, ``fwd+bwd`` minus ``fwd`` (best times).

Run: ``python3 benchmarks/bench_overhead.py [--quick] [--json out.json]``.
Targets: gradwalk fwd+bwd per op <= 0.6x PyTorch on the scalar chain, <= 0.7x on float64[16].
"""

from __future__ import annotations

import common

common.pin_thread_env()

import numpy as np  # noqa: E402
from chain import NumpyChain, TensorChain  # noqa: E402

import gradwalk  # noqa: E402

torch = common.try_import_torch()

N_OPS = 1000
TARGET_VS_TORCH = {"scalar": 0.6, "vec16": 0.7}
WORKLOADS = {"scalar": np.array(0.5), "vec16": np.linspace(-1.0, 1.0, 16)}


def engines(x0: np.ndarray, n: int) -> dict:
    out = {"gradwalk": TensorChain(gradwalk, x0, n)}
    if torch is not None:
        out["torch"] = TensorChain(torch, x0, n)
    out["numpy"] = NumpyChain(x0, n)
    return out


def sanity_check(name: str, x0: np.ndarray, n: int) -> bool:
    """Gradients of gradwalk and NumPy against PyTorch (against NumPy if torch is absent)."""
    es = engines(x0, n)
    grads = {k: e.fwdbwd() for k, e in es.items()}
    ref_name = "torch" if "torch" in grads else "numpy"
    pairs = [(grads[k], grads[ref_name]) for k in grads if k != ref_name]
    others = ", ".join(k for k in grads if k != ref_name)
    return common.check(f"{name} grads ({others} vs {ref_name})", pairs,
                        common.RTOL_FLOAT64)


def run(name: str, x0: np.ndarray, n: int, repeat: int) -> dict:
    es = engines(x0, n)
    phases = {}
    for phase in ("nograd", "fwd", "fwdbwd"):
        ts = common.measure_interleaved({k: getattr(e, phase) for k, e in es.items()},
                                        warmup=1, repeat=repeat)
        phases[phase] = {k: t.best / n * 1e6 for k, t in ts.items()}
        phases[phase + "_median"] = {k: t.median / n * 1e6 for k, t in ts.items()}
    phases["bwd"] = {k: phases["fwdbwd"][k] - phases["fwd"][k] for k in es}
    rows = []
    labels = {"nograd": "forward, no_grad", "fwd": "forward, recording graph",
              "fwdbwd": "forward + backward", "bwd": "backward (derived)"}
    for phase, label in labels.items():
        us = phases[phase]
        gw, th, npy = us["gradwalk"], us.get("torch"), us["numpy"]
        rows.append([label, gw, th, npy, common.ratio(gw, th), common.ratio(gw, npy)])
    shape = "scalar (0-d)" if x0.ndim == 0 else f"float64[{x0.size}] + sum"
    print(f"\n{name}: {n}-op chain on {shape}, us/op (best of {repeat}; median in JSON)")
    print(common.table(["phase", "gradwalk", "torch", "numpy", "gw/torch", "gw/numpy"], rows))
    r = common.ratio(phases["fwdbwd"]["gradwalk"], phases["fwdbwd"].get("torch"))
    target = TARGET_VS_TORCH[name]
    print(f"target fwd+bwd gradwalk/torch <= {target}: {common.fmt(r)} "
          f"-> {common.verdict(r, target)}")
    return {"n_ops": n, "us_per_op": phases, "fwdbwd_vs_torch": r, "target_vs_torch": target}


def main(argv: list[str] | None = None) -> int:
    ap = common.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=N_OPS, help="chain length")
    args = ap.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 30)
    info = common.limit_threads(torch)
    common.print_env(info)
    results, ok = {}, True
    for name, x0 in WORKLOADS.items():
        ok &= sanity_check(name, x0, args.n)
        results[name] = run(name, x0, args.n, repeat)
    common.write_json(args.json, {"bench": "overhead", "threads": info, "repeat": repeat,
                                  "sanity_ok": ok, "results": results})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
