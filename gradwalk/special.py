"""``gradwalk.special``: PyTorch's ``torch.special`` namespace, on NumPy alone.

The functions are ops declared by domain in ``gradwalk/ops/special_gamma.py`` (the gamma
family), ``special_erf.py`` (the error functions and the small ones), ``special_bessel.py``
(Bessel and Airy functions) and ``special_poly.py`` (orthogonal polynomials). The ones PyTorch
differentiates are differentiable here with PyTorch's rules, in reverse and forward mode and to
any order; the others (Bessel functions of the first and second kind, ``modified_bessel_*``,
``airy_ai``, the polynomials, ``zeta``, ``gammainc``) are forward only, as in PyTorch.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor([0.5, 2.0], requires_grad=True)
    >>> y = gradwalk.special.gammaln(x).sum()
    >>> y.backward()
    >>> x.grad  # digamma
    tensor([-1.9635,  0.4228])
"""

from __future__ import annotations

from .ops import elementwise as _elementwise
from .ops import nn as _nn
from .ops import reductions as _reductions
from .ops import special_bessel as _bessel
from .ops import special_erf as _erf
from .ops import special_gamma as _gamma
from .ops import special_poly as _poly
from .ops.surface import inplace_method as _inplace_method
from .ops.unary import expm1, log1p, sigmoid
from .ops.unary import round as _round
from .tensor import Tensor

erf = _elementwise.erf
erfc = _erf.erfc
erfcx = _erf.erfcx
erfinv = _erf.erfinv
ndtr = _erf.ndtr
ndtri = _erf.ndtri
log_ndtr = _erf.log_ndtr
entr = _erf.entr
sinc = _erf.sinc
exp2 = _erf.exp2
logit = _erf.logit
xlogy = _erf.xlogy
xlog1py = _erf.xlog1py
expit = sigmoid

gammaln = _gamma.lgamma
digamma = psi = _gamma.digamma
polygamma = _gamma.polygamma
zeta = _gamma.zeta
gammainc = _gamma.igamma
gammaincc = _gamma.igammac

i0 = _bessel.i0
i0e = _bessel.i0e
i1 = _bessel.i1
i1e = _bessel.i1e
bessel_j1 = _bessel.FUNCTIONS["bessel_j1"]
bessel_y0 = _bessel.FUNCTIONS["bessel_y0"]
modified_bessel_i0 = _bessel.FUNCTIONS["modified_bessel_i0"]
modified_bessel_i1 = _bessel.FUNCTIONS["modified_bessel_i1"]
modified_bessel_k0 = _bessel.FUNCTIONS["modified_bessel_k0"]
modified_bessel_k1 = _bessel.FUNCTIONS["modified_bessel_k1"]
scaled_modified_bessel_k0 = _bessel.FUNCTIONS["scaled_modified_bessel_k0"]
scaled_modified_bessel_k1 = _bessel.FUNCTIONS["scaled_modified_bessel_k1"]
spherical_bessel_j0 = _bessel.FUNCTIONS["spherical_bessel_j0"]
airy_ai = _bessel.FUNCTIONS["airy_ai"]

chebyshev_polynomial_t = _poly.FUNCTIONS["chebyshev_polynomial_t"]
chebyshev_polynomial_u = _poly.FUNCTIONS["chebyshev_polynomial_u"]
chebyshev_polynomial_v = _poly.FUNCTIONS["chebyshev_polynomial_v"]
chebyshev_polynomial_w = _poly.FUNCTIONS["chebyshev_polynomial_w"]
shifted_chebyshev_polynomial_t = _poly.FUNCTIONS["shifted_chebyshev_polynomial_t"]
shifted_chebyshev_polynomial_u = _poly.FUNCTIONS["shifted_chebyshev_polynomial_u"]
shifted_chebyshev_polynomial_v = _poly.FUNCTIONS["shifted_chebyshev_polynomial_v"]
shifted_chebyshev_polynomial_w = _poly.FUNCTIONS["shifted_chebyshev_polynomial_w"]
hermite_polynomial_h = _poly.FUNCTIONS["hermite_polynomial_h"]
hermite_polynomial_he = _poly.FUNCTIONS["hermite_polynomial_he"]
laguerre_polynomial_l = _poly.FUNCTIONS["laguerre_polynomial_l"]
legendre_polynomial_p = _poly.FUNCTIONS["legendre_polynomial_p"]

