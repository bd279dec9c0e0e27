"""Lazy modules: ``LazyLinear``, ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d``,
``LazyBatchNorm1d/2d/3d``, ``LazyInstanceNorm1d/2d/3d``.

Note [lazy modules]
-------------------
As PyTorch's: a lazy module is built with ``UninitializedParameter``/``UninitializedBuffer``
in place of the tensors whose size depends on the input (``in_features``, ``in_channels``,
``num_features``). A forward pre-hook runs ``initialize_parameters(input)`` at the first call:
it reads the size from the input, materializes the tensors in place (the same objects, so an
optimizer made before the first call trains them) and draws them with the normal module's
``reset_parameters``; then the hook is removed and the module's class becomes the normal one
(``LazyLinear`` -> ``Linear``). Loading a state dict into a lazy module materializes the tensors
with the shapes of the loaded ones. An uninitialized tensor refuses every use but ``to`` and
its dtype (``gradwalk.nn.parameter._NoData``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import DTypeLike
from ...tensor import Tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    _ConvTransposeNd,
)
from .layers_more import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
           "UninitializedParameter", "UninitializedBuffer"]


class LazyModuleMixin:
    """The lazy behaviour (Note [lazy modules]); a lazy class is
    ``class LazyX(LazyModuleMixin, X)`` with ``cls_to_become = X`` and an
    ``initialize_parameters(*inputs)``.

    Example:
        >>> import gradwalk
        >>> lin = gradwalk.nn.LazyLinear(3)
        >>> lin.has_uninitialized_params()
        True
        >>> lin(gradwalk.ones(2, 5)).shape
        gradwalk.Size([2, 3])
        >>> lin
        Linear(in_features=5, out_features=3, bias=True)
    """

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _register_hooks(self)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module is still uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Materialize the parameters from the first input (each lazy class defines it)."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}")


def _register_hooks(module) -> None:
    module._load_hook = module.register_load_state_dict_pre_hook(_lazy_load_hook)
    module._initialize_hook = module.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)


def _lazy_load_hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs) -> None:
    """Materialize each uninitialized tensor that the state dict holds an initialized one of."""
    for name, t in itertools.chain(module._parameters.items(), module._buffers.items()):
        key = prefix + name
        if key in state_dict and t is not None and is_lazy(t):
            value = state_dict[key]
            if not is_lazy(value):
                with no_grad():
                    t.materialize(tuple(np.shape(value._data if isinstance(value, Tensor)
                                                 else value)))


def _infer_parameters(module, args, kwargs=None):
    """The first call's forward pre-hook: initialize, then become the normal module."""
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    module._load_hook.remove()
    del module._initialize_hook
    del module._load_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last size of its first input.

    Example:
        >>> import gradwalk
        >>> lin = gradwalk.nn.LazyLinear(4)
        >>> lin
        LazyLinear(in_features=0, out_features=4, bias=True)
        >>> lin(gradwalk.zeros(3, 7)).shape, lin.weight.shape
        (gradwalk.Size([3, 4]), gradwalk.Size([4, 7]))
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        """Draw the parameters once they are materialized (``Linear``'s initialisation)."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """``in_features = input.shape[-1]``; materialize and draw the parameters."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # materialized by a state dict: read the size now
            if input.shape[-1] != self.weight.shape[-1]:
                raise RuntimeError(f"LazyLinear: the input's last size {input.shape[-1]} is not "
                                   f"the loaded weight's in_features {self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        """Draw the parameters once they are materialized (the convolution's initialisation)."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        d = self._dims
        if input.ndim not in (d + 1, d + 2):
            raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{list(input.shape)}")
        return input.shape[1] if input.ndim == d + 2 else input.shape[0]

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """``in_channels`` from the input; materialize and draw the weight and bias."""
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            if isinstance(self, _ConvTransposeNd):
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _lazy_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


def _lazy_conv(base: type, dims: int) -> type:
    transposed = issubclass(base, _ConvTransposeNd)

    if transposed:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                     output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                     padding_mode: str = "zeros", device: str | None = None,
                     dtype: DTypeLike | None = None) -> None:
            base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups,
                          False, dilation, padding_mode, device, dtype)
            _register_hooks(self)
            self._lazy_init(out_channels, bias, device, dtype)
    else:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                     groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                     device: str | None = None, dtype: DTypeLike | None = None) -> None:
            base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                          padding_mode, device, dtype)
            _register_hooks(self)
            self._lazy_init(out_channels, bias, device, dtype)

    name = f"Lazy{base.__name__}"
    doc = (f"A ``{base.__name__}`` whose ``in_channels`` is read from its first input "
           f"(Note [lazy modules]).\n\n    Example:\n        >>> import gradwalk\n"
           f"        >>> m = gradwalk.nn.{name}(4, 3)\n"
           f"        >>> x = gradwalk.zeros(2, 5, *[6] * {dims})\n"
           f"        >>> type(m(x)).__name__, type(m).__name__, m.in_channels\n"
           f"        ('Tensor', '{base.__name__}', 5)\n")
    return type(name, (_LazyConvXdMixin, base), {
        "__init__": __init__, "cls_to_become": base, "__doc__": doc,
        "__module__": __name__, "__qualname__": name})


LazyConv1d = _lazy_conv(Conv1d, 1)
LazyConv2d = _lazy_conv(Conv2d, 2)
LazyConv3d = _lazy_conv(Conv3d, 3)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, 3)


class _LazyNormBase(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None,
                 dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = Tensor._wrap(np.array(0, dtype=np.int64))

    def reset_parameters(self) -> None:
        """Reset the statistics and affine parameters once they are materialized."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """``num_features = input.shape[1]``; materialize and reset the tensors."""
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name)
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is read from its first input.

    Example:
        >>> import gradwalk
        >>> bn = gradwalk.nn.LazyBatchNorm1d()
        >>> bn(gradwalk.randn(4, 3)).shape, bn.running_mean.shape, type(bn).__name__
        (gradwalk.Size([4, 3]), gradwalk.Size([3]), 'BatchNorm1d')
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is read from its first input (see
    ``LazyBatchNorm1d``)."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A ``BatchNorm3d`` whose ``num_features`` is read from its first input (see
    ``LazyBatchNorm1d``)."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    def reset_parameters(self) -> None:
        """Running statistics to 0 and 1, weight to ones and bias to zeros, once materialized
        (``InstanceNorm``'s initial values)."""
        if self.has_uninitialized_params() or self.num_features == 0:
            return
        for name, value in (("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1),
                            ("num_batches_tracked", 0)):
            t = getattr(self, name)
            if t is not None:
                t._data[...] = value
                t._vc[0] += 1

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """``num_features`` is the channel size (dim 0 of an unbatched input)."""
        if not self.has_uninitialized_params():
            return
        batched = input.ndim == self._dims + 2
        self.num_features = input.shape[1 if batched else 0]
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name)
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An ``InstanceNorm1d`` whose ``num_features`` is read from its first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An ``InstanceNorm2d`` whose ``num_features`` is read from its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An ``InstanceNorm3d`` whose ``num_features`` is read from its first input."""

    cls_to_become = InstanceNorm3d
