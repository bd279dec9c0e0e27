"""PackedSequence and the pack/pad helpers against PyTorch, and RNN/LSTM/GRU over packed
batches (outputs, final states, gradients of the input and of every weight)."""

import numpy as np
import pytest

import gradwalk
from gradwalk.nn.utils import rnn as R
from tests.fixtures.oracle import oracle

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 3, 2))
LENS = [3, 5, 2]


def _run(lib, x, kind, bidirectional, batch_first, state=None):
    torch_side = lib is not gradwalk
    mod = getattr(lib.nn, kind)(2, 3, num_layers=2, bidirectional=bidirectional,
                                batch_first=batch_first).double()
    if state is not None:
        mod.load_state_dict(state)
    xt = lib.tensor(np.swapaxes(x, 0, 1).copy() if batch_first else x, requires_grad=True)
    packed = lib.nn.utils.rnn.pack_padded_sequence(xt, LENS, batch_first=batch_first,
                                                   enforce_sorted=False)
    out, h = mod(packed)
    h = h[0] if isinstance(h, tuple) else h
    padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)
    (padded * lib.tensor(np.arange(padded.numel()).reshape(tuple(padded.shape)) * 0.01)
     ).sum().add(h.sum()).backward()
    res = {"padded": padded.detach().numpy(), "lens": lens.numpy(), "h": h.detach().numpy(),
           "data": out.data.detach().numpy(), "sizes": out.batch_sizes.numpy(),
           "grad": xt.grad.numpy(),
           "wgrads": {k: p.grad.numpy() for k, p in mod.named_parameters()}}
    if torch_side:
        res["state"] = {k: v.detach().numpy() for k, v in mod.state_dict().items()}
    return res


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_on_packed_batches_match_torch(kind, bidirectional, batch_first):
    ref = oracle(lambda torch: _run(torch, X, kind, bidirectional, batch_first))
    ours = _run(gradwalk, X, kind, bidirectional, batch_first, ref["state"])
    for k in ("padded", "h", "data", "grad"):
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-8, atol=1e-10, err_msg=k)
    np.testing.assert_array_equal(ours["lens"], ref["lens"])
    np.testing.assert_array_equal(ours["sizes"], ref["sizes"])
    for k, g in ref["wgrads"].items():
        np.testing.assert_allclose(ours["wgrads"][k], g, rtol=1e-8, atol=1e-10, err_msg=k)


def _helpers(lib):
    U = lib.nn.utils.rnn
    seqs = [lib.tensor(rng_seq) for rng_seq in (X[:3, 0], X[:5, 1], X[:2, 2])]
    p = U.pack_sequence(seqs, enforce_sorted=False)
    padded, lens = U.pad_packed_sequence(p, batch_first=True, padding_value=-1.0,
                                         total_length=6)
    return {"data": p.data.numpy(), "sizes": p.batch_sizes.numpy(),
            "sorted": p.sorted_indices.numpy(), "unsorted": p.unsorted_indices.numpy(),
            "padded": padded.numpy(), "lens": lens.numpy(),
            "pad_left": U.pad_sequence(seqs, padding_value=2.0, padding_side="left").numpy(),
            "sorted_pack": U.pack_sequence(sorted(seqs, key=lambda s: -s.shape[0])).data
            .numpy()}


def test_pack_and_pad_helpers_match_torch():
    ref = oracle(_helpers)
    ours = _helpers(gradwalk)
    for k, v in ref.items():
        np.testing.assert_allclose(ours[k], v, err_msg=k)


def test_pack_padded_sequence_refuses_unsorted_lengths_and_zero_lengths():
    x = gradwalk.tensor(X)
    with pytest.raises(RuntimeError, match="enforce_sorted"):
        R.pack_padded_sequence(x, LENS)
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [5, 0, 1])
