"""The pending value of a tensor inside a compiled region: shape and dtype now, numbers later.

Note [lazy arrays]
    Inside a compiled region an op that the trace supports does not compute: its output tensor
    holds a ``LazyArray`` as ``_data``. A ``LazyArray`` knows what Python may read without the
    numbers (``shape``, ``dtype``, ``ndim``, ``size``, the contiguity ``flags`` and whether it
    shares memory with one of its op's inputs, all recorded when the program was first traced)
    and nothing else: every other use (``.item()``, ``float()``, indexing, a NumPy function or
    ufunc, an attribute such as ``.T``) first runs the pending part of the region (a graph
    break, ``Segment.flush``) and then acts on the real array. So code that does not know about
    the trace, eager ops among them, gets the eager answer; it only pays the break.
    After a flush every tensor of the segment holds its real array again (``_data`` is swapped);
    a ``LazyArray`` that some other object still holds forwards to its value. A trace that
    missed the cache computes as it records, but its tensors hold ``LazyArray``s too (with the
    value already there), so that a read ends the segment at the same place on every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Flags:
    """The contiguity flags a pending array will have (read by ops before they compute)."""

    __slots__ = ("c_contiguous", "f_contiguous", "writeable", "owndata")

    def __init__(self, flags) -> None:
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.writeable = flags.writeable
        self.owndata = flags.owndata

    def __getitem__(self, key: str) -> bool:
        return getattr(self, key.lower())


class LazyArray:
    """A value of a compiled region that is not computed yet (Note [lazy arrays]).

    Example:
        >>> import gradwalk
        >>> f = gradwalk.compile(lambda x: (x * 2).exp())
        >>> float(f(gradwalk.tensor(0.0)))
        1.0
    """

    __slots__ = ("shape", "dtype", "seg", "slot", "value", "meta", "inputs")

    def __init__(self, shape, dtype, seg, slot, meta, inputs) -> None:
        self.shape = shape
        self.dtype = dtype
        self.seg = seg
        self.slot = slot
        self.value = None
        self.meta = meta  # the trie node: flags, which inputs the output shares memory with
        self.inputs = inputs  # the op's inputs (tensors, numbers: for may_share_memory)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def flags(self):
        return self.meta.flags

    def _get(self) -> np.ndarray:
        if not self.seg.flushed:  # computed already (a trace that missed the cache) or not
            self.seg.flush("a read of a pending value")
        return self.value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __array__(self, dtype=None, copy=None):
        v = self._get()
        if dtype is not None and v.dtype != dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _real(inputs)
        if "out" in kwargs:
            kwargs["out"] = _real(kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.may_share_memory or func is np.shares_memory:
            known = _shares(args)
            if known is not None:
                return known
        return func(*_real(args), **_real(kwargs))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return repr(self._get())

    def __str__(self) -> str:
        return str(self._get())

    def __format__(self, spec: str) -> str:
        return format(self._get(), spec)

    def __bool__(self) -> bool:
        return bool(self._get())

    def __float__(self) -> float:
        return float(self._get())

    def __int__(self) -> int:
        return int(self._get())

    def __index__(self) -> int:
        return self._get().__index__()

    def __complex__(self) -> complex:
        return complex(self._get())

    def __iter__(self):
        return iter(self._get())

    def __contains__(self, item) -> bool:
        return item in self._get()

    def __getitem__(self, key):
        return self._get()[_real(key)]

    def __setitem__(self, key, value) -> None:
        self._get()[_real(key)] = _real(value)

    def __copy__(self):
        return self._get().copy()

    def __deepcopy__(self, memo):
        return self._get().copy()

    def __reduce__(self):
        return self._get().__reduce__()

    __hash__ = None  # as ndarray


def _binop(name: str):
    def method(self, *args):
        return getattr(self._get(), name)(*_real(args))
    method.__name__ = name
    return method


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow "
              "matmul rmatmul and rand or ror xor rxor lshift rlshift rshift rrshift eq ne lt "
              "le gt ge neg pos abs invert iadd isub imul itruediv ifloordiv imod ipow iand ior "
              "ixor").split():
    setattr(LazyArray, f"__{_name}__", _binop(f"__{_name}__"))


def _real(x):
    """``x`` with every ``LazyArray`` (also inside tuples, lists and dicts) replaced by its
    value (computing the pending part first)."""
    t = type(x)
    if t is LazyArray:
        return x._get()
    if t is tuple or t is list:
        return t(_real(v) for v in x)
    if t is dict:
        return {k: _real(v) for k, v in x.items()}
    return x


def _shares(args):
    """``np.may_share_memory(out, x)`` for a pending ``out`` and one of its op's inputs ``x``:
    the answer recorded when the program was traced, without computing (``None``: unknown)."""
    if len(args) != 2:
        return None
    a, b = args
    for p, q in ((a, b), (b, a)):
        if type(p) is LazyArray and not p.seg.flushed:
            for k, inp in enumerate(p.inputs):
                if getattr(inp, "_data", inp) is q:
                    return k in p.meta.shares
    return None
