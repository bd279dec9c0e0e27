"""Minimal pytrees for the function transforms: nested tuples, lists and dicts of leaves.

Example:
    >>> from gradwalk.func._pytree import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten({"w": 1, "b": (2, 3)})
    >>> leaves, tree_unflatten(spec, [10, 20, 30])
    ([1, 2, 3], {'w': 10, 'b': (20, 30)})
"""

from __future__ import annotations

from typing import Any

# A spec is None for a leaf, or (kind, keys-or-length, child specs).
Spec = Any


def tree_flatten(tree) -> tuple[list, Spec]:
    """The leaves of ``tree`` (left to right, dicts in insertion order) and its structure."""
    leaves: list = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    if isinstance(tree, (tuple, list)) and not hasattr(tree, "_fields"):
        return (type(tree), len(tree), tuple(_flatten(t, leaves) for t in tree))
    if isinstance(tree, dict):
        keys = tuple(tree)
        return (dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return None


def tree_unflatten(spec: Spec, leaves) -> Any:
    """Rebuild a tree of ``spec``'s structure from ``leaves``."""
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec is None:
        return next(it)
    kind, keys, children = spec
    if kind is dict:
        return {k: _build(c, it) for k, c in zip(keys, children)}
    return kind(_build(c, it) for c in children)


def num_leaves(spec: Spec) -> int:
    if spec is None:
        return 1
    return sum(num_leaves(c) for c in spec[2])


def broadcast_prefix(prefix, tree, what: str) -> list:
    """One value per leaf of ``tree``: ``prefix`` is a leaf value for a whole subtree, or a tree of
    the same structure (down to where it has leaves). ``what`` names it in errors."""
    out: list = []
    _prefix(prefix, tree, out, what)
    return out


def _prefix(prefix, tree, out, what):
    leaves, _ = tree_flatten(tree)
    if prefix is None or isinstance(prefix, int):
        out.extend([prefix] * len(leaves))
        return
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(prefix) != len(tree):
            raise ValueError(f"{what}: expected {len(tree)} entries to match the structure, got "
                             f"{len(prefix)} ({prefix!r})")
        for p, t in zip(prefix, tree):
            _prefix(p, t, out, what)
        return
    if isinstance(prefix, dict) and isinstance(tree, dict):
        if set(prefix) != set(tree):
            raise ValueError(f"{what}: the dict keys {sorted(prefix)} do not match the input's "
                             f"keys {sorted(tree)}")
        for k in tree:
            _prefix(prefix[k], tree[k], out, what)
        return
    raise ValueError(f"{what}: {prefix!r} does not match the structure of the input "
                     f"({type(tree).__name__}); use an int, None, or a matching tuple/dict")
