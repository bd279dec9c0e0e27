"""Utilities beside the tensor API: ``gradwalk.utils.checkpoint`` (import it explicitly, as with
``torch.utils.checkpoint``)."""

from . import checkpoint, data  # noqa: F401
