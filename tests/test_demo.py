"""The demo: ``python -m gradwalk`` end to end, and its command dispatch."""

import os
import re
import subprocess
import sys

import pytest

from gradwalk import __main__ as cli
from gradwalk import demo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, cwd=None, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "gradwalk", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd or ROOT)


def test_quick_demo_subprocess(tmp_path):
    proc = _run("demo", "--quick", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "x.grad = tensor(8.)" in out  # the lesson ran first
    assert out.index("x.grad = tensor(8.)") < out.index("Training an MLP")
    match = re.search(r"test accuracy: ([\d.]+)%", out)
    assert match, out
    assert 80.0 <= float(match.group(1)) <= 100.0  # 3 epochs already learn the digits
    assert re.search(r"epoch 3/3 +loss [\d.]+ +train acc", out)  # the plain progress bar
    png = tmp_path / demo.DEFAULT_PLOT
    if "loss curve written to" in out:
        assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    else:
        assert "matplotlib is not installed" in out and not png.exists()


def test_no_arguments_means_demo(monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "run", lambda argv: calls.append(argv) or 0)
    assert cli.main([]) == 0
    assert cli.main(["--quick"]) == 0
    assert cli.main(["demo", "--epochs", "2"]) == 0
    assert calls == [[], ["--quick"], ["--epochs", "2"]]


def test_check_dispatches_lazily(monkeypatch):
    import types

    seen = []
    fake = types.ModuleType("gradwalk.cli.check")
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, "gradwalk.cli.check", fake)
    assert cli.main(["check", "x**2", "--at", "1"]) == 3
    assert seen == [["x**2", "--at", "1"]]


def test_lesson_only_and_unknown_command(capsys):
    assert cli.main(["lesson"]) == 0
    out = capsys.readouterr().out
    assert "x.grad = tensor(8.)" in out and "Training" not in out
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0
    assert "usage: python -m gradwalk" in capsys.readouterr().out


@pytest.mark.parametrize("dataset", ["moons", "spirals"])
def test_toy_datasets_train(dataset):
    lines = []
    assert demo.run(["--dataset", dataset, "--epochs", "4", "--no-plot", "--no-lesson",
                     "--hidden", "32", "--seed", "1"], lines.append) == 0
    acc = float(re.search(r"test accuracy: ([\d.]+)%", "\n".join(lines)).group(1))
    assert acc > 60.0  # well above chance (50% and 33%) after a few epochs


def test_digits_reach_95_percent():
    result = demo.train("digits", print_fn=lambda s: None, progress=False)
    assert result["test_accuracy"] >= 0.95
    assert result["losses"][-1] < result["losses"][0] / 5


def test_bad_options_exit_cleanly():
    proc = _run("demo", "--dataset", "mnist")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    with pytest.raises(ValueError, match="positive"):
        demo.train("digits", epochs=0, print_fn=lambda s: None)
