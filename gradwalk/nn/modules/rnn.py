"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

Weights and gate order follow PyTorch (``weight_ih_l0``, ``weight_hh_l0_reverse``,
``weight_hr_l0`` for an LSTM with ``proj_size``...; LSTM gates ``i, f, g, o``; GRU gates
``r, z, n``), so state dicts load both ways. Each layer and direction of a sequence is one graph
node, and so is each call of a cell (``ops.rnn.rnn_layer``, Note [fused recurrent layers]).
"""

from __future__ import annotations

import math
import warnings

from ... import creation
from ...creation import DTypeLike
from ...ops import nn as F
from ...ops import shape as S
from ...ops.rnn import rnn_layer
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, run_packed
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (see those); ``all_weights``
    groups the parameters per layer and direction.

    Example:
        >>> import gradwalk
        >>> lstm = gradwalk.nn.LSTM(2, 3, num_layers=2)
        >>> isinstance(lstm, gradwalk.nn.RNNBase), [len(ws) for ws in lstm.all_weights]
        (True, [4, 4])
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError("hidden_size and num_layers must be positive")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                in_size = input_size if layer == 0 else out_size * dirs
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(creation.empty(shape, dtype=dtype,
                                                                       device=device)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights into one cuDNN buffer here; gradwalk's
        weights need no packing (kept so that code calling it runs unchanged).

        Example:
            >>> import gradwalk
            >>> gradwalk.nn.LSTM(2, 3).flatten_parameters()
        """

    def _layer_weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx), get("weight_hr" + sfx))

    def _prepare(self, input: Tensor, hx, n_states: int):
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                             "instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        n = x.shape[1]
        dirs = 2 if self.bidirectional else 1
        shapes = [(self.num_layers * dirs, n, self.proj_size or self.hidden_size),
                  (self.num_layers * dirs, n, self.hidden_size)][:n_states]
        if hx is None:
            return x, [None] * n_states, batched
        states = list(hx) if n_states == 2 else [hx]
        for i, h in enumerate(states):
            if not batched:
                if h.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D "
                                       f"but got {h.ndim}-D tensor")
                h = h.unsqueeze(1)
            if tuple(h.shape) != shapes[i]:
                raise RuntimeError(f"Expected hidden size {shapes[i]}, got {list(h.shape)}")
            states[i] = h
        return x, states, batched

    def _run(self, x: Tensor, states: list, batch_sizes=None):
        """Run every layer and direction over ``x`` (L, N, In), one fused node each; returns
        the output and the final states (``batch_sizes``: of a packed batch, in sorted
        order)."""
        dirs = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                h0 = None if states[0] is None else states[0][k]
                c0 = None if len(states) < 2 or states[1] is None else states[1][k]
                y, h, c = rnn_layer(self.mode, layer_in, h0, c0, *self._layer_weights(layer, d),
                                    reverse=d == 1, batch_sizes=batch_sizes)
                outs.append(y)
                finals[0].append(h)
                if c is not None:
                    finals[1].append(c)
            layer_in = outs[0] if dirs == 1 else S.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        return layer_in, [S.stack(f, 0) for f in finals]

    def _finish(self, out: Tensor, states: list, batched: bool):
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
            states = [s.squeeze(1) for s in states]
        return out, states

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu), over
    (L, N, H_in) (``batch_first``: (N, L, H_in)) or unbatched (L, H_in). Returns
    ``(output, h_n)``.

    Example:
        >>> import gradwalk
        >>> rnn = gradwalk.nn.RNN(4, 8, num_layers=2, batch_first=True)
        >>> out, h = rnn(gradwalk.randn(3, 5, 4))
        >>> out.shape, h.shape
        (gradwalk.Size([3, 5, 8]), gradwalk.Size([2, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if isinstance(input, PackedSequence):  # Note [packed sequences through RNN, LSTM and GRU]
            out, finals = run_packed(self, input, hx, 1)
            return out, finals[0]
        x, states, batched = self._prepare(input, hx, 1)
        out, finals = self._run(x, states)
        out, finals = self._finish(out, finals, batched)
        return out, finals[0]


class LSTM(RNNBase):
    """Long short-term memory over (L, N, H_in) (``batch_first``: (N, L, H_in)); gates
    ``i, f, g, o`` as PyTorch. Returns ``(output, (h_n, c_n))``.

    Example:
        >>> import gradwalk
        >>> lstm = gradwalk.nn.LSTM(4, 8, bidirectional=True)
        >>> out, (h, c) = lstm(gradwalk.randn(5, 3, 4))
        >>> out.shape, h.shape, c.shape
        (gradwalk.Size([5, 3, 16]), gradwalk.Size([2, 3, 8]), gradwalk.Size([2, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor,
                hx: tuple | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if isinstance(input, PackedSequence):  # Note [packed sequences through RNN, LSTM and GRU]
            out, finals = run_packed(self, input, hx, 2)
            return out, (finals[0], finals[1])
        x, states, batched = self._prepare(input, hx, 2)
        out, finals = self._run(x, states)
        out, finals = self._finish(out, finals, batched)
        return out, (finals[0], finals[1])


class GRU(RNNBase):
    """Gated recurrent unit over (L, N, H_in) (``batch_first``: (N, L, H_in)); gates
    ``r, z, n`` as PyTorch. Returns ``(output, h_n)``.

    Example:
        >>> import gradwalk
        >>> gru = gradwalk.nn.GRU(4, 8)
        >>> out, h = gru(gradwalk.randn(5, 3, 4))
        >>> out.shape, h.shape
        (gradwalk.Size([5, 3, 8]), gradwalk.Size([1, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if isinstance(input, PackedSequence):  # Note [packed sequences through RNN, LSTM and GRU]
            out, finals = run_packed(self, input, hx, 1)
            return out, finals[0]
        x, states, batched = self._prepare(input, hx, 1)
        out, finals = self._run(x, states)
        out, finals = self._finish(out, finals, batched)
        return out, finals[0]


class RNNCellBase(Module):
    """The shared machinery of the one-step cells (``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh``).

    Example:
        >>> import gradwalk
        >>> [n for n, _ in gradwalk.nn.GRUCell(2, 3).named_parameters()]
        ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty((g, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty((g, hidden_size), dtype=dtype,
                                                  device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(g, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(g, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _state(self, input: Tensor, hx):
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.ndim}D instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            return x, None, batched
        return x, hx, batched

    def _step(self, mode: str, x: Tensor, h, c):
        """One step as one fused node (a sequence of length 1): ``(output, h, c)``."""
        return rnn_layer(mode, x.unsqueeze(0), h, c, self.weight_ih, self.weight_hh,
                         self.bias_ih, self.bias_hh)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


def _unsq(h, batched):
    return h if h is None or batched else h.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN.

    Example:
        >>> import gradwalk
        >>> cell = gradwalk.nn.RNNCell(4, 8)
        >>> cell(gradwalk.randn(3, 4)).shape
        gradwalk.Size([3, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, hx, batched = self._state(input, hx)
        mode = "RNN_RELU" if self.nonlinearity == "relu" else "RNN_TANH"
        h = self._step(mode, x, _unsq(hx, batched), None)[1]
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM; returns ``(h, c)``.

    Example:
        >>> import gradwalk
        >>> h, c = gradwalk.nn.LSTMCell(4, 8)(gradwalk.randn(3, 4))
        >>> h.shape, c.shape
        (gradwalk.Size([3, 8]), gradwalk.Size([3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:
        x, hx, batched = self._state(input, hx)
        h, c = (None, None) if hx is None else (_unsq(hx[0], batched), _unsq(hx[1], batched))
        _, h, c = self._step("LSTM", x, h, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of a GRU.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.GRUCell(4, 8)(gradwalk.randn(3, 4)).shape
        gradwalk.Size([3, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, hx, batched = self._state(input, hx)
        h = self._step("GRU", x, _unsq(hx, batched), None)[1]
        return h if batched else h.squeeze(0)

