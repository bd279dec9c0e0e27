"""``gradwalk.compile`` against eager gradwalk, PyTorch eager and hand-written NumPy.

Four workloads, each a whole forward+backward (and update) per call, run round-robin in one
process with the same thread settings (``common.measure_interleaved``):

* ``chain``: the 1,000-op scalar chain of ``chain.py`` (``x*1.0001``, ``x+0.001``, ``sin``,
  ``tanh``), forward and backward. Target: compiled at most 0.25x eager gradwalk.
* ``mlp-small``: a 2-16-16-1 tanh MLP, float64, batch 16, MSE loss, SGD step (zero_grad,
  forward, backward, step). Reported beside PyTorch eager and, where jax is installed,
  ``jax.jit`` of the same step (float64). Target: compiled at most 1.5x ``jax.jit``.
* ``mlp-784``: ``bench_mlp.py``'s 784-256-256-10 relu MLP, float32, batch 128, cross-entropy,
  SGD, against its hand-written NumPy step. Target: compiled at most 0.95x NumPy.
* ``char-lstm``: the training step of ``examples/char_rnn.py`` (Embedding, LSTM, Linear,
  cross-entropy, ``clip_grad_norm_``, Adam; batch 16 of 48 characters, hidden 64, float32).
  Target: compiled at most PyTorch eager's time.

Every compiled result is checked against eager before timing (the same loss and gradients).

Two measurements of the compiled call's own cost (docs/compile.md, "the hit path"):

* ``hit``: recording the chain's 1,000 ops on a warm trie, without running the program (the
  time of the loop inside the compiled function, before its end runs the program), less the
  same loop with a registry hook that returns a ready tensor (the user's Python, the floor),
  in CPU time of the thread:
  the cost per op of the hook, the trie step's matcher and the pending output. Also the
  share of the small MLP step spent in the hook (the guards and the trie walk), timed per op
  with the timer's own cost subtracted. Target: at most 5% of a step.
* ``compile``: the first call of the demo's compiled training step (``python -m gradwalk
  demo --compile``: digits, the 64-64-64-10 MLP, Adam, cross-entropy), against its next
  calls. Target: under 1 s.

Run: ``python benchmarks/bench_compile.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import os
import time

import common

common.pin_thread_env()

import numpy as np  # noqa: E402
from bench_mlp import LR, NumpyMLP, TensorMLP, make_data  # noqa: E402
from chain import NumpyChain, TensorChain, _run_tensor_chain, codes  # noqa: E402

import gradwalk  # noqa: E402
import gradwalk.nn.functional as gF  # noqa: E402

torch = common.try_import_torch()
HAVE_NUMBA = __import__("importlib").util.find_spec("numba") is not None


def program_alone(compiled, call, repeat: int) -> dict:
    """The forward and backward programs of ``compiled``'s last segment, called directly on a
    warm cache (no recording, no engine): best of ``repeat``, in seconds."""
    from gradwalk.compiler import codegen, trace

    segs = []
    flush = trace.Segment.flush

    def spy(self, *a, **k):
        segs.append((self, self.ext_data))  # a released segment drops its outside arrays
        return flush(self, *a, **k)

    call()
    trace.Segment.flush = spy
    try:
        call()
    finally:
        trace.Segment.flush = flush
    seg, seg.ext_data = max(segs, key=lambda s: len(s[0].recs) if s[0].node is not None else -1)
    prog = seg.pos.program
    recs, _, backward = prog.bw
    values = codegen.run_forward(prog, seg)
    # the step updated its parameters in place after the segment: accept their new versions
    seg.ext_versions = {k: (t, t._version) for k, (t, _) in seg.ext_versions.items()}
    seed = np.ones(np.shape(values[seg.out_slots[-1]]), values[seg.out_slots[-1]].dtype)

    def fwd():
        codegen.run_forward(prog, seg)

    def bwd():
        buf = [None] * len(recs)
        buf[seg.out_slots[-1]] = seed
        seg.freed = False
        backward(buf, values, seg.ext_data, seg.consts, seg, seg.node, seg.hooks)

    ts = common.measure_interleaved({"forward": fwd, "backward": bwd}, warmup=2, repeat=repeat)
    return {k: v.best for k, v in ts.items()}


# ------------------------------------------------------------------------------ the chain
def chain_engines(n: int) -> dict:
    x0 = np.array(0.5)
    eager = TensorChain(gradwalk, x0, n)

    def run(x):
        _run_tensor_chain(x, eager.ops, False).backward()

    fwdbwd = gradwalk.compile(run)

    def compiled_with(fn):
        def compiled():
            x = gradwalk.tensor(x0, dtype=gradwalk.float64, requires_grad=True)
            fn(x)
            return x.grad.numpy()
        return compiled

    out = {"gradwalk eager": eager.fwdbwd, "gradwalk compiled": compiled_with(fwdbwd),
           "numpy (hand-written)": NumpyChain(x0, n).fwdbwd}
    if HAVE_NUMBA:
        out["gradwalk compiled (numba)"] = compiled_with(gradwalk.compile(run, backend="numba"))
    if torch is not None:
        out["torch eager"] = TensorChain(torch, x0, n).fwdbwd
    return out, fwdbwd


# ------------------------------------------------------------------------------ small MLP
def jax_small_mlp(batch: int = 16):
    """The 2-16-16-1 step under ``jax.jit`` (float64, the same data), or ``None`` without jax."""
    os.environ.setdefault(  # one thread, as every engine here
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    sizes = (2, 16, 16, 1)
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ps.append(jnp.asarray(rng.standard_normal((b, a)) / np.sqrt(a)))
        ps.append(jnp.zeros(b))
    X = jnp.asarray(rng.standard_normal((batch, 2)))
    Y = jnp.asarray(rng.standard_normal((batch, 1)))

    def loss(ps):
        h = jnp.tanh(X @ ps[0].T + ps[1])
        h = jnp.tanh(h @ ps[2].T + ps[3])
        return jnp.mean((h @ ps[4].T + ps[5] - Y) ** 2)

    @jax.jit
    def update(ps):
        value, grads = jax.value_and_grad(loss)(ps)
        return [p - 0.05 * g for p, g in zip(ps, grads)], value

    state = [ps]

    def step():
        state[0], value = update(state[0])
        return value.block_until_ready()

    return step


def small_mlp(mod, compiled, batch: int = 16):
    rng = np.random.default_rng(0)
    sizes = (2, 16, 16, 1)
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ps.append(mod.tensor(rng.standard_normal((b, a)) / np.sqrt(a), requires_grad=True))
        ps.append(mod.tensor(np.zeros(b), requires_grad=True))
    X = mod.tensor(rng.standard_normal((batch, 2)))
    Y = mod.tensor(rng.standard_normal((batch, 1)))
    opt = mod.optim.SGD(ps, lr=0.05)
    F = mod.nn.functional

    def step():
        opt.zero_grad()
        h = F.linear(X, ps[0], ps[1]).tanh()
        h = F.linear(h, ps[2], ps[3]).tanh()
        loss = ((F.linear(h, ps[4], ps[5]) - Y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    if not compiled:
        return step, ps
    return gradwalk.compile(step, backend="numpy" if compiled is True else compiled), ps


# ------------------------------------------------------------------------------ the hit path
def hit_cost(n: int = 1000, rounds: int = 30) -> dict:
    """Recording ``n`` chain ops on a warm trie, per op, less the floor (module docstring).
    CPU time of this thread (``time.thread_time``): on a shared machine a few milliseconds of
    wall time are often cut by other processes."""
    from gradwalk.ops import registry

    ops = codes(n)
    times: list = []

    @gradwalk.compile
    def record(x):
        t0 = time.thread_time()
        y = _run_tensor_chain(x, ops, False)
        times.append(time.thread_time() - t0)
        return y

    ready = gradwalk.tensor(0.5)

    def floor(x):
        registry._trace = lambda op, inputs, params, kind: ready
        try:
            t0 = time.thread_time()
            _run_tensor_chain(x, ops, False)
            times.append(time.thread_time() - t0)
        finally:
            registry._trace = None

    best = {"record": float("inf"), "floor": float("inf")}
    for r in range(rounds + 2):
        for name, fn in (("record", record), ("floor", floor)):
            del times[:]
            fn(gradwalk.tensor(0.5, dtype=gradwalk.float64, requires_grad=True))
            if r >= 2:  # the first calls trace and compile
                best[name] = min(best[name], times[0])
    return {"record_ms": best["record"] * 1e3, "floor_ms": best["floor"] * 1e3,
            "hit_us_per_op": (best["record"] - best["floor"]) / n * 1e6}


def hook_share(step, steps: int = 200) -> dict:
    """The share of a compiled step spent in the registry's hook (the matchers, and the
    general path when they refuse), timed per op, less one timer call per op."""
    from gradwalk.compiler import api as tr  # where the compiled call finds hook_for

    spent = [0.0, 0]
    clock = time.perf_counter
    real = tr.hook_for

    def timed_hook(trace):
        inner = real(trace)

        def hook(op, inputs, params, kind):
            t0 = clock()
            r = inner(op, inputs, params, kind)
            spent[0] += clock() - t0
            spent[1] += 1
            return r
        hook.__dict__.update(inner.__dict__)  # its methods: inplace, trace, the flushes
        return hook

    k = 20000
    t0 = clock()
    for _ in range(k):
        clock()
    tick = (clock() - t0) / k
    best_hook, n_ops = float("inf"), 0
    tr.hook_for = timed_hook
    try:
        for _ in range(steps):
            spent[0], spent[1] = 0.0, 0
            step()
            n_ops = spent[1]
            best_hook = min(best_hook, max(spent[0] - n_ops * tick, 0.0))
    finally:
        tr.hook_for = real
    step_ms = common.measure_interleaved({"s": step}, warmup=2, repeat=steps)["s"].best * 1e3
    return {"hook_ms": best_hook * 1e3, "ops": n_ops, "step_ms": step_ms,
            "share": best_hook * 1e3 / step_ms}


# ------------------------------------------------------------------------------ compile time
def demo_compile_time(calls: int = 5) -> dict:
    """The first call of the demo's compiled training step, and the best of the next ones."""
    from gradwalk import demo, nn, optim
    from gradwalk.data import DataLoader, TensorDataset

    gradwalk.manual_seed(0)
    x_tr, _, y_tr, _, k = demo.load_dataset("digits", 0)
    model = demo.make_mlp(x_tr.shape[1], 64, k)
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=32, shuffle=True, generator=0)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    step = gradwalk.compile(demo.train_step)
    batches = iter(loader)
    times = []
    for _ in range(calls + 1):
        xb, yb = next(batches)
        t0 = time.perf_counter()
        step(model, loss_fn, opt, xb, yb, 1)
        times.append(time.perf_counter() - t0)
    return {"first_call_ms": times[0] * 1e3, "next_calls_ms": min(times[1:]) * 1e3,
            "programs": len(step.programs)}


