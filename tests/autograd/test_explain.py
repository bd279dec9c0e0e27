"""The backward walk, step by step (``gradwalk.autograd.explain``)."""

from __future__ import annotations

import numpy as np

import gradwalk
from gradwalk.autograd import engine
from gradwalk.autograd.explain import RULES, fmt_array, rule_texts

# y = x**2 + 2*x + 1 at x = 3. The graph: Add(Add(Pow(x), Mul(2, x)), 1). The engine runs the
# latest-created ready node first, so after both Adds the Mul (2*x, created after x**2) runs
# before the Pow; x's AccumulateGrad runs last and receives 2 (from Mul: grad * 2 = 1 * 2) and
# 6 (from Pow: grad * 2 * x = 1 * 2 * 3); the terms are shown in forward order: 6 + 2 = 8.
# Inputs are named as the code wrote them (x**2 + 2*x, x**2, 2*x, x); the Add with the Python
# number 1 keeps nothing about it (a "constant" of unknown value); the Mul saved its inputs, so
# the constant 2 is named and appears in the rule.
LESSON_TABLE = """\
backward walk: 5 steps

step  node              grad in  input       rule          with  sends  to
----  ----------------  -------  ----------  ------------  ----  -----  -------------
   1  AddBackward0 (y)  1        x**2 + 2*x  grad                1      step 2 Add
                                 constant    -                   -      (constant)
   2  AddBackward0      1        x**2        grad                1      step 4 Pow
                                 2*x         grad                1      step 3 Mul
   3  MulBackward0      1        x           grad * 2      x=3   2      step 5 x.grad
                                 2           -                   -      (constant)
   4  PowBackward0      1        x           grad * 2 * x  x=3   6      step 5 x.grad
   5  AccumulateGrad    8        x.grad = 6 + 2 = 8"""


def test_lesson_walk_table_exact():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 1
    with gradwalk.autograd.explain() as walk:
        y.backward()
    assert str(walk) == LESSON_TABLE
    assert float(x.grad) == 8.0


def test_lesson_walk_steps():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 1
    with gradwalk.autograd.explain() as walk:
        y.backward()
    names = [s.name for s in walk.steps]
    assert names == ["AddBackward0", "AddBackward0", "MulBackward0", "PowBackward0",
                     "AccumulateGrad"]
    # the three paths: x**2 sends 6, 2*x sends 2, the constant 1 sends nothing
    first = walk.steps[0]
    assert [s.grad for s in first.sent] == ["1", None]
    pow_step = walk.steps[3]
    assert pow_step.sent[0].rule == "grad * 2 * x" and pow_step.sent[0].grad == "6"
    assert walk.steps[2].sent[0].grad == "2"  # 2*x records mul(x, 2), as PyTorch does
    acc = walk.steps[-1]
    assert acc.kind == "accumulate" and acc.text == "x.grad = 6 + 2 = 8"
    assert acc.grad_value == 8.0


def test_name_beats_variable_name_and_square():
    a = gradwalk.tensor(2.0, requires_grad=True, name="w")
    with gradwalk.autograd.explain() as walk:
        (a * a).backward()
    # mul sends grad * b = 2 to a and grad * a = 2 to b: the same leaf, 2 + 2
    assert walk.steps[-1].text == "w.grad = 2 + 2 = 4"


def test_accumulation_across_backward_calls():
    x = gradwalk.tensor(3.0, requires_grad=True)
    (x**2 + 2*x + 1).backward()
    y = x**2 + 2*x + 1
    with gradwalk.autograd.explain() as walk:
        y.backward()
    assert walk.steps[-1].text == "x.grad = 8 + 6 + 2 = 16"


