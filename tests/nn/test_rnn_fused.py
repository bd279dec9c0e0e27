"""The fused recurrent layers (``gradwalk.ops.rnn``, Note [fused recurrent layers]): PyTorch parity
in float64 over the configurations the fused node covers (LSTM ``proj_size`` included), the fused
path against the composite path it replaces, finite-difference gradients, double backward
(``create_graph``), forward mode, one node per layer and direction, and the errors."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from gradwalk.autograd import forward_ad as fwAD
from gradwalk.nn.modules import rnn as rnn_module
from gradwalk.ops import rnn as R
from tests.fixtures.oracle import error_of, oracle

from .parity import check_layer

# ---------------------------------------------------------------------------------------------
# PyTorch parity: outputs, final states, the input's and initial states' gradients and every
# parameter's gradient (check_layer), float64

PARITY = [
    ("LSTM", dict(proj_size=2)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(proj_size=2, bias=False, num_layers=2)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True, bias=False)),
    ("GRU", dict(bias=False, bidirectional=True, batch_first=True)),
    ("GRU", dict(num_layers=3)),
    ("RNN", dict(num_layers=2, batch_first=True)),
]


@pytest.mark.parametrize("cls,kw", PARITY, ids=[f"{c}-{k}" for c, k in PARITY])
def test_fused_layers_match_torch(cls, kw):
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    check_layer(lambda m: getattr(m.nn, cls)(4, 5, **kw), x)


def test_lstm_proj_size_with_initial_states_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4))
    h0, c0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 5))
    check_layer(lambda m: m.nn.LSTM(4, 5, proj_size=2, num_layers=2, bidirectional=True), x,
                h0, c0, call=lambda m, x, h, c: m(x, (h, c)))


def test_lstm_proj_size_unbatched_matches_torch():
    rng = np.random.default_rng(2)
    x, h0, c0 = (rng.standard_normal(s) for s in ((3, 4), (1, 2), (1, 5)))
    check_layer(lambda m: m.nn.LSTM(4, 5, proj_size=2), x, h0, c0,
                call=lambda m, x, h, c: m(x, (h, c)))


@pytest.mark.parametrize("cls", ["GRU", "RNN"])
def test_initial_state_of_a_bidirectional_stack_matches_torch(cls):
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((3, 2, 4)), rng.standard_normal((4, 2, 5))
    check_layer(lambda m: getattr(m.nn, cls)(4, 5, num_layers=2, bidirectional=True), x, h0)


def test_lstm_proj_size_parameters_and_repr_match_torch():
    def names(m):
        mod = m.nn.LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True)
        return ([(n, tuple(p.shape)) for n, p in mod.named_parameters()], repr(mod),
                [len(w) for w in mod.all_weights])

    t_names, t_repr, t_groups = oracle(names)
    g = nn.LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True)
    assert t_names == [(n, p.shape) for n, p in g.named_parameters()]
    assert repr(g) == t_repr
    assert t_groups == [len(w) for w in g.all_weights]


@pytest.mark.parametrize("kw", [dict(proj_size=5), dict(proj_size=-1)])
def test_bad_proj_size_raises_as_torch(kw):
    ref = oracle(lambda torch: error_of(lambda t: t.nn.LSTM(3, 5, **kw), torch))
    with pytest.raises(ValueError, match="proj_size") as e:
        nn.LSTM(3, 5, **kw)
    assert type(e.value).__name__ == ref[0]


# ---------------------------------------------------------------------------------------------
# the fused path against the composite path (the per-step graph it replaces)


def _composite(fn):
    saved = rnn_module.rnn_layer
    rnn_module.rnn_layer = R.composite_layer
    try:
        return fn()
    finally:
        rnn_module.rnn_layer = saved


def _run(mod, x, states, seed=0):
    """Outputs and every gradient (input, states, parameters) of ``mod`` on ``x``."""
    gradwalk.manual_seed(seed)
    xt = gradwalk.tensor(x, requires_grad=True)
    st = [gradwalk.tensor(s, requires_grad=True) for s in states]
    hx = None if not st else (tuple(st) if len(st) == 2 else st[0])
    out, fin = mod(xt, hx)
    fin = list(fin) if isinstance(fin, tuple) else [fin]
    rng = np.random.default_rng(seed)
    total = sum(((t * gradwalk.tensor(rng.standard_normal(tuple(t.shape)))).sum()
                 for t in [out] + fin), gradwalk.tensor(0.0))
    total.backward()
    grads = [xt.grad] + [s.grad for s in st] + [p.grad for p in mod.parameters()]
    return [t.detach().numpy() for t in [out] + fin] + [g.numpy() for g in grads]


FUSED_CASES = [
    ("LSTM", dict(num_layers=2, bidirectional=True, dropout=0.3), (5, 3, 4), 2),
    ("GRU", dict(num_layers=2, dropout=0.5, batch_first=True), (3, 5, 4), 1),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True, dropout=0.2),
     (5, 3, 4), 1),
    ("RNN", dict(bias=False), (5, 4), 0),
    ("LSTM", dict(proj_size=3, bidirectional=True), (5, 4), 2),
    ("GRU", dict(bidirectional=True, bias=False), (6, 1, 4), 0),
]


@pytest.mark.parametrize("cls,kw,shape,n_states", FUSED_CASES,
                         ids=[f"{c}-{k}-{s}-{n}" for c, k, s, n in FUSED_CASES])
def test_fused_path_matches_the_composite_path(cls, kw, shape, n_states):
    """Dropout between layers in train mode too: the same seed draws the same masks."""
    gradwalk.manual_seed(0)
    mod = getattr(nn, cls)(4, 6, **kw).double()
    mod.train()
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    dirs = 2 if kw.get("bidirectional") else 1
    lead = (kw.get("num_layers", 1) * dirs,) + ((shape[1],) if len(shape) == 3 else ())
    if kw.get("batch_first"):
        lead = (lead[0], shape[0])
    sizes = [kw.get("proj_size") or 6, 6][:n_states]
    states = [rng.standard_normal(lead + (s,)) for s in sizes]
    fused = _run(mod, x, states)
    mod.zero_grad()
    composite = _composite(lambda: _run(mod, x, states))
    assert len(fused) == len(composite)
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_each_layer_and_direction_is_one_node():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    out, (h, c) = lstm(gradwalk.randn(5, 2, 3))
    names = []
    stack = [out.grad_fn]
    seen = set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.append(n.name())
        stack += [f for f, _ in n.next_functions]
    assert names.count("LstmLayerBackward0") == 4
    assert sorted(set(names)) == ["AccumulateGrad", "CatBackward0", "LstmLayerBackward0"]
    gru = nn.GRU(3, 4)
    out, h = gru(gradwalk.randn(5, 2, 3))
    assert out.grad_fn.name() == "GruLayerBackward0" and out.grad_fn is h.grad_fn.next_functions[
        0][0]


@pytest.mark.parametrize("cls,name", [("RNNCell", "RnnTanhLayerBackward0"),
                                      ("LSTMCell", "LstmLayerBackward0"),
                                      ("GRUCell", "GruLayerBackward0")])
def test_a_cell_call_is_one_node(cls, name):
    cell = getattr(nn, cls)(3, 4)
    out = cell(gradwalk.randn(2, 3))
    h = out[0] if isinstance(out, tuple) else out
    assert h.grad_fn.name() == name


def test_no_node_without_grad_and_outputs_are_own_memory():
    lstm = nn.LSTM(3, 4)
    with gradwalk.no_grad():
        out, (h, c) = lstm(gradwalk.randn(5, 2, 3))
    assert out.grad_fn is None and h.grad_fn is None and not out.requires_grad
    out, (h, c) = lstm(gradwalk.randn(5, 2, 3))
    assert not np.shares_memory(out._data, h._data)


def test_changing_the_output_in_place_before_backward_raises():
    lstm = nn.LSTM(3, 4)
    out, _ = lstm(gradwalk.randn(5, 2, 3))
    out.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_changing_a_weight_in_place_before_backward_raises():
    gru = nn.GRU(3, 4)
    out, _ = gru(gradwalk.randn(5, 2, 3))
    with gradwalk.no_grad():
        gru.weight_hh_l0.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_second_backward_needs_retain_graph():
    rnn = nn.RNN(3, 4)
    out, _ = rnn(gradwalk.randn(5, 2, 3))
    out.sum().backward(retain_graph=True)
    first = rnn.weight_hh_l0.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(rnn.weight_hh_l0.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()


def test_float32_layers_keep_float32():
    lstm = nn.LSTM(3, 4, proj_size=2)
    x = gradwalk.randn(5, 2, 3, requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + c.sum()).backward()
    assert out.dtype == h.dtype == c.dtype == x.grad.dtype == gradwalk.float32
    assert lstm.weight_hr_l0.grad.dtype == gradwalk.float32


@pytest.mark.parametrize("shapes", [[(2, 5)], [(2, 3), (3, 4)], [(2, 3), (2, 5)]])
def test_cell_size_errors_are_torch_errors(shapes):
    ref = oracle(lambda torch: error_of(
        lambda t: t.nn.GRUCell(3, 4)(*[t.zeros(s) for s in shapes]), torch))
    with pytest.raises(RuntimeError) as e:
        nn.GRUCell(3, 4)(*[gradwalk.zeros(s) for s in shapes])
    assert type(e.value).__name__ == ref[0]


# ---------------------------------------------------------------------------------------------
# finite differences: first and second order, and forward mode


def _layer_fn(mode, reverse, proj):
    def f(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
        y, h, c = R.rnn_layer(mode, x, h0, c0 if mode == "LSTM" else None, w_ih, w_hh, b_ih,
                              b_hh, w_hr if proj else None, reverse=reverse)
        return (y, h) if c is None else (y, h, c)
    return f


def _layer_inputs(mode, proj, seed=0, steps=4, batch=2, hid=3, size=2):
    rng = np.random.default_rng(seed)
    p = hid - 1 if proj else hid
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hid
    shapes = [(steps, batch, size), (batch, p), (batch, hid), (gates, size), (gates, p),
              (gates,), (gates,), (p, hid)]
    return [gradwalk.tensor(rng.standard_normal(s) * 0.6, requires_grad=True) for s in shapes]


def _second_order(fn, ins):
    """``gradgradcheck`` in the input, the initial states and ``weight_hh`` (the recurrence);
    the other weights held fixed, to keep the finite differences few."""
    fixed = {k: ins[k].detach() for k in (3, 5, 6, 7)}

    def f(x, h0, c0, w_hh):
        return fn(x, h0, c0, fixed[3], w_hh, fixed[5], fixed[6], fixed[7])

    return gradwalk.autograd.gradgradcheck(f, [ins[0], ins[1], ins[2], ins[4]], eps=1e-6,
                                           atol=1e-5)


LAYER_CASES = [("LSTM", False, False), ("LSTM", True, True), ("GRU", True, False),
               ("GRU", False, False), ("RNN_TANH", True, False), ("RNN_RELU", False, False)]


@pytest.mark.parametrize("mode,reverse,proj", LAYER_CASES,
                         ids=[f"{m}-rev{r}-proj{p}" for m, r, p in LAYER_CASES])
def test_gradcheck(mode, reverse, proj):
    ins = _layer_inputs(mode, proj)
    assert gradwalk.autograd.gradcheck(_layer_fn(mode, reverse, proj), ins, eps=1e-6,
                                       atol=1e-6)


@pytest.mark.parametrize("mode,reverse,proj", LAYER_CASES,
                         ids=[f"{m}-rev{r}-proj{p}" for m, r, p in LAYER_CASES])
def test_gradgradcheck(mode, reverse, proj):
    ins = _layer_inputs(mode, proj, seed=1, steps=3, batch=2, hid=2)
    assert _second_order(_layer_fn(mode, reverse, proj), ins)


def test_double_backward_through_a_module_matches_the_composite_path():
    """A gradient penalty: d/dw of |d loss / d x|^2, fused against composite."""
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x_np = np.random.default_rng(4).standard_normal((4, 2, 2))

    def penalty():
        x = gradwalk.tensor(x_np, requires_grad=True)
        out, (h, c) = lstm(x)
        loss = (out ** 2).sum() + c.sum()
        (gx,) = gradwalk.autograd.grad(loss, x, create_graph=True)
        lstm.zero_grad()
        (gx ** 2).sum().backward()
        return [p.grad.numpy().copy() for p in lstm.parameters()]

    for a, b in zip(penalty(), _composite(penalty)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_forward_mode_matches_finite_differences(cls):
    """Forward-mode AD (a forward hook is installed) runs the composite path."""
    mod = getattr(nn, cls)(2, 3, num_layers=2, bidirectional=True).double()
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 2))
    with fwAD.dual_level():
        out, _ = mod(fwAD.make_dual(gradwalk.tensor(x), gradwalk.tensor(t)))
        tangent = fwAD.unpack_dual(out).tangent.detach().numpy()
    eps = 1e-6
    with gradwalk.no_grad():
        hi = mod(gradwalk.tensor(x + eps * t))[0].numpy()
        lo = mod(gradwalk.tensor(x - eps * t))[0].numpy()
    np.testing.assert_allclose(tangent, (hi - lo) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_empty_sequence_raises_and_empty_batch_runs_as_torch():
    ref = oracle(lambda torch: error_of(lambda t: t.nn.LSTM(3, 4)(t.zeros(0, 2, 3)), torch))
    with pytest.raises(RuntimeError, match="sequence length") as e:
        nn.LSTM(3, 4)(gradwalk.zeros(0, 2, 3))
    assert type(e.value).__name__ == ref[0]
    t_shapes = oracle(lambda torch: [tuple(o.shape) for o in torch.nn.GRU(
        3, 4, bidirectional=True)(torch.zeros(3, 0, 3, requires_grad=True))])
    x = gradwalk.zeros(3, 0, 3, requires_grad=True)
    out, h = nn.GRU(3, 4, bidirectional=True)(x)
    assert [tuple(out.shape), tuple(h.shape)] == t_shapes
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == x.shape


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1, but got dropout=0.5"):
        nn.GRU(3, 4, dropout=0.5)


def test_hooks_and_retain_grad_on_the_outputs():
    lstm = nn.LSTM(3, 4).double()
    out, (h, c) = lstm(gradwalk.randn(5, 2, 3).double())
    h.retain_grad()
    seen = []
    c.register_hook(lambda g: seen.append(g.shape) or g * 2)
    (out.sum() + h.sum() + c.sum()).backward()
    assert seen == [(1, 2, 4)] and np.array_equal(h.grad.numpy(), np.ones((1, 2, 4)))
    ref = gradwalk.autograd.grad
    out2, (h2, c2) = lstm(gradwalk.randn(5, 2, 3).double())
    (g_once,) = ref(c2.sum(), lstm.weight_ih_l0, retain_graph=True)
    (g_twice,) = ref((2 * c2).sum(), lstm.weight_ih_l0)
    np.testing.assert_allclose(g_twice.numpy(), 2 * g_once.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# packed batches: one fused node per layer and direction, sequences of different lengths


def _packed_run(lib, kind, kw, state=None):
    rng = np.random.default_rng(6)
    x, lens = rng.standard_normal((4, 3, 2)), [2, 4, 1]
    mod = getattr(lib.nn, kind)(2, 3, num_layers=2, bidirectional=True, **kw).double()
    if state is not None:
        mod.load_state_dict(state)
    hsize = kw.get("proj_size") or 3
    xt = lib.tensor(x, requires_grad=True)
    states = [lib.tensor(rng.standard_normal((4, 3, s)), requires_grad=True)
              for s in ([hsize, 3] if kind == "LSTM" else [hsize])]
    packed = lib.nn.utils.rnn.pack_padded_sequence(xt, lens, enforce_sorted=False)
    out, fin = mod(packed, tuple(states) if kind == "LSTM" else states[0])
    fin = list(fin) if isinstance(fin, tuple) else [fin]
    padded, _ = lib.nn.utils.rnn.pad_packed_sequence(out)
    w = lib.tensor(rng.standard_normal(tuple(padded.shape)))
    total = (padded * w).sum()
    for f in fin:
        total = total + (f * lib.tensor(rng.standard_normal(tuple(f.shape)))).sum()
    total.backward()
    res = {"outs": [t.detach().numpy() for t in [padded] + fin],
           "grads": [t.grad.numpy() for t in [xt] + states],
           "wgrads": {k: p.grad.numpy() for k, p in mod.named_parameters()}}
    if lib is not gradwalk:
        res["state"] = {k: v.detach().numpy() for k, v in mod.state_dict().items()}
    return res


@pytest.mark.parametrize("kind,kw", [("LSTM", dict(proj_size=2)), ("GRU", {}),
                                     ("RNN", dict(nonlinearity="relu"))])
def test_packed_batches_with_initial_states_match_torch(kind, kw):
    ref = oracle(lambda torch: _packed_run(torch, kind, kw))
    ours = _packed_run(gradwalk, kind, kw, ref["state"])
    for a, b in zip(ours["outs"] + ours["grads"], ref["outs"] + ref["grads"]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    for k, g in ref["wgrads"].items():
        np.testing.assert_allclose(ours["wgrads"][k], g, rtol=1e-8, atol=1e-10, err_msg=k)


def test_packed_batch_is_one_node_per_layer_and_direction():
    gru = nn.GRU(2, 3, bidirectional=True)
    x = gradwalk.randn(4, 3, 2)
    packed = nn.utils.rnn.pack_padded_sequence(x, [4, 2, 1])
    out, h = gru(packed)
    assert [f.name() for f, _ in h.grad_fn.next_functions] == ["GruLayerBackward0"] * 2


@pytest.mark.parametrize("mode,reverse", [("LSTM", True), ("GRU", False), ("RNN_TANH", True)])
def test_gradcheck_and_gradgradcheck_with_batch_sizes(mode, reverse):
    def packed(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
        y, h, c = R.rnn_layer(mode, x, h0, c0 if mode == "LSTM" else None, w_ih, w_hh, b_ih,
                              b_hh, None, reverse=reverse, batch_sizes=[2, 2, 1])
        return (y, h) if c is None else (y, h, c)

    ins = _layer_inputs(mode, False, seed=2, steps=3, batch=2)
    assert gradwalk.autograd.gradcheck(packed, ins, eps=1e-6, atol=1e-6)
    ins = _layer_inputs(mode, False, seed=3, steps=3, batch=2, hid=2)
    assert _second_order(packed, ins)
