"""``parameters_to_vector`` and ``vector_to_parameters``: all parameters as one flat vector."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters, flattened and concatenated (differentiable).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import parameters_to_vector
        >>> parameters_to_vector(gradwalk.nn.Linear(3, 2).parameters()).shape
        gradwalk.Size([8])
    """
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensors of parameters, but got: {type(p).__name__}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (their data, not a graph).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils import vector_to_parameters
        >>> lin = gradwalk.nn.Linear(3, 2)
        >>> vector_to_parameters(gradwalk.arange(8.0), lin.parameters())
        >>> lin.bias.detach()
        tensor([6., 7.])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: the vector has shape {list(vec.shape)}, the "
                           f"parameters hold {total} elements; pass a 1-D vector of that length")
    pointer = 0
    for p in params:
        n = p.numel()
        p._data = vec._data[pointer:pointer + n].reshape(p._data.shape).astype(
            p._data.dtype, copy=True)
        p._vc[0] += 1
        pointer += n
