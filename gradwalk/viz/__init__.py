"""Pictures of the recorded graph: ``draw`` (the graph behind tensors), ``Picture`` (what it
returns: DOT text, SVG, PNG, inline in Jupyter) and ``record_modules`` (group by module).

Example:
    >>> import gradwalk
    >>> from gradwalk import viz
    >>> x = gradwalk.tensor(3.0, requires_grad=True, name="x")
    >>> pic = viz.draw(x ** 2 + 2 * x + 1)
    >>> pic.source.startswith("digraph")
    True
"""

from __future__ import annotations

from .graph import draw
from .modules import record, record_modules
from .picture import Arrow, Box, Picture

__all__ = ["draw", "record", "record_modules", "Picture", "Box", "Arrow"]
