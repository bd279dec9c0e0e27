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

import re

#: The narrowest a column gets when the table is shrunk to fit (by header; others: 8).
FLOOR = {"node": 14, "grad in": 10, "input": 12, "rule": 14, "with": 10, "sends": 10, "to": 12}


# where a cell may break: after a space, and after a "." that starts a name (model.|weight)
_BREAK = re.compile(r"(?<= )|(?<=\.)(?=[A-Za-z_])")


def wrap(text: str, width: int) -> list:
    """``text`` in lines of at most ``width`` characters, broken at spaces and between the
    parts of a dotted name where possible, inside a word only when it is longer than a line."""
    if len(text) <= width:
        return [text]
    lines: list = []
    line = ""
    for chunk in _BREAK.split(text):
        if len(line) + len(chunk.rstrip()) <= width:
            line += chunk
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = chunk
        while len(line.rstrip()) > width:  # a word longer than a line
            lines.append(line[:width])
            line = line[width:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def longest_word(text: str) -> int:
    """The widest unbreakable piece of ``text`` (see ``wrap``).

    Example:
        >>> longest_word("step 4 model.2.weight.grad"), longest_word("[[0.1, 2]]")
        (8, 6)
    """
    return max((len(c.rstrip()) for c in _BREAK.split(text)), default=0)


def fit(widths: list, head, width: int, words: list | None = None) -> list:
    """Shrink the widest columns until the row (with two spaces between cells) fits.

    A column keeps at least its widest unbreakable piece (``words``, at most 16), else the
    floor of ``FLOOR``, else its header, whichever first lets the row fit.
    """
    widths = list(widths)
    gaps = 2 * (len(widths) - 1)
    tries = []
    if words is not None:
        tries.append([min(w, max(len(h), min(wd, 16))) for w, h, wd in zip(widths, head, words)])
    tries.append([min(w, max(len(h), FLOOR.get(h, 8))) for w, h in zip(widths, head)])
    tries.append([min(w, max(len(h), 4)) for w, h in zip(widths, head)])
    floor = tries[-1]
    for t in tries:
        t[0] = widths[0]
        if sum(t) + gaps <= width:
            floor = t
            break
    while sum(widths) + gaps > width:
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
