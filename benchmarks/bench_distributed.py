"""Data parallel on MPI: bytes all-reduced per step, overlap of the all-reduce with backward,
scaling from 1 to 2 processes, and the ring all-reduce cost model for a larger cluster.

Two models, float32, SGD, one thread per process:

* ``demo``: the demo's MLP, 64-64-64-10 (8,970 parameters), batch 32 per process;
* ``wide``: a 4-layer 1024-wide MLP, 1024-1024-1024-1024-1024 (4.2 M parameters, 16.8 MB of
  gradients), batch 64 per process.

For each, a worker (this script with ``--worker``, under ``mpiexec``) measures per step:
the time of a DDP step; the time of the same step with ``no_sync()`` (no communication);
``exposed``, the time backward waits at its end for the all-reduces (the part not hidden);
``comm``, the time of the same bucket all-reduces alone. Overlap share = 1 - exposed / comm.
Scaling: samples/s of all processes together with 1 and 2 processes, the per-process batch
fixed (weak scaling); efficiency = rate(2) / (2 x rate(1)).

Run: ``python benchmarks/bench_distributed.py [--quick] [--json out.json]`` (it starts
``mpiexec`` itself; the MPI extra must be installed). Results and the cost model are in
``docs/distributed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import common

common.pin_thread_env()

import numpy as np  # noqa: E402

MODELS = {"demo": dict(sizes=[64, 64, 64, 10], batch=32),
          "wide": dict(sizes=[1024, 1024, 1024, 1024, 1024], batch=64)}


def worker(model_name: str, steps: int, cap: float) -> None:
    from mpi4py import MPI

    import gradwalk
    import gradwalk.distributed as dist
    from gradwalk import nn, optim
    from gradwalk.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    cfg = MODELS[model_name]
    sizes, batch = cfg["sizes"], cfg["batch"]
    gradwalk.manual_seed(0)
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU()]
    model = DDP(nn.Sequential(*layers[:-1]), bucket_cap_mb=cap)
    rng = np.random.default_rng(rank)
    x = gradwalk.from_numpy(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = gradwalk.from_numpy(rng.integers(0, sizes[-1], batch))
    opt = optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(sync: bool) -> None:
        opt.zero_grad()
        if sync:
            loss_fn(model(x), y).backward()
        else:
            with model.no_sync():
                loss_fn(model(x), y).backward()
        opt.step()

    def timed(sync: bool) -> float:
        for _ in range(3):
            step(sync)
        model._comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(steps):
            step(sync)
        model._comm.Barrier()
        return (time.perf_counter() - t0) / steps

    t_local = timed(False)
    t_ddp = timed(True)
    t_local2 = timed(False)
    waits, hidden = [], []
    for _ in range(steps):  # exposed wait, with the ranks aligned at the start of each step
        model._comm.Barrier()
        step(True)
        waits.append(model.reducer.stats["last_wait_s"])
        hidden.append(model.reducer.stats["last_hidden_share"])
    bufs = [b.flat.copy() for b in model.reducer.buckets]
    comm_times = []
    for _ in range(max(steps, 5)):
        model._comm.Barrier()
        t0 = time.perf_counter()
        MPI.Request.Waitall([model._comm.Iallreduce(MPI.IN_PLACE, b, op=MPI.SUM) for b in bufs])
        comm_times.append(time.perf_counter() - t0)
    grad_bytes = sum(p.numel() * 4 for p in model.parameters())
    tiny = np.zeros(1)
    model._comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(200):
        model._comm.Allreduce(MPI.IN_PLACE, tiny)
    latency = (time.perf_counter() - t0) / 200
    st = model.reducer.stats
    result = dict(model=model_name, n=n, batch=batch, steps=steps, cap_mb=cap,
                  buckets=len(model.reducer.buckets), grad_bytes=grad_bytes,
                  bytes_per_step=st["bytes"] / max(st["steps"], 1),
                  t_ddp=t_ddp, t_local=min(t_local, t_local2),
                  exposed=statistics.median(waits), comm=statistics.median(comm_times),
                  hidden_bytes_share=statistics.mean(hidden),
                  latency=latency, samples_per_s=n * batch / t_ddp)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def launch(n: int, model: str, steps: int, cap: float) -> dict:
    sys.path.insert(0, common.REPO)
    from gradwalk.distributed.run import find_mpiexec, flavour_of

    exe = find_mpiexec()
    if exe is None:
        raise SystemExit('no mpiexec: pip install "gradwalk[distributed]"')
    cmd = [exe, "-n", str(n)] + (["--oversubscribe"] if flavour_of(exe) == "openmpi" else [])
    cmd += [sys.executable, os.path.abspath(__file__), "--worker", model, "--steps", str(steps),
            "--cap", str(cap)]
    env = dict(os.environ, PYTHONPATH=common.REPO, MPIEXEC_TIMEOUT="300",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=320)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"the worker failed:\n{proc.stdout}\n{proc.stderr}")


def buckets_of(sizes: list[int], cap_bytes: int, first_bytes: int = 2**20) -> list[int]:
    """Bucket sizes (bytes) for gradients of ``sizes`` bytes in ``parameters()`` order, by
    DDP's rule (reverse order; the first bucket capped at 1 MiB, the others at the cap)."""
    out, cur, cap = [], 0, min(first_bytes, cap_bytes)
    for size in reversed(sizes):
        cur += size
        if cur >= cap:
            out.append(cur)
            cur, cap = 0, cap_bytes
    return out + ([cur] if cur else [])


