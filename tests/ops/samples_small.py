"""Samples of the ops that make small steps cheap: ``tanh_backward`` (tanh's rule as one node
under ``create_graph``, Note [tanh's double backward] in ``gradwalk/ops/unary.py``), reached
through the gradient of ``tanh`` taken with ``create_graph=True``.
"""

from __future__ import annotations

import numpy as np

try:
    from .op_samples import Sample
except ImportError:  # run as a script from tests/ops
    from op_samples import Sample


def _tanh_grad(m, x, g):
    # the forward-only checks pass inputs that require no grad: differentiate a leaf copy then
    x = x if x.requires_grad else x.detach().requires_grad_()
    return m.autograd.grad(m.tanh(x), x, g, create_graph=True)[0]


def _tanh_grad_ref(x, g):
    return g * (1.0 - np.tanh(x) ** 2)


SAMPLES = [
    Sample("tanh_backward_via_tanh_grad", "tanh_backward", _tanh_grad, ((3, 4), (3, 4)),
           _tanh_grad_ref),
]
