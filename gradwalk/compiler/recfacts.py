"""What the trace records about a step before its ``Rec`` exists: whether an elementwise op's
inputs are floating point, and the backward facts (``fits``, ``saved``, ``checks``) that the
registry's apply functions would record for it (Note [what the trace refuses] in trace.py),
and where in the user's code a step or a graph break is."""

from __future__ import annotations

import os
import sys

import numpy as np

from ..ops import registry as _registry
from ..ops import rules as _rules
from ..ops import valued as _valued

_ndarray = np.ndarray
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _floating(op, datas) -> bool:
    """Elementwise ops are recorded on floating-point arrays only (Note [what the trace
    refuses]); ``where``'s condition may be boolean."""
    for j, d in enumerate(datas):
        dt = getattr(d, "dtype", None)
        if dt is not None and dt.kind != "f" and not (op.name == "where" and j == 0):
            return False
    return True


def _integer_only(inputs) -> bool:
    """Whether every tensor input of a non-elementwise op is a computed integer or boolean
    array (Note [integer values run eagerly]).

    Note [integer values run eagerly]
        A view, ``cat`` or reduction of concrete integer tensors (class targets, ids: ``t[:,
        1:].reshape(-1)``) runs eagerly, not recorded: recording it would only make a pending
        integer value, and the next reader of such values is usually a check in Python of
        their range (Note [values checked by the caller] in ops/valued.py), which would then
        end the segment (a graph break) to read it. Eagerly it costs one small NumPy call and
        its result is an outside tensor of the segment, guarded by shape, strides and dtype.
    """
    tensor = _registry.Tensor
    seen = False
    for x in inputs:
        if isinstance(x, tensor):
            d = x._data
            if type(d) is not _ndarray or d.dtype.kind in "fc":
                return False
            seen = True
    return seen


def _backward_facts(op, kind, inputs, datas, rgs):
    """Per input: the (shape, dtype) its gradient is fitted to (``None``: the engine does not
    fit it), whether the rule gets it and whether its version is checked, as
    ``registry.apply1``/``apply2``/``apply`` record them."""
    tensor = _registry.Tensor
    saves = bool(op.saves)
    if kind == 1:
        fits = (None,) if op.elementwise else ((datas[0].shape, datas[0].dtype),)
        return fits, (saves,), (saves,)
    if kind == 2:
        other = inputs[1]
        other_is_tensor = isinstance(other, tensor)
        if other_is_tensor and rgs[1]:
            fits = ((datas[0].shape, datas[0].dtype), (datas[1].shape, datas[1].dtype))
            checks = (saves, saves and not (op.saves_if and 1 not in op.saves_if[1]
                                            and not rgs[0]))
        else:
            fits = ((datas[0].shape, datas[0].dtype), None) if other_is_tensor else (None, None)
            checks = (saves and (op.saves_if is None or 0 in op.saves_if[0]),
                      saves and other_is_tensor)
        return fits, (saves, saves), checks
    keep = None if op.saves_if is None else _rules.keeps(op, inputs, tensor)
    n = len(inputs)
    saves = _valued.FIRST_ORDER_SAVES.get(op, op.saves)  # Note [values checked by the caller]
    saved = tuple((i in saves) if keep is None else bool(keep[i]) for i in range(n))
    fits = tuple((d.shape, d.dtype) if isinstance(x, tensor) else None
                 for x, d in zip(inputs, datas))
    checks = tuple(s and isinstance(x, tensor) for s, x in zip(saved, inputs))
    return fits, saved, checks


def user_location(skip: int = 0) -> str:
    """``file:line`` of the innermost frame outside gradwalk (where the user's code is), not
    looking at the ``skip`` frames above the caller (known to be gradwalk's: each frame looked
    at is made into a frame object, about 0.25 us).

    Example:
        >>> user_location().startswith("<doctest")
        True
    """
    f = sys._getframe(1 + skip)
    files = _FILES
    while f is not None:
        fn = f.f_code.co_filename
        name = files.get(fn)
        if name is None:  # once per file: a graph break asks on every call
            inside = os.path.abspath(fn).startswith(_PACKAGE) or fn.startswith("<gradwalk")
            name = files[fn] = "" if inside else os.path.basename(fn)
        if name:
            return f"{name}:{f.f_lineno}"
        f = f.f_back
    return "?"


_FILES: dict = {}  # file name -> its base name, or "" inside gradwalk
