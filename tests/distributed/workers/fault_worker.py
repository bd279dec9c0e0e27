"""One rank fails; the others must not hang (run under mpiexec by test_faults.py)."""

from __future__ import annotations

import os
import signal
import sys
import time


def main() -> None:
    import gradwalk
    import gradwalk.distributed as dist
    from gradwalk import nn
    from gradwalk.nn.parallel import DistributedDataParallel as DDP

    mode = sys.argv[1]
    dist.init_process_group("mpi")
    r = dist.get_rank()
    model = DDP(nn.Linear(4, 2))
    model(gradwalk.ones(3, 4)).sum().backward()
    dist.barrier()
    print(f"rank {r} ready", flush=True)
    if r == 1:
        if mode == "raise":
            raise ValueError("the data file is corrupt")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    # the others go on into collectives that rank 1 never joins
    for _ in range(3):
        model(gradwalk.ones(3, 4)).sum().backward()
        t = gradwalk.ones(2)
        dist.all_reduce(t)
    print(f"rank {r} finished (should not happen)", flush=True)


if __name__ == "__main__":
    main()
