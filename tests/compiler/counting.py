"""A spy for the compiler tests: which ops reach a method of the trace (its general path)."""

from __future__ import annotations


def count_calls(monkeypatch, cls, name: str) -> list:
    """Patch ``cls.name`` (a method taking ``(op, inputs, params, kind)``) to append each op's
    name to the returned list, then call the real method."""
    seen: list = []
    real = getattr(cls, name)

    def spy(self, op, inputs, params, kind):
        seen.append(op.name)
        return real(self, op, inputs, params, kind)

    monkeypatch.setattr(cls, name, spy)
    return seen
