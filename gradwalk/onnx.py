"""``gradwalk.onnx``: present so that imports succeed; exporting is not supported.

gradwalk records its graph on the fly and keeps no static program to export. Use PyTorch to
export a model trained here: its ``state_dict()`` loads into the same PyTorch module.

Example:
    >>> import gradwalk
    >>> try:
    ...     gradwalk.onnx.export(None, None, "model.onnx")
    ... except NotImplementedError as e:
    ...     print(str(e).split(";")[0])
    gradwalk.onnx.export() is not supported
"""

from __future__ import annotations

from typing import Any


def export(*args: Any, **kwargs: Any) -> None:
    """Not supported: raises with the way to export through PyTorch."""
    raise NotImplementedError(
        "gradwalk.onnx.export() is not supported; save the weights with "
        "gradwalk.save(model.state_dict(), path), load them into the same PyTorch module and "
        "export with torch.onnx.export")


__all__ = ["export"]
