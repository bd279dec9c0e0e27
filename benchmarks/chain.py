"""The elementwise chain workload, shared by ``bench_overhead.py`` and ``bench_deep.py``.

``x * 1.0001``, ``x + 0.001``, ``sin``, ``tanh``, repeated (the ``chain_*`` workloads of the
cross-engine benchmark harness), in a PyTorch-like engine and in plain NumPy with a hand-written
tape and backward. This module imports numpy only: the engine module is passed in.

Example:
    >>> import gradwalk
    >>> g = TensorChain(gradwalk, np.array(0.5), 8).fwdbwd()
    >>> bool(np.allclose(g, NumpyChain(np.array(0.5), 8).fwdbwd()))
    True
"""

from __future__ import annotations

import numpy as np

MUL, ADD = 1.0001, 0.001


def codes(n: int) -> list[int]:
    """Op codes of the chain: 0 ``x*1.0001``, 1 ``x+0.001``, 2 ``sin``, 3 ``tanh``.

    Example:
        >>> codes(6)
        [0, 1, 2, 3, 0, 1]
    """
    return [i & 3 for i in range(n)]


def _run_tensor_chain(x, ops: list[int], reduce: bool):
    """The chain with Tensor methods: the same code serves gradwalk and PyTorch."""
    for k in ops:
        if k == 0:
            x = x * MUL
        elif k == 1:
            x = x + ADD
        elif k == 2:
            x = x.sin()
        else:
            x = x.tanh()
    return x.sum() if reduce else x


class TensorChain:
    """The chain in a PyTorch-like engine (``mod`` is ``gradwalk`` or ``torch``).

    Example:
        >>> import gradwalk
        >>> g = TensorChain(gradwalk, np.array(0.5), 8).fwdbwd()
        >>> bool(np.allclose(g, NumpyChain(np.array(0.5), 8).fwdbwd()))
        True
    """

    def __init__(self, mod, x0: np.ndarray, n: int) -> None:
        self.mod, self.x0, self.ops = mod, x0, codes(n)
        self.reduce = x0.ndim > 0
        self.x_const = mod.tensor(x0, dtype=mod.float64)

    def nograd(self):
        """Forward without recording a graph."""
        with self.mod.no_grad():
            return _run_tensor_chain(self.x_const, self.ops, self.reduce)

    def fwd(self):
        """Forward recording the graph; returns ``(leaf, output)`` for :meth:`bwd`."""
        x = self.mod.tensor(self.x0, dtype=self.mod.float64, requires_grad=True)
        return x, _run_tensor_chain(x, self.ops, self.reduce)

    def bwd(self, handle) -> np.ndarray:
        """Backward from :meth:`fwd`'s output; the gradient of the leaf as an array."""
        x, y = handle
        y.backward()
        return x.grad.numpy()

    def fwdbwd(self) -> np.ndarray:
        """Forward and backward; the gradient of the input."""
        return self.bwd(self.fwd())


class NumpyChain:
    """The chain in plain NumPy, with a hand-written tape and backward (the floor).

    Example:
        >>> c = NumpyChain(np.array(0.5), 1)  # x * 1.0001
        >>> float(c.fwdbwd())
        1.0001
    """

    def __init__(self, x0: np.ndarray, n: int) -> None:
        self.x0, self.ops = x0, codes(n)
        self.reduce = x0.ndim > 0

    def nograd(self):
        """Forward in plain NumPy, nothing saved."""
        x = self.x0
        for k in self.ops:
            if k == 0:
                x = x * MUL
            elif k == 1:
                x = x + ADD
            elif k == 2:
                x = np.sin(x)
            else:
                x = np.tanh(x)
        return x.sum() if self.reduce else x

    def fwd(self):
        """Forward keeping a tape of what backward needs; returns ``(tape, last, output)``."""
        x = self.x0
        tape = []
        for k in self.ops:
            if k == 0:
                x = x * MUL
                tape.append(None)
            elif k == 1:
                x = x + ADD
                tape.append(None)
            elif k == 2:
                tape.append(x)  # sin saves its input: d sin(x) = cos(x)
                x = np.sin(x)
            else:
                x = np.tanh(x)
                tape.append(x)  # tanh saves its output: d tanh = 1 - y^2
        return tape, x, (x.sum() if self.reduce else x)

    def bwd(self, handle) -> np.ndarray:
        """Backward by hand along the tape; the gradient of the input."""
        tape, x, _ = handle
        g = np.ones_like(x)
        for i in range(len(self.ops) - 1, -1, -1):
            k = self.ops[i]
            if k == 0:
                g = g * MUL
            elif k == 2:
                g = g * np.cos(tape[i])
            elif k == 3:
                s = tape[i]
                g = g * (1.0 - s * s)
        return np.asarray(g)

    def fwdbwd(self) -> np.ndarray:
        """Forward and backward; the gradient of the input."""
        return self.bwd(self.fwd())
