"""More of ``gradwalk.nn.functional``: im2col (``unfold``/``fold``), ``pdist``, ``rms_norm``,
``local_response_norm``, ``embedding_bag`` and two margin losses.

Every function here is a composite of differentiable gradwalk ops (``index_select``,
``index_add``, ``pad``, reductions), so gradients, double backward and JVPs come from them.

Note [im2col by one index]
    ``unfold`` and ``fold`` share one integer index: for each kernel offset and each output
    position, the flat position it reads in the zero-padded input plane. ``unfold`` is
    ``index_select`` of the padded plane at that index; ``fold`` (its adjoint) is ``index_add``
    of the columns into a zero padded plane, then the padding is cropped. So ``fold(unfold(x))``
    multiplies each element by the number of windows covering it, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..ops.elementwise import minimum, where
from ..ops.shape import cat, pad, stack
from ..tensor import Tensor
from . import functional as _functional
from .functional_layers import interpolate
from .functional_losses import _reduce, _reduction, pairwise_distance
from .functional_pooling import _raw


def _pair(v, name: str, op: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    v = tuple(int(i) for i in v)
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise ValueError(f"{op}(): {name} must be an int or a pair of ints, got {v}")
    return v


def _im2col_index(hp: int, wp: int, k, d, s, out) -> np.ndarray:
    """Flat positions (kh*kw*L,) in a padded (hp, wp) plane; Note [im2col by one index]."""
    oh, ow = out
    ki = np.arange(k[0]).reshape(-1, 1, 1, 1) * d[0]
    kj = np.arange(k[1]).reshape(1, -1, 1, 1) * d[1]
    oi = np.arange(oh).reshape(1, 1, -1, 1) * s[0]
    oj = np.arange(ow).reshape(1, 1, 1, -1) * s[1]
    return ((ki + oi) * wp + (kj + oj)).reshape(-1).astype(np.int64)


def _blocks(size, k, d, p, s, op: str) -> tuple[int, int]:
    out = []
    for n, kk, dd, pp, ss in zip(size, k, d, p, s):
        o = (n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
        out.append(o)
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{op}(): the spatial size {list(size)} with padding {p}, kernel "
                           f"size {k} and dilation {d} gives no sliding block (output "
                           f"{out}); use a smaller kernel or more padding")
    return out[0], out[1]


def _geometry(kernel_size, dilation, padding, stride, op: str):
    k = _pair(kernel_size, "kernel_size", op)
    d = _pair(dilation, "dilation", op)
    p = _pair(padding, "padding", op)
    s = _pair(stride, "stride", op)
    if min(k) <= 0 or min(d) <= 0 or min(s) <= 0 or min(p) < 0:
        raise RuntimeError(f"{op}(): kernel_size, dilation and stride must be positive and "
                           f"padding non-negative, got kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}")
    return k, d, p, s


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks of (N, C, H, W) as columns (im2col): (N, C*kh*kw, L).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.unfold(gradwalk.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride, "unfold")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    n, c, h, w = x.shape
    out = _blocks((h, w), k, d, p, s, "unfold")
    xp = pad(x, (p[1], p[1], p[0], p[0])) if any(p) else x
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    idx = Tensor._wrap(_im2col_index(hp, wp, k, d, s, out))
    cols = xp.reshape(n, c, hp * wp).index_select(2, idx)
    cols = cols.reshape(n, c * k[0] * k[1], out[0] * out[1])
    return cols.squeeze(0) if unbatched else cols


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kh*kw, L) back into an (N, C, H, W) image (col2im, ``unfold``'s
    adjoint): overlapping values add up.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.fold(gradwalk.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride, "fold")
    h, w = _pair(output_size, "output_size", "fold")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    n, ck, length = x.shape
    kk = k[0] * k[1]
    if ck % kk:
        raise RuntimeError(f"fold(): expected size of input's dimension 1 to be divisible by "
                           f"the product of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={k}")
    out = _blocks((h, w), k, d, p, s, "fold")
    if out[0] * out[1] != length:
        raise RuntimeError(f"fold(): given output_size={(h, w)}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, stride={s}, expected size of input's "
                           f"dimension 2 to match the calculated number of sliding blocks "
                           f"{out[0]} * {out[1]} = {out[0] * out[1]}, but got {length}")
    c = ck // kk
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    idx = Tensor._wrap(_im2col_index(hp, wp, k, d, s, out))
    base = creation.zeros(n, c, hp * wp, dtype=x.dtype)
    img = base.index_add(2, idx, x.reshape(n, c, kk * length)).reshape(n, c, hp, wp)
    img = img[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return img.squeeze(0) if unbatched else img


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between all pairs of rows of an (N, M) input, the upper triangle
    of ``cdist(input, input)`` row by row: N*(N-1)/2 values.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.pdist(gradwalk.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = input.index_select(0, Tensor._wrap(i.astype(np.int64)))
    b = input.index_select(0, Tensor._wrap(j.astype(np.int64)))
    diff = (a - b).abs()
    if p == 0:  # a count: zero gradient, as in PyTorch
        return (diff != 0).to(input.dtype).sum(1) + diff.sum(1) * 0.0
    if math.isinf(p):
        return diff.amax(1) if diff.shape[1] else diff.sum(1)
    if p == 1:
        return diff.sum(1)
    # identical rows: distance 0 with gradient 0 (PyTorch's), not 0 * inf
    total = (diff ** p).sum(1)
    pos = Tensor._wrap(_raw(total) > 0)
    return where(pos, where(pos, total, 1.0) ** (1.0 / p), 0.0)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalization over the last ``len(normalized_shape)`` dims:
    ``x / sqrt(mean(x**2) + eps) * weight``; ``eps`` defaults to the dtype's machine epsilon.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.rms_norm(gradwalk.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    nd = len(shape)
    if tuple(input.shape[input.ndim - nd:]) != shape or nd > input.ndim:
        raise RuntimeError(f"rms_norm(): given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size {list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm(): weight of shape {list(weight.shape)} must be "
                           f"normalized_shape {list(shape)}")
    if eps is None:
        eps = float(np.finfo(_raw(input).dtype).eps)
    dims = tuple(range(input.ndim - nd, input.ndim))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt() if nd else \
        input * (input * input + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalize each channel by the (zero-padded) mean of squares of its ``size`` neighbour
    channels: ``x / (k + alpha * mean)**beta``, PyTorch's window (``size//2`` before,
    ``(size-1)//2`` after).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.local_response_norm(gradwalk.ones(1, 3, 1), 2, alpha=1.0, beta=1.0)
        tensor([[[0.6667],
                 [0.5000],
                 [0.5000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    zero = creation.zeros(input.shape[0], 1, *input.shape[2:], dtype=input.dtype)
    padded = cat([zero.expand(input.shape[0], before, *input.shape[2:]), sq,
                  zero.expand(input.shape[0], after, *input.shape[2:])], 1)
    total = padded[:, 0:c]
    for i in range(1, size):
        total = total + padded[:, i:i + c]
    div = (total * (alpha / size) + k) ** beta
    return input / div


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows without building the (bag, row)
    intermediate: a 2-D ``input`` is one bag per row, a 1-D one is cut at ``offsets``. Empty
    bags give zeros; ``padding_idx`` entries are left out of their bag.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> w = gradwalk.arange(6.0).reshape(3, 2)
        >>> F.embedding_bag(gradwalk.tensor([0, 2, 1]), w, gradwalk.tensor([0, 2]), mode="sum")
        tensor([[4., 6.],
                [2., 3.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag(): mode has to be one of sum, mean or max, got "
                         f"{mode!r}")
    ids = _raw(input)
    if ids.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag(): expected indices to be an integer tensor (call "
                           f".long()), got {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag(): weight has to be a 2D Tensor, but got Tensor of "
                         f"dimension {weight.ndim}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request "
                                      f"on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag(): per_sample_weights has shape "
                             f"{list(per_sample_weights.shape)}, expected the indices' shape "
                             f"{list(input.shape)}")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(f"embedding_bag(): padding_idx must be within the number of "
                                 f"embeddings {num}, got {padding_idx}")
        padding_idx = padding_idx % num
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= num):
        raise IndexError(f"embedding_bag(): index out of range: ids must be in [0, {num}), "
                         f"got min {int(ids.min())} and max {int(ids.max())}")
    psw = per_sample_weights
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag(): if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences.")
        b, length = ids.shape
        flat = ids.reshape(-1)
        starts = [i * length for i in range(b)] + [b * length]
        if psw is not None:
            psw = psw.reshape(-1)
    elif ids.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag(): offsets has to be a 1D Tensor but got None")
        offs = [int(o) for o in _raw(offsets).reshape(-1)]
        if offs and offs[0] != 0:
            raise ValueError(f"embedding_bag(): offsets[0] has to be 0, i.e., the first "
                             f"sequence in the mini-batch has to start from position 0. "
                             f"However, got {offs[0]}")
        flat = ids
        starts = offs if include_last_offset else offs + [len(ids)]
        starts = [min(max(s, 0), len(ids)) for s in starts]
    else:
        raise ValueError(f"embedding_bag(): input has to be 1D or 2D Tensor, but got Tensor "
                         f"of dimension {ids.ndim}")
    if max_norm is not None:
        _functional.embedding(Tensor._wrap(np.unique(flat).astype(np.int64)), weight,
                              max_norm=max_norm, norm_type=norm_type)
    rows = []
    zero = creation.zeros(weight.shape[1], dtype=weight.dtype)
    for lo, hi in zip(starts[:-1], starts[1:]):
        pos = np.arange(lo, hi)
        if padding_idx is not None:
            pos = pos[flat[lo:hi] != padding_idx]
        if pos.size == 0:
            rows.append(zero)
            continue
        picked = weight.index_select(0, Tensor._wrap(flat[pos].astype(np.int64)))
        if psw is not None:
            picked = picked * psw.index_select(0, Tensor._wrap(pos.astype(np.int64))) \
                .unsqueeze(1)
        if mode == "sum":
            rows.append(picked.sum(0))
        elif mode == "mean":
            rows.append(picked.sum(0) / float(pos.size))
        else:
            rows.append(picked.amax(0))
    if not rows:
        return creation.zeros(0, weight.shape[1], dtype=weight.dtype)
    return stack(rows, 0)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with any distance ``d`` (default
    ``pairwise_distance``); ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> a, p, n = gradwalk.zeros(1, 2), gradwalk.ones(1, 2), gradwalk.zeros(1, 2)
        >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda x, y:
        ...     (x - y).abs().sum(-1))
        tensor(3.)
    """
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater "
                         f"than 0, got {margin} instead")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    if distance_function is None:
        distance_function = pairwise_distance
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance_function(positive, negative))
    loss = (margin + d_pos - d_neg).clamp(min=0)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss: for every target class ``j`` (the leading entries of
    ``target`` up to the first -1) and every non-target class ``i``,
    ``max(0, 1 - (x[j] - x[i])) / C``, summed per sample.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.multilabel_margin_loss(gradwalk.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                          gradwalk.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if input.ndim > 2 or tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(f"multilabel_margin_loss(): expected a 0-D, 1-D or 2-D input and a "
                           f"target of the same shape, got input {list(input.shape)} and "
                           f"target {list(target.shape)}")
    t = _raw(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss(): target must be an integer tensor, got "
                           f"{target.dtype}")
    squeeze = input.ndim < 2
    x = input.reshape(1, -1) if squeeze else input
    t = t.reshape(x.shape)
    n, c = x.shape
    if t.size and (t.max() >= c or t.min() < -1):
        raise RuntimeError(f"multilabel_margin_loss(): target values must be in [-1, {c}), got "
                           f"min {int(t.min())} and max {int(t.max())}")
    count = np.zeros((n, c), dtype=_raw(x).dtype)
    is_target = np.zeros((n, c), dtype=bool)
    for r in range(n):
        for v in t[r]:
            if v < 0:
                break
            count[r, v] += 1
            is_target[r, v] = True
    weight = count[:, :, None] * (~is_target)[:, None, :]
    margins = (1.0 - x.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)
    loss = (margins * Tensor._wrap(weight)).sum((1, 2)) / float(max(c, 1))
    if squeeze:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Nearest-neighbour upsampling (deprecated in PyTorch for ``interpolate``).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.upsample_nearest(gradwalk.tensor([[[1.0, 2.0]]]), 4)
        tensor([[[1., 1., 2., 2.]]])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Bilinear upsampling with ``align_corners=True`` (deprecated in PyTorch for
    ``interpolate``).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[[[0.0, 1.0]]]])
        >>> gradwalk.nn.functional.upsample_bilinear(x, (1, 3))
        tensor([[[[0.0000, 0.5000, 1.0000]]]])
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
