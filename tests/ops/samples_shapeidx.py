"""Samples of the structural and index ops (ops/diagonal.py, ops/structure.py, ops/scatter.py,
ops/copies.py), picked up by ``op_samples.py``.

``diagonal`` and ``unfold`` are registry ops (strided views); the others are compositions, each
sampled through the last registry op its call applies, so that finite differences, double
backward and the jvp check the composition end to end.
"""

from __future__ import annotations

import numpy as np

try:
    from .op_samples import Sample, distinct, normal
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    from op_samples import Sample, distinct, normal

S = Sample


def _unfold_ref(a, d, size, step):
    n = (a.shape[d] - size) // step + 1
    parts = [np.take(a, np.arange(i * step, i * step + size), axis=d) for i in range(n)]
    return np.moveaxis(np.stack(parts, axis=d), d + 1, -1)


_SR_IDX = np.array([[0, 2, 1, 0], [0, 2, 2, 1]])


def _scatter_reduce_ref(reduce, include_self=True):
    def ref(x, s):
        groups = {}
        for (i, j), k in np.ndenumerate(_SR_IDX):
            groups.setdefault((k, j), []).append(s[i, j])
        out = x.copy()
        for (k, j), vals in groups.items():
            vals = ([x[k, j]] if include_self else []) + vals
            out[k, j] = {"sum": np.sum, "prod": np.prod, "amax": np.max,
                         "mean": np.mean}[reduce](vals)
        return out

    return ref


def _masked_scatter_ref(a, s):
    out = a.copy()
    out[np.array([[True, False], [False, True]])] = s[:2]
    return out


def _index_put_acc_ref(a, v):
    out = a.copy()
    np.add.at(out, np.array([0, 0, 2]), v)
    return out


def _scatter_reduce(reduce, include_self=True):
    def call(m, x, s):
        return x.scatter_reduce(0, m.tensor(_SR_IDX), s, reduce, include_self=include_self)

    return call


SAMPLES = [
    S("diagonal", "diagonal", lambda m, a: m.diagonal(a), ((3, 4),), lambda a: np.diagonal(a)),
    S("diagonal_offset_dims", "diagonal", lambda m, a: a.diagonal(-1, 2, 0), ((3, 2, 4),),
      lambda a: np.diagonal(a, -1, 2, 0)),
    S("unfold", "unfold", lambda m, a: a.unfold(1, 2, 1), ((2, 4),),
      lambda a: _unfold_ref(a, 1, 2, 1)),
    S("unfold_step", "unfold", lambda m, a: a.unfold(0, 2, 2), ((5, 3),),
      lambda a: _unfold_ref(a, 0, 2, 2)),
    S("diag_embed", "index_put", lambda m, a: m.diag_embed(a, 1), ((2, 3),),
      lambda a: np.stack([np.diag(r, 1) for r in a])),
    S("diag_vector", "index_put", lambda m, a: m.diag(a, -1), ((3,),), lambda a: np.diag(a, -1)),
    S("trace", "sum", lambda m, a: m.trace(a), ((3, 4),), lambda a: np.trace(a)),
    S("hstack", "cat", lambda m, a, b: m.hstack([a, b]), ((2, 3), (2, 1)),
      lambda a, b: np.hstack([a, b])),
    S("dstack", "cat", lambda m, a, b: m.dstack([a, b]), ((3,), (3,)),
      lambda a, b: np.dstack([a, b])),
    S("tensor_split", "slice", lambda m, a: m.tensor_split(a, 3, 1)[1], ((2, 7),),
      lambda a: np.array_split(a, 3, 1)[1]),
    S("roll", "index_select", lambda m, a: m.roll(a, (1, -2), (0, 1)), ((3, 4),),
      lambda a: np.roll(a, (1, -2), (0, 1))),
    S("rot90", "transpose", lambda m, a: m.rot90(a, 1, (0, 1)), ((3, 4),), lambda a: np.rot90(a)),
    S("repeat_interleave", "index_select", lambda m, a: a.repeat_interleave(
        m.tensor([1, 0, 2]), dim=0), ((3, 2),), lambda a: np.repeat(a, [1, 0, 2], axis=0)),
    S("kron", "mul", lambda m, a, b: m.kron(a, b), ((2, 3), (2, 2)), lambda a, b: np.kron(a, b)),
    S("tensordot", "matmul", lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])),
      ((2, 3, 4), (4, 2, 5)), lambda a, b: np.tensordot(a, b, ([0, 2], [1, 0]))),
    S("block_diag", "cat", lambda m, a, b: m.block_diag(a, b), ((2, 2), (1, 3)),
      lambda a, b: np.block([[a, np.zeros((2, 3))], [np.zeros((1, 2)), b]])),
    S("cartesian_prod", "stack", lambda m, a, b: m.cartesian_prod(a, b), ((2,), (3,)),
      lambda a, b: np.array([[x, y] for x in a for y in b])),
    S("take_along_dim", "gather", lambda m, a: m.take_along_dim(
        a, m.tensor([[0], [3], [1]]), 1), ((3, 4),),
      lambda a: np.take_along_axis(a, np.array([[0], [3], [1]]), 1)),
    S("scatter_reduce_sum", "sum_dim", _scatter_reduce("sum"), ((3, 4), (2, 4)),
      _scatter_reduce_ref("sum")),
    S("scatter_reduce_prod", "prod", _scatter_reduce("prod", False),
      ((3, 4), (2, 4)), _scatter_reduce_ref("prod", False)),
    S("scatter_reduce_amax", "amax", _scatter_reduce("amax"), ((3, 4), (2, 4)),
      _scatter_reduce_ref("amax"),
      domain=distinct),
    S("scatter_reduce_mean", "div", _scatter_reduce("mean"), ((3, 4), (2, 4)),
      _scatter_reduce_ref("mean")),
    S("masked_scatter", "index_put", lambda m, a, s: a.masked_scatter(
        m.tensor([[True, False], [False, True]]), s), ((2, 2), (3,)), _masked_scatter_ref),
    S("index_put_accumulate", "add", lambda m, a, v: a.index_put(
        (m.tensor([0, 0, 2]),), v, accumulate=True), ((3, 2), (3, 2)), _index_put_acc_ref,
      domain=normal),
]
