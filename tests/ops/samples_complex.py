"""Samples of the complex ops (``gradwalk/ops/complex.py``) and the complex FFTs
(``gradwalk/ops/fft.py``).

The registry harness works on real float64 inputs and real outputs, so each sample makes its
complex values from real inputs (``complex``, ``view_as_complex``) and reads a real result out
of them (``view_as_real``, ``real``, ``imag``, ``angle``): finite differences, double backward
and the jvp then check the complex rules through real coordinates.
"""

from __future__ import annotations

import numpy as np

try:
    from .op_samples import Sample, normal, positive
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    from op_samples import Sample, normal, positive

S = Sample


def _var(z):
    return np.stack([z.real, z.imag], axis=-1)


_X_R2C = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def _rfft_grad(m, vr, vi):
    x = m.tensor(_X_R2C, requires_grad=True)
    y = m.fft.rfft(x, n=6)
    return m.autograd.grad(y, x, m.complex(vr, vi), create_graph=True)[0]


def _rfft_grad_ref(vr, vi):
    v = vr + 1j * vi
    full = np.concatenate([v, np.zeros((3, 2))], axis=-1)  # the missing half: zeros
    return np.fft.ifft(full, norm="forward").real[:, :4]


SAMPLES = [
    S("complex_parts", "complex", lambda m, x, y: m.view_as_real(m.complex(x, y)),
      ((3, 4), (3, 4)), lambda x, y: np.stack([x, y], axis=-1)),
    S("complex_broadcast", "complex", lambda m, x, y: m.view_as_real(m.complex(x, y)),
      ((3, 4), (4,)), lambda x, y: _var(x + 1j * y)),
    S("view_as_real_of_product", "view_as_real",
      lambda m, x, y: m.view_as_real(m.complex(x, y) * m.complex(y, x)),
      ((2, 3), (2, 3)), lambda x, y: _var((x + 1j * y) * (y + 1j * x))),
    S("view_as_complex_product", "view_as_complex",
      lambda m, x, y: m.view_as_real(m.view_as_complex(x) * m.view_as_complex(y)),
      ((3, 2), (3, 2)),
      lambda x, y: _var((x[:, 0] + 1j * x[:, 1]) * (y[:, 0] + 1j * y[:, 1]))),
    S("real_of_polar", "real", lambda m, r, t: m.real(m.polar(r, t)), ((3, 4), (3, 4)),
      lambda r, t: r * np.cos(t), domain=(positive, normal)),
    S("imag_of_product", "imag", lambda m, x, y: m.imag(m.complex(x, y) * m.complex(y, x)),
      ((3, 4), (3, 4)), lambda x, y: x * x + y * y),
    S("conj_product", "conj",
      lambda m, x, y: m.view_as_real(m.conj(m.complex(x, y)) * m.complex(y, x)),
      ((3, 4), (3, 4)), lambda x, y: _var((x - 1j * y) * (y + 1j * x))),
    S("conj_physical_exp", "conj_physical",
      lambda m, x, y: m.view_as_real(m.exp(m.conj_physical(m.complex(x, y)))),
      ((3, 4), (3, 4)), lambda x, y: _var(np.exp(x - 1j * y))),
    S("angle_complex", "angle", lambda m, x, y: m.angle(m.complex(x, y)), ((3, 4), (3, 4)),
      lambda x, y: np.arctan2(y, x)),
    S("angle_of_square", "angle", lambda m, x, y: m.angle(m.complex(x, y) ** 2),
      ((3, 4), (3, 4)), lambda x, y: np.angle((x + 1j * y) ** 2), domain=(positive, normal)),
    S("fft_c2c", "fft_c2c", lambda m, x, y: m.view_as_real(m.fft.fft(m.complex(x, y))),
      ((3, 4), (3, 4)), lambda x, y: _var(np.fft.fft(x + 1j * y))),
    S("fft_c2c_ifft2_s_ortho", "fft_c2c",
      lambda m, x, y: m.view_as_real(m.fft.ifft2(m.complex(x, y), s=(2, 5), norm="ortho")),
      ((3, 4), (3, 4)), lambda x, y: _var(np.fft.ifft2(x + 1j * y, s=(2, 5), norm="ortho"))),
    S("fft_c2c_of_real", "fft_c2c", lambda m, x: m.view_as_real(m.fft.fftn(x, norm="forward")),
      ((3, 4),), lambda x: _var(np.fft.fftn(x, norm="forward"))),
    S("fft_r2c", "fft_r2c", lambda m, x: m.view_as_real(m.fft.rfft(x, n=5)), ((3, 4),),
      lambda x: _var(np.fft.rfft(x, n=5))),
    S("fft_ihfft2", "fft_r2c", lambda m, x: m.view_as_real(m.fft.ihfft2(x)), ((3, 4),),
      lambda x: _var(np.conj(np.fft.rfft2(x, norm="forward")))),
    S("fft_r2c_backward_via_rfft_grad", "fft_r2c_backward", _rfft_grad, ((3, 4), (3, 4)),
      _rfft_grad_ref),
    S("fft_irfft_of_complex", "fft_c2r", lambda m, x, y: m.fft.irfft(m.complex(x, y), n=6),
      ((3, 4), (3, 4)), lambda x, y: np.fft.irfft(x + 1j * y, n=6)),
    S("fft_hfft_of_complex", "fft_c2r", lambda m, x, y: m.fft.hfft(m.complex(x, y)),
      ((2, 4), (2, 4)), lambda x, y: np.fft.hfft(x + 1j * y)),
]