def test_big_tensors_show_shape_and_norm():
    x = gradwalk.ones(4, 5, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (x * 3.0).sum().backward()
    sum_step, mul_step, acc = walk.steps
    assert sum_step.grad_in == "1"
    # sum sends ones(4, 5): norm sqrt(20) = 4.472; mul sends 3 * ones: norm 3 * sqrt(20) = 13.42
    assert sum_step.sent[0].grad == "shape [4, 5], norm 4.472"
    assert mul_step.sent[0].grad == "shape [4, 5], norm 13.42"
    assert acc.text.endswith("= shape [4, 5], norm 13.42")


def test_broadcast_gradient_is_shown_reduced():
    b = gradwalk.tensor([1.0, 2.0], requires_grad=True, name="b")
    m = gradwalk.ones(3, 2)
    with gradwalk.autograd.explain() as walk:
        (m + b).sum().backward()
    add = walk.steps[1]
    # the rule returns a (3, 2) gradient; b receives it summed over the broadcast rows
    assert add.sent[1].grad == "[3, 3]"
    # add keeps nothing of its inputs: m is an unnamed constant here (a Mul would name it)
    assert add.sent[0].why_none == "constant" and add.sent[0].input == "constant"
    assert add.sent[1].text == "sum over dim 0 of grad"
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0])


