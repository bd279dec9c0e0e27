"""Every collective against a NumPy reference (run under mpiexec by test_collectives.py).

Each rank builds the data of every rank from seeds, so it can compute every result itself.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

DTYPES = (np.float32, np.float64, np.int64)
SHAPE = (3, 4)


def data(rank: int, dtype, salt: int = 0, shape=SHAPE, small: bool = False) -> np.ndarray:
    rng = np.random.default_rng(1000 * rank + salt)
    if np.dtype(dtype).kind == "i":
        lo, hi = (1, 3) if small else (-50, 50)
        return rng.integers(lo, hi, size=shape).astype(dtype)
    return (rng.uniform(0.5, 1.5, size=shape) if small else rng.standard_normal(shape)).astype(
        dtype)


def main() -> None:
    from _common import check, close, done, raises

    import gradwalk
    import gradwalk.distributed as dist
    from gradwalk.distributed import ReduceOp

    # a bad init first: env:// variables that contradict the launcher
    os.environ["WORLD_SIZE"] = "97"
    raises(RuntimeError, lambda: dist.init_process_group("mpi"), "world_size=97",
           "MPI launcher started", what="init with a wrong WORLD_SIZE")
    del os.environ["WORLD_SIZE"]
    check(not dist.is_initialized(), "not initialized after a failed init")
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    check(dist.is_initialized() and 0 <= r < n, "rank and size")
    raises(RuntimeError, lambda: dist.init_process_group("mpi"), "twice", what="double init")
    T = gradwalk.from_numpy

    def fresh(a: np.ndarray):
        return T(a.copy())

    reducers = {ReduceOp.SUM: lambda xs: np.sum(xs, axis=0),
                ReduceOp.AVG: lambda xs: np.mean(xs, axis=0),
                ReduceOp.PRODUCT: lambda xs: np.prod(xs, axis=0),
                ReduceOp.MIN: lambda xs: np.min(xs, axis=0),
                ReduceOp.MAX: lambda xs: np.max(xs, axis=0),
                ReduceOp.BAND: lambda xs: np.bitwise_and.reduce(xs, axis=0),
                ReduceOp.BOR: lambda xs: np.bitwise_or.reduce(xs, axis=0),
                ReduceOp.BXOR: lambda xs: np.bitwise_xor.reduce(xs, axis=0)}
    for dtype in DTYPES:
        kind = np.dtype(dtype).kind
        for salt, (op, ref) in enumerate(reducers.items()):
            if op is ReduceOp.AVG and kind == "i":
                raises(TypeError, lambda d=dtype: dist.all_reduce(T(data(r, d)), op=ReduceOp.AVG),
                       "AVG", "int64", what="AVG on int64")
                continue
            if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "f":
                continue
            small = op is ReduceOp.PRODUCT
            allx = np.stack([data(k, dtype, salt, small=small) for k in range(n)])
            want = ref(allx).astype(dtype)
            for async_op in (False, True):
                t = fresh(allx[r])
                work = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    check(work.wait() is True and work.is_completed(), "async wait")
                close(t.numpy(), want, dtype, f"all_reduce {op} {dtype} async={async_op}")
            # reduce to every dst; the others keep their tensors
            for dst in range(n):
                t = fresh(allx[r])
                dist.reduce(t, dst=dst, op=op)
                close(t.numpy(), want if r == dst else allx[r], dtype, f"reduce {op} {dtype}")
            # reduce_scatter: rank i gets the reduction of everyone's input_list[i]
            ins = [np.stack([data(k, dtype, 100 * salt + i, small=small) for k in range(n)])
                   for i in range(n)]
            out = T(np.zeros(SHAPE, dtype))
            dist.reduce_scatter(out, [fresh(ins[i][r]) for i in range(n)], op=op)
            close(out.numpy(), ref(ins[r]).astype(dtype), dtype, f"reduce_scatter {op} {dtype}")
            out = T(np.zeros(SHAPE, dtype))
            flat = np.concatenate([ins[i][r] for i in range(n)])
            work = dist.reduce_scatter_tensor(out, fresh(flat), op=op, async_op=True)
            work.wait()
            close(out.numpy(), ref(ins[r]).astype(dtype), dtype, f"reduce_scatter_tensor {op}")
        mine = data(r, dtype, 7)
        alld = np.stack([data(k, dtype, 7) for k in range(n)])
        for src in range(n):
            t = fresh(mine)
            dist.broadcast(t, src=src)
            close(t.numpy(), alld[src], dtype, f"broadcast {dtype} src={src}")
        t = fresh(mine)
        dist.broadcast(t, src=n - 1, async_op=True).wait()
        close(t.numpy(), alld[n - 1], dtype, "broadcast async")
        outs = [T(np.zeros(SHAPE, dtype)) for _ in range(n)]
        w = dist.all_gather(outs, fresh(mine), async_op=True)
        w.wait()
        for k in range(n):
            close(outs[k].numpy(), alld[k], dtype, f"all_gather {dtype}")
        check(len(w.result()) == n, "Work.result")
        cat = T(np.zeros((n * SHAPE[0], SHAPE[1]), dtype))
        dist.all_gather_into_tensor(cat, fresh(mine))
        close(cat.numpy(), np.concatenate(list(alld)), dtype, "all_gather_into_tensor cat")
        stk = T(np.zeros((n, *SHAPE), dtype))
        dist.all_gather_into_tensor(stk, fresh(mine))
        close(stk.numpy(), alld, dtype, "all_gather_into_tensor stack")
        for root in range(n):
            gl = [T(np.zeros(SHAPE, dtype)) for _ in range(n)] if r == root else None
            dist.gather(fresh(mine), gl, dst=root)
            if r == root:
                for k in range(n):
                    close(gl[k].numpy(), alld[k], dtype, "gather")
            pieces = [data(root, dtype, 50 + i) for i in range(n)]
            t = T(np.zeros(SHAPE, dtype))
            dist.scatter(t, [fresh(p) for p in pieces] if r == root else None, src=root)
            close(t.numpy(), data(root, dtype, 50 + r), dtype, "scatter")
        # all_to_all with a different size for every pair (i -> j sends i + j + 1 elements)
        ins = [T(np.full(r + j + 1, 10 * r + j, dtype)) for j in range(n)]
        outs = [T(np.zeros(i + r + 1, dtype)) for i in range(n)]
        dist.all_to_all(outs, ins)
        for i in range(n):
            close(outs[i].numpy(), np.full(i + r + 1, 10 * i + r, dtype), dtype, "all_to_all")
        # point to point: a ring
        right, left = (r + 1) % n, (r - 1) % n
        w = dist.isend(fresh(mine), dst=right)
        t = T(np.zeros(SHAPE, dtype))
        check(dist.recv(t, src=left) == left, "recv returns the sender")
        w.wait()
        close(t.numpy(), alld[left], dtype, "send/recv ring")
        t = T(np.zeros(SHAPE, dtype))
        w2 = dist.irecv(t, src=left, tag=5)
        dist.send(fresh(mine), dst=right, tag=5)
        w2.wait()
        close(t.numpy(), alld[left], dtype, "isend/irecv")
    dist.barrier()
    dist.barrier(async_op=True).wait()
    # a tensor that requires grad (a parameter) can be reduced in place
    p = gradwalk.nn.Parameter(gradwalk.ones(2, dtype=gradwalk.float64) * (r + 1))
    dist.all_reduce(p)
    close(p.detach().numpy(), np.full(2, n * (n + 1) / 2), np.float64, "all_reduce a Parameter")
    # subgroups: even ranks, and a group without rank 0 (global src/dst ranks)
    evens = list(range(0, n, 2))
    g = dist.new_group(evens)
    t = T(np.array([float(r)]))
    dist.all_reduce(t, group=g)
    if r in evens:
        close(t.numpy(), np.array([float(sum(evens))]), np.float64, "subgroup all_reduce")
        check(dist.get_rank(g) == evens.index(r) and dist.get_world_size(g) == len(evens),
              "subgroup rank/size")
    else:
        close(t.numpy(), np.array([float(r)]), np.float64, "non-member unchanged")
        check(g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1, "non-member")
    if n > 1:
        rest = list(range(1, n))
        g2 = dist.new_group(rest)
        t = T(np.array([float(r)]))
        dist.broadcast(t, src=n - 1, group=g2)
        close(t.numpy(), np.array([float(n - 1 if r else 0)]), np.float64, "subgroup bcast")
        if r:
            raises(dist.DistributedError, lambda: dist.broadcast(t, src=0, group=g2),
                   "not a rank of this process group", what="src outside the group")
    # object collectives: JSON by default, pickle only when allowed
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "name": f"r{r}", "xs": [r, r * 0.5]})
    check(objs == [{"rank": k, "name": f"r{k}", "xs": [k, k * 0.5]} for k in range(n)],
          "all_gather_object")
    lst = [{"epoch": 3}, "go"] if r == 0 else [None, None]
    dist.broadcast_object_list(lst, src=0)
    check(lst == [{"epoch": 3}, "go"], "broadcast_object_list")
    gl = [None] * n if r == 0 else None
    dist.gather_object(r * 10, gl, dst=0)
    check(r != 0 or gl == [10 * k for k in range(n)], "gather_object")
    raises(dist.DistributedError, lambda: dist.all_gather_object([None] * n, {1, 2} if r == n - 1
                                                                 else 1),
           f"rank(s) [{n - 1}]", "JSON", what="unencodable object on one rank: all raise")
    objs = [None] * n
    dist.all_gather_object(objs, (r, {r}), allow_pickle=True)
    check(objs == [(k, {k}) for k in range(n)], "pickle when allowed")
    if n > 1:
        def pickled_to_json_rank():
            lst = [(1, 2)] if r == 0 else [None]
            dist.broadcast_object_list(lst, src=0, allow_pickle=(r == 0))
        if r == 0:
            pickled_to_json_rank()
        else:
            raises(dist.DistributedError, pickled_to_json_rank, "pickled", "allow_pickle=True",
                   what="a pickled payload is refused")
    # mismatched collectives raise on every rank, naming every rank's tensor
    shape = (2, 3) if r == 0 else (3, 2)  # same element count: MPI alone would mix data
    if n > 1:
        msg = raises(dist.DistributedError, lambda: dist.all_reduce(gradwalk.zeros(*shape)),
                     "all_reduce", "rank 0: float32 [2, 3]", "rank 1: float32 [3, 2]",
                     what="mismatched shapes")
        check("same shape and dtype" in msg, "remedy in message")
        raises(dist.DistributedError, lambda: dist.broadcast(
            gradwalk.zeros(2 + r, dtype=gradwalk.float64), src=0), "broadcast", "rank 1",
            what="mismatched broadcast")
        dt = gradwalk.float32 if r == 0 else gradwalk.float64
        raises(dist.DistributedError, lambda: dist.all_gather(
            [gradwalk.zeros(2, dtype=dt) for _ in range(n)], gradwalk.zeros(2, dtype=dt)),
            "float32", "float64", what="mismatched dtypes")
        raises(dist.DistributedError, lambda: dist.all_reduce(
            gradwalk.zeros(2), op=ReduceOp.SUM if r == 0 else ReduceOp.MAX), "op SUM", "op MAX",
            what="mismatched ops")
        # all_to_all with a slot of the wrong size on one rank
        ins = [gradwalk.zeros(2) for _ in range(n)]
        outs = [gradwalk.zeros(3 if (r == 1 and i == 0) else 2) for i in range(n)]
        raises(dist.DistributedError, lambda: dist.all_to_all(outs, ins), "all_to_all",
               what="mismatched all_to_all")
        # recv of a message of another size
        if r == 0:
            dist.send(gradwalk.zeros(5), dst=1)
        elif r == 1:
            raises(dist.DistributedError, lambda: dist.recv(gradwalk.zeros(4), src=0),
                   "sent 20 bytes", "holds 16", what="recv size mismatch")
        dist.barrier()
        # Work.wait(timeout): a receive nobody has sent yet times out with a clear error
        if r == 0:
            t = gradwalk.zeros(2)
            w = dist.irecv(t, src=1, tag=99)
            raises(dist.DistributedError, lambda: w.wait(timeout=0.2), "did not finish within",
                   what="wait timeout")
            dist.barrier()
            check(w.wait(timeout=30) and t.tolist() == [7.0, 7.0], "then it completes")
        else:
            dist.barrier()
            if r == 1:
                dist.send(gradwalk.full((2,), 7.0), dst=0, tag=99)
    # local argument errors are clear too
    raises(ValueError, lambda: dist.all_gather([gradwalk.zeros(1)] * (n + 1), gradwalk.zeros(1)),
           f"list of {n} tensors", what="all_gather list length")
    raises(TypeError, lambda: dist.all_reduce(np.zeros(2)), "gradwalk Tensor", what="numpy arg")
    raises(ValueError, lambda: dist.all_reduce(gradwalk.zeros(2), op="median"), "ReduceOp",
           what="bad op")
    # a checkpoint written by rank 0 only, atomically, read by every rank
    path = [os.path.join(tempfile.gettempdir(), f"gw-dist-{os.getpid()}.gw") if r == 0 else ""]
    dist.broadcast_object_list(path, src=0)
    dist.checkpoint.save({"w": gradwalk.full((2,), float(r)), "rank": r}, path[0])
    got = dist.checkpoint.load(path[0])
    check(got["rank"] == 0 and got["w"].tolist() == [0.0, 0.0], "checkpoint from rank 0")
    dist.barrier()
    if r == 0:
        os.remove(path[0])
        check(not any(f.startswith(f"gw-dist-{os.getpid()}.gw.") for f in
                      os.listdir(tempfile.gettempdir())), "no temporary file left")
    else:
        check(True, "balance the count")
    done(r)
    dist.destroy_process_group()
    check(not dist.is_initialized(), "destroyed")


if __name__ == "__main__":
    main()
