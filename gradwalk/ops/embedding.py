"""``embedding`` as one op: rows of the weight picked by integer ids.

Note [embedding gradient]
    The gradient of the weight sums the output gradient's rows by id (``padding_idx``'s row gets
    none). Measured on the benchmark machine (1 thread, float32): ``np.add.at`` is the slowest
    way (2.8 ms for 1,024 ids of width 128 into 65 rows); a sort of the ids and
    ``np.add.reduceat`` over the runs of equal ids takes half of that, and for small
    vocabularies (at most 256 rows) a one-hot matrix times the gradient, one GEMM, is fastest
    (0.8 ms there). Under ``create_graph`` the rule is the one-hot product written with the
    differentiable namespace, so it records its own graph (its gradient is the same gather).
"""

from __future__ import annotations

import numpy as np

from . import kernels as K
from .registry import apply1, declare

_ONEHOT_ROWS = 256  # vocabularies up to this size take the one-hot GEMM
_ONEHOT_CELLS = 1 << 22  # ... while the one-hot matrix stays this small


def _fwd(xp, w, ids, padding_idx):
    return xp.take(w, ids, axis=0)


def _onehot(ids, n, dtype):
    flat = ids.reshape(-1)
    oh = np.zeros((flat.shape[0], n), dtype)
    oh[np.arange(flat.shape[0]), flat] = 1
    return oh


def _vjp(xp, g, out, w, ids, padding_idx):
    n, dim = w.shape
    flat = ids.reshape(-1)
    if K.is_dxp(xp) or type(g) is not np.ndarray:
        oh = _onehot(ids, n, g._data.dtype if hasattr(g, "grad_fn") else g.dtype)
        if padding_idx is not None:
            oh[:, padding_idx] = 0
        return xp.matmul(oh.T, xp.reshape(g, (-1, dim)))
    g2 = g.reshape(-1, dim)
    if padding_idx is not None:
        keep = flat != padding_idx
        if not keep.all():
            flat, g2 = flat[keep], g2[keep]
    if n <= _ONEHOT_ROWS and n * flat.shape[0] <= _ONEHOT_CELLS:
        return _onehot(flat, n, g.dtype).T @ g2
    out = np.zeros((n, dim), g.dtype)
    if flat.shape[0] == 0:
        return out
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    out[s[starts]] = np.add.reduceat(g2[order], starts, axis=0)
    return out


EMBEDDING = declare("embedding", _fwd, _vjp, inputs=("weight",), linear=True,
                    node_name="EmbeddingBackward0",
                    explain="grad's rows summed into the rows of their ids")


def embedding(weight, ids, padding_idx):
    """The fused op: ``weight`` a 2-D Tensor, ``ids`` an integer array in ``[0, rows)``,
    ``padding_idx`` a row index or None (``nn.functional.embedding`` checks the arguments)."""
    from . import registry
    if registry._trace is not None:  # Note [values checked by the caller] in ops/valued.py
        from . import valued
        if (r := valued.embedding(weight, ids, padding_idx)) is not None:
            return r
    return apply1(EMBEDDING, weight, {"ids": ids, "padding_idx": padding_idx})
