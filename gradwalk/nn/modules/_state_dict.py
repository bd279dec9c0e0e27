"""``Module``'s state dict: saving (``state_dict``) and loading (``load_state_dict``, with
``assign``), by dotted name over the tree of submodules, as PyTorch's.

``Module`` inherits these methods from ``StateDictMixin``; they read the module's registries
(``_parameters``, ``_buffers``, ``_non_persistent_buffers_set``, the state-dict hooks) and walk
the tree with ``named_modules``.

Example:
    >>> import gradwalk
    >>> a, b = gradwalk.nn.Linear(2, 1), gradwalk.nn.Linear(2, 1)
    >>> b.load_state_dict(a.state_dict()).missing_keys
    []
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..parameter import Parameter


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not expect."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


def _torch_size(shape) -> str:
    return f"torch.Size({list(shape)})"


class StateDictMixin:
    """The state-dict methods of ``Module`` (see the module docstring)."""

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """An ordered dict of every parameter and persistent buffer, by dotted name, detached
        (sharing memory) unless ``keep_vars``.

        Example:
            >>> import gradwalk
            >>> list(gradwalk.nn.Sequential(gradwalk.nn.Linear(2, 2)).state_dict())
            ['0.weight', '0.bias']
        """
        if args:
            destination = args[0] if len(args) > 0 else destination
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip("."),
                                                  remove_duplicate=False):
            p = mod_prefix + "." if mod_prefix else ""
            mod._save_to_state_dict(destination, p, keep_vars)
            for hook in mod._state_dict_hooks.values():
                res = hook(mod, destination, p, {})
                if res is not None:
                    destination = res
        return destination

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        for hook in self._load_state_dict_pre_hooks.values():
            hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {**{k: v for k, v in self._parameters.items()}, **persistent}
        for name, target in local.items():
            key = prefix + name
            if target is None:
                continue
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(arr.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_torch_size(arr.shape)} from checkpoint, the shape in current model is "
                    f"{_torch_size(target.shape)}.")
                continue
            try:
                target._data[...] = arr
            except (TypeError, ValueError) as e:
                error_msgs.append(f'While copying the parameter named "{key}", whose '
                                  f"dimensions in the model are {_torch_size(target.shape)} "
                                  f"and whose dimensions in the checkpoint are "
                                  f"{_torch_size(arr.shape)}, an exception occurred : {e}.")
                continue
            target._vc[0] += 1
        for key in state_dict:
            if key.startswith(prefix):
                rest = key[len(prefix):]
                head = rest.split(".", 1)[0]
                if head not in self._modules and head not in local:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict: dict, strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` (tensors or NumPy arrays) into this
        module. With ``strict`` (default) a missing or unexpected key is an error.

        Example:
            >>> import gradwalk
            >>> a, b = gradwalk.nn.Linear(2, 2), gradwalk.nn.Linear(2, 2)
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
            >>> bool((a.weight == b.weight).all())
            True
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        with no_grad():
            for mod_prefix, mod in self.named_modules(remove_duplicate=False):
                p = mod_prefix + "." if mod_prefix else ""
                if assign:
                    mod._assign_from_state_dict(state_dict, p, errors)
                else:
                    mod._load_from_state_dict(state_dict, p, {}, strict, missing, unexpected,
                                              errors)
        if assign:
            return self._assign_keys(state_dict, strict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    def _assign_from_state_dict(self, state_dict, prefix, errors) -> None:
        for name in list(self._parameters):
            key = prefix + name
            if key in state_dict and self._parameters[name] is not None:
                v = state_dict[key]
                t = v if isinstance(v, Tensor) else Tensor._wrap(np.asarray(v))
                old = self._parameters[name]
                self._parameters[name] = t if isinstance(t, Parameter) else Parameter(
                    t, old.requires_grad)
        for name in list(self._buffers):
            key = prefix + name
            if key in state_dict and name not in self._non_persistent_buffers_set:
                v = state_dict[key]
                self._buffers[name] = v if isinstance(v, Tensor) else Tensor._wrap(
                    np.asarray(v))

    def _assign_keys(self, state_dict, strict) -> _IncompatibleKeys:
        own = set(self.state_dict())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            msgs = []
            if missing:
                msgs.append("Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
            if unexpected:
                msgs.append("Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(msgs)))
        return _IncompatibleKeys(missing, unexpected)
