"""A GPT block stack's training step: gradwalk vs PyTorch (CPU), in one process, same threads.

The model (the same code for both engines, ``build(torch_or_gradwalk)``): token and position
embeddings, 4 pre-norm blocks (LayerNorm, causal self-attention with 4 heads through
``scaled_dot_product_attention``, LayerNorm, a 4x GELU MLP), a final LayerNorm and the
language-model head; width 128, context 64, batch 16, a 65-symbol vocabulary, cross-entropy,
AdamW. A step is forward, ``zero_grad``, backward and ``step``. Both engines start from the same
weights (PyTorch's, through ``load_state_dict``), and the first losses are compared.

The engines run interleaved, rep by rep (machine noise hits both alike); the table gives the
best and the median of each and the ratio of the bests, with the range of per-rep ratios.
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are unset for this process (NumPy's BLAS then
runs its native kernel, printed from threadpoolctl when it is installed).

Run: ``python3 benchmarks/bench_gpt.py [--quick] [--repeat N] [--json out.json]``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import common  # noqa: E402

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402

torch = common.try_import_torch()

VOCAB, WIDTH, HEADS, LAYERS, CONTEXT, BATCH = 65, 128, 4, 4, 64, 16


def build(m):
    """The model for the engine ``m`` (the ``torch`` or the ``gradwalk`` module)."""
    nn, F = m.nn, m.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(WIDTH)
            self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
            self.proj = nn.Linear(WIDTH, WIDTH)
            self.ln2 = nn.LayerNorm(WIDTH)
            self.fc = nn.Linear(WIDTH, 4 * WIDTH)
            self.out = nn.Linear(4 * WIDTH, WIDTH)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(WIDTH, dim=2)
            q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Embedding(CONTEXT, WIDTH)
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)

        def forward(self, idx, targets):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(m.arange(t))
            for blk in self.blocks:
                x = blk(x)
            logits = self.head(self.ln(x))
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return GPT()


def _state(module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def step_fns(batch: int = BATCH) -> dict:
    rng = np.random.default_rng(0)
    idx = rng.integers(0, VOCAB, (batch, CONTEXT))
    tgt = rng.integers(0, VOCAB, (batch, CONTEXT))

    def make(m, state=None):
        model = build(m)
        if state is not None:
            model.load_state_dict(state)
        opt = m.optim.AdamW(model.parameters(), lr=1e-3)
        x, y = m.tensor(idx), m.tensor(tgt)

        def step():
            loss = model(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return None

        return model, step, lambda: model(x, y).item()

    fns = {}
    if torch is not None:
        torch.manual_seed(0)
        t_model, t_step, t_loss = make(torch)
        state = {k: gradwalk.tensor(v) for k, v in _state(t_model).items()}
        _, g_step, g_loss = make(gradwalk, state)
        common.check("initial loss", [(g_loss(), t_loss())], common.RTOL_FLOAT32)
        fns["gradwalk"], fns["torch"] = g_step, t_step
    else:
        fns["gradwalk"] = make(gradwalk)[1]
    return fns


def _threadpool_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return ", ".join(f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()
                     if i.get("user_api") == "blas") or "no BLAS found"


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    print(f"# BLAS kernel: {_threadpool_kernel()}")
    repeat = args.repeat or (5 if args.quick else 20)
    ts = common.measure_interleaved(step_fns(), warmup=2, repeat=repeat)
    g = ts["gradwalk"]
    row = ["GPT 4x(4 heads, width 128), context 64, batch 16: AdamW step", g.best * 1e3,
           g.median * 1e3]
    if "torch" in ts:
        t = ts["torch"]
        per_rep = [a / b for a, b in zip(g.times, t.times)]
        row += [t.best * 1e3, t.median * 1e3, common.ratio(g.best, t.best),
                f"{min(per_rep):.2f}-{max(per_rep):.2f}"]
    else:
        row += [None, None, None, "n/a"]
    print(f"\nTraining step (ms, {repeat} reps, interleaved)")
    print(common.table(["step", "gradwalk best", "gradwalk median", "torch best",
                        "torch median", "ratio of bests", "per-rep ratios"], [row]))
    common.write_json(args.json, {"gpt_step": row, "threads": info})


if __name__ == "__main__":
    main()
