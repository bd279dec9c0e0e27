"""Samples of the mathops domains: ``ops/pointwise_more.py``, ``ops/scans.py``, ``ops/sorting.py``
(the declared ops; the composites are reached through their own tests and the OpInfo table)."""

from __future__ import annotations

import numpy as np

try:
    from .op_samples import Sample, distinct, nonzero, normal, positive, unit
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    from op_samples import Sample, distinct, nonzero, normal, positive, unit

S = Sample


def above_one(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values in [1.5, 3] (acosh)."""
    return rng.uniform(1.5, 3.0, shape)


def fractional_pos(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Values at least 0.1 away from integers (frac)."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)


def with_zeros(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Normal values with about a third set to exactly 0 (cumprod's exact rule at zeros)."""
    x = rng.standard_normal(shape)
    return np.where(rng.uniform(size=shape) < 0.35, 0.0, x)


def _un(op, ref, domain=normal, shape=(3, 4), name=None, **kw):
    return S(name or op, op, lambda m, x: getattr(m, op)(x), (shape,), ref, domain, **kw)


def _sinc(x):
    return np.sinc(x)


def _xlogy(a, b):
    return np.where(a == 0, 0.0, a * np.log(b))


def _lcse(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


def _lower_median(x):
    s = np.sort(x.reshape(-1))
    return s[(s.size - 1) // 2]


SAMPLES = [
    _un("acosh", np.arccosh, above_one),
    _un("asinh", np.arcsinh),
    _un("atanh", np.arctanh, unit),
    _un("exp2", np.exp2),
    _un("deg2rad", np.deg2rad),
    _un("rad2deg", np.rad2deg),
    _un("frac", lambda x: x - np.trunc(x), fractional_pos),
    _un("sgn", np.sign, nonzero),
    _un("sinc", _sinc),
    S("sinc_at_zero", "sinc", lambda m, x: m.sinc(x * m.tensor([1.0, 0.0, 1.0])), ((3,),),
      lambda x: np.sinc(x * np.array([1.0, 0.0, 1.0])), double=False,
      note="second order at 0: torch's is NaN (0 times its masked 0/0), gradwalk's where-safe "
           "gradients give the chain rule's 0 (docs/architecture.md, structural zeros)"),
    S("nan_to_num", "nan_to_num", lambda m, x: m.nan_to_num(x, posinf=1.0), ((3, 4),),
      lambda x: x),
    S("atan2", "atan2", lambda m, a, b: m.atan2(a, b), ((3, 4), (4,)), np.arctan2),
    S("hypot", "hypot", lambda m, a, b: m.hypot(a, b), ((3, 1), (4,)), np.hypot),
    S("copysign", "copysign", lambda m, a, b: m.copysign(a, b), ((3, 4), (3, 4)), np.copysign,
      (nonzero, nonzero)),
    S("logaddexp", "logaddexp", lambda m, a, b: m.logaddexp(a, b), ((3, 4), (4,)),
      np.logaddexp),
    S("logaddexp2", "logaddexp2", lambda m, a, b: m.logaddexp2(a, b), ((3, 4), (3, 4)),
      np.logaddexp2),
    S("xlogy", "xlogy", lambda m, a, b: m.xlogy(a, b), ((3, 4), (4,)), _xlogy,
      (normal, positive)),
    S("nextafter", "nextafter", lambda m, a, b: m.nextafter(a, b), ((3, 4), (3, 4)),
      np.nextafter),
    S("fmax", "fmax", lambda m, a, b: m.fmax(a, b), ((3, 4), (4,)), np.fmax),
    S("fmin", "fmin", lambda m, a, b: m.fmin(a, b), ((3, 4), (3, 1)), np.fmin),
    S("cumprod", "cumprod", lambda m, x: m.cumprod(x, 1), ((3, 4),),
      lambda x: np.cumprod(x, axis=1)),
    S("cumprod_zeros", "cumprod", lambda m, x: m.cumprod(x, 0), ((5, 3),),
      lambda x: np.cumprod(x, axis=0), with_zeros),
    S("logcumsumexp", "logcumsumexp", lambda m, x: m.logcumsumexp(x, -1), ((3, 4),),
      lambda x: _lcse(x, -1)),
    S("logcumsumexp_dim0", "logcumsumexp", lambda m, x: m.logcumsumexp(x, 0), ((4, 2),),
      lambda x: _lcse(x, 0)),
    S("median_all", "median", lambda m, x: m.median(x), ((3, 4),), _lower_median, distinct),
    S("nanmedian_all", "median", lambda m, x: m.nanmedian(x), ((5,),), _lower_median,
      distinct),
]

