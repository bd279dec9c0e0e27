"""``python -m gradwalk compile-explain`` (gradwalk/compiler/cli.py, Note [compile-explain]),
run in a subprocess on small scripts, and the lesson's examples and the demo compiled: the same
numbers as eager."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from gradwalk.compiler import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARK = "=== gradwalk compile-explain ==="

SCRIPT = '''\
import sys

import gradwalk


def step(x):
    y = (x * 2.0).exp()
    if float(y.sum()) > 0:
        y = y + 1.0
    return y.sum()


class Model(gradwalk.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = gradwalk.nn.Parameter(gradwalk.ones(2))

    def forward(self, x):
        return (x * self.w).tanh()


model = Model()

if __name__ == "__main__":
    print("argv", sys.argv[1:])
    for n in (2, 2, 3):
        print("value", step(gradwalk.ones(n)).item())
    print("model", model(gradwalk.ones(2)).sum().item())
    if "--fail" in sys.argv:
        raise ValueError("the script failed")
    if "--exit" in sys.argv:
        sys.exit(3)
'''


def _env(extra_path=""):
    path = os.pathsep.join(p for p in (ROOT, extra_path, os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def _run(*args, cwd=None, extra_path="", timeout=120):
    return subprocess.run([sys.executable, "-m", "gradwalk", *args], capture_output=True,
                          text=True, timeout=timeout, env=_env(extra_path), cwd=cwd or ROOT)


def _script(tmp_path, name="script.py", text=SCRIPT):
    path = tmp_path / name
    path.write_text(text)
    return path


def _line(text, needle):
    """The 1-based line of SCRIPT holding ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_docstring_example_and_help(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "compile-explain" in out and "TARGET" in out and "--call" in out
    proc = _run("compile-explain", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m gradwalk "
                                                           "compile-explain")
    top = _run("--help")
    assert "compile-explain" in top.stdout


def test_runs_the_main_block_with_the_function_compiled_and_explains(tmp_path):
    path = _script(tmp_path)
    proc = _run("compile-explain", f"{path}:step", "a", "--b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ran, explain = proc.stdout.split(MARK)
    # the script's own output, with eager's numbers
    eager = subprocess.run([sys.executable, str(path), "a", "--b"], capture_output=True,
                           text=True, env=_env(), timeout=60)
    assert ran.strip() == eager.stdout.strip()
    assert ran.startswith("argv ['a', '--b']\n")
    assert "gradwalk.compile of step (backend='numpy'): 3 calls" in explain
    assert "def forward(x, c):" in explain and "def backward(" in explain
    mul = _line(SCRIPT, "(x * 2.0).exp()")
    # guards, each with the script's file:line
    assert re.search(rf"x0: shape \(2,\), float32, requires_grad=False  \(first read by mul at "
                     rf"script.py:{mul}\)", explain)
    assert "shape (3,)" in explain
    assert f"# exp at script.py:{mul}" in explain
    assert "recompiles:\n" in explain and "input 0 changed" in explain
    assert f"graph breaks:\n  at script.py:{_line(SCRIPT, 'float(y.sum())')}" in explain


def test_output_file_call_expression_and_methods(tmp_path):
    path = _script(tmp_path)
    out = tmp_path / "explain.txt"
    proc = _run("compile-explain", "-o", str(out), "--call", "step(gradwalk.ones(4))",
                f"{path}:step", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert MARK not in proc.stdout and proc.stdout.startswith("tensor(")
    text = out.read_text()
    assert text.startswith("gradwalk.compile of step (backend='numpy'): 1 calls")
    assert "shape (4,)" in text
    # a method (each instance its own compiled function), and an nn.Module instance
    for target in ("Model.forward", "model"):
        proc = _run("compile-explain", f"{path}:{target}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        ran, explain = proc.stdout.split(MARK)
        assert "model 1.5231" in ran
        assert "1 calls" in explain and "tanh at script.py:" in explain


def test_module_target_and_a_script_without_a_main_block(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ops.py").write_text(textwrap.dedent('''\
        import gradwalk

        def f():
            print("f ran")
            return (gradwalk.ones(3) * 4.0).sum().item()
        '''))
    proc = _run("compile-explain", "mypkg.ops:f", cwd=tmp_path, extra_path=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    ran, explain = proc.stdout.split(MARK)
    assert ran.strip() == "f ran"  # no __main__ block: f() is called
    assert "gradwalk.compile of f (backend='numpy'): 1 calls, 1 programs" in explain
    assert "ops.py:5" in explain


def test_the_scripts_exceptions_and_exit_status(tmp_path):
    path = _script(tmp_path)
    proc = _run("compile-explain", f"{path}:step", "--fail", cwd=tmp_path)
    assert proc.returncode == 1
    assert "ValueError: the script failed" in proc.stderr and "Traceback" in proc.stderr
    assert MARK in proc.stdout and "3 calls" in proc.stdout  # explained all the same
    proc = _run("compile-explain", f"{path}:step", "--exit", cwd=tmp_path)
    assert proc.returncode == 3 and MARK in proc.stdout and not proc.stderr


@pytest.mark.parametrize("target,message", [
    ("nowhere.py:f", "no such script: nowhere.py"),
    ("{path}:missing", "has no attribute 'missing'"),
    ("{path}:Model.nothing", "Model has no attribute 'nothing'"),
    ("{path}:sys", "is a module, not a function"),
    ("{path}:Model", "is a class"),
    ("{path}", "is not script.py:function"),
    ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
])
def test_bad_targets_are_one_error_line(tmp_path, capsys, target, message):
    path = _script(tmp_path, name=f"bad_{abs(hash(target)) % 10**6}.py")
    code = cli.main([target.format(path=path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err.splitlines()[0], err
    assert "Traceback" not in err and len(err.splitlines()) == 2


def test_bad_target_in_a_subprocess_has_no_traceback(tmp_path):
    proc = _run("compile-explain", "nowhere.py:f", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: no such script") and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ the lesson's examples

_GRAD_FN = re.compile(r", grad_fn=<\w+>")

EXAMPLES = [
    ("lesson_examples.py", ["--steps", "3"]),
    ("mlp_digits.py", ["--steps", "5"]),
    ("cnn_digits.py", ["--steps", "2", "--channels", "4"]),
    ("char_rnn.py", ["--steps", "2", "--seq-len", "12", "--hidden", "16", "--batch-size", "4",
                     "--sample-length", "20"]),
]


@pytest.mark.parametrize("script,args", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_the_examples_compiled_print_eagers_numbers(tmp_path, script, args):
    """Each example's ``main`` compiled whole (compile-explain): its output is eager's, but
    for the names of the nodes in printed tensors (a compiled region is one
    ``CompiledFunctionBackward`` node, as under torch.compile)."""
    path = os.path.join(ROOT, "examples", script)
    out = tmp_path / "explain.txt"
    proc = _run("compile-explain", "-o", str(out), f"{path}:main", *args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    eager = subprocess.run([sys.executable, path, *args], capture_output=True, text=True,
                           env=_env(), timeout=300, cwd=ROOT)
    assert eager.returncode == 0, eager.stderr
    assert _GRAD_FN.sub("", proc.stdout) == _GRAD_FN.sub("", eager.stdout)
    text = out.read_text()
    assert text.startswith("gradwalk.compile of main (backend='numpy'): 1 calls")
    assert "def forward(x, c):" in text  # something was traced, not all eager


def test_the_demo_compiled_prints_eagers_numbers():
    args = ["demo", "--quick", "--no-plot", "--no-lesson", "--dataset", "moons"]
    a, b = _run(*args, "--compile"), _run(*args)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr

    def numbers(text):  # everything but the timings
        return [re.sub(r"[\d,.]+ steps/s|in [\d.]+ s", "", line) for line in text.splitlines()]

    assert numbers(a.stdout) == numbers(b.stdout)
    assert any("test accuracy" in line for line in numbers(a.stdout))