def test_observer_removed_and_walk_empty_outside():
    x = gradwalk.tensor(1.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        pass
    assert engine.observers == []
    (x * 2).backward()
    assert len(walk) == 0


def test_observer_removed_on_error():
    x = gradwalk.tensor(1.0, requires_grad=True)
    y = x * 2
    y.backward()
    try:
        with gradwalk.autograd.explain():
            y.backward()  # second backward through a freed graph raises
    except RuntimeError:
        pass
    assert engine.observers == []


def test_walk_draw_has_steps_and_gradients_on_arrows():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 1
    with gradwalk.autograd.explain() as walk:
        y.backward()
    pic = walk.draw()
    labels = sorted(b.label for b in pic.boxes.values())
    assert labels == ["step 1: Add\ngrad in: 1", "step 2: Add\ngrad in: 1",
                      "step 3: Mul\ngrad in: 1", "step 4: Pow\ngrad in: 1",
                      "step 5: x\nx.grad = 6 + 2 = 8"]
    by_id = {b.id: b.label.split("\n")[0] for b in pic.boxes.values()}
    arrows = sorted((by_id[a.src], by_id[a.dst], a.label) for a in pic.arrows)
    assert arrows == [("step 1: Add", "step 2: Add", "1"), ("step 2: Add", "step 3: Mul", "1"),
                      ("step 2: Add", "step 4: Pow", "1"), ("step 3: Mul", "step 5: x", "2"),
                      ("step 4: Pow", "step 5: x", "6")]
    assert "->" in pic.source


def test_rule_texts_table_and_fallback():
    x = gradwalk.tensor(2.0, requires_grad=True)
    assert rule_texts((x ** 3).grad_fn) == ("grad * 3 * x**2",)
    assert rule_texts(x.sin().grad_fn) == ("grad * cos(x)",)
    assert rule_texts((x / 2.0).grad_fn) == RULES["div"]
    # an op missing from the table gets the generic text
    node = x.sin().grad_fn
    saved = RULES.pop("sin")
    try:
        assert rule_texts(node) == ("vector-Jacobian product of SinBackward0",)
    finally:
        RULES["sin"] = saved


def test_fmt_array():
    assert fmt_array(np.array(6.0)) == "6"
    assert fmt_array(np.array([0.5, -2.0])) == "[0.5, -2]"
    assert fmt_array(np.zeros((2, 2))) == "[[0, 0], [0, 0]]"
    assert fmt_array(np.full(10, 2.0)) == "shape [10], norm 6.325"


def test_explain_with_autograd_grad():
    x = gradwalk.tensor(2.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (g,) = gradwalk.autograd.grad(x.exp(), x)
    # grad() does not accumulate into .grad: one step, the exp rule
    assert [s.name for s in walk.steps] == ["ExpBackward0"]
    assert walk.steps[0].sent[0].rule == "grad * out"
    assert abs(float(g) - np.exp(2.0)) < 1e-5


def test_grad_then_backward_are_separate_calls():
    x = gradwalk.tensor(2.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (g,) = gradwalk.autograd.grad(x**3, x, create_graph=True)  # g = 3 x**2 = 12
        g.backward()  # d/dx 3 x**2 = 6 x = 12
    table = str(walk).splitlines()
    assert table[4] == "-- autograd.grad call 1 --"
    assert table[5].split()[:2] == ["1", "PowBackward0"]
    assert table[5].endswith("12     x (returned by grad)")
    assert "-- backward call 2 --" in table
    # the gradient returned by grad() is not a term of the later accumulation
    assert walk.steps[-1].text == "x.grad = 12"
    assert float(x.grad) == 12.0


# ------------------------------------------------------------------ the user's names (issue 14)

def test_rows_name_the_users_variables_not_generic_letters():
    # the user's own a, b, c, w: the table must not call other inputs a/b/x
    a = gradwalk.tensor(2.0, requires_grad=True)
    b = gradwalk.tensor(3.0, requires_grad=True)
    w = gradwalk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * b
    d = c + b**2
    e = (d * w).sum()
    with gradwalk.autograd.explain() as walk:
        e.backward()
    by_node = {s.node: s for s in walk.steps}
    add = by_node[d.grad_fn]
    assert [s.input for s in add.sent] == ["c", "b**2"]
    mul_dw = by_node[e.grad_fn.next_functions[0][0]]
    assert [s.input for s in mul_dw.sent] == ["d", "w"]
    # the rule for d reads grad * w, summed over the broadcast dim (d is a scalar)
    assert mul_dw.sent[0].text == "sum over dim 0 of (grad * w)"
    assert mul_dw.sent[1].text == "grad * d"
    assert mul_dw.values == "d=15, w=[1, 2, 3]"
    mul_ab = by_node[c.grad_fn]
    assert [s.text for s in mul_ab.sent] == ["grad * b", "grad * a"]
    assert mul_ab.values == "a=2, b=3"
    pow_ = by_node[d.grad_fn.next_functions[1][0]]
    assert pow_.sent[0].input == "b" and pow_.sent[0].text == "grad * 2 * b"
    table = str(walk)
    assert "grad * x" not in table and " x " not in table
    # the gradients are torch's: de/da = 6 * 3 = 18, de/db = 6 * (2 + 6) = 48, de/dw = d = 15
    assert float(a.grad) == 18.0 and float(b.grad) == 48.0
    np.testing.assert_array_equal(w.grad.numpy(), [15.0, 15.0, 15.0])


def test_swapped_names_are_substituted_once():
    b = gradwalk.tensor(2.0, requires_grad=True)
    a = gradwalk.tensor(5.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (b / a).backward()
    div = walk.steps[0]
    assert [s.input for s in div.sent] == ["b", "a"]
    assert [s.text for s in div.sent] == ["grad / a", "-grad * b / a**2"]


def test_non_atomic_names_get_parentheses_and_expressions_stay_short():
    x = gradwalk.tensor(0.5, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (x.sin() * (x + 1).exp().tanh().sigmoid().cos()).backward()
    mul = walk.steps[0]
    assert mul.sent[0].input == "sin(x)"
    assert mul.sent[1].input == "cos(sigmoid(tanh(...)))"
    assert mul.sent[0].text == "grad * cos(sigmoid(tanh(...)))"
    add = next(s for s in walk.steps if s.name == "AddBackward0")
    assert [s.input for s in add.sent] == ["x", "constant"]
    q = gradwalk.tensor(2.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (gradwalk.div(1.0, q * q + 1.0)).backward()  # DivBackward0 (``1.0 / t`` is a product)
    div = walk.steps[0]
    assert div.sent[1].input == "q*q + constant"
    assert div.sent[1].text == "-grad * 1 / (q*q + constant)**2"


def test_constants_are_described_one_way():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    m = gradwalk.tensor([3.0, 4.0])
    with gradwalk.autograd.explain() as walk:
        ((x * m) * 2.0 + 1.0).sum().backward()
    nones = [s for st in walk.steps for s in st.sent if s.target is None]
    assert len(nones) == 3 and {s.why_none for s in nones} == {"constant"}
    assert sorted(s.input for s in nones) == ["2", "constant", "m"]
    assert "(constant)" in str(walk) and "needs no gradient" not in str(walk)


def test_table_fits_100_columns():
    # long expressions, big values and a broadcast: every line still fits
    w = gradwalk.tensor([[0.1234567, -2.345678, 3.4567891]], requires_grad=True)
    bias = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    h = gradwalk.ones(2, 3)
    with gradwalk.autograd.explain() as walk:
        out = ((h * w).sum(1) + bias).tanh().exp().sigmoid().sum()
        out.backward()
    table = str(walk)
    assert max(len(line) for line in table.splitlines()) <= 100
    assert max(len(line) for line in walk.table(width=60).splitlines()) <= 60
    # every value is still there (wrapped, not cut)
    acc = next(s for s in walk.steps if s.kind == "accumulate" and s.node.variable is w)
    flat = " ".join(table.split())
    assert " ".join(acc.text.split()) in flat


def test_html_table_for_jupyter():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x**2 + 2*x + 1
    with gradwalk.autograd.explain() as walk:
        y.backward()
    html = walk._repr_html_()
    assert html.startswith('<table class="gradwalk-walk">') and html.endswith("</table>")
    assert "<caption>backward walk: 5 steps</caption>" in html
    assert html.count("<tr>") == 1 + 8  # the header, 8 rows as in the text table
    assert "<td>x**2 + 2*x</td>" in html and "x.grad = 6 + 2 = 8" in html
    z = gradwalk.tensor(1.0, requires_grad=True, name="a<b")
    with gradwalk.autograd.explain() as walk:
        (z * 2.0).backward()
    assert "a&lt;b" in walk._repr_html_()


def test_cross_entropy_step_names_torchs_chain():
    import gradwalk.nn.functional as F

    logits = gradwalk.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], requires_grad=True)
    target = gradwalk.tensor([1, 2])
    with gradwalk.autograd.explain() as walk:
        loss = F.cross_entropy(logits, target)
        loss.backward()
    step = walk.steps[0]
    assert step.name == "NllLossBackward0"
    assert step.sent[0].text == "grad * (softmax(logits) - onehot(target)) / n"
    assert "LogSoftmaxBackward0 -> NllLossBackward0" in str(walk)
    labels = [b.label for b in walk.draw().boxes.values()]
    assert any(lab.endswith("\n(fused LogSoftmax -> NllLoss)") for lab in labels)


def test_ipython_pretty_shows_the_table():
    class P:
        def __init__(self):
            self.out = ""

        def text(self, t):
            self.out += t

    x = gradwalk.tensor(3.0, requires_grad=True)
    with gradwalk.autograd.explain() as walk:
        (x * 2.0).backward()
    p = P()
    walk._repr_pretty_(p, False)
    assert p.out == walk.table()


def test_parameters_are_named_by_module_variable():
    from gradwalk import nn

    lin = nn.Linear(3, 1)
    with gradwalk.autograd.explain() as walk:
        lin(gradwalk.ones(2, 3)).sum().backward()
    texts = [s.text for s in walk.steps if s.kind == "accumulate"]
    assert sorted(t.split(".grad")[0] for t in texts) == ["lin.bias", "lin.weight"]


def test_table_of_a_small_model_fits_and_breaks_between_words():
    import gradwalk.nn.functional as F
    from gradwalk import nn

    gradwalk.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3))
    X = gradwalk.tensor([[1.0, 2.0]])
    with gradwalk.autograd.explain() as walk:
        F.cross_entropy(model(X), gradwalk.tensor([2])).backward()
    lines = str(walk).splitlines()
    assert max(len(line) for line in lines) <= 100
    # the parameters are named by the model's variable; a dotted name breaks only at its dots
    text = "\n".join(lines)
    assert "model.2.bias.grad = " in text and "model.0.weight.grad = " in text
    for piece in ("weig", "eight", "bia", "gra"):
        assert not any(line.rstrip().endswith(piece) for line in lines), piece
    # numbers have 4 significant digits, as PyTorch prints them
    acc = next(s for s in walk.steps if s.kind == "accumulate")
    expected = model[2].bias.grad.numpy()
    assert acc.text == "model.2.bias.grad = [" + ", ".join(
        f"{v:.4g}" if v != int(v) else str(int(v)) for v in expected) + "]"
