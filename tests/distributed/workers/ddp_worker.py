"""DistributedDataParallel equivalence (run under mpiexec by test_ddp.py).

N processes with batch B/N each must end with the parameters of one process with batch B
(computed by every rank itself, without DDP), over 20 steps, float64.
"""

from __future__ import annotations

import os

import numpy as np

B, STEPS, D_IN, HIDDEN, CLASSES = 24, 20, 6, 8, 3


def main() -> None:
    from _common import check, close, done, raises

    import gradwalk
    import gradwalk.distributed as dist
    from gradwalk import nn, optim
    from gradwalk.nn.parallel import DistributedDataParallel as DDP
    from gradwalk.utils.data import DataLoader, TensorDataset
    from gradwalk.utils.data.distributed import DistributedSampler

    launched = "RANK" in os.environ  # under gradwalk.distributed.run: torchrun's variables
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    if launched:
        check(os.environ["RANK"] == str(r) and os.environ["WORLD_SIZE"] == str(n)
              and os.environ["LOCAL_RANK"] == str(r), "RANK, WORLD_SIZE, LOCAL_RANK set")
    rng = np.random.default_rng(0)
    X = gradwalk.from_numpy(rng.standard_normal((STEPS * B, D_IN)))
    Y = gradwalk.from_numpy(rng.integers(0, CLASSES, STEPS * B))
    loss_fn = nn.CrossEntropyLoss()

    def mlp(seed: int) -> nn.Module:
        gradwalk.manual_seed(seed)
        return nn.Sequential(nn.Linear(D_IN, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN),
                             nn.Tanh(), nn.Linear(HIDDEN, CLASSES)).double()

    def same(a: nn.Module, b: nn.Module, what: str) -> None:
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            want = q.detach().numpy()
            got = p.detach().numpy()
            assert np.allclose(got, want, rtol=1e-10, atol=1e-12), (
                f"{what}: {name} differs by {np.abs(got - want).max()}")
        check(True, what)

    opts = {"sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
            "adam": lambda ps: optim.Adam(ps, lr=1e-2)}
    b = B // n
    for name, make_opt in opts.items():
        for cap in (None, 0.0002):  # one bucket; several (200 B) started in order
            ref = mlp(0)
            model = DDP(mlp(0 if r == 0 else 100 + r), bucket_cap_mb=cap)  # rank 0's parameters win
            same(model.module, ref, f"{name}: parameters broadcast from rank 0")
            o_ref, o = make_opt(ref.parameters()), make_opt(model.parameters())
            for step in range(STEPS):
                xs, ys = X[step * B:(step + 1) * B], Y[step * B:(step + 1) * B]
                o_ref.zero_grad()
                loss_fn(ref(xs), ys).backward()
                o_ref.step()
                o.zero_grad()
                loss_fn(model(xs[r * b:(r + 1) * b]), ys[r * b:(r + 1) * b]).backward()
                o.step()
            same(model.module, ref, f"{name} cap={cap}: {STEPS} steps of B/N == one of B")
            nbytes = sum(p.numel() * 8 for p in ref.parameters())
            st = model.reducer.stats
            check(st["steps"] == STEPS and st["bytes"] == STEPS * nbytes,
                  f"each gradient byte all-reduced once per step: {st}, {nbytes}")
            if cap is not None:
                check(len(model.reducer.buckets) > 2, "several buckets")
    # no_sync(): accumulate two micro-batches, average once
    ref, model = mlp(0), DDP(mlp(0 if r == 0 else 7 + r))
    o_ref, o = opts["sgd"](ref.parameters()), opts["sgd"](model.parameters())
    for step in range(0, STEPS, 2):
        o_ref.zero_grad()
        o.zero_grad()
        for micro in (step, step + 1):
            xs, ys = X[micro * B:(micro + 1) * B], Y[micro * B:(micro + 1) * B]
            loss_fn(ref(xs), ys).backward()
            if micro == step:
                with model.no_sync():
                    loss_fn(model(xs[r * b:(r + 1) * b]), ys[r * b:(r + 1) * b]).backward()
            else:
                loss_fn(model(xs[r * b:(r + 1) * b]), ys[r * b:(r + 1) * b]).backward()
        o_ref.step()
        o.step()
    same(model.module, ref, "no_sync accumulation")
    check(model.reducer.stats["steps"] == STEPS // 2, "no_sync skips the all-reduce")
    # uneven last batches through DistributedSampler (padding as torch), two epochs
    N_DATA, LB = 50, 4
    ds = TensorDataset(X[:N_DATA], Y[:N_DATA])
    ref, model = mlp(0), DDP(mlp(0 if r == 0 else 3 + r))
    o_ref, o = opts["adam"](ref.parameters()), opts["adam"](model.parameters())
    sampler = DistributedSampler(ds, seed=11)
    loader = DataLoader(ds, batch_size=LB, sampler=sampler)
    sizes = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        per_rank = []
        for k in range(n):
            s = DistributedSampler(ds, num_replicas=n, rank=k, seed=11)
            s.set_epoch(epoch)
            per_rank.append(list(s))
        for i, (xb, yb) in enumerate(loader):
            sizes.append(int(xb.shape[0]))
            idx = [j for k in range(n) for j in per_rank[k][i * LB:(i + 1) * LB]]
            o_ref.zero_grad()
            loss_fn(ref(X[idx]), Y[idx]).backward()
            o_ref.step()
            o.zero_grad()
            loss_fn(model(xb), yb).backward()
            o.step()
    check(sizes[-1] < LB, f"the last batch is short: {sizes}")
    same(model.module, ref, "uneven last batches via DistributedSampler")
    # unused parameters: an extra head used by no rank
    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.unused = nn.Linear(D_IN, CLASSES).double(), nn.Linear(2, 2).double()

        def forward(self, x):
            return self.body(x)

    gradwalk.manual_seed(1)
    m = DDP(TwoHeads(), find_unused_parameters=True)
    ref = TwoHeads()
    ref.load_state_dict({k[len("module."):]: v for k, v in m.state_dict().items()})
    for step in range(3):
        xs, ys = X[step * B:(step + 1) * B], Y[step * B:(step + 1) * B]
        m.zero_grad()
        ref.zero_grad()
        loss_fn(m(xs[r * b:(r + 1) * b]), ys[r * b:(r + 1) * b]).backward()
        loss_fn(ref(xs), ys).backward()
        close(m.module.body.weight.grad.numpy(), ref.body.weight.grad.numpy(), np.float64,
              "find_unused_parameters: averaged gradient")
        check(m.module.unused.weight.grad is None, "an unused parameter keeps grad None")
    check(sorted(m.state_dict())[0].startswith("module."), "state_dict keys: module. prefix")
    gradwalk.manual_seed(1)
    m2 = DDP(TwoHeads())
    loss_fn(m2(X[:b]), Y[:b]).backward()
    raises(RuntimeError, lambda: m2(X[:b]), "finished reduction", "unused.weight",
           "find_unused_parameters=True", what="unused parameters without find_unused")
    # buffers are broadcast from rank 0 at wrap time and at every forward
    bn = nn.BatchNorm1d(D_IN).double()
    with gradwalk.no_grad():
        bn.running_mean.fill_(float(r))
    mb = DDP(bn)
    close(mb.module.running_mean.numpy(), np.zeros(D_IN), np.float64, "buffers from rank 0")
    # checkpoint written by rank 0, loaded by all
    done(r)


if __name__ == "__main__":
    main()
