"""Utilities beside the tensor API: ``gradwalk.utils.checkpoint`` (import it explicitly, as with
``torch.utils.checkpoint``)."""
