"""Samples of the ops of in-place changes through views (``ops/inplace_views.py``).

``view_of_base`` is the node a view gets after an in-place change of its memory (PyTorch's
AsStridedBackward0): it is reached by changing a view in place and using the view.
"""

from __future__ import annotations

try:
    from .op_samples import Sample
except ImportError:  # run as a script from tests/ops
    from op_samples import Sample


def _changed_view(m, x, v):
    b = x.clone()
    w = b[1:3, 1:]
    w.mul_(v)
    return w


def _changed_view_ref(x, v):
    return x[1:3, 1:] * v


def _other_view(m, x, v):
    b = x.clone()
    w = b.t()[1:]
    b[0:2, 1:].mul_(v)  # changes w's memory too: w's node is read out of the base's new one
    return w


def _other_view_ref(x, v):
    b = x.copy()
    b[0:2, 1:] *= v
    return b.T[1:]


SAMPLES = [
    Sample("view_of_base_changed_view", "view_of_base", _changed_view, ((3, 4), (2, 3)),
           _changed_view_ref),
    Sample("view_of_base_other_view", "view_of_base", _other_view, ((3, 4), (2, 3)),
           _other_view_ref),
]
