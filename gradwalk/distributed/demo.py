"""The distributed demo: ``python -m gradwalk.distributed.run -n 2 -m gradwalk demo
--distributed`` (or ``mpirun -n 2 python -m gradwalk demo --distributed``).

Every rank builds the same MLP and trains it with ``DistributedDataParallel`` on its share of
the training set (``DistributedSampler``); rank 0 prints the epochs, the test accuracy and each
rank's throughput.

Example:
    >>> from gradwalk.demo import build_parser
    >>> lines = []
    >>> args = build_parser().parse_args(["--distributed", "--dataset", "moons", "--epochs", "1"])
    >>> run_distributed(args, lines.append, world_size=1)
    0
    >>> any(line.startswith("rank 0:") for line in lines)
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def run_distributed(args: Any, print_fn: Callable[[str], Any] = print,
                    world_size: int | None = None) -> int:
    """Train the demo MLP data parallel on the processes of the MPI job; returns the exit
    status. ``args`` are the demo's parsed options; ``world_size=1`` runs alone without a
    launcher.
    """
    import gradwalk
    import gradwalk.distributed as dist
    from gradwalk import nn, optim
    from gradwalk.demo import _SETTINGS, accuracy, load_dataset, make_mlp, train_step
    from gradwalk.nn.parallel import DistributedDataParallel as DDP
    from gradwalk.utils.data import DataLoader, TensorDataset
    from gradwalk.utils.data.distributed import DistributedSampler

    owned = not dist.is_initialized()
    if owned:
        try:
            if world_size == 1:
                dist.init_process_group("mpi", world_size=1, rank=0)
            else:
                dist.init_process_group("mpi")
        except RuntimeError as e:
            print_fn(f"gradwalk demo --distributed: {e}")
            return 2
    try:
        rank, n = dist.get_rank(), dist.get_world_size()
        say = print_fn if rank == 0 else (lambda s: None)
        settings = _SETTINGS[args.dataset]
        epochs = args.epochs or (3 if args.quick else settings["epochs"])
        lr = args.lr or settings["lr"]
        gradwalk.manual_seed(args.seed)
        x_tr, x_te, y_tr, y_te, k = load_dataset(args.dataset, args.seed)
        model = DDP(make_mlp(x_tr.shape[1], args.hidden, k))
        ds = TensorDataset(x_tr, y_tr)
        sampler = DistributedSampler(ds, seed=args.seed)
        loader = DataLoader(ds, batch_size=args.batch_size, sampler=sampler)
        opt = optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        n_params = sum(p.numel() for p in model.parameters())
        say(f"Data-parallel training on {n} process{'es' if n > 1 else ''} (MPI): an MLP "
            f"({n_params:,} parameters) on {args.dataset}, {len(sampler)} of "
            f"{x_tr.shape[0]} samples per rank per epoch, batch {args.batch_size} per rank "
            f"({args.batch_size * n} in all), Adam lr {lr}, {epochs} epochs.")
        samples, start = 0, time.perf_counter()
        for epoch in range(1, epochs + 1):
            sampler.set_epoch(epoch)
            model.train()
            total = gradwalk.zeros(2, dtype=gradwalk.float64)
            for xb, yb in loader:
                value = train_step(model, loss_fn, opt, xb, yb, epoch)
                total += gradwalk.tensor([value * xb.shape[0], xb.shape[0]],
                                         dtype=gradwalk.float64)
                samples += int(xb.shape[0])
            dist.all_reduce(total)
            model.eval()
            say(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss "
                f"{total[0].item() / total[1].item():.4f}  train acc "
                f"{100 * accuracy(model.module, x_tr, y_tr):5.1f}%")
        seconds = time.perf_counter() - start
        rates = [None] * n
        dist.all_gather_object(rates, [samples, seconds])
        for r, (s, t) in enumerate(rates):
            say(f"rank {r}: {s} samples in {t:.2f} s = {s / max(t, 1e-9):,.0f} samples/s")
        overall = sum(s for s, _ in rates) / max(max(t for _, t in rates), 1e-9)
        say(f"all ranks: {overall:,.0f} samples/s; gradients all-reduced per step: "
            f"{model.reducer.bytes_per_step:,} bytes in {len(model.reducer.buckets)} bucket(s)")
        say(f"test accuracy: {100 * accuracy(model.module, x_te, y_te):.1f}%")
        return 0
    finally:
        if owned:
            dist.destroy_process_group()