def cost_model(sizes: list[int], machines: int = 8, per_machine: int = 8,
               link_gbit: float = 100.0, alpha_s: float = 5e-6) -> list[str]:
    """The ring all-reduce: every process sends and receives 2(N-1)/N x bytes, in 2(N-1)
    steps; the slowest link (the NIC, one ring edge leaves each machine) sets the pace."""
    grad_bytes = sum(sizes)
    N = machines * per_machine
    bw = link_gbit * 1e9 / 8
    f = 2 * (N - 1) / N
    t_bw = f * grad_bytes / bw
    t_lat = 2 * (N - 1) * alpha_s
    lines = [f"ring all-reduce, {machines} machines x {per_machine} processes = {N} ranks, "
             f"{grad_bytes / 1e6:.1f} MB of gradients, {link_gbit:g} Gbit/s links, "
             f"alpha {alpha_s * 1e6:g} us per message:",
             f"  bytes each rank sends per step: 2(N-1)/N x {grad_bytes / 1e6:.1f} MB = "
             f"{f * grad_bytes / 1e6:.1f} MB -> {t_bw * 1e3:.2f} ms at {bw / 1e9:.1f} GB/s",
             f"  latency per all-reduce call: 2(N-1) x alpha = {t_lat * 1e3:.2f} ms",
             f"  break-even bucket (latency = bandwidth term): alpha_ring x BW / (2(N-1)/N) = "
             f"{t_lat * bw / f / 2**20:.1f} MiB"]
    for cap_mb in (1, 4, 8, 25):
        bs = buckets_of(sizes, int(cap_mb * 2**20))
        total = 1e3 * (t_bw + len(bs) * t_lat)
        exposed = 1e3 * (f * bs[-1] / bw + t_lat)
        lines.append(f"  bucket_cap_mb={cap_mb:>2}: {len(bs)} all-reduce(s), total {total:.2f} "
                     f"ms, the last ({bs[-1] / 1e6:.1f} MB) exposed after backward: "
                     f"{exposed:.2f} ms")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--worker", default=None)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--cap", type=float, default=25.0)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--cost-model", action="store_true", help="print only the cost model")
    args = p.parse_args()
    if args.cost_model:
        wide = MODELS["wide"]["sizes"]
        print("\n".join(cost_model([4 * s for i in range(len(wide) - 1)
                                    for s in (wide[i] * wide[i + 1], wide[i + 1])])))
        return
    if args.worker:
        worker(args.worker, args.steps, args.cap)
        return
    steps = {"demo": 50 if args.quick else 300, "wide": 5 if args.quick else 20}
    rows = []
    for model in ("demo", "wide"):
        caps = (25.0,) if model == "demo" else (25.0, 4.0)
        for cap in caps:
            for n in (1, 2):
                rows.append(launch(n, model, steps[model], cap))
    print(f"{'model':6} {'cap':>4} {'N':>2} {'buckets':>7} {'grad MB':>8} {'sent/step':>9} "
          f"{'step ms':>8} {'local ms':>8} {'comm ms':>8} {'exposed':>8} {'overlap':>7} "
          f"{'done early':>10} {'samples/s':>10}")
    for r in rows:
        overlap = (1 - r["exposed"] / r["comm"]) if r["n"] > 1 and r["comm"] > 0 else float("nan")
        print(f"{r['model']:6} {r['cap_mb']:>4g} {r['n']:>2} {r['buckets']:>7} "
              f"{r['grad_bytes'] / 1e6:>8.3f} {r['bytes_per_step'] / r['grad_bytes']:>8.2f}x "
              f"{1e3 * r['t_ddp']:>8.3f} {1e3 * r['t_local']:>8.3f} {1e3 * r['comm']:>8.3f} "
              f"{1e3 * r['exposed']:>8.3f} {100 * overlap:>6.0f}% "
              f"{100 * r['hidden_bytes_share']:>9.0f}% {r['samples_per_s']:>10,.0f}")
    for model in ("demo", "wide"):
        one = [r for r in rows if r["model"] == model and r["n"] == 1 and r["cap_mb"] == 25.0][0]
        two = [r for r in rows if r["model"] == model and r["n"] == 2 and r["cap_mb"] == 25.0][0]
        print(f"scaling {model}: 1 process {one['samples_per_s']:,.0f} samples/s, 2 processes "
              f"{two['samples_per_s']:,.0f} samples/s, efficiency "
              f"{100 * two['samples_per_s'] / (2 * one['samples_per_s']):.0f}%")
    two = [r for r in rows if r["n"] == 2]
    print(f"all-reduce latency (8 bytes, 2 processes): {1e6 * two[0]['latency']:.1f} us")
    wide = MODELS["wide"]["sizes"]
    sizes = [4 * s for i in range(len(wide) - 1) for s in (wide[i] * wide[i + 1], wide[i + 1])]
    print("\n".join(cost_model(sizes)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
