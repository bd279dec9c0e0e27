"""PyTorch's ``*_copy`` ops (a view op's result in its own memory), ``fill``, the ``new_*``
constructors of a tensor's dtype, and the ``mH``/``H`` transposes.

A ``*_copy`` is its view op followed by ``clone``: the same values and gradient, memory of
its own, so writing into it leaves the input alone.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dtypes
from . import registry as _registry
from .arrays import shape_args, to_array
from .complex import conj
from .diagonal import diagonal, unfold
from .elementwise import clone
from .elementwise import fill as _fill
from .shape import (
    expand,
    narrow,
    permute,
    split,
    squeeze,
    t,
    transpose,
    unbind,
    unsqueeze,
    view,
    view_dtype,
)


def alias_copy(input):
    """A copy of ``input`` (PyTorch's ``alias`` is a view of all of it).

    Example:
        >>> import gradwalk
        >>> gradwalk.alias_copy(gradwalk.tensor([1.0]))
        tensor([1.])
    """
    return clone(input)


def permute_copy(input, dims):
    """``permute`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.permute_copy(gradwalk.zeros(2, 3), (1, 0)).shape
        gradwalk.Size([3, 2])
    """
    return clone(permute(input, tuple(dims)))


def squeeze_copy(input, dim=None):
    """``squeeze`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.squeeze_copy(gradwalk.zeros(1, 2)).shape
        gradwalk.Size([2])
    """
    return clone(squeeze(input, dim))


def unsqueeze_copy(input, dim):
    """``unsqueeze`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.unsqueeze_copy(gradwalk.zeros(2), 0).shape
        gradwalk.Size([1, 2])
    """
    return clone(unsqueeze(input, dim))


def t_copy(input):
    """``t`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.t_copy(gradwalk.zeros(2, 3)).shape
        gradwalk.Size([3, 2])
    """
    return clone(t(input))


def transpose_copy(input, dim0, dim1):
    """``transpose`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.transpose_copy(gradwalk.zeros(2, 3), 0, 1).shape
        gradwalk.Size([3, 2])
    """
    return clone(transpose(input, dim0, dim1))


def view_copy(input, size):
    """``view`` (a shape, or a dtype) in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.view_copy(gradwalk.zeros(6), (2, 3)).shape
        gradwalk.Size([2, 3])
    """
    if not isinstance(size, (tuple, list, int, np.integer)):
        return clone(view_dtype(input, size))
    return clone(view(input, shape_args((size,))))


def expand_copy(input, size, *, implicit=False):
    """``expand`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.expand_copy(gradwalk.zeros(1, 2), (3, 2)).shape
        gradwalk.Size([3, 2])
    """
    return clone(expand(input, tuple(size)))


def unbind_copy(input, dim=0):
    """``unbind``, each piece in new memory.

    Example:
        >>> import gradwalk
        >>> len(gradwalk.unbind_copy(gradwalk.zeros(3, 2)))
        3
    """
    return tuple(clone(p) for p in unbind(input, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    """``split_with_sizes``, each piece in new memory.

    Example:
        >>> import gradwalk
        >>> [p.shape for p in gradwalk.split_with_sizes_copy(gradwalk.zeros(3), [1, 2])]
        [gradwalk.Size([1]), gradwalk.Size([2])]
    """
    return tuple(clone(p) for p in split(input, list(split_sizes), dim))


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """``diagonal`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.diagonal_copy(gradwalk.eye(2))
        tensor([1., 1.])
    """
    return clone(diagonal(input, offset, dim1, dim2))


def narrow_copy(input, dim, start, length):
    """``narrow`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.narrow_copy(gradwalk.arange(4), 0, 1, 2)
        tensor([1, 2])
    """
    return clone(narrow(input, dim, start, length))


def unfold_copy(input, dimension, size, step):
    """``Tensor.unfold`` in new memory.

    Example:
        >>> import gradwalk
        >>> gradwalk.unfold_copy(gradwalk.arange(4.0), 0, 2, 2).shape
        gradwalk.Size([2, 2])
    """
    return clone(unfold(input, dimension, size, step))


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (a number or a 0-d tensor, which gets the
    gradient).

    Example:
        >>> import gradwalk
        >>> gradwalk.fill(gradwalk.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return _fill(input, value)


def _new(input, data, dtype, requires_grad):
    arr = np.asarray(data)
    npd = input._data.dtype if dtype is None else _dtypes.to_numpy_dtype(dtype)
    out = _registry.wrap(arr.astype(npd, copy=False))
    if requires_grad:
        out.requires_grad_(True)
    return out


def new_zeros(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Zeros of ``size`` with ``input``'s dtype (or ``dtype``).

    Example:
        >>> import gradwalk
        >>> gradwalk.ones(1, dtype=gradwalk.int64).new_zeros(2)
        tensor([0, 0])
    """
    return _new(input, np.zeros(shape_args(size)), dtype, requires_grad)


def new_ones(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """Ones of ``size`` with ``input``'s dtype (or ``dtype``).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(1).new_ones(2)
        tensor([1., 1.])
    """
    return _new(input, np.ones(shape_args(size)), dtype, requires_grad)


def new_empty(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """An uninitialized tensor of ``size`` with ``input``'s dtype (zeros here).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(1).new_empty(2, 3).shape
        gradwalk.Size([2, 3])
    """
    return _new(input, np.zeros(shape_args(size)), dtype, requires_grad)


def new_full(input, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    """``fill_value`` in a tensor of ``size`` with ``input``'s dtype (or ``dtype``).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(1).new_full((2,), 7)
        tensor([7., 7.])
    """
    return _new(input, np.full(shape_args((size,)), fill_value), dtype, requires_grad)


def new_tensor(input, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """A tensor of ``data`` (copied) with ``input``'s dtype unless ``dtype`` says.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(1, dtype=gradwalk.int64).new_tensor([1.7, 2.2])
        tensor([1, 2])
    """
    arr = to_array(data.detach() if isinstance(data, _registry.Tensor) else data).copy()
    return _new(input, arr, dtype, requires_grad)


def _mH(self):
    """The conjugate transpose of the last two dims."""
    return conj(transpose(self, -2, -1))


def _H(self):
    """The conjugate transpose of a matrix."""
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.")
    return conj(t(self)) if self.ndim == 2 else conj(self)


#: Properties of Tensor (``install`` sets them).
PROPERTIES = {"mH": _mH, "H": _H}
METHODS = "new_zeros new_ones new_empty new_full new_tensor"
INPLACE = ""
__all__ = ["alias_copy", "permute_copy", "squeeze_copy", "unsqueeze_copy", "t_copy",
           "transpose_copy", "view_copy", "expand_copy", "unbind_copy",
           "split_with_sizes_copy", "diagonal_copy", "narrow_copy", "unfold_copy", "fill"]
