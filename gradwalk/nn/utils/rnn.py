"""``gradwalk.nn.utils.rnn``: variable-length batches for the recurrent layers.

``PackedSequence`` holds the time steps of a batch of sequences, sorted by decreasing length,
interleaved step by step (``data``), with ``batch_sizes[t]`` the number of sequences still
running at step ``t``: PyTorch's layout. ``pack_padded_sequence``/``pad_packed_sequence``
convert from and to a padded tensor; both are differentiable (``index_select`` and ``cat``).

Note [packed sequences through RNN, LSTM and GRU]
    A recurrent layer given a ``PackedSequence`` runs the padded batch in sorted order (longest
    first) with the packed ``batch_sizes``: at time step ``t`` only the first
    ``batch_sizes[t]`` sequences step, the others keep their state, so the final states are
    those at each sequence's last step and a reverse direction starts at the sequence's own
    end, as PyTorch's packed kernels do (``ops.rnn.rnn_layer``, still one node per layer and
    direction). The outputs are packed again with the input's ``batch_sizes`` and indices; the
    initial states are taken, and the final states given, in the caller's batch order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...ops.shape import cat, pad, stack
from ...tensor import Tensor


def _raw(t) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _long(a) -> Tensor:
    return Tensor._wrap(np.asarray(a, dtype=np.int64))


class PackedSequence(NamedTuple):
    """A packed batch of variable-length sequences (see the module docstring).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([gradwalk.tensor([1.0, 2.0, 3.0]), gradwalk.tensor([4.0])])
        >>> p.data, p.batch_sizes
        (tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _lengths(lengths) -> np.ndarray:
    arr = np.asarray(_raw(lengths), dtype=np.int64).reshape(-1)
    if arr.size and arr.min() <= 0:
        raise RuntimeError(f"Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0: {arr.tolist()}")
    return arr


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of ``lengths``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.rnn import pack_padded_sequence
        >>> x = gradwalk.tensor([[1.0, 2.0], [3.0, 0.0]])
        >>> pack_padded_sequence(x, [2, 1], batch_first=True).data
        tensor([1., 3., 2.])
    """
    lens = _lengths(lengths)
    x = input.transpose(0, 1) if batch_first else input
    if lens.shape[0] != x.shape[1]:
        raise RuntimeError(f"pack_padded_sequence(): expected {x.shape[1]} lengths (one per "
                           f"sequence of the batch), got {lens.shape[0]}")
    if lens.size and lens.max() > x.shape[0]:
        raise RuntimeError(f"pack_padded_sequence(): a length {int(lens.max())} exceeds the "
                           f"padded length {x.shape[0]}")
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order = np.arange(lens.shape[0])
        sorted_t = unsorted_t = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_t, unsorted_t = _long(order), _long(np.argsort(order))
    return _pack(x, lens, order, sorted_t, unsorted_t)


def _pack(x: Tensor, lens: np.ndarray, order: np.ndarray, sorted_t, unsorted_t):
    slens = lens[order]
    steps = int(slens.max()) if slens.size else 0
    sizes = np.array([(slens > t).sum() for t in range(steps)], dtype=np.int64)
    # row t * B + b of the (T*B, *) view, for the running sequences in sorted order
    rows = np.concatenate([t * x.shape[1] + order[:s] for t, s in enumerate(sizes)]) \
        if steps else np.zeros(0, dtype=np.int64)
    flat = x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])
    return PackedSequence(flat.index_select(0, _long(rows)), _long(sizes), sorted_t,
                          unsorted_t)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack to a padded batch and the lengths (in the original batch order).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> p = pack_sequence([gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0])])
        >>> pad_packed_sequence(p, batch_first=True)
        (tensor([[1., 2.],
                [3., 0.]]), tensor([2, 1]))
    """
    data, sizes = sequence.data, _raw(sequence.batch_sizes).astype(np.int64)
    b = int(sizes[0]) if sizes.size else 0
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps_out = total_length
    else:
        steps_out = steps
    slens = np.array([(sizes > i).sum() for i in range(b)], dtype=np.int64)
    # padded (T, B) positions of each packed row, in sorted order, then a fill row
    fill = data[:1] * 0.0 + padding_value if data.shape[0] else None
    src = np.full((steps_out, b), data.shape[0], dtype=np.int64)
    offset = 0
    for t, s in enumerate(sizes):
        src[t, :s] = np.arange(offset, offset + s)
        offset += s
    if sequence.unsorted_indices is not None:
        src = src[:, _raw(sequence.unsorted_indices).astype(np.int64)]
        lens = slens[_raw(sequence.unsorted_indices).astype(np.int64)]
    else:
        lens = slens
    table = cat([data, fill], 0) if fill is not None else data
    out = table.index_select(0, _long(src.reshape(-1))).reshape(steps_out, b, *data.shape[1:])
    if batch_first:
        out = out.transpose(0, 1)
    return out, _long(lens)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length tensors (L_i, *) into (L_max, B, *) (``batch_first``: (B, ...)),
    padded with ``padding_value`` on ``padding_side``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.rnn import pad_sequence
        >>> pad_sequence([gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0])], True)
        tensor([[1., 2.],
                [3., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        if extra:
            filler = pad(s[:1] * 0.0, [0, 0] * (s.ndim - 1) + [0, extra - 1]) + padding_value
            s = cat([s, filler], 0) if padding_side == "right" else cat([filler, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length tensors (L_i, *).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.rnn import pack_sequence
        >>> pack_sequence([gradwalk.tensor([1.0]), gradwalk.tensor([2.0, 3.0])],
        ...               enforce_sorted=False).batch_sizes
        tensor([2, 1])
    """
    seqs = list(sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs],
                                enforce_sorted=enforce_sorted)


def run_packed(module, packed: PackedSequence, hx, n_states: int):
    """``module`` (RNN, LSTM or GRU) over a packed batch; Note [packed sequences through RNN,
    LSTM and GRU]. Returns ``(PackedSequence, finals)`` with ``finals`` a tuple of states."""
    sizes = _raw(packed.batch_sizes).astype(np.int64)
    padded, _ = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes))  # sorted
    b = padded.shape[1]
    order = packed.sorted_indices
    states = [None] * n_states
    if hx is not None:
        states = list(hx) if isinstance(hx, tuple) else [hx]
        dirs = 2 if module.bidirectional else 1
        want = [(module.num_layers * dirs, b, module.proj_size or module.hidden_size),
                (module.num_layers * dirs, b, module.hidden_size)]
        for k, s in enumerate(states):
            if tuple(s.shape) != want[k]:
                raise RuntimeError(f"Expected hidden size {want[k]}, got {list(s.shape)}")
            states[k] = s if order is None else s.index_select(1, order)
    out, finals = module._run(padded, states, batch_sizes=sizes)
    slens = np.array([(sizes > i).sum() for i in range(b)], dtype=np.int64)
    repacked = _pack(out, slens, np.arange(b), packed.sorted_indices, packed.unsorted_indices)
    back = packed.unsorted_indices
    return repacked, tuple(f if back is None else f.index_select(1, back) for f in finals)


__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence"]
