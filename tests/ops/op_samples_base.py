"""The ground the op-sample tables stand on: the input domains and the ``Sample`` type.

``op_samples.py`` (the entry point: the table ``SAMPLES``), ``op_samples_nn.py`` and the domain
files ``samples_<domain>.py`` write their samples with what lives here; they import it through
``op_samples``, which re-exports every name. This module imports none of them, so each table
module can be imported on its own.

Also here: the few helpers more than one table uses (``_erf``, ``_t``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------
# input domains: each draws one float64 array of a shape


def normal(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Standard normal values."""
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values in [0.5, 2] (log, sqrt, division by it)."""
    return rng.uniform(0.5, 2.0, shape)


def unit(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values with |x| < 0.9 (asin, acos)."""
    return rng.uniform(-0.9, 0.9, shape)


def nonzero(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values with 0.2 <= |x| <= 2, away from the kink at 0 (abs, relu, sign)."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def fractional(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values at least 0.1 away from integers and half-integers (floor, round)."""
    frac = rng.choice([0.1, 0.6], shape) + rng.uniform(0.0, 0.3, shape)
    return rng.integers(-3, 3, shape) + frac


def ties(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Small integers: many exact zeros and tied values (subgradient conventions)."""
    return rng.integers(-2, 3, shape).astype(np.float64)


def distinct(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values pairwise at least 0.2 apart, so maxima have no ties (max, amax, norm inf)."""
    n = int(np.prod(shape))
    v = (rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05, n)
    return v.reshape(shape)


# ---------------------------------------------------------------------------------------------
# the sample type


@dataclass(frozen=True)
class Sample:
    """One way of calling an op, with its inputs, NumPy reference and PyTorch counterpart.

    Fields:
        name        unique test id
        op          the registry op this sample exercises (its node is the one checked)
        call        ``call(m, *tensors)`` with ``m`` gradwalk (or torch)
        shapes      the float64 input shapes
        ref         NumPy forward reference on the input arrays, or None
        domain      one domain for every input, a tuple of one per input, or a ``Joint``
        torch       True: ``call`` runs with torch too; a callable: the torch version;
                    False: PyTorch has no counterpart
        double      check double backward (False only with a reason in ``note``)
        rtol, atol  tolerances against finite differences
        eps         finite-difference step
        jvp_forward the op's forward for the finite differences of its jvp when ``op.forward``
                    is not the op's mathematical function (copy_slices writes through a view)
        tangent_space  ``f(k, t)``: the tangent ``t`` of the op's input ``k`` moved into the
                    tangent space of the op's domain (symmetric matrices for ``cholesky``),
                    for ops defined only there
        smooth      False for inputs on a kink or a tie (``relu`` at 0, tied maxima): finite
                    differences do not apply there, but PyTorch's choice of subgradient does
    """

    name: str
    op: str
    call: Callable[..., Any]
    shapes: tuple
    ref: Callable[..., np.ndarray] | None
    domain: Any = normal
    torch: Any = True
    double: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    eps: float = 1e-6
    jvp_forward: Callable[..., Any] | None = None
    tangent_space: Callable[..., Any] | None = None
    smooth: bool = True
    note: str = ""

    def inputs(self) -> list[np.ndarray]:
        """The sample's float64 inputs, the same on every call (seeded by the name)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        if isinstance(self.domain, Joint):
            xs = self.domain.draw(rng, self.shapes)
        elif isinstance(self.domain, tuple):
            xs = [d(rng, s) for d, s in zip(self.domain, self.shapes, strict=True)]
        else:
            xs = [self.domain(rng, s) for s in self.shapes]
        return [np.asarray(x, dtype=np.float64) for x in xs]

    def torch_call(self) -> Callable[..., Any] | None:
        """The PyTorch version of ``call`` (``call`` itself unless overridden), or None."""
        if self.torch is True:
            return self.call
        return self.torch or None


@dataclass(frozen=True)
class Joint:
    """A domain that draws all inputs of a sample together (``draw(rng, shapes) -> list``)."""

    draw: Callable[..., list]


# ---------------------------------------------------------------------------------------------
# helpers more than one table uses

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _t(m, a):
    return m.tensor(a)
