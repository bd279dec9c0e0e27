"""Samples of the special-function ops (``gradwalk/ops/special_*.py``) and of the FFT ops.

The NumPy references are mpmath's arbitrary-precision functions (mpmath comes with sympy, a test
dependency), evaluated elementwise and rounded to float64.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

try:
    from .op_samples import Sample, nonzero, normal, positive, unit
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    from op_samples import Sample, nonzero, normal, positive, unit


def _mp(fn):
    """An elementwise float64 reference from an mpmath function of floats."""
    def ref(*xs):
        xs = np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in xs])
        out = np.empty(xs[0].shape)
        for idx in np.ndindex(out.shape):
            out[idx] = float(fn(*[mp.mpf(float(x[idx])) for x in xs]))
        return out

    return ref


def _spaced(lo, hi):
    def domain(rng, shape):
        return rng.uniform(lo, hi, shape)

    domain.__name__ = f"uniform_{lo}_{hi}"
    return domain


def _negative_noninteger(rng, shape):
    """Values in (-3, 0) at least 0.2 away from the integers (the poles of the gamma family)."""
    return -rng.integers(0, 3, shape) - rng.uniform(0.2, 0.8, shape)


mp.mp.dps = 30
_lgamma = _mp(lambda x: mp.log(abs(mp.gamma(x))))
_i0 = _mp(lambda x: mp.besseli(0, x))
_i1 = _mp(lambda x: mp.besseli(1, x))

S = Sample


def _sp(name, fn, ref, domain=normal, shape=(3, 4), op=None, **kw):
    return S(name, op or f"special_{fn}", lambda m, x: getattr(m.special, fn)(x), (shape,), ref,
             domain, **kw)


SAMPLES = [
    _sp("special_gammaln", "gammaln", _lgamma, positive, op="special_lgamma"),
    S("lgamma_negative", "special_lgamma", lambda m, x: m.lgamma(x), ((5,),), _lgamma,
      _negative_noninteger),
    S("lgamma_0d", "special_lgamma", lambda m, x: x.lgamma(), ((),), _lgamma, positive),
    _sp("special_digamma", "digamma", _mp(mp.digamma), positive),
    S("digamma_negative", "special_digamma", lambda m, x: m.digamma(x), ((5,),),
      _mp(mp.digamma), _negative_noninteger),
    S("special_polygamma_2", "special_polygamma", lambda m, x: m.special.polygamma(2, x),
      ((3, 4),), _mp(lambda x: mp.polygamma(2, x)), positive),
    S("polygamma_1_method", "special_polygamma", lambda m, x: x.polygamma(1), ((4,),),
      _mp(lambda x: mp.polygamma(1, x)), positive),
    S("special_multigammaln", "special_mvlgamma", lambda m, x: m.special.multigammaln(x, 3),
      ((3, 2),), _mp(lambda x: 1.5 * mp.log(mp.pi) + sum(mp.loggamma(x - j / 2.0)
                                                        for j in range(3))),
      _spaced(1.5, 4.0)),
    _sp("special_erfc", "erfc", _mp(mp.erfc)),
    _sp("special_erfcx", "erfcx", _mp(lambda x: mp.exp(x * x) * mp.erfc(x))),
    _sp("special_erfinv", "erfinv", _mp(mp.erfinv), unit),
    _sp("special_ndtr", "ndtr", _mp(mp.ncdf)),
    _sp("special_ndtri", "ndtri", _mp(lambda p: mp.sqrt(2) * mp.erfinv(2 * p - 1)),
        _spaced(0.05, 0.95)),
    _sp("special_log_ndtr", "log_ndtr", _mp(lambda x: mp.log(mp.ncdf(x))),
        _spaced(-12.0, 4.0)),
    _sp("special_entr", "entr", lambda x: -x * np.log(x), positive),
    _sp("special_sinc", "sinc", lambda x: np.sinc(x), nonzero),
    _sp("special_exp2", "exp2", np.exp2),
    _sp("special_logit", "logit", lambda x: np.log(x / (1 - x)), _spaced(0.1, 0.9)),
    S("special_logit_eps", "special_logit", lambda m, x: m.special.logit(x, eps=0.05),
      ((3, 4),), lambda x: np.log(x / (1 - x)), _spaced(0.1, 0.9)),
    S("special_xlogy", "special_xlogy", lambda m, a, b: m.special.xlogy(a, b), ((3, 1), (4,)),
      lambda a, b: a * np.log(b), (normal, positive)),
    S("special_xlogy_scalar", "special_xlogy", lambda m, b: m.special.xlogy(2.0, b), ((4,),),
      lambda b: 2.0 * np.log(b), positive),
    S("special_xlog1py", "special_xlog1py", lambda m, a, b: m.special.xlog1py(a, b),
      ((2, 3), (2, 3)), lambda a, b: a * np.log1p(b), (normal, positive)),
    _sp("special_i0", "i0", _i0),
    _sp("special_i0e", "i0e", _mp(lambda x: mp.exp(-abs(x)) * mp.besseli(0, x)), nonzero),
    _sp("special_i1", "i1", _i1),
    _sp("special_i1e", "i1e", _mp(lambda x: mp.exp(-abs(x)) * mp.besseli(1, x)), nonzero),
]



# ---- the real-valued FFTs (gradwalk/ops/fft.py)

_X_FFT = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def _irfft_matrix(m: int, n: int) -> np.ndarray:
    """The (m, n) matrix of ``irfft(., n)`` on real one-sided spectra of length m."""
    return np.stack([np.fft.irfft(np.eye(m)[k], n=n) for k in range(m)])


def _irfft_grad(m, v):
    x = m.tensor(_X_FFT, requires_grad=True)
    return m.autograd.grad(m.fft.irfft(x, n=6), x, v, create_graph=True)[0]


SAMPLES += [
    S("fft_irfft_n", "fft_c2r", lambda m, x: m.fft.irfft(x, n=5), ((3, 4),),
      lambda x: np.fft.irfft(x, n=5)),
    S("fft_irfft_dim0_ortho", "fft_c2r", lambda m, x: m.fft.irfft(x, dim=0, norm="ortho"),
      ((3, 4),), lambda x: np.fft.irfft(x, axis=0, norm="ortho")),
    S("fft_irfftn_s", "fft_c2r", lambda m, x: m.fft.irfftn(x, s=(4, 6), norm="forward"),
      ((3, 4),), lambda x: np.fft.irfftn(x, s=(4, 6), axes=(0, 1), norm="forward")),
    S("fft_irfft2_trim", "fft_c2r", lambda m, x: m.fft.irfft2(x, s=(2, 3)), ((2, 3, 4),),
      lambda x: np.fft.irfft2(x, s=(2, 3))),
    S("fft_hfft", "fft_c2r", lambda m, x: m.fft.hfft(x), ((2, 5),), lambda x: np.fft.hfft(x)),
    S("fft_c2r_backward_via_irfft_grad", "fft_c2r_backward", _irfft_grad, ((3, 6),),
      lambda v: v @ _irfft_matrix(4, 6).T),
    S("fft_fftshift", "fft_shift", lambda m, x: m.fft.fftshift(x), ((3, 4),),
      lambda x: np.fft.fftshift(x)),
    S("fft_ifftshift_dim", "fft_shift", lambda m, x: m.fft.ifftshift(x, dim=1), ((3, 5),),
      lambda x: np.fft.ifftshift(x, axes=1)),
]

_ = math
