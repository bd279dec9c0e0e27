"""The optimizer base class: parameter groups, per-parameter state, state dicts.

Subclasses implement ``_update_group(group)``, which reads each parameter's ``.grad`` and changes
the parameter's data in place (so views of it and references held elsewhere stay valid). The math
runs on raw arrays of the parameter's array namespace (``xp``), never through the graph.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import xp_of
from ..ops import registry as _registry
from ..ops.inplace_views import bump_version as _bump_version
from ..tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class _Required:
    """Marks a hyper-parameter that has no default (PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _state_tensor(arr) -> Tensor:
    """Wrap a raw array as a state tensor (no grad)."""
    return Tensor._wrap(arr)


def _step_tensor(value: float = 0.0) -> Tensor:
    """The ``step`` entry of a parameter's state: a 0-d float32 tensor, as in PyTorch."""
    return Tensor._wrap(np.array(value, dtype=np.float32))


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) that each hold a
    ``"params"`` list and may override any hyper-parameter of ``defaults``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = gradwalk.optim.SGD([w], lr=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0., 0.], requires_grad=True)
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}; pass [tensor] or model.parameters()")
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (e.g. a new layer to train).

        Example:
            >>> import gradwalk
            >>> a, b = gradwalk.zeros(2, requires_grad=True), gradwalk.zeros(3, requires_grad=True)
            >>> opt = gradwalk.optim.SGD([a], lr=0.1)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead")
        elif params is None:
            raise ValueError("a parameter group needs a 'params' entry (a list of tensors)")
        else:
            group["params"] = list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it was computed by an op); optimize the "
                    "leaf it came from, or use x.detach().requires_grad_()")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("a parameter group holds the same parameter twice")
        self.param_groups.append(group)
        self._init_group_state(group)

    def _init_group_state(self, group: dict[str, Any]) -> None:
        """Create state eagerly for a new group (most optimizers create it lazily instead)."""

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to ``None`` by default, else to zeros).

        Example:
            >>> import gradwalk
            >>> w = gradwalk.ones(2, requires_grad=True)
            >>> opt = gradwalk.optim.SGD([w], lr=0.1)
            >>> w.sum().backward(); opt.zero_grad(); w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                if (p._grad if p.grad_fn is None else p.grad) is None:  # a leaf: no warning
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if _registry._trace is not None:
                        _flush_compiled("zero_grad(set_to_none=False) writes .grad")
                    g = p.grad
                    g._data[...] = 0
                    _bump_version(g)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with grad enabled).

        Example:
            >>> import gradwalk
            >>> w = gradwalk.tensor([3.0], requires_grad=True)
            >>> opt = gradwalk.optim.SGD([w], lr=0.25)
            >>> def closure():
            ...     opt.zero_grad()
            ...     loss = (w * w).sum()
            ...     loss.backward()
            ...     return loss
            >>> opt.step(closure)
            tensor(9., grad_fn=<SumBackward0>)
            >>> w
            tensor([1.5000], requires_grad=True)
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if _registry._trace is not None:
            _flush_compiled(f"{type(self).__name__}.step() writes parameters and state")
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_group")

    @staticmethod
    def _grads(group: dict[str, Any]):
        """Yield ``(param, grad array, xp)`` for the params of ``group`` that have a gradient."""
        for p in group["params"]:
            g = p._grad if p.grad_fn is None else p.grad  # a leaf's: no warning to consider
            if g is None:
                continue
            data, x = g._data, p._data
            if data.shape != x.shape:
                raise RuntimeError(
                    f"the gradient of a parameter has shape {list(g.shape)} but the parameter "
                    f"has shape {list(p.shape)}; did you assign .grad by hand?")
            yield p, data, np if type(x) is np.ndarray else xp_of(x)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are named by their index in the order of the groups (PyTorch's layout), so a
        state dict can be loaded into a new optimizer built over the same model.

        Example:
            >>> import gradwalk
            >>> w = gradwalk.ones(2, requires_grad=True)
            >>> opt = gradwalk.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> w.sum().backward(); opt.step()
            >>> sd = opt.state_dict()
            >>> sorted(sd["state"][0]), sd["param_groups"][0]["params"]
            (['momentum_buffer'], [0])
        """
        index: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state made by ``state_dict()`` (tensors are copied, cast to the params' dtype).

        Example:
            >>> import gradwalk
            >>> w = gradwalk.ones(2, requires_grad=True)
            >>> opt = gradwalk.optim.Adam([w], lr=0.1)
            >>> w.sum().backward(); opt.step()
            >>> opt2 = gradwalk.optim.Adam([w], lr=0.5)
            >>> opt2.load_state_dict(opt.state_dict())
            >>> opt2.param_groups[0]["lr"], float(opt2.state[w]["step"])
            (0.1, 1.0)
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(
                "load_state_dict expects a dict with 'state' and 'param_groups' (as made by "
                f"optimizer.state_dict()), got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups but the optimizer "
                f"has {len(self.param_groups)}")
        for mine, saved in zip(self.param_groups, saved_groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group ({len(saved['params'])} vs {len(mine['params'])})")
        id_map = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for idx, p in zip(saved["params"], mine["params"]):
                id_map[int(idx)] = p
        self.state = defaultdict(dict)
        for key, value in state_dict.get("state", {}).items():
            p = id_map.get(int(key))
            if p is None:
                continue
            self.state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if "betas" in group and isinstance(group["betas"], list):
                group["betas"] = tuple(group["betas"])
            group["params"] = mine["params"]
            new_groups.append(group)
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(p: Tensor, key: str, value: Any) -> Any:
    """Copy a loaded state value; floating tensors take the param's dtype (except ``step``)."""
    if isinstance(value, Tensor):
        arr = value._data
        if key != "step" and arr.dtype.kind == "f":
            arr = arr.astype(p._data.dtype)
        xp = xp_of(p._data)
        return Tensor._wrap(xp.array(arr, copy=True))
    return copy.deepcopy(value)


def _flush_compiled(reason: str) -> None:
    """Inside ``gradwalk.compile``: run the pending part of the region before NumPy writes
    arrays that its program may still read (Note [in-place ops in the segment] in
    gradwalk/compiler/inplace.py)."""
    hook = _registry._trace
    if hook is not None:
        hook.flush_running(reason)
