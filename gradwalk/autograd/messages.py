"""PyTorch's wording of the autograd core's errors and warnings, kept verbatim in one place.

The core raises these where a rule is broken (``node.check_versions``, the engine's second
backward, ``Tensor.grad`` of a non-leaf); tests match them against PyTorch's own messages.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.exp()
    >>> y.add_(1)
    tensor([3.7183, 8.3891], grad_fn=<AddBackward0>)
    >>> try:
    ...     y.sum().backward()
    ... except RuntimeError as e:
    ...     print(str(e).split(":")[0])
    one of the variables needed for gradient computation has been modified by an inplace operation
"""

from __future__ import annotations

import warnings

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)

_LEGACY_TYPE = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def raise_version_error(node, t, saved_v, now_v, shape=None, dtype=None) -> None:
    """PyTorch's message: the tensor's legacy type and shape, the op that produced it, both
    versions; then the node that saved it and the anomaly-mode hint. ``t`` is the saved Tensor,
    or ``None`` for the node's saved output (of ``shape`` and ``dtype``)."""
    producer = node
    if t is not None:
        shape, dtype = t._data.shape, t._data.dtype
        producer = t.grad_fn
    kind = _LEGACY_TYPE.get(str(dtype), str(dtype).capitalize())
    k = t.output_nr if t is not None else 0
    of = f", which is output {k} of {producer.name()}," if producer is not None else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [gradwalk.{kind}Tensor {list(shape)}]{of} is at version {now_v}; expected "
        f"version {saved_v} instead. It was saved for the backward of {node.name()}. Hint: "
        "enable anomaly detection to find the operation that failed to compute its gradient, "
        "with gradwalk.autograd.set_detect_anomaly(True)."
    )


def warn_nonleaf_grad() -> None:
    """The warning of reading ``.grad`` of a tensor that is not a leaf and retains no grad."""
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead.",
        UserWarning,
        stacklevel=3,
    )
