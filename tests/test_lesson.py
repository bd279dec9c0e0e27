"""The autograd lesson: its three examples and the exercise, checked by hand and against PyTorch."""

import math

import numpy as np
import pytest

import gradwalk
from gradwalk import lesson
from tests.fixtures.oracle import oracle


def test_example_1_first_gradient():
    r = lesson.first_gradient()
    assert repr(r["x.grad"]) == "tensor(8.)"  # dy/dx = 2x + 2 at x = 3
    assert repr(r["y"]) == "tensor(16., grad_fn=<AddBackward0>)"
    assert r["x"].is_leaf and r["x"].requires_grad


def test_example_2_chain_rule():
    r = lesson.chain_rule()
    assert repr(r["a.grad"]) == "tensor(3.)"  # dd/da = b
    assert repr(r["b.grad"]) == "tensor(8.)"  # dd/db = a + 2b
    assert repr(r["c"]) == "tensor(6., grad_fn=<MulBackward0>)"
    assert repr(r["d"]) == "tensor(15., grad_fn=<AddBackward0>)"


def test_regression_data_is_fixed_and_leaves_the_global_seed_alone():
    gradwalk.manual_seed(99)
    expected_next = gradwalk.rand(3).tolist()
    gradwalk.manual_seed(99)
    X1, y1 = lesson.regression_data()
    X2, y2 = lesson.regression_data()
    assert gradwalk.rand(3).tolist() == expected_next
    assert X1.shape == (lesson.DATA_SAMPLES, 3) and y1.shape == (lesson.DATA_SAMPLES,)
    assert X1.dtype is gradwalk.float32 and y1.dtype is gradwalk.float32
    assert X1.tolist() == X2.tolist() and y1.tolist() == y2.tolist()
    # the targets are the true linear function plus small noise
    fit = X1.numpy().astype(np.float64) @ np.array(lesson.TRUE_W) + lesson.TRUE_B
    assert np.abs(fit - y1.numpy()).max() < 5 * lesson.NOISE


def test_example_3_gradients_match_the_hand_formula():
    r = lesson.linear_regression(steps=0)
    X = r["X"].numpy().astype(np.float64)
    y = r["y"].numpy().astype(np.float64)
    residual = -y  # w = 0, b = 0 at the start
    n = len(y)
    np.testing.assert_allclose(r["w.grad"].numpy(), 2 / n * X.T @ residual, rtol=1e-5)
    assert r["b.grad"].item() == pytest.approx(2 / n * residual.sum(), rel=1e-5)
    np.testing.assert_allclose(r["w.grad"].numpy(), r["hand w.grad"].numpy(), rtol=1e-5)
    assert r["b.grad"].item() == pytest.approx(r["hand b.grad"].item(), rel=1e-5)
    assert r["loss"].item() == pytest.approx((residual ** 2).mean(), rel=1e-5)
    assert r["w.grad"].shape == (3,) and r["b.grad"].shape == ()


def test_example_3_gradient_descent_lowers_the_loss():
    r = lesson.linear_regression(steps=5, lr=0.1)
    losses = r["losses"]
    assert len(losses) == 6
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < 0.25 * losses[0]
    assert r["w"].is_leaf and r["w"].requires_grad and r["w"].shape == (3,)
    # moving towards the weights the data was made from
    start = np.linalg.norm(np.array(lesson.TRUE_W))
    assert np.linalg.norm(r["w"].detach().numpy() - np.array(lesson.TRUE_W)) < start


def test_example_3_many_steps_recover_the_true_weights():
    r = lesson.linear_regression(steps=200, lr=0.1)
    np.testing.assert_allclose(r["w"].detach().numpy(), lesson.TRUE_W, atol=0.1)
    assert r["b"].item() == pytest.approx(lesson.TRUE_B, abs=0.1)


def test_exercise_autograd_matches_the_hand_derivative():
    rows = lesson.exercise()
    assert [row["x"].item() for row in rows] == [-1.0, 0.5, 2.0]
    for row in rows:
        p = row["x"].item()
        exact = 3 * p ** 2 + 2 * math.cos(p)
        assert row["hand (float64)"] == pytest.approx(exact)
        assert row["autograd"].item() == pytest.approx(exact, rel=1e-6)
        assert row["autograd"].item() == pytest.approx(row["hand"].item(), rel=1e-6)
        assert row["f"].item() == pytest.approx(p ** 3 + 2 * math.sin(p), rel=1e-6)