__all__ = [
    "airy_ai", "bessel_j1", "bessel_y0", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
    "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e",
    "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax",
    "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py",
    "xlogy", "zeta",
]


def multigammaln(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p`` (``gradwalk.mvlgamma``).

    Example:
        >>> import gradwalk
        >>> gradwalk.special.multigammaln(gradwalk.tensor([2.5]), 2)
        tensor([0.8570])
    """
    return _gamma.mvlgamma(input, p)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``gradwalk.softmax`` under its ``torch.special`` name.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.softmax(gradwalk.tensor([0.0, 0.0]), 0)
        tensor([0.5000, 0.5000])
    """
    return _nn.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``gradwalk.log_softmax`` under its ``torch.special`` name.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.log_softmax(gradwalk.tensor([0.0, 0.0]), 0)
        tensor([-0.6931, -0.6931])
    """
    return _nn.log_softmax(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``gradwalk.logsumexp`` under its ``torch.special`` name.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.logsumexp(gradwalk.tensor([0.0, 0.0]), 0)
        tensor(0.6931)
    """
    return _reductions.logsumexp(input, dim, keepdim)


def round(input: Tensor, decimals: int = 0) -> Tensor:
    """Round half to even, to ``decimals`` decimal places (its gradient is zero).

    Example:
        >>> import gradwalk
        >>> gradwalk.special.round(gradwalk.tensor([1.2345, 2.5]), decimals=2)
        tensor([1.2300, 2.5000])
    """
    if not decimals:
        return _round(input)
    if decimals > 0:
        scale = 10.0 ** decimals
        return _round(input * scale) / scale
    scale = 10.0 ** (-decimals)
    return _round(input / scale) * scale


# ---- Tensor methods and gradwalk's top-level names (PyTorch has them on both)

def _method_swapped(fn):
    """``x.polygamma(n)`` calls ``polygamma(n, x)``."""
    def method(self: Tensor, n: int) -> Tensor:
        return fn(n, self)

    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = f"``x.{fn.__name__}(n)`` is ``gradwalk.{fn.__name__}(n, x)``."
    return method


#: Top-level names: gradwalk.<name> (kept when another module already defines it).
TOP_LEVEL = {
    "lgamma": gammaln, "digamma": digamma, "polygamma": polygamma, "mvlgamma": _gamma.mvlgamma,
    "erfc": erfc, "erfinv": erfinv, "i0": i0, "igamma": gammainc, "igammac": gammaincc,
    "sinc": sinc, "logit": logit, "xlogy": xlogy, "exp2": exp2,
}

#: Tensor methods (with an in-place twin where PyTorch has one).
METHODS = {
    "lgamma": gammaln, "digamma": digamma, "polygamma": _method_swapped(polygamma),
    "mvlgamma": _gamma.mvlgamma, "erfc": erfc, "erfinv": erfinv, "i0": i0, "igamma": gammainc,
    "igammac": gammaincc, "sinc": sinc, "logit": logit, "xlogy": xlogy, "exp2": exp2,
}


def bind_methods(tensor_type: type) -> None:
    """Give ``tensor_type`` the methods above and their in-place twins, where it has none."""
    for name, fn in METHODS.items():
        if not hasattr(tensor_type, name):
            setattr(tensor_type, name, fn)
        if not hasattr(tensor_type, name + "_"):
            setattr(tensor_type, name + "_", _inplace_method(fn, name))
