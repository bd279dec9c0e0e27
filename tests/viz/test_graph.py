"""Pictures of the recorded graph (``gradwalk.viz``): checked on the DOT structure."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import gradwalk
from gradwalk import nn, viz
from gradwalk.autograd.explain import fmt_number
from gradwalk.viz import Picture
from tests.fixtures.oracle import oracle


def _parse(pic: Picture):
    """Boxes (id -> first label line, full label, style) and arrows (src, dst, label) from the
    DOT text itself, so the tests check what Graphviz would get."""
    src = pic.source
    boxes = {}
    for m in re.finditer(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', src, re.M):
        label = m.group(2).replace("\\n", "\n")
        boxes[m.group(1)] = (label.split("\n")[0], label, m.group(3))
    arrows = []
    for m in re.finditer(r'^  (\w+) -> (\w+)(?: \[label="([^"]*)"\])?;$', src, re.M):
        arrows.append((m.group(1), m.group(2), m.group(3) or ""))
    return boxes, arrows


def _named_arrows(pic):
    boxes, arrows = _parse(pic)
    return sorted((boxes[a][0], boxes[b][0], lab) for a, b, lab in arrows)


def test_lesson_graph_structure():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 1
    pic = viz.draw(y)
    boxes, arrows = _parse(pic)
    # the ops, the leaf, and the constants: the 1, the 2 of 2*x, the exponent 2
    assert sorted(v[0] for v in boxes.values()) == ["1", "2", "2", "Add", "Add", "Mul", "Pow",
                                                    "x"]
    # x feeds Pow and Mul; Pow and Mul feed the inner Add; that feeds the root Add. Every
    # arrow into an op of several inputs (constants included) is labelled
    assert _named_arrows(pic) == [("1", "Add", "other"), ("2", "Mul", "other"),
                                  ("2", "Pow", "exponent"), ("Add", "Add", "self"),
                                  ("Mul", "Add", "other"), ("Pow", "Add", "self"),
                                  ("x", "Mul", "self"), ("x", "Pow", "self")]
    labels = {v[1] for v in boxes.values()}
    assert "Add\nscalar float32 = 16" in labels  # the root's value
    assert "x\nscalar float32 = 3" in labels    # the leaf: caller's variable name and value
    # the intermediate values, without viz.record(): 9, 6, 15
    assert {"Pow\nscalar float32 = 9", "Mul\nscalar float32 = 6",
            "Add\nscalar float32 = 15"} <= labels
    assert pic.source.startswith('digraph "graph" {')


def test_gradients_after_backward_and_explicit_names():
    w = gradwalk.tensor([1.0, 2.0], requires_grad=True, name="weights")
    loss = (w * w).sum()
    loss.backward()
    boxes, _ = _parse(viz.draw(loss))
    leaf = next(v[1] for v in boxes.values() if v[0] == "weights")
    assert leaf == "weights\n[2] float32 = [1, 2]\ngrad [2, 4]"  # small tensors show values
    boxes, _ = _parse(viz.draw(loss, show_grads=False, show_values=False))
    assert next(v[1] for v in boxes.values() if v[0] == "weights") == "weights\n[2] float32"


def test_intermediate_shapes_and_recorded_values():
    a = gradwalk.ones(2, 3, requires_grad=True)
    with viz.record():
        h = (a * 2.0).tanh()
        s = h.sum()
        t = s * 3.0
    s_value = float(s)
    t.backward()  # frees the graph: the recorded values still show
    boxes, _ = _parse(viz.draw(t))
    labels = sorted(v[1] for v in boxes.values())
    # record() kept the small outputs: the [2, 3] ones (6 elements) show their values
    assert "Mul\n[2, 3] float32 = [[2, 2, 2], [2, 2, 2]]" in labels
    tanh2 = fmt_number(float(np.tanh(np.float32(2.0))))
    assert f"Tanh\n[2, 3] float32 = [[{tanh2}, {tanh2}, {tanh2}], [{tanh2}, {tanh2}, {tanh2}]]" \
        in labels
    assert f"Sum\nscalar float32 = {fmt_number(s_value)}" in labels


def test_several_roots_share_nodes():
    x = gradwalk.tensor(1.0, requires_grad=True, name="x")
    e = x.exp()
    pic = viz.draw([e * 2.0, e + 1.0])
    boxes, arrows = _parse(pic)
    assert sorted(v[0] for v in boxes.values()) == ["1", "2", "Add", "Exp", "Mul", "x"]
    assert len(arrows) == 3 + 2  # x -> Exp -> (Mul, Add), and the constants 2 and 1


def test_leaf_without_graph_and_bad_input():
    pic = viz.draw(gradwalk.zeros(2))
    assert len(pic.boxes) == 1 and not pic.arrows
    with pytest.raises(TypeError, match="draw\\(\\) expects Tensors"):
        viz.draw([1.0])


def test_deep_chain_has_no_recursion_limit():
    x = gradwalk.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    pic = viz.draw(y, show_values=False)
    assert len(pic.boxes) == 3001 and len(pic.arrows) == 3000


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


def test_collapse_repeated_blocks_of_a_big_model():
    model = nn.Sequential(*[Block() for _ in range(70)])
    with viz.record(model):
        loss = model(gradwalk.ones(2, 4)).sum()
    full = viz.draw(loss)
    # 2 Addmm, 4 params, Tanh, Add per block, the Sum, and block 0's data input twice (into
    # the first Linear and the residual add, which does not keep it: "constant")
    assert len(full.boxes) == 70 * 8 + 1 + 2 > 500
    # one box per block (the first part of the dotted module name)
    pic = viz.draw(loss, collapse_modules=1)
    boxes, arrows = _parse(pic)
    modules = [v for v in boxes.values() if "box3d" in v[2]]
    assert len(modules) == 70 and len(boxes) == 71  # 70 blocks and the Sum
    assert sorted(v[0] for v in boxes.values())[:3] == ["0 (Block)", "1 (Block)", "10 (Block)"]
    root = next(v[1] for v in boxes.values() if v[0] == "69 (Block)")
    # ops listed in the order the walk from the loss meets them: the residual Add first
    assert root.split("\n")[1:] == ["4 ops: Add, 2x Addmm, Tanh", "4 params, 40 values"]
    assert len(arrows) == 70  # the input data is not drawn: a chain of blocks plus the Sum
    # one box per innermost module: Linear, Tanh, Linear per block, the residual add alone
    inner = viz.draw(loss, collapse_modules=True)
    assert 3 * 70 < len(inner.boxes) < len(full.boxes)


def test_collapse_without_tags_uses_parameter_names():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = model(gradwalk.ones(2, 3)).sum()
    boxes, _ = _parse(viz.draw(loss, collapse_modules=True))
    firsts = sorted(v[0] for v in boxes.values())
    # Linear 0 and 2 (their parameters and Addmm) become boxes, titled by index and class;
    # Tanh and Sum stay ops
    assert firsts == ["0 (Linear)", "2 (Linear)", "Sum", "Tanh"]


def test_record_removes_its_hooks():
    from gradwalk.ops import registry

    model = nn.Linear(2, 2)
    n = len(registry._forward_hooks)
    with viz.record(model):
        assert len(registry._forward_hooks) == n + 1
    assert len(registry._forward_hooks) == n
    out = model(gradwalk.ones(1, 2))
    assert out.grad_fn.meta is None


def test_mimebundle_always_has_dot_text():
    x = gradwalk.tensor(1.0, requires_grad=True, name="x")
    bundle = viz.draw(x * 2.0)._repr_mimebundle_()
    assert bundle["text/plain"].startswith("digraph")


def test_missing_dot_program_gives_remedy(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' here
    pic = viz.draw(gradwalk.tensor(1.0, requires_grad=True) * 2.0)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        pic.svg()
    assert pic._repr_svg_() is None
    assert "image/svg+xml" not in pic._repr_mimebundle_()
    path = tmp_path / "g.dot"
    pic.save(str(path))  # DOT text needs nothing
    assert path.read_text().startswith("digraph")


def test_renders_svg_and_png(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    x = gradwalk.tensor(3.0, requires_grad=True, name="x")
    y = x**2 + 2*x + 1
    y.backward()
    pic = viz.draw(y)
    svg = pic.svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # 4 ops, x, and 3 constants (the 1, the 2 of 2*x, the exponent); 8 arrows
    assert svg.count('class="node"') == 8 and svg.count('class="edge"') == 8
    assert ">grad 8<" in svg
    png = pic.save(str(tmp_path / "g.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" in pic._repr_mimebundle_()


# ------------------------------------------------------------------ issue 14: the picture speaks

def _label_of(pic, first):
    boxes, _ = _parse(pic)
    return [v[1] for v in boxes.values() if v[0] == first]


def test_small_tensor_values_without_record():
    w = gradwalk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = (w * 2.0).exp()
    loss = ((h - 1.0) * 0.5).sum()
    pic = viz.draw(loss)
    e = np.exp(np.array([2.0, 4.0, 6.0], dtype=np.float32))
    half = ", ".join(fmt_number(v) for v in (e - 1) * np.float32(0.5))
    assert _label_of(pic, "Mul") == [f"Mul\n[3] float32 = [{half}]",
                                     "Mul\n[3] float32 = [2, 4, 6]"]
    assert _label_of(pic, "Exp") == [
        "Exp\n[3] float32 = [" + ", ".join(fmt_number(v) for v in e) + "]"]
    # the subtracted 1 follows from Sub's output (saved by the Mul) and its input
    assert "Sub\n[3] float32 = [" + ", ".join(fmt_number(v) for v in e - 1) + "]" in \
        _label_of(pic, "Sub")
    assert _label_of(pic, "1") == ["1"]
    # bigger tensors show shape and dtype only
    big = (gradwalk.ones(3, 3, requires_grad=True) * 2.0).sum()
    assert _label_of(viz.draw(big), "Mul") == ["Mul\n[3, 3] float32"]


def test_values_are_gone_after_backward_and_checked_after_inplace_changes():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = (x * 3.0 + 1.0) * 5.0
    y.backward()  # frees the graph: only what is still held shows
    pic = viz.draw(y)
    assert _label_of(pic, "Add") == ["Add\nscalar float32"]
    # a graph that saves nothing, then a leaf changed in place: a re-run would be wrong, so
    # only the values the graph holds are drawn
    a = gradwalk.tensor(2.0, requires_grad=True)
    z = (a + 1.0) + 2.0
    with gradwalk.no_grad():
        a.add_(10.0)
    pic = viz.draw(z)
    assert _label_of(pic, "Add") == ["Add\nscalar float32 = 5", "Add\nscalar float32"]
    assert sorted(_label_of(pic, "constant")) == ["constant", "constant"]


def test_constant_tensor_input_is_named():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    mask = gradwalk.tensor([0.0, 1.0])
    pic = viz.draw((x * mask).sum())
    assert _label_of(pic, "mask") == ["mask\n[2] float32 = [0, 1]"]
    assert ("mask", "Mul", "other") in _named_arrows(pic)


def test_edges_into_many_input_ops_are_all_labelled():
    a = gradwalk.tensor([1.0], requires_grad=True)
    b = gradwalk.tensor([2.0], requires_grad=True)
    pic = viz.draw(gradwalk.cat([a, b, a * b]))
    arrows = [x for x in _named_arrows(pic) if x[1] == "Cat"]
    assert arrows == [("Mul", "Cat", "tensors[2]"), ("a", "Cat", "tensors[0]"),
                      ("b", "Cat", "tensors[1]")]
    pic = viz.draw(gradwalk.clamp(a ** 3, 0.0, 5.0))
    assert [x for x in _named_arrows(pic) if x[1] == "Clamp"] == [
        ("0", "Clamp", "min"), ("5", "Clamp", "max"), ("Pow", "Clamp", "self")]
    assert ("3", "Pow", "exponent") in _named_arrows(pic)


def test_cross_entropy_is_drawn_as_torchs_chain():
    import gradwalk.nn.functional as F

    logits = gradwalk.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], requires_grad=True)
    target = gradwalk.tensor([1, 2])
    loss = F.cross_entropy(logits, target)
    assert loss.grad_fn.name() == "NllLossBackward0"
    pic = viz.draw(loss)
    assert _named_arrows(pic) == [("LogSoftmax", "NllLoss", "self"),
                                  ("logits", "LogSoftmax", ""),
                                  ("target", "NllLoss", "target")]
    x = logits.detach().numpy().astype(np.float64)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    text = "[" + ", ".join("[" + ", ".join(fmt_number(float(np.float32(v))) for v in row) + "]"
                           for row in logp) + "]"
    assert _label_of(pic, "LogSoftmax") == [f"LogSoftmax\n[2, 3] float32 = {text}"]
    assert _label_of(pic, "NllLoss") == [f"NllLoss\nscalar float32 = {fmt_number(float(loss))}"]
    assert _label_of(pic, "target") == ["target\n[2] int64 = [1, 2]"]


def _torch_cross_entropy_chain(torch):
    t_loss = torch.nn.functional.cross_entropy(torch.zeros(2, 3, requires_grad=True),
                                               torch.tensor([0, 1]))
    return [t_loss.grad_fn.next_functions[0][0].name(), t_loss.grad_fn.name()]


def test_cross_entropy_chain_names_match_torch():
    import gradwalk.nn.functional as F

    chain = oracle(_torch_cross_entropy_chain)
    g_loss = F.cross_entropy(gradwalk.zeros(2, 3, requires_grad=True), gradwalk.tensor([0, 1]))
    boxes, arrows = _parse(viz.draw(g_loss))
    drawn = [(boxes[a][0], boxes[b][0]) for a, b, _ in arrows
             if boxes[b][0] == "NllLoss" and boxes[a][0] != "target"]
    assert [n + "Backward0" for n in drawn[0]] == chain
    assert g_loss.grad_fn.name() == chain[1]


def test_sequential_modules_titled_by_index_and_class():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    with viz.record(model):
        loss = model(gradwalk.ones(2, 3)).sum()
    boxes, arrows = _parse(viz.draw(loss, collapse_modules=True))
    assert sorted(v[0] for v in boxes.values()) == ["0 (Linear)", "1 (Tanh)", "2 (Linear)",
                                                    "Sum"]
    # without record() the parameters' module names give the same titles (Tanh has none)
    loss2 = model(gradwalk.ones(2, 3)).sum()
    boxes, _ = _parse(viz.draw(loss2, collapse_modules=True))
    assert sorted(v[0] for v in boxes.values()) == ["0 (Linear)", "2 (Linear)", "Sum", "Tanh"]


def test_collapse_modules_called_directly():
    lstm = nn.LSTM(3, 4)
    head = nn.Linear(4, 2)
    out, _ = lstm(gradwalk.ones(5, 1, 3))
    y = head(out).sum()
    full = viz.draw(y)
    pic = viz.draw(y, collapse_modules=True)
    boxes, arrows = _parse(pic)
    assert len(full.boxes) > 10  # the fused layer's node, its weights, the head's ops
    assert sorted(v[0] for v in boxes.values()) == ["Sum", "head (Linear)", "lstm (LSTM)"]
    lstm_box = next(v[1] for v in boxes.values() if v[0] == "lstm (LSTM)")
    assert lstm_box.endswith(f"4 params, {sum(p.numel() for p in lstm.parameters())} values")
    assert _named_arrows(pic) == [("head (Linear)", "Sum", ""),
                                  ("lstm (LSTM)", "head (Linear)", "")]


def test_draw_of_a_number_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"draw\(\) expects a Tensor or a list of Tensors, got "
                                        r"float \(3\.0\)"):
        viz.draw(3.0)
    with pytest.raises(TypeError, match="got int"):
        viz.draw([gradwalk.tensor(1.0), 2])
    with pytest.raises(TypeError, match="got str"):
        viz.draw("y")
    x = gradwalk.tensor(1.0, requires_grad=True)
    assert len(viz.draw(t * 2.0 for t in [x]).boxes) == 3  # any iterable of tensors


def test_missing_dot_is_one_line_with_the_install_command(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' here
    pic = viz.draw(gradwalk.tensor(1.0, requires_grad=True) * 2.0)
    with pytest.raises(RuntimeError) as info:
        pic.png()
    msg = str(info.value)
    assert "\n" not in msg and "apt-get install graphviz" in msg and "brew" in msg
    html = pic._repr_mimebundle_()["text/html"]
    assert html.splitlines()[0] == f"<p>{msg}</p>" and "digraph" in html
