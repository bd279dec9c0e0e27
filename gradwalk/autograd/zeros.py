"""Structural zeros: first-order gradients that stay exactly zero where ``where`` masked them.

The engine (``engine.py``) checks one type, ``MaskedGrad``; op rules mark their results with
``structural_zeros`` (``ops/kernels.py`` does it for ``where`` and ``masked_fill``).
"""

from __future__ import annotations

import numpy as np

_ndarray = np.ndarray


# Note [structural zeros]
#     The gradient ``where`` (and ``masked_fill``) sends to the branch it did not take is a
#     structural zero: it is zero whatever the values, so no local derivative downstream may turn
#     it into NaN (``0 * inf``). First-order rules mark such gradients by returning a
#     ``MaskedGrad``: an ndarray (exactly 0 at the masked positions) carrying ``zmask``, the
#     boolean mask of its structural zeros. The engine understands it in one place:
#
#     * a node whose incoming gradient is a ``MaskedGrad`` goes through ``masked_call``: the rule
#       runs on the plain array; for an elementwise op (``op.elementwise``) every result gets
#       exact zeros written at the masked positions and carries the mask on (OR-ed with a mask
#       the rule returned itself, e.g. a nested ``where``); other ops drop the mask (their
#       results are still correct numbers: the masked entries were zero);
#     * adding two masked gradients into one buffer keeps the positions masked in both (AND);
#       any other arithmetic (summing to an input's shape, adding a plain gradient, ``.grad``
#       accumulation) gives a plain ndarray.
#     Normal runs pay one ``type(g) is MaskedGrad`` check per node. ``create_graph=True`` does
#     not track structural zeros (higher-order gradients behave as in PyTorch).


class MaskedGrad(np.ndarray):
    """A first-order gradient with structural zeros (Note [structural zeros]).

    ``zmask`` is True where the value is a structural zero. Views and copies made by NumPy lose
    the mask (``zmask`` is None) and count as plain gradients; arithmetic gives plain arrays,
    except the sum of two masked gradients, masked where both are.

    Example:
        >>> import numpy as np
        >>> g = structural_zeros(np.array([0.0, 2.0]), np.array([True, False]))
        >>> g.zmask.tolist(), type(g + g).__name__, (g + g).zmask.tolist()
        ([True, False], 'MaskedGrad', [True, False])
        >>> type(g * 2.0).__name__
        'ndarray'
    """

    zmask: np.ndarray | None

    def __array_finalize__(self, obj) -> None:
        self.zmask = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [a.view(_ndarray) if type(a) is MaskedGrad else a for a in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(o.view(_ndarray) if type(o) is MaskedGrad else o for o in out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if ufunc is not np.add or out is not None:
            return r
        if method == "__call__" and len(inputs) == 2:
            a, b = inputs
            if type(a) is MaskedGrad and type(b) is MaskedGrad:
                if a.zmask is not None and b.zmask is not None:
                    return structural_zeros(r, a.zmask & b.zmask)
        elif method == "reduce" and self.zmask is not None and kwargs.get("where", True) is True:
            # summing to an input's shape: a sum is a structural zero where all terms were
            m = np.logical_and.reduce(self.zmask, axis=kwargs.get("axis", 0),
                                      keepdims=kwargs.get("keepdims", False))
            return structural_zeros(r, m)
        return r


def structural_zeros(g, zmask):
    """Mark ``g`` (exactly 0 where ``zmask`` is True) as having structural zeros there; a plain
    ``g`` when nothing is masked (Note [structural zeros]).

    Example:
        >>> import numpy as np
        >>> structural_zeros(np.zeros(2), np.array([True, False])).zmask.tolist()
        [True, False]
        >>> type(structural_zeros(np.ones(2), np.zeros(2, bool))).__name__
        'ndarray'
    """
    if type(g) is not _ndarray:
        if type(g) is MaskedGrad:
            g = g.view(_ndarray)
        elif isinstance(g, np.generic):
            g = np.asarray(g)
        else:
            return g  # not a NumPy array (CuPy): no structural zeros
    zmask = np.asarray(zmask)
    if not zmask.any():
        return g
    if zmask.shape != g.shape:
        zmask = np.broadcast_to(zmask, g.shape)
    r = g.view(MaskedGrad)
    r.zmask = zmask
    return r


def masked_call(node, g, call_rule):
    """Run ``node``'s rule on a masked gradient (Note [structural zeros]); ``call_rule(node,
    plain_g)`` is the engine's first-order rule call."""
    plain = g.view(_ndarray)
    mask = g.zmask
    if mask is None or not getattr(node.op, "elementwise", False):
        return call_rule(node, plain)
    with np.errstate(all="ignore"):  # 0 * inf at masked positions is expected and discarded
        grads = call_rule(node, plain)
        res = []
        for gi in grads:
            if gi is None:
                res.append(None)
            elif gi is plain:
                res.append(g)  # passed through unchanged: already zero where masked
            else:
                res.append(_mask_result(gi, mask))
    return tuple(res)


def _mask_result(gi, mask):
    own = gi.zmask if type(gi) is MaskedGrad else None
    arr = gi.view(_ndarray) if type(gi) is MaskedGrad else np.asarray(gi)
    m = mask
    if m.shape != arr.shape:
        try:
            m = np.broadcast_to(m, arr.shape)
        except ValueError:
            return gi  # a rule that reduced its result: leave it (its numbers are right)
    if own is not None:
        m = m | own
    return structural_zeros(np.where(m, np.zeros((), arr.dtype), arr), m)
