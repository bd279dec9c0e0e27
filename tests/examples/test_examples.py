"""Smoke tests: every example runs a few steps in a subprocess and prints what it promises."""

import os
import subprocess
import sys

from tests.fixtures.oracle import oracle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def _run(script, *args, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_lesson_examples():
    out = _run("lesson_examples.py", "--steps", "3")
    assert "dy/dx = tensor(8.)" in out
    assert "dd/da = tensor(3.)" in out and "dd/db = tensor(8.)" in out
    losses = [float(line.split("loss")[1]) for line in out.splitlines() if "loss" in line]
    assert len(losses) == 2 and losses[-1] < losses[0]


def test_lesson_examples_give_pytorch_numbers():
    ours = _run("lesson_examples.py", "--steps", "3").replace("gradwalk", "torch")
    # the script run with --torch (a subprocess importing torch): its output is the result
    theirs = oracle(lambda torch: _run("lesson_examples.py", "--steps", "3", "--torch"))
    assert ours.splitlines()[:2] == theirs.splitlines()[:2]
    assert ours.splitlines()[2:4] == theirs.splitlines()[2:4]


def test_mlp_digits(tmp_path):
    ckpt = tmp_path / "mlp.gw"
    out = _run("mlp_digits.py", "--steps", "5", "--save", str(ckpt))
    assert "test accuracy:" in out and "after 5 steps" in out
    assert ckpt.exists()
    sys.path.insert(0, ROOT)
    import gradwalk

    state = gradwalk.load(ckpt)
    assert state["steps"] == 5 and "model" in state and "optimizer" in state


def test_cnn_digits():
    out = _run("cnn_digits.py", "--steps", "3", "--channels", "4")
    assert "test accuracy:" in out and "after 3 steps" in out


def test_char_rnn():
    out = _run("char_rnn.py", "--steps", "2", "--seq-len", "12", "--hidden", "16",
               "--batch-size", "4", "--sample-length", "20")
    assert "vocabulary of" in out and "step     2" in out
    sample = out.split("sample:\n", 1)[1]
    assert sample.startswith("Shall I") and len(sample.rstrip("\n")) >= 27


def test_lesson_examples_torch_flag_without_torch(tmp_path):
    """``--torch`` where PyTorch is not installed: a message and exit 2, no traceback."""
    shadow = tmp_path / "torch"  # a torch package that is not there, whatever is installed
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", "
                                        "name='torch')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "lesson_examples.py"),
                           "--torch"], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: --torch runs these examples with PyTorch")
    assert "pip install torch" in proc.stderr and "Traceback" not in proc.stderr
