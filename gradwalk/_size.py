"""``gradwalk.Size``: the shape of a tensor, a tuple of ints as PyTorch's ``torch.Size``."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any


class Size(tuple):
    """A tensor's shape (``x.shape``, ``x.size()``): a tuple of ints, printed as PyTorch prints
    it, with ``numel()``. Slices and sums of a Size are Sizes.

    Example:
        >>> import gradwalk
        >>> s = gradwalk.zeros(2, 3).shape
        >>> s, s.numel(), s == (2, 3), s[1:]
        (gradwalk.Size([2, 3]), 6, True, gradwalk.Size([3]))
    """

    __slots__ = ()
    __module__ = "gradwalk"

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        items = tuple(sizes)
        for k, s in enumerate(items):
            if type(s) is not int:
                try:
                    items = items[:k] + (operator.index(s),) + items[k + 1:]
                except TypeError:
                    raise TypeError(f"gradwalk.Size() takes an iterable of 'int' (item {k} is "
                                    f"'{type(s).__name__}')") from None
        return tuple.__new__(cls, items)

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"gradwalk.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):  # type: ignore[override]
        r = tuple.__getitem__(self, key)
        return tuple.__new__(Size, r) if isinstance(key, slice) else r

    def __add__(self, other):  # type: ignore[override]
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):  # type: ignore[override]
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def from_shape(shape: tuple) -> Size:
    """A Size of an array's shape (a tuple of ints already: no checks)."""
    return tuple.__new__(Size, shape)