# ------------------------------------------------------------------------------ 784 MLP
def big_mlp(compiled, batch: int = 128):
    params, X, y = make_data(batch)
    eng = TensorMLP(gradwalk, gF, params, X, y)

    def step():
        loss = eng._forward()
        loss.backward()
        with gradwalk.no_grad():
            for p in eng.params:
                p -= LR * p.grad
        for p in eng.params:
            p.grad = None
        return loss

    if not compiled:
        return step, eng
    return gradwalk.compile(step, backend="numpy" if compiled is True else compiled), eng


def char_lstm(mod, compiled, batch: int = 16, seq_len: int = 48, hidden: int = 64):
    """The training step of ``examples/char_rnn.py`` (Embedding 32 + LSTM 64 + Linear, float32,
    cross-entropy, ``clip_grad_norm_``, Adam) on one fixed batch of windows of its text, in
    gradwalk (eager or compiled) or PyTorch (``mod``), all from gradwalk's initial weights."""
    import importlib.util

    from gradwalk.data import char_vocab, encode_text, load_text

    path = os.path.join(common.REPO, "examples", "char_rnn.py")
    spec = importlib.util.spec_from_file_location("char_rnn_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    text = load_text("sonnets")
    chars, stoi = char_vocab(text)
    vocab = len(chars)
    data = encode_text(text, stoi).numpy()
    starts = np.random.default_rng(0).integers(0, len(text) - seq_len - 1, batch)
    chunk = data[starts[:, None] + np.arange(seq_len + 1)]
    gradwalk.manual_seed(0)
    model = example.CharLSTM(vocab, hidden=hidden)
    if mod is not gradwalk:
        weights = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}

        class TorchCharLSTM(mod.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = mod.nn.Embedding(vocab, 32)
                self.lstm = mod.nn.LSTM(32, hidden, batch_first=True)
                self.head = mod.nn.Linear(hidden, vocab)

            def forward(self, ids):
                out, state = self.lstm(self.embed(ids))
                return self.head(out), state

        model = TorchCharLSTM()
        with mod.no_grad():
            for k, p in model.named_parameters():
                p.copy_(mod.from_numpy(weights[k]))
    optimizer = mod.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = mod.nn.CrossEntropyLoss()
    ids = mod.tensor(chunk)
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def step(inputs, targets):
        model.train()
        logits, _ = model(inputs)
        loss = loss_fn(logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        mod.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        return loss

    fn = gradwalk.compile(step, backend="numpy" if compiled is True else compiled) \
        if compiled else step
    return (lambda: fn(inputs, targets)), model


def _check_equal(a, b, what: str) -> None:
    for x, y in zip(a, b):
        if not np.array_equal(np.asarray(x), np.asarray(y)):
            raise SystemExit(f"{what}: compiled and eager differ")


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    repeat = 5 if args.quick else 20
    results: dict = {}
    rows = []

    # chain
    fns, compiled_chain = chain_engines(1000)
    _check_equal([fns["gradwalk compiled"]()], [fns["gradwalk eager"]()], "chain gradient")
    t0 = time.perf_counter()
    fresh = gradwalk.compile(compiled_chain.fn)
    x = gradwalk.tensor(0.5, dtype=gradwalk.float64, requires_grad=True)
    fresh(x)
    first_call = time.perf_counter() - t0
    ts = common.measure_interleaved(fns, warmup=2, repeat=repeat)
    base = ts["gradwalk eager"].best
    for name, t in ts.items():
        rows.append(["chain 1,000 ops fwd+bwd", name, common.fmt(t.best * 1e3),
                     common.fmt(common.ratio(t.best, base))])
    results["chain"] = {k: v.summary(1e3) for k, v in ts.items()}
    results["chain"]["compiled_first_call_ms"] = first_call * 1e3
    alone = program_alone(compiled_chain, fns["gradwalk compiled"], repeat * 5)
    for name, t in alone.items():
        rows.append(["chain 1,000 ops fwd+bwd", f"compiled: the {name} program alone",
                     common.fmt(t * 1e3), common.fmt(common.ratio(t, base))])
    results["chain"]["program_alone_ms"] = {k: v * 1e3 for k, v in alone.items()}

    # small MLP: the compiled step against eager (same parameters after 3 steps)
    fe, pe = small_mlp(gradwalk, False)
    fc, pc = small_mlp(gradwalk, True)
    for _ in range(3):
        fe(), fc()
    _check_equal([p.detach().numpy() for p in pc], [p.detach().numpy() for p in pe],
                 "small MLP parameters")
    fns = {"gradwalk eager": fe, "gradwalk compiled": fc}
    if HAVE_NUMBA:
        fn_numba = small_mlp(gradwalk, "numba")[0]
        for _ in range(3):
            fn_numba()
        fns["gradwalk compiled (numba)"] = fn_numba
    if torch is not None:
        fns["torch eager"] = small_mlp(torch, False)[0]
    jax_step = jax_small_mlp()
    if jax_step is not None:
        jax_step()  # the jit compile
        fns["jax.jit"] = jax_step
    ts = common.measure_interleaved(fns, warmup=2, repeat=repeat * 5)
    base = ts["gradwalk eager"].best
    for name, t in ts.items():
        rows.append(["MLP 2-16-16-1 f64 b16 step", name, common.fmt(t.best * 1e3),
                     common.fmt(common.ratio(t.best, base))])
    results["mlp_small"] = {k: v.summary(1e3) for k, v in ts.items()}

    # 784 MLP
    be, ee = big_mlp(False)
    bc, ec = big_mlp(True)
    for _ in range(2):
        la, lb = be(), bc()
        _check_equal([la.item()], [lb.item()], "784 MLP loss")
    _check_equal([p.detach().numpy() for p in ec.params], [p.detach().numpy() for p in ee.params],
                 "784 MLP parameters")
    params, X, y = make_data(128)
    nump = NumpyMLP(params, X, y)
    fns = {"gradwalk eager": be, "gradwalk compiled": bc, "numpy (hand-written)": nump.step}
    if HAVE_NUMBA:
        bn, _ = big_mlp("numba")
        for _ in range(2):
            bn()
        fns["gradwalk compiled (numba)"] = bn
    ts = common.measure_interleaved(fns, warmup=2, repeat=repeat)
    base = ts["numpy (hand-written)"].best
    for name, t in ts.items():
        rows.append(["MLP 784-256-256-10 f32 b128 step", name, common.fmt(t.best * 1e3),
                     common.fmt(common.ratio(t.best, base)) + " of numpy"])
    results["mlp_784"] = {k: v.summary(1e3) for k, v in ts.items()}
    alone = program_alone(bc, bc, repeat * 5)
    for name, t in alone.items():
        rows.append(["MLP 784-256-256-10 f32 b128 step", f"compiled: the {name} program alone",
                     common.fmt(t * 1e3), common.fmt(common.ratio(t, base)) + " of numpy"])
    results["mlp_784"]["program_alone_ms"] = {k: v * 1e3 for k, v in alone.items()}

    # the character-level LSTM of examples/char_rnn.py
    le, me = char_lstm(gradwalk, False)
    lc, mc = char_lstm(gradwalk, True)
    for _ in range(2):
        la, lb = le(), lc()
        _check_equal([la.item()], [lb.item()], "char LSTM loss")
    _check_equal([p.detach().numpy() for p in mc.parameters()],
                 [p.detach().numpy() for p in me.parameters()], "char LSTM parameters")
    fns = {"gradwalk eager": le, "gradwalk compiled": lc}
    if torch is not None:
        fns["torch eager"] = char_lstm(torch, False)[0]
    ts = common.measure_interleaved(fns, warmup=2, repeat=repeat)
    base = ts.get("torch eager", ts["gradwalk eager"]).best
    for name, t in ts.items():
        rows.append(["char LSTM (examples/char_rnn.py) step", name, common.fmt(t.best * 1e3),
                     common.fmt(common.ratio(t.best, base)) + " of torch"])
    results["char_lstm"] = {k: v.summary(1e3) for k, v in ts.items()}

    # the hit path and compile time
    hit = hit_cost(rounds=repeat)
    share = hook_share(small_mlp(gradwalk, True)[0], steps=repeat * 10)
    comp = demo_compile_time()
    results["hit"] = {**hit, "mlp_small_hook": share}
    results["compile"] = comp

    print(common.table(["workload", "engine", "best ms", "ratio"], rows))
    print(f"compiled chain: first call (trace + compile) {first_call * 1e3:.1f} ms")
    print(f"hit path: recording 1,000 chain ops {hit['record_ms']:.3f} ms, the user's Python "
          f"alone {hit['floor_ms']:.3f} ms: {hit['hit_us_per_op']:.2f} us per op")
    print(f"hit path: the hook in the small MLP step {share['hook_ms']:.4f} ms over "
          f"{share['ops']} ops, {share['share'] * 100:.1f}% of the step "
          f"({share['step_ms']:.3f} ms)")
    print(f"compile time: demo training step, first call {comp['first_call_ms']:.1f} ms "
          f"(next calls {comp['next_calls_ms']:.2f} ms, {comp['programs']} programs)")
    common.write_json(args.json, {"results": results, "env": common.env_info()})


if __name__ == "__main__":
    main()