def test_exercise_at_other_points():
    rows = lesson.exercise(points=(0.0, -2.5))
    assert repr(rows[0]["autograd"]) == "tensor(2.)"  # 3*0 + 2*cos(0)
    assert rows[1]["autograd"].item() == pytest.approx(3 * 6.25 + 2 * math.cos(-2.5), rel=1e-6)


def test_run_prints_the_lesson():
    lines = []
    lesson.run(lines.append)
    text = "\n".join(lines)
    assert "x.grad = tensor(8.)" in text
    assert "a.grad = tensor(3.)" in text and "b.grad = tensor(8.)" in text
    assert "grad_fn=<MeanBackward0>" in text
    assert text.count("step ") == 6
    assert "f(x) = x**3 + 2*sin(x)" in text
    assert "gradwalk.float" not in text  # printed as PyTorch prints default-dtype tensors


def test_run_leaves_the_exercise_to_the_learner():
    """The lesson states the exercise and the command that checks an answer, not the answer."""
    lines = []
    lesson.run(lines.append)
    text = "\n".join(lines)
    exercise = text[text.index("Exercise."):]
    for answer in ("3x^2", "3*x**2", "2cos(x)", "2*cos(x)"):
        assert answer not in exercise
    for row in lesson.exercise():  # nor autograd's values of the derivative
        assert repr(row["autograd"]) not in exercise
    command = next(line.strip() for line in lines if " check " in line)
    assert command.startswith("python -m gradwalk check")
    assert '"x**3 + 2*sin(x)" --at -1 0.5 2 --expect' in command


def test_run_says_import_gradwalk_as_torch_and_points_to_the_tools():
    lines = []
    lesson.run(lines.append)
    text = "\n".join(lines)
    assert "import gradwalk as torch" in lines[4]  # before the first example
    assert text.index("import gradwalk as torch") < text.index("1. One input")
    assert "gradwalk.autograd.explain()" in text and "print(walk)" in text
    assert "gradwalk.viz.draw(y)" in text
    assert all(len(line) <= 100 for line in lines)


def test_the_exercise_command_accepts_the_right_answer(capsys):
    """The command the lesson prints, with the right answer filled in, says it agrees."""
    import shlex

    from gradwalk.cli.check import main

    lines = []
    lesson.run(lines.append)
    command = next(line.strip() for line in lines if " check " in line)
    argv = shlex.split(command.replace('"..."', '"3*x**2 + 2*cos(x)"'))[3:]
    assert main(argv) == 0
    assert "all derivatives agree (3 points)" in capsys.readouterr().out
    assert main(shlex.split(command.replace('"..."', '"3*x**2 - 2*cos(x)"'))[3:]) == 1


def test_run_uses_print_by_default(capsys):
    lesson.run()
    out = capsys.readouterr().out
    assert "x.grad = tensor(8.)" in out


def _printed(lib):
    lines = []
    lesson.run(lines.append, lib=lib)
    return lines


def test_run_prints_what_pytorch_prints():
    """The whole lesson, run on gradwalk and on PyTorch, prints the same text."""
    ours = []
    lesson.run(ours.append)
    assert ours == oracle(_printed)


def _examples(torch):
    reprs = [{key: repr(v) for key, v in fn(torch).items()}
             for fn in (lesson.first_gradient, lesson.chain_rule)]
    fit = lesson.linear_regression(torch, steps=3)
    return reprs, {"losses": fit["losses"],
                   **{key: fit[key].detach().numpy() for key in ("w.grad", "b.grad", "w", "b")}}


def test_examples_match_pytorch_values():
    reprs, fit = oracle(_examples)
    for fn, theirs in zip((lesson.first_gradient, lesson.chain_rule), reprs):
        ours = fn()
        assert list(ours.keys()) == list(theirs.keys())
        for key in ours:
            assert repr(ours[key]) == theirs[key]
    ours = lesson.linear_regression(steps=3)
    np.testing.assert_allclose(ours["losses"], fit["losses"], rtol=1e-5)
    for key in ("w.grad", "b.grad", "w", "b"):
        np.testing.assert_allclose(ours[key].detach().numpy(), fit[key], rtol=1e-5, atol=1e-6)
