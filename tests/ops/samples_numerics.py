"""Op samples of the ops the numerics fixes added (``fmod``, the fused ``silu``/``mish``/
``hardswish``): finite differences, double backward, jvp and torch parity (``op_samples.py``
picks this file up)."""

from __future__ import annotations

import numpy as np

try:
    from .op_samples import Joint, Sample, normal
except ImportError:  # run as a top-level module (the table's own runner)
    from op_samples import Joint, Sample, normal  # type: ignore[no-redef]


def _fmod_domain(rng, shapes):
    # a / b = q with |q| at least 0.1 from an integer, divisors of both signs: fmod is smooth
    b = rng.uniform(0.7, 2.0, shapes[1]) * rng.choice([-1.0, 1.0], shapes[1])
    q = rng.integers(-3, 3, shapes[0]) + rng.uniform(0.1, 0.9, shapes[0])
    return [q * b, b]


def _away_from_kinks(rng, shapes):
    # hardswish's kinks are at -3 and 3: keep the samples off them
    x = rng.uniform(-5.0, 5.0, shapes[0])
    return [np.where(np.abs(np.abs(x) - 3.0) < 0.2, x + 0.5, x)]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


SAMPLES = [
    Sample("fmod", "fmod", lambda m, a, b: m.fmod(a, b), ((3, 4), (3, 4)), np.fmod,
           Joint(_fmod_domain)),
    Sample("fmod_broadcast", "fmod", lambda m, a, b: a.fmod(b), ((3, 4), (4,)), np.fmod,
           Joint(_fmod_domain)),
    Sample("silu", "silu", lambda m, a: m.nn.functional.silu(a), ((3, 4),),
           lambda a: a * _sigmoid(a), normal),
    Sample("mish", "mish", lambda m, a: m.nn.functional.mish(a), ((3, 4),),
           lambda a: a * np.tanh(np.log1p(np.exp(a))), normal),
    Sample("hardswish", "hardswish", lambda m, a: m.nn.functional.hardswish(a), ((3, 4),),
           lambda a: a * np.clip(a + 3.0, 0.0, 6.0) / 6.0, Joint(_away_from_kinks)),
]
