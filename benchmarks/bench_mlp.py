"""MLP training step: gradwalk vs PyTorch vs a hand-written NumPy forward+backward (the floor).

784-256-256-10, relu, softmax cross-entropy, float32, batch 128 and 1024. One step is the
forward, the backward and an SGD update (lr 0.01) with the gradients reset, written the same way
in gradwalk and PyTorch::

    h = F.relu(F.linear(x, W0, b0)); h = F.relu(F.linear(h, W1, b1))
    loss = F.cross_entropy(F.linear(h, W2, b2), y)
    loss.backward()
    with no_grad():
        for p in params: p -= lr * p.grad     # (--update data: p.data -= lr * p.grad.data)
    for p in params: p.grad = None

All three engines start from the same weights (PyTorch's layout, ``W: (out, in)``) and run
round-robin in one process with the same thread settings.

Run: ``python3 benchmarks/bench_mlp.py [--quick] [--batches 128,1024] [--json out.json]``.
Target: gradwalk <= 1.10x NumPy.
"""

from __future__ import annotations

import time

import common

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
import gradwalk.nn.functional as gF  # noqa: E402

torch = common.try_import_torch()

SIZES = (784, 256, 256, 10)
LR = 0.01
TARGET_VS_NUMPY = 1.10


def make_data(batch: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Initial parameters ``[W0, b0, W1, b1, W2, b2]`` (He-scaled, ``W: (out, in)``), inputs
    ``X`` (float32) and class labels ``y`` (int64).

    Example:
        >>> ps, X, y = make_data(4)
        >>> [p.shape for p in ps[:2]], X.shape, y.dtype
        ([(256, 784), (256,)], (4, 784), dtype('int64'))
    """
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
        params.append(w.astype(np.float32))
        params.append((0.01 * rng.standard_normal(fan_out)).astype(np.float32))
    X = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=batch).astype(np.int64)
    return params, X, y


class NumpyMLP:
    """Hand-written forward, backward and in-place SGD in NumPy: no autograd at all.

    Example:
        >>> m = NumpyMLP(*make_data(8))
        >>> loss, grads = m.loss_and_grads()
        >>> [g.shape for g in grads] == [p.shape for p in m.params]
        True
    """

    def __init__(self, params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> None:
        self.params = [p.copy() for p in params]
        self.X, self.y = X, y
        self.rows = np.arange(X.shape[0])

    def _forward(self):
        W0, b0, W1, b1, W2, b2 = self.params
        z0 = self.X @ W0.T
        z0 += b0
        h0 = np.maximum(z0, 0)
        z1 = h0 @ W1.T
        z1 += b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T
        z2 += b2
        m = z2.max(axis=1, keepdims=True)
        e = np.exp(z2 - m)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + m[:, 0] - z2[self.rows, self.y])
        return loss, (h0, h1, e, s)

    def _backward(self, cache):
        W0, b0, W1, b1, W2, b2 = self.params
        h0, h1, e, s = cache
        g = e / s  # softmax
        g[self.rows, self.y] -= 1.0
        g /= self.X.shape[0]
        dW2, db2 = g.T @ h1, g.sum(axis=0)
        d1 = g @ W2
        d1 *= h1 > 0
        dW1, db1 = d1.T @ h0, d1.sum(axis=0)
        d0 = d1 @ W1
        d0 *= h0 > 0
        dW0, db0 = d0.T @ self.X, d0.sum(axis=0)
        return [dW0, db0, dW1, db1, dW2, db2]

    def loss_and_grads(self):
        """Loss and the six gradients, without updating (for the sanity check)."""
        loss, cache = self._forward()
        return float(loss), self._backward(cache)

    def step(self) -> dict:
        """One training step; returns the time of each phase (forward, backward, SGD)."""
        t0 = time.perf_counter()
        loss, cache = self._forward()
        t1 = time.perf_counter()
        grads = self._backward(cache)
        t2 = time.perf_counter()
        for p, g in zip(self.params, grads):
            p -= LR * g
        t3 = time.perf_counter()
        return {"_phases": {"fwd": t1 - t0, "bwd": t2 - t1, "upd": t3 - t2}}


class TensorMLP:
    """The same step in a PyTorch-like engine (``mod`` is ``gradwalk`` or ``torch``).

    Example:
        >>> ps, X, y = make_data(8)
        >>> loss, grads = TensorMLP(gradwalk, gF, ps, X, y).loss_and_grads()
        >>> abs(loss - NumpyMLP(ps, X, y).loss_and_grads()[0]) < 1e-4
        True
    """

    def __init__(self, mod, F, params, X, y, update: str = "inplace") -> None:
        self.mod, self.F, self.update = mod, F, update
        self.params = [mod.tensor(p.copy(), requires_grad=True) for p in params]
        self.X = mod.tensor(X)
        self.y = mod.tensor(y)

    def _forward(self):
        F = self.F
        W0, b0, W1, b1, W2, b2 = self.params
        h = F.relu(F.linear(self.X, W0, b0))
        h = F.relu(F.linear(h, W1, b1))
        return F.cross_entropy(F.linear(h, W2, b2), self.y)

    def loss_and_grads(self):
        """Loss and the six gradients as arrays, without updating (for the sanity check)."""
        loss = self._forward()
        loss.backward()
        grads = [p.grad.numpy().copy() for p in self.params]
        for p in self.params:
            p.grad = None
        return float(loss.item()), grads

    def step(self) -> dict:
        """One training step; returns the time of each phase (forward, backward, SGD)."""
        t0 = time.perf_counter()
        loss = self._forward()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        with self.mod.no_grad():
            if self.update == "inplace":
                for p in self.params:
                    p -= LR * p.grad
            else:
                for p in self.params:
                    p.data -= LR * p.grad.data
        for p in self.params:
            p.grad = None
        t3 = time.perf_counter()
        return {"_phases": {"fwd": t1 - t0, "bwd": t2 - t1, "upd": t3 - t2}}


def engines(batch: int, update: str) -> dict:
    params, X, y = make_data(batch)
    out = {"gradwalk": TensorMLP(gradwalk, gF, params, X, y, update)}
    if torch is not None:
        out["torch"] = TensorMLP(torch, torch.nn.functional, params, X, y, update)
    out["numpy"] = NumpyMLP(params, X, y)
    return out


def _as_arrays(params) -> list[np.ndarray]:
    return [np.array(p) if isinstance(p, np.ndarray) else p.detach().numpy().copy() for p in params]


def sanity_check(batch: int, update: str) -> bool:
    """Loss and the six gradients of gradwalk and NumPy against PyTorch (or NumPy), then the
    parameters after two timed-style steps (catches an SGD update that does not stick)."""
    res = {k: e.loss_and_grads() for k, e in engines(batch, update).items()}
    ref_name = "torch" if "torch" in res else "numpy"
    ref_loss, ref_grads = res[ref_name]
    pairs = []
    for k, (loss, grads) in res.items():
        if k != ref_name:
            pairs.append((loss, ref_loss))
            pairs.extend(zip(grads, ref_grads))
    others = ", ".join(k for k in res if k != ref_name)
    ok = common.check(f"batch {batch} loss+grads ({others} vs {ref_name})", pairs,
                      common.RTOL_FLOAT32)
    es = engines(batch, update)
    initial = _as_arrays(es["numpy"].params)
    after = {}
    for k, e in es.items():
        e.step()
        e.step()
        after[k] = _as_arrays(e.params)
    # Compare the parameter *changes*, which are small next to the parameters themselves.
    deltas = {k: [a - p0 for a, p0 in zip(ps, initial)] for k, ps in after.items()}
    pairs = [(d, r) for k in deltas if k != ref_name for d, r in zip(deltas[k], deltas[ref_name])]
    return ok & common.check(f"batch {batch} SGD updates, 2 steps (vs {ref_name})", pairs,
                             common.RTOL_FLOAT32 * 10)


def run(batch: int, repeat: int, update: str) -> dict:
    es = engines(batch, update)
    ts = common.measure_interleaved({k: e.step for k, e in es.items()}, warmup=2, repeat=repeat)
    ms = {k: t.summary(1e3) for k, t in ts.items()}
    rows = []
    for k in ("gradwalk", "torch", "numpy"):
        if k not in ms:
            rows.append([k, None, None, None, None, None, None, None])
            continue
        m = ms[k]
        rows.append([k, m["best"], m["median"], m["fwd_best"], m["bwd_best"], m["upd_best"],
                     common.ratio(ms["gradwalk"]["best"], m["best"]),
                     common.ratio(ms["gradwalk"]["median"], m["median"])])
    print(f"\nMLP 784-256-256-10 float32, batch {batch}: ms/step (best and median of {repeat}; "
          f"phases: best)")
    print(common.table(["engine", "step best", "step median", "fwd", "bwd", "sgd",
                        "gw/engine (best)", "gw/engine (median)"], rows))
    r = common.ratio(ms["gradwalk"]["best"], ms["numpy"]["best"])
    print(f"target gradwalk/numpy <= {TARGET_VS_NUMPY}: {common.fmt(r)} "
          f"-> {common.verdict(r, TARGET_VS_NUMPY)}")
    return {"batch": batch, "ms_per_step": ms, "gw_vs_numpy": r,
            "gw_vs_torch": common.ratio(ms["gradwalk"]["best"], ms.get("torch", {}).get("best")),
            "target_vs_numpy": TARGET_VS_NUMPY}


def main(argv: list[str] | None = None) -> int:
    ap = common.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--batches", default=None, help="comma-separated batch sizes (128,1024)")
    ap.add_argument("--update", choices=("inplace", "data"), default="inplace",
                    help="SGD as `p -= lr * p.grad` (default) or `p.data -= lr * p.grad.data`")
    args = ap.parse_args(argv)
    batches = [int(b) for b in (args.batches or ("128" if args.quick else "128,1024")).split(",")]
    info = common.limit_threads(torch)
    common.print_env(info)
    results, ok = {}, True
    for batch in batches:
        repeat = args.repeat or (5 if args.quick else (30 if batch <= 256 else 10))
        ok &= sanity_check(batch, args.update)
        results[str(batch)] = run(batch, repeat, args.update)
    common.write_json(args.json, {"bench": "mlp", "threads": info, "update": args.update,
                                  "sanity_ok": ok, "results": results})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
