"""``gradwalk.nn.utils.parametrize``: a parameter computed from other tensors on every access.

Note [parametrized modules]
---------------------------
As PyTorch does it, and so with PyTorch's state-dict keys and class names:

- ``register_parametrization(module, "weight", p)`` moves the tensor into
  ``module.parametrizations.weight`` (a ``ParametrizationList``, a ``ModuleList`` of the
  parametrizations) as its ``original``, or as ``original0``, ``original1``... when the first
  parametrization's ``right_inverse`` returns several tensors. The keys of the state dict are
  ``parametrizations.weight.original`` (``original0``...) and the parametrizations' own
  buffers (``parametrizations.weight.0._u``).
- The module's class is swapped for a subclass, ``Parametrized<Name>``, that holds one property
  per parametrized name: reading ``module.weight`` runs the list (``p2(p1(original))``);
  assigning ``module.weight = t`` runs the ``right_inverse`` methods in reverse order and
  writes into the originals (the original Parameter objects stay, so an optimizer created
  earlier still trains them). Removing the last parametrization restores the class.
- ``cached()`` computes each parametrized tensor once while the context is open.
"""

from __future__ import annotations

import collections.abc
import copy
import copyreg
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor once while the context is open (a weight used several
    times in one forward pass is built once).

    Example:
        >>> import gradwalk
        >>> from gradwalk import nn
        >>> from gradwalk.nn.utils import parametrize
        >>> class Double(nn.Module):
        ...     def forward(self, x):
        ...         return 2 * x
        >>> lin = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Double())
        >>> with parametrize.cached():
        ...     lin.weight is lin.weight
        True
        >>> lin.weight is lin.weight
        False
    """
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module: Module, name: str, x: Tensor) -> None:
    if isinstance(x, Parameter):
        module.register_parameter(name, x)
    else:
        module.register_buffer(name, x)


def _set_data(dest: Tensor, src: Tensor) -> None:
    """``dest.set_(src)``: ``dest`` (the same object) now holds ``src``'s values."""
    dest._data = src._data
    dest._vc[0] += 1


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and its originals (``original`` or ``original0``,
    ``original1``...); made by ``register_parametrization``, not by hand.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parametrizations
        >>> lin = parametrizations.weight_norm(gradwalk.nn.Linear(3, 2))
        >>> type(lin.parametrizations.weight).__name__
        'ParametrizationList'
        >>> [n for n, _ in lin.parametrizations.weight.named_parameters()]
        ['original0', 'original1']
    """

    def __init__(self, modules: Sequence[Module], original: Tensor,
                 unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors "
                        f"(list, tuple...). Got element {i} of the sequence with type "
                        f"{type(part).__name__}.")
                if isinstance(original, Parameter):
                    part = Parameter(part, original.requires_grad)
                part.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", part)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            if z.dtype != dtype:
                raise ValueError("Registering a parametrization may not change the dtype of "
                                 "the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\nparametrized dtype: {z.dtype}")
            if z.shape != shape:
                raise ValueError("Registering a parametrization may not change the shape of "
                                 "the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {shape}\nparametrized shape: {z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Run the parametrizations' ``right_inverse`` in reverse order and store the result in
        the originals (what ``module.weight = value`` does)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set_data(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                 f"{type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for i, t in enumerate(value):
                target = getattr(self, f"original{i}")
                if not isinstance(t, Tensor):
                    raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                     f"element {i} of type {type(t).__name__}.")
                if target.dtype != t.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                     f"{t.dtype} while `original{i}` has dtype {target.dtype}")
                _set_data(target, t)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _deepcopy(self, memo):
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, copy.deepcopy(getattr(self, slot), memo))
    return replica


def _getstate(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(): save module.state_dict() and load it into a module "
                       "parametrized the same way.")


def _inject_new_class(module: Module) -> None:
    cls = module.__class__
    dct = {"__getstate__": _getstate}
    if not hasattr(cls, "__deepcopy__"):
        dct["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), dct)


def _inject_property(module: Module, tensor_name: str) -> None:
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        t = _cache.get(key)
        if t is None:
            t = _cache[key] = parametrization()
        return t

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _check_like(what: str, tensor_name: str, ref: Tensor, got) -> None:
    if not isinstance(got, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(got).__name__}.")
    if got.dtype != ref.dtype:
        raise ValueError(f"{what} may not change the dtype of the tensor, unless the `unsafe` "
                         f"flag is enabled.\nmodule.{tensor_name}.dtype: {ref.dtype}\n"
                         f"returned dtype: {got.dtype}")
    if got.shape != ref.shape:
        raise ValueError(f"{what} may not change the shape of the tensor, unless the `unsafe` "
                         f"flag is enabled.\nmodule.{tensor_name}.shape: {ref.shape}\n"
                         f"returned shape: {got.shape}")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the original
    tensor (Note [parametrized modules]); a second registration on the same name chains.

    Example:
        >>> import gradwalk
        >>> from gradwalk import nn
        >>> from gradwalk.nn.utils import parametrize
        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> lin = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        >>> bool((lin.weight == lin.weight.T).all())
        True
        >>> sorted(lin.state_dict())
        ['bias', 'parametrizations.weight.original']
        >>> type(lin).__name__
        'ParametrizedLinear'
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            _check_like("A parametrization", tensor_name, y, x)
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    _check_like("parametrization.right_inverse", tensor_name, y, z)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{type(module).__name__}' has '{tensor_name}' = None: "
                             "there is no tensor to parametrize")
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, or on any tensor).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parametrize, parametrizations
        >>> lin = gradwalk.nn.Linear(2, 2)
        >>> parametrize.is_parametrized(lin)
        False
        >>> _ = parametrizations.weight_norm(lin)
        >>> parametrize.is_parametrized(lin, "weight"), parametrize.is_parametrized(lin, "bias")
        (True, False)
    """
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if plists is None or not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Remove the parametrizations on ``tensor_name``: the tensor becomes a plain parameter (or
    buffer) again, holding the parametrized value (``leave_parametrized=True``) or the original.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parametrize, parametrizations
        >>> lin = parametrizations.weight_norm(gradwalk.nn.Linear(2, 2))
        >>> w = lin.weight.detach().clone()
        >>> lin = parametrize.remove_parametrizations(lin, "weight")
        >>> type(lin).__name__, sorted(lin.state_dict())
        ('Linear', ['bias', 'weight'])
        >>> bool(gradwalk.allclose(lin.weight, w))
        True
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
                _set_data(original, t)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name)
        requires = any(getattr(plist, f"original{i}").requires_grad
                       for i in range(plist.ntensors))
        original = Parameter(t.detach(), requires) if requires else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization (``Linear`` for ``ParametrizedLinear``).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parametrize, parametrizations
        >>> lin = parametrizations.weight_norm(gradwalk.nn.Linear(2, 2))
        >>> parametrize.type_before_parametrizations(lin).__name__
        'Linear'
    """
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (of ``tensor_name``, or all) on
    ``to_module`` too, sharing the original tensors.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parametrize, parametrizations
        >>> a = parametrizations.weight_norm(gradwalk.nn.Linear(2, 2))
        >>> b = parametrize.transfer_parametrizations_and_params(a, gradwalk.nn.Linear(2, 2))
        >>> b.parametrizations.weight.original1 is a.parametrizations.weight.original1
        True
    """
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        for fn in source:
            register_parametrization(to_module, name, fn)
        target = to_module.parametrizations[name]
        if source.is_tensor:
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module
