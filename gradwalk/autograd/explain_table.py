"""Laying out the walk's table: columns that fit a width, cells that wrap.

Example:
    >>> from gradwalk.autograd.explain_table import fit, row_lines
    >>> widths = fit([4, 30, 30], ("step", "rule", "to"), 40)
    >>> sum(widths) + 4 <= 40
    True
    >>> [line.rstrip() for line in row_lines(("1", "grad * w", "step 2 x.grad"), [4, 8, 8])]
    ['   1  grad * w  step 2', '                x.grad']
"""

from __future__ import annotations

import textwrap

#: The narrowest a column gets when the table is shrunk to fit (by header; others: 8).
FLOOR = {"node": 14, "grad in": 10, "input": 12, "rule": 14, "with": 10, "sends": 10, "to": 12}


def wrap(text: str, width: int) -> list:
    """``text`` in lines of at most ``width`` characters, broken at spaces where possible."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def fit(widths: list, head, width: int) -> list:
    """Shrink the widest columns until the row (with two spaces between cells) fits."""
    widths = list(widths)
    floor = [min(w, max(len(h), FLOOR.get(h, 8))) for w, h in zip(widths, head)]
    floor[0] = widths[0]
    if sum(floor) + 2 * (len(widths) - 1) > width:  # a narrow table: headers are the floor
        floor = [min(w, max(len(h), 4)) for w, h in zip(widths, head)]
        floor[0] = widths[0]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        k = max(range(len(widths)), key=lambda j: widths[j] - floor[j])
        if widths[k] <= floor[k]:
            break
        widths[k] -= 1
    return widths


def row_lines(cells, widths) -> list:
    """One table row, its cells wrapped to the column widths (several lines if needed)."""
    parts = [wrap(c, w) for c, w in zip(cells, widths)]
    height = max(len(p) for p in parts)
    return [row(tuple(p[k] if k < len(p) else "" for p in parts), widths)
            for k in range(height)]


def row(cells, widths) -> str:
    """Cells padded to their widths (the first right-aligned), two spaces apart."""
    return "  ".join(c.rjust(w) if k == 0 else c.ljust(w)
                     for k, (c, w) in enumerate(zip(cells, widths)))
