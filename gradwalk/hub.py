"""``gradwalk.hub``: present so that imports succeed; downloading is not supported.

``torch.hub`` fetches PyTorch code and pickled checkpoints from the internet; gradwalk loads
neither (its ``load`` reads safe archives only). Load the model with PyTorch, save its
``state_dict()`` and load that into the same gradwalk module.

Example:
    >>> import gradwalk
    >>> try:
    ...     gradwalk.hub.load("pytorch/vision", "resnet18")
    ... except NotImplementedError as e:
    ...     print(str(e).split(":")[0])
    gradwalk.hub.load() is not supported
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["load", "list", "help", "load_state_dict_from_url", "download_url_to_file",
           "get_dir", "set_dir"]


def _not_supported(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"gradwalk.hub.{name}() is not supported: gradwalk downloads no code or "
            "checkpoints. Load the model with torch.hub, save model.state_dict() with "
            "torch.save, and load it with gradwalk.load(path) into the same gradwalk module")
    refuse.__name__ = name
    refuse.__doc__ = "Not supported: raises ``NotImplementedError`` (see the module docstring)."
    return refuse


load = _not_supported("load")
list = _not_supported("list")  # torch.hub's name
help = _not_supported("help")  # torch.hub's name
load_state_dict_from_url = _not_supported("load_state_dict_from_url")
download_url_to_file = _not_supported("download_url_to_file")
get_dir = _not_supported("get_dir")
set_dir = _not_supported("set_dir")
