"""Activations as modules (``ReLU``, ``GELU``, ``Softmax``...) and ``MultiheadAttention``."""

from __future__ import annotations

import math

import numpy as np

from ... import creation
from ...creation import DTypeLike
from ...ops import elementwise as E
from ...ops import nn as F
from ...ops import shape as S
from ...tensor import Tensor
from .. import functional, init
from ..parameter import Parameter
from .linear import Linear
from .module import Module


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ReLU()(gradwalk.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return E.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LeakyReLU(0.1)(gradwalk.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                         else "")


class GELU(Module):
    """Gaussian error linear unit (``approximate="tanh"`` for the tanh approximation).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.GELU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Tanh()(gradwalk.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return E.tanh(input)


class Sigmoid(Module):
    """Logistic function ``1 / (1 + exp(-x))`` elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Sigmoid()(gradwalk.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return E.sigmoid(input)


class SiLU(Module):
    """``x * sigmoid(x)`` (swish) elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.SiLU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return functional.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ELU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return functional.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softplus()(gradwalk.tensor([0.0]))
        tensor([0.6931])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softmax(dim=-1)(gradwalk.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LogSoftmax(dim=-1)(gradwalk.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _float_mask(mask, dtype, name: str):
    """A bool mask (True: masked out) as an additive float mask (-inf), or a float mask."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor._wrap(np.asarray(mask))
    if m._data.dtype == np.bool_:
        return Tensor._wrap(np.where(m._data, -np.inf, 0.0).astype(dtype))
    if m._data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return m


class MultiheadAttention(Module):
    """Multi-head attention as PyTorch's: ``in_proj_weight`` (3E, E) (or ``q/k/v_proj_weight``
    when ``kdim``/``vdim`` differ), ``in_proj_bias``, ``out_proj``; inputs (L, N, E) or, with
    ``batch_first``, (N, L, E), or unbatched (L, E).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True)`` returns ``(output, weights)``; in the masks ``True`` (or
    ``-inf``) excludes a position; ``weights`` is None unless ``need_weights``.

    Example:
        >>> import gradwalk
        >>> mha = gradwalk.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = gradwalk.randn(3, 5, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (gradwalk.Size([3, 5, 8]), gradwalk.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        def empty(*shape):
            return Parameter(creation.empty(shape, dtype=dtype, device=device))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if bias:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if add_bias_kv:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return ws, bs

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        batched = query.ndim == 3
        if query.ndim not in (2, 3):
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                                 f"received {query.ndim}-D query tensor")
        if batched and self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0) if isinstance(
                    key_padding_mask, Tensor) else np.asarray(key_padding_mask)[None]
        tgt_len, bsz, e = query.shape
        if e != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {e}")
        h, hd = self.num_heads, self.head_dim
        dt = query._data.dtype
        if self._qkv_same_embed_dim and query is key and key is value:
            # self-attention: one projection for q, k and v (as PyTorch does)
            q, k, v = S.chunk(F.linear(query, self.in_proj_weight, self.in_proj_bias), 3, -1)
        else:
            (wq, wk, wv), (bq, bk, bv) = self._projections()
            q = F.linear(query, wq, bq)
            k = F.linear(key, wk, bk)
            v = F.linear(value, wv, bv)
        mask = _float_mask(attn_mask, dt, "attn_mask")
        kpm = _float_mask(key_padding_mask, dt, "key_padding_mask")
        if self.bias_k is not None:
            k = S.cat([k, self.bias_k.expand(1, bsz, e)], 0)
            v = S.cat([v, self.bias_v.expand(1, bsz, e)], 0)
            mask = None if mask is None else _pad_last(mask)
            kpm = None if kpm is None else _pad_last(kpm)
        # (L, N, E) -> (N*H, L, hd)
        q = q.reshape(tgt_len, bsz * h, hd).transpose(0, 1)
        k = k.reshape(k.shape[0], bsz * h, hd).transpose(0, 1)
        v = v.reshape(v.shape[0], bsz * h, hd).transpose(0, 1)
        if self.add_zero_attn:
            zeros = Tensor._wrap(np.zeros((bsz * h, 1, hd), dtype=dt))
            k = S.cat([k, zeros], 1)
            v = S.cat([v, zeros], 1)
            mask = None if mask is None else _pad_last(mask)
            kpm = None if kpm is None else _pad_last(kpm)
        src_len = k.shape[1]
        scores = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1)  # (N*H, L, S)
        if mask is not None:
            if mask.ndim == 2:
                if tuple(mask.shape) != (tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)},"
                                       f" but should be {(tgt_len, src_len)}.")
            elif tuple(mask.shape) != (bsz * h, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but "
                                   f"should be {(bsz * h, tgt_len, src_len)}.")
            scores = scores + mask
        if kpm is not None:
            if tuple(kpm.shape) != (bsz, src_len):
                raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, "
                                     f"but got {tuple(kpm.shape)}")
            scores = (scores.reshape(bsz, h, tgt_len, src_len)
                      + kpm.reshape(bsz, 1, 1, src_len)).reshape(bsz * h, tgt_len, src_len)
        attn = F.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = attn @ v  # (N*H, L, hd)
        out = out.transpose(0, 1).reshape(tgt_len, bsz, e)
        out = self.out_proj(out)
        weights = None
        if need_weights:
            weights = attn.reshape(bsz, h, tgt_len, src_len)
            if average_attn_weights:
                weights = weights.mean(1)
            if not batched:
                weights = weights.squeeze(0)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        return out, weights


def _pad_last(mask: Tensor) -> Tensor:
    """Append one zero column (an attended extra key) to an additive mask."""
    return S.pad(mask, (0, 1))



class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MultiheadAttention(4, 2).out_proj
        NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
    """
