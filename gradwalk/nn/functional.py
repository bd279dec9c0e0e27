"""``gradwalk.nn.functional``: the neural-network ops as functions, PyTorch's names."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import attention as _A
from ..ops import elementwise as E
from ..ops import embedding as _Emb
from ..ops import indexing as I
from ..ops import nn as N
from ..ops import reductions as R
from ..ops.conv import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    max_pool1d,
    max_pool2d,
)
from ..ops.losses import (  # noqa: F401
    binary_cross_entropy,
    huber_loss,
    l1_loss,
    smooth_l1_loss,
)
from ..ops.nn import (  # noqa: F401
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..ops.norm import batch_norm, group_norm, layer_norm  # noqa: F401
from ..ops.shape import pad  # noqa: F401
from ..tensor import Tensor


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ids ``input``; the row ``padding_idx`` gets no
    gradient, ``max_norm`` renormalizes the rows it picks in place (as PyTorch does).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.embedding(gradwalk.tensor([1, 1]), gradwalk.eye(3))
        tensor([[0., 1., 0.],
                [0., 1., 0.]])
    """
    idx = input if isinstance(input, Tensor) else Tensor._wrap(np.asarray(input))
    if idx._data.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {idx.dtype} instead (call .long() on the indices)")
    n = weight.shape[0]
    ids = idx._data
    if ids.size and (int(ids.min()) < -n or int(ids.max()) >= n):
        raise IndexError(f"embedding(): index out of range in self: ids must be in [0, {n}), "
                         f"got min {int(ids.min())} and max {int(ids.max())}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        with no_grad():
            rows = np.unique(ids % n)
            w = weight._data
            norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            w[rows] = w[rows] * scale[:, None].astype(w.dtype)
            weight._vc[0] += 1
    if not scale_grad_by_freq and weight.ndim == 2:  # one node (Note [embedding gradient])
        if ids.size and ids.min() < 0:
            ids = np.where(ids < 0, ids + n, ids)
        return _Emb.embedding(weight, ids, padding_idx)
    out = weight[idx]
    if not out.requires_grad:
        return out
    if padding_idx is not None:
        mask = ids == padding_idx
        if mask.any():
            out = E.where(Tensor._wrap(mask[..., None]), out.detach(), out)
    if scale_grad_by_freq:
        uniq, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        s = (1.0 / counts[inverse.reshape(ids.shape)]).astype(out._data.dtype)[..., None]
        s_t = Tensor._wrap(s)
        out = out * s_t + out.detach() * Tensor._wrap(1.0 - s)
    return out


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims.

    ``attn_mask`` is a bool mask (True: take part in attention) or a float mask added to the
    scores; ``is_causal`` masks out future positions; ``scale`` defaults to
    ``1 / sqrt(query.size(-1))``.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> q = k = v = gradwalk.ones(1, 2, 4)
        >>> F.scaled_dot_product_attention(q, k, v).shape
        gradwalk.Size([1, 2, 4])
    """
    e = query.shape[-1]
    s = 1.0 / math.sqrt(e) if scale is None else scale
    if enable_gqa and key.ndim >= 3 and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _gqa_repeat(query, key, "key"), _gqa_repeat(query, value, "value")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention(): explicit attn_mask should not "
                           "be set when is_causal=True")
    if dropout_p == 0.0:  # one node (Note [fused attention] in ops/attention.py)
        m = attn_mask
        if m is not None and not isinstance(m, Tensor):
            m = Tensor._wrap(np.asarray(m))
        return _A.attention(query, key, value, m, s, is_causal)
    scores = (query * s) @ key.transpose(-2, -1)
    lq, lk = scores.shape[-2], scores.shape[-1]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention(): explicit attn_mask should not "
                               "be set when is_causal=True")
        keep = np.tril(np.ones((lq, lk), dtype=bool))
        scores = I.masked_fill(scores, Tensor._wrap(~keep), float("-inf"))
    if attn_mask is not None:
        m = attn_mask if isinstance(attn_mask, Tensor) else Tensor._wrap(np.asarray(attn_mask))
        if m._data.dtype == np.bool_:
            scores = I.masked_fill(scores, Tensor._wrap(~m._data), float("-inf"))
        else:
            scores = scores + m
    attn = N.softmax(scores, -1)
    if is_causal or attn_mask is not None:
        # PyTorch's safe softmax: a row masked out entirely attends to nothing (zeros, and no
        # gradient), not NaN
        dead = np.all(scores._data == -np.inf, axis=-1, keepdims=True)
        if dead.any():
            attn = E.where(Tensor._wrap(dead), 0.0, attn)
    if dropout_p > 0.0:
        attn = N.dropout(attn, dropout_p, True)
    return attn @ value


def _gqa_repeat(query: Tensor, kv: Tensor, what: str) -> Tensor:
    """Grouped-query attention: each of ``kv``'s heads (dim -3) serves ``Hq / Hkv`` consecutive
    query heads (PyTorch's ``repeat_interleave`` of the keys and values)."""
    hq, hkv = query.shape[-3], kv.shape[-3]
    if hkv == 0 or hq % hkv:
        raise RuntimeError(f"scaled_dot_product_attention(): with enable_gqa=True the number of "
                           f"query heads ({hq}) must be a multiple of the {what} heads ({hkv})")
    r = hq // hkv
    shape = tuple(kv.shape)
    grown = kv.unsqueeze(-3).expand(*shape[:-2], r, *shape[-2:])
    return grown.reshape(*shape[:-3], hkv * r, *shape[-2:])


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.silu(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    return N.apply1(N.SILU, input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.elu(gradwalk.tensor([-1.0, 2.0]))
        tensor([-0.6321,  2.0000])
    """
    # PyTorch's condition: the negative branch where x <= 0, so NaN passes with gradient 1
    return E.where(input <= 0, E.expm1(E.clamp(input, None, 0.0)) * alpha, input)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(norm_p(input, dim), eps)``: unit vectors along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.normalize(gradwalk.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    return input / E.clamp(R.norm(input, p, dim, keepdim=True), eps)


# composites of primitive ops, at the end: they use the functions above
from .functional_activations import (  # noqa: E402, F401
    celu,
    celu_,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from .functional_ctc import ctc_loss  # noqa: E402, F401
from .functional_layers import (  # noqa: E402, F401
    alpha_dropout,
    bilinear,
    channel_shuffle,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
    instance_norm,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
)
from .functional_losses import (  # noqa: E402, F401
    cosine_embedding_loss,
    cosine_similarity,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    one_hot,
    pairwise_distance,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .functional_more import (  # noqa: E402, F401
    embedding_bag,
    fold,
    local_response_norm,
    multilabel_margin_loss,
    pdist,
    rms_norm,
    triplet_margin_with_distance_loss,
    unfold,
    upsample_bilinear,
    upsample_nearest,
)
from .functional_pooling import (  # noqa: E402, F401
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool3d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from .functional_sampling import affine_grid, grid_sample  # noqa: E402, F401
