"""Tensor's operators and the op methods whose signature differs from their function's (a mixin).

Most op methods are the public functions themselves, installed by ``ops.surface.bind``
(``Tensor.sin is gradwalk.sin``). Written out here: the Python operators (``x + y``,
``2 * x``, ``x @ w``...), methods that take their shape as separate numbers (``x.view(2, 3)``),
methods with their own argument order (``x.where(cond, y)``), and the in-place methods with a
fast path or a recipe of their own (``add_``, ``fill_``, ``normal_``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import elementwise as _E
from .ops import indexing as _I
from .ops import inplace_views as _IV
from .ops import linalg as _L
from .ops import reductions as _R
from .ops import shape as _S
from .ops.arrays import shape_args
from .ops.registry import apply2 as _apply2

if TYPE_CHECKING:
    from .tensor import Tensor

Number = float | int | bool
_BOOL = np.dtype(np.bool_)


def _arithmetic(op: Any, function: Any, name: str, symbol: str) -> Any:
    """``Tensor.__add__``, ``__sub__``, ``__mul__``.

    Note [arithmetic operators]
        ``x * 2.0`` and ``x - y`` are most of an eager program. With a Tensor or a Python number
        on the right, the operator is the first lines of ``elementwise._binary`` (its checks, its
        errors) written out, so that it calls ``registry.apply2`` itself: one Python call where
        the public function takes three. Every other operand goes to the public function, and
        so does ``-`` with a bool tensor on either side (``sub``'s own error, as torch's).
    """
    no_bool = name == "sub"

    def method(self: Tensor, other: Any) -> Tensor:
        t = type(other)
        if no_bool and (self._data.dtype is _BOOL or (
                isinstance(other, OpMethods) and other._data.dtype is _BOOL)):
            return function(self, other)
        if t is float or t is int or isinstance(other, OpMethods):
            try:
                return _apply2(op, self, other)
            except ValueError:
                _E._check_broadcast(name, self, other)
                raise
            except OverflowError:  # an int the dtype cannot hold: the public function wraps it
                return function(self, other)
        return function(self, other)

    method.__name__ = method.__qualname__ = f"__{name}__"
    method.__doc__ = f"``self {symbol} other``."
    return method


class OpMethods:
    """Operators and op methods of ``Tensor`` that are not a function as it is."""

    __slots__ = ()

    # ------------------------------------------------------------------ operators
    __add__ = _arithmetic(_E.ADD, _E.add, "add", "+")  # Note [arithmetic operators]
    __sub__ = _arithmetic(_E.SUB, _E.sub, "sub", "-")
    __mul__ = _arithmetic(_E.MUL, _E.mul, "mul", "*")
    __truediv__ = _E.div
    __floordiv__ = _E.floor_divide
    __mod__ = _E.remainder
    __pow__ = _E.pow
    __matmul__ = _L.matmul
    __neg__ = _E.neg
    __abs__ = _E.abs
    # ``&``, ``|``, ``^`` are bitwise, as in PyTorch (logical for bool tensors, the same bits)
    __and__ = __rand__ = _E.bitwise_and
    __or__ = __ror__ = _E.bitwise_or
    __xor__ = __rxor__ = _E.bitwise_xor
    __lshift__ = _E.bitwise_left_shift
    __rshift__ = _E.bitwise_right_shift

    def __rlshift__(self, other: Any) -> Tensor:
        """``other << self``."""
        return _E.bitwise_left_shift(other, self)

    def __rrshift__(self, other: Any) -> Tensor:
        """``other >> self``."""
        return _E.bitwise_right_shift(other, self)
    __eq__ = _E.eq  # type: ignore[assignment]
    __ne__ = _E.ne  # type: ignore[assignment]
    __lt__ = _E.lt
    __le__ = _E.le
    __gt__ = _E.gt
    __ge__ = _E.ge
    __hash__ = object.__hash__  # defining ``__eq__`` would clear it

    def __radd__(self, other: Number) -> Tensor:
        """``other + self``."""
        return _E.add(other, self)

    def __rsub__(self, other: Number) -> Tensor:
        """``other - self``."""
        return _E.sub(other, self)

    def __rmul__(self, other: Number) -> Tensor:
        """``other * self``."""
        return _E.mul(other, self)

    def __rtruediv__(self, other: Number) -> Tensor:
        """``other / self``: ``reciprocal(self) * other``, as in PyTorch (the same rounding, and a
        node that keeps ``1 / self``, not ``self``, so ``self`` may change in place after)."""
        return _E.mul(self.reciprocal(), other)

    def __rfloordiv__(self, other: Number) -> Tensor:
        """``other // self``."""
        return _E.floor_divide(other, self)

    def __rmod__(self, other: Number) -> Tensor:
        """``other % self``."""
        return _E.remainder(other, self)

    def __rpow__(self, other: Number) -> Tensor:
        """``other ** self``."""
        return _E.pow(other, self)

    def __rmatmul__(self, other: Any) -> Tensor:
        """``other @ self``."""
        return _L.matmul(other, self)

    def __pos__(self) -> Tensor:
        """``+self`` is ``self``."""
        return self

    def __invert__(self) -> Tensor:
        """``~x``: logical not of a bool tensor, bitwise not of an integer one."""
        return _E.logical_not(self) if self._data.dtype.kind == "b" else _E.bitwise_not(self)

    def __iadd__(self, other: Any) -> Tensor:
        """``x += y`` is ``x.add_(y)``."""
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        """``x -= y`` is ``x.sub_(y)``."""
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        """``x *= y`` is ``x.mul_(y)``."""
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        """``x /= y`` is ``x.div_(y)``."""
        return self.div_(other)

    def __ipow__(self, other: Any) -> Tensor:
        """``x **= y`` is ``x.pow_(y)``."""
        return self.pow_(other)

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing (``x[0]``, ``x[:, 1:3]``, ``x[mask]``), differentiable."""
        return _I.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """Write into the indexed positions in place (``x[0] = 1``)."""
        _I.setitem(self, index, value)

    # ------------------------------------------------------------------ own argument order
    def where(self, condition: Tensor, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``gradwalk.where(cond, x, y)``).

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor([-1.0, 2.0])
            >>> x.where(x > 0, 0.0)
            tensor([0., 2.])
        """
        return _E.where(condition, self, other)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        """``self + weight * (end - self)``.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([0.0, 2.0]).lerp(gradwalk.tensor([2.0, 4.0]), 0.5)
            tensor([1., 3.])
        """
        return self + weight * (end - self)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, **kw: Any) -> Tensor:
        """``log(sum(exp(x)))`` over ``dim`` (or NumPy's ``axis``), computed stably.

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 4).logsumexp(1).exp()
            tensor([4., 4.])
        """
        return _R.logsumexp(self, dim=dim, keepdim=keepdim, **kw)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        """``gather(dim, indices)`` with the other dims broadcast (see ``gradwalk.take_along_dim``).
        """
        return _I.take_along_dim(self, indices, dim)

    # ------------------------------------------------------------------ shapes as numbers
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (``x.reshape(2, 3)`` or ``x.reshape((2, 3))``).

        Example:
            >>> import gradwalk
            >>> gradwalk.arange(6).reshape(2, -1).shape
            gradwalk.Size([2, 3])
        """
        return _S.reshape(self, shape_args(shape))

    def view(self, *shape: Any) -> Tensor:
        """A view in a new shape (``x.view(2, 3)``), or a dtype conversion (``x.view(dtype)``).

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(6).view(3, 2).shape
            gradwalk.Size([3, 2])
        """
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return _S.view_dtype(self, shape[0])
        return _S.view(self, shape_args(shape))

    def view_as(self, other: Tensor) -> Tensor:
        """``view(other.shape)``."""
        return _S.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """``reshape(other.shape)``."""
        return _S.reshape(self, other.shape)

    def ravel(self) -> Tensor:
        """The values as one dim (``flatten()``)."""
        return _S.flatten(self)

    def permute(self, *dims: Any) -> Tensor:
        """The dims in a new order (``x.permute(2, 0, 1)``).

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 3, 4).permute(2, 0, 1).shape
            gradwalk.Size([4, 2, 3])
        """
        return _S.permute(self, shape_args(dims))

    @property
    def T(self) -> Tensor:
        """All dims reversed."""
        return _S.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed)."""
        return _S.transpose(self, -2, -1)

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view to ``sizes`` (``-1`` keeps a dim).

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(3, 1).expand(3, 4).shape
            gradwalk.Size([3, 4])
        """
        return _S.expand(self, shape_args(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """``expand(other.shape)``."""
        return _S.expand(self, other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes`` times along each dim.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1, 2]).repeat(2)
            tensor([1, 2, 1, 2])
        """
        return _S.repeat(self, shape_args(sizes))

    def flip(self, *dims: Any) -> Tensor:
        """The values reversed along ``dims``.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1, 2, 3]).flip(0)
            tensor([3, 2, 1])
        """
        return _S.flip(self, shape_args(dims))

    # ------------------------------------------------------------------ in place
    def _inplace(self, fn: Any, *args: Any, **kwargs: Any) -> Tensor:
        return _I.apply_inplace(self, fn, *args, **kwargs)

    def add_(self, other: Any, *, alpha: Number = 1) -> Tensor:
        """``self += alpha * other`` in place.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.0]).add_(2.0, alpha=3)
            tensor([7.])
        """
        if _IV.update_(self, np.add, other, alpha):  # Note [the update path]
            return self
        if alpha != 1:
            return _I.apply_inplace(self, _E.add, other, alpha=alpha)
        return _I.apply_inplace(self, _E.add, other)

    def sub_(self, other: Any, *, alpha: Number = 1) -> Tensor:
        """``self -= alpha * other`` in place (see ``add_``)."""
        if _IV.update_(self, np.subtract, other, alpha):
            return self
        if alpha != 1:
            return _I.apply_inplace(self, _E.sub, other, alpha=alpha)
        return _I.apply_inplace(self, _E.sub, other)

    def zero_(self) -> Tensor:
        """Fill with zeros in place.

        Example:
            >>> import gradwalk
            >>> gradwalk.ones(2).zero_()
            tensor([0., 0.])
        """
        return _I.apply_inplace(self, _E.fill, 0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a one-element tensor) in place."""
        return _I.apply_inplace(self, _E.fill, value)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast, cast to this dtype) into this tensor; differentiable."""
        return _I.apply_inplace(self, _E.copy_from, src)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples of the uniform distribution on ``[a, b)``."""
        from .creation import rand  # creation.py imports tensor.py

        sample = rand(*self.shape, dtype=self.dtype) * (b - a) + a
        return _I.apply_inplace(self, _E.copy_from, sample)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of the normal distribution."""
        from .creation import randn  # creation.py imports tensor.py

        sample = randn(*self.shape, dtype=self.dtype) * std + mean
        return _I.apply_inplace(self, _E.copy_from, sample)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
        """``self += value * tensor1 * tensor2`` in place."""
        return _I.apply_inplace(self, _addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
        """``self += value * tensor1 / tensor2`` in place."""
        return _I.apply_inplace(self, _addcdiv, tensor1, tensor2, value=value)

    def clamp_min_(self, min: Any) -> Tensor:
        """``clamp_(min=min)``."""
        return _I.apply_inplace(self, _E.clamp, min, None)

    def clamp_max_(self, max: Any) -> Tensor:
        """``clamp_(max=max)``."""
        return _I.apply_inplace(self, _E.clamp, None, max)


def _addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def _addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2
