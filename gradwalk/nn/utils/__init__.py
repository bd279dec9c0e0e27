"""``gradwalk.nn.utils``: helpers around training (gradient clipping, parametrizations, weight
and spectral normalization, packed sequences, parameters as one vector).

Example:
    >>> import gradwalk
    >>> w = gradwalk.ones(4, requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> float(gradwalk.nn.utils.clip_grad_norm_([w], max_norm=1.0))
    6.0
"""

from . import parametrizations, parametrize, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parametrizations", "parametrize",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
           "parameters_to_vector", "vector_to_parameters", "rnn"]
