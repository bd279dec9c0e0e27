"""``python -m gradwalk``: its docstring examples, --version, the program name, and a command
line that never shows a traceback (a closed pipe, Ctrl-C)."""

import doctest
import os
import signal
import subprocess
import sys
import time

import pytest

import gradwalk
from gradwalk import __main__ as cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(**extra):
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
                OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **extra)


def _run(*args, timeout=60, cwd=None):
    return subprocess.run([sys.executable, "-m", "gradwalk", *args], capture_output=True,
                          text=True, timeout=timeout, env=_env(), cwd=cwd or ROOT)


def test_docstring_examples_run():
    """pytest's doctest collection skips ``__main__.py``: run its examples here."""
    result = doctest.testmod(cli, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3
    assert result.failed == 0


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"gradwalk {gradwalk.__version__}\n"
    proc = _run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"gradwalk {gradwalk.__version__}"


def test_lesson_help(capsys):
    assert cli.main(["lesson", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m gradwalk lesson") and "no options" in out
    assert cli.main(["lesson", "--fast"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--fast" in err and len(err.splitlines()) == 1


def test_usage_names_the_console_script(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [os.path.join("venv", "bin", "gradwalk")])
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradwalk [demo|lesson|check|compile-explain]")
    assert "python -m" not in out
    assert cli.main(["demo", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: gradwalk demo")
    assert cli.main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradwalk check") and '  gradwalk check "x**3' in out
    assert cli.main(["demo", "--epochs", "0"]) == 2
    assert "gradwalk demo --help" in capsys.readouterr().err


def test_usage_under_python_dash_m():
    proc = _run("--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m gradwalk ")


def test_piped_into_head_stops_quietly():
    """``gradwalk demo | head -3``: no BrokenPipeError, no traceback."""
    # unbuffered, and more output than a pipe holds: the demo is still writing when the pipe
    # closes, so its next write fails (the case head creates)
    proc = subprocess.Popen([sys.executable, "-m", "gradwalk", "demo", "--epochs", "1000",
                             "--no-plot", "--dataset", "moons"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(PYTHONUNBUFFERED="1"), cwd=ROOT)
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # what head does after three lines
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert head[0].startswith(b"The autograd lesson")
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert proc.returncode == 141


def test_ctrl_c_exits_quietly_with_130():
    proc = subprocess.Popen([sys.executable, "-m", "gradwalk", "demo", "--no-lesson", "--no-plot",
                             "--epochs", "100000", "--dataset", "moons"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(PYTHONUNBUFFERED="1"), cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        line = b""
        while b"epoch" not in line and time.monotonic() < deadline:  # training has started
            line = proc.stdout.readline()
        assert b"epoch" in line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    assert err.decode().strip() == "interrupted"


def test_keyboard_interrupt_in_main(monkeypatch, capsys):
    from gradwalk import demo

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "run", interrupted)
    assert cli.main(["demo"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.parametrize("argv", [["frobnicate"], ["lesson", "x"], ["demo", "--hidden", "0"],
                                  ["check", "x**"], ["demo", "--bogus"]])
def test_bad_input_is_one_error_line(argv):
    proc = _run(*argv)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_console_script_wrapper(tmp_path):
    """What ``pip install`` generates for ``[project.scripts]``: the usage says ``gradwalk``."""
    script = tmp_path / "gradwalk"
    script.write_text("import sys\nfrom gradwalk.__main__ import main\nsys.exit(main())\n")
    proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, timeout=60, env=_env(), cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: gradwalk [demo|lesson|check|compile-explain]")
    proc = subprocess.run([sys.executable, str(script), "check", "x**", "--at", "1"],
                          capture_output=True, text=True, timeout=60, env=_env(), cwd=ROOT)
    assert proc.returncode == 2 and "usage: gradwalk check FUNCTION" in proc.stderr


def test_ctrl_c_during_the_symbolic_check_is_quiet(tmp_path):
    pytest.importorskip("sympy")
    marker = tmp_path / "child-started"
    code = ("import os, time, sys\n"
            "from gradwalk.cli import symbolic\n"
            "def slow(conn, *a):\n"
            f"    open({str(marker)!r}, 'w').close()\n"
            "    time.sleep(60)\n"
            "symbolic._stages = slow\n"
            "from gradwalk.__main__ import main\n"
            "sys.exit(main(['check', 'x**2', '--at', '1', '--sympy-timeout', '60']))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(), cwd=ROOT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()  # the symbolic child is running
        os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: the whole group
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert err.decode().strip() == "interrupted", err.decode()
