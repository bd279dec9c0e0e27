"""The demo: ``python -m gradwalk`` end to end, and its command dispatch."""

import io
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


# ------------------------------------------------------------------ options are checked first

@pytest.mark.parametrize("argv,message", [
    (["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    (["--epochs", "-1"], "--epochs must be at least 1 (got -1)"),
    (["--hidden", "0"], "--hidden must be between 1 and 4096 (got 0)"),
    (["--hidden", "100000000"], "--hidden must be between 1 and 4096 (got 100000000)"),
    (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
    (["--lr", "0"], "--lr must be a positive number up to 10 (got 0.0)"),
    (["--lr", "-1"], "--lr must be a positive number up to 10 (got -1.0)"),
    (["--lr", "nan"], "--lr must be a positive number up to 10 (got nan)"),
    (["--lr", "inf"], "--lr must be a positive number up to 10 (got inf)"),
    (["--lr", "1e20"], "--lr must be a positive number up to 10 (got 1e+20)"),
    (["--seed", "-1"], "--seed must be between 0 and 2**64 - 1 (got -1)"),
    (["--seed", str(2**64)], "--seed must be between 0 and 2**64 - 1"),
    (["--epochs", "abc"], "invalid int value: 'abc'"),
    (["--no-plot", "--plot", "x"], "--no-plot and --plot x contradict each other"),
    (["--plot", "x.xyz"], "unknown image format '.xyz'"),
    (["--plot", "missing-dir/x.png"], "the directory"),
    (["--plot", "missing-dir/"], "--plot missing-dir/: the directory does not exist"),
])
def test_bad_options_are_one_line_before_the_lesson(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    printed = []
    assert demo.run(argv, printed.append) == 2
    err = capsys.readouterr().err
    assert printed == []  # nothing of the lesson or the training
    assert err.startswith("error: ") and message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_bad_option_subprocess_prints_nothing_else():
    proc = _run("demo", "--lr", "nan", timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: --lr must be") and len(proc.stderr.splitlines()) == 1


def test_several_bad_options_in_one_line(capsys):
    assert demo.run(["--hidden", "0", "--batch-size", "0"], print) == 2
    err = capsys.readouterr().err
    assert "--hidden" in err and "--batch-size" in err and len(err.splitlines()) == 1


def test_largest_values_are_accepted():
    args = demo.parse_args(["--seed", str(2**64 - 1), "--hidden", "4096", "--lr", "10",
                            "--no-plot"])
    assert (args.seed, args.hidden, args.lr, args.plot) == (2**64 - 1, 4096, 10.0, None)


def test_plot_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = demo.parse_args([])
    assert (args.plot, args.plot_note) == (demo.DEFAULT_PLOT, "")
    args = demo.parse_args(["--plot", "out"])
    assert args.plot == "out.png" and ".png added" in args.plot_note
    (tmp_path / "plots").mkdir()
    args = demo.parse_args(["--plot", "plots"])
    assert args.plot == os.path.join("plots", demo.DEFAULT_PLOT)
    assert "is a directory" in args.plot_note
    for ext in (".png", ".PDF", ".svg"):
        assert demo.parse_args(["--plot", "curve" + ext]).plot == "curve" + ext


def test_plot_into_a_read_only_directory(tmp_path, capsys, monkeypatch):
    # os.access rather than chmod: root may write into read-only directories
    monkeypatch.setattr(demo.os, "access", lambda path, mode: path != str(tmp_path))
    printed = []
    assert demo.run(["--plot", str(tmp_path / "x.png")], printed.append) == 2
    err = capsys.readouterr().err
    assert f"the directory {tmp_path} is not writable" in err and printed == []
    monkeypatch.chdir(tmp_path)  # the default plot, too, is checked before the lesson
    assert demo.run([], printed.append) == 2
    assert "the plot ./gradwalk-demo-loss.png" in capsys.readouterr().err and printed == []


def _fake_plot(losses, path, steps_per_epoch, title):
    """``plot_losses`` without matplotlib: writes a PNG signature where the plot would go."""
    path = os.path.abspath(path)
    with open(path, "wb") as f:
        f.write(b"\x89PNG")
    return path


def test_plot_without_extension_writes_png_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "plot_losses", _fake_plot)
    lines = []
    target = tmp_path / "out"
    assert demo.run(["--dataset", "moons", "--epochs", "1", "--no-lesson", "--plot",
                     str(target)], lines.append) == 0
    png = tmp_path / "out.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and not target.exists()
    assert lines[-1] == f"loss curve written to {png} (.png added to --plot {target})"


def test_plot_into_a_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "plot_losses", _fake_plot)
    lines = []
    assert demo.run(["--dataset", "moons", "--epochs", "1", "--no-lesson", "--plot",
                     str(tmp_path)], lines.append) == 0
    assert (tmp_path / demo.DEFAULT_PLOT).exists()
    assert lines[-1].startswith(f"loss curve written to {tmp_path / demo.DEFAULT_PLOT}")


def test_plot_that_cannot_be_written_is_a_message(tmp_path, monkeypatch, capsys):
    def refuse(losses, path, steps_per_epoch, title):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(demo, "plot_losses", refuse)
    assert demo.run(["--dataset", "moons", "--epochs", "1", "--no-lesson", "--plot",
                     str(tmp_path / "x.png")], lambda s: None) == 1
    assert capsys.readouterr().err == \
        f"error: could not write the loss curve to {tmp_path / 'x.png'}: Permission denied\n"


def test_diverging_training_is_a_message(monkeypatch, capsys):
    def diverge(*args, **kwargs):
        raise FloatingPointError("the loss became inf at epoch 2; try a smaller --lr")

    monkeypatch.setattr(demo, "train", diverge)
    assert demo.run(["--no-lesson", "--no-plot"], print) == 1
    assert capsys.readouterr().err == \
        "error: the loss became inf at epoch 2; try a smaller --lr\n"


def test_help_shows_defaults_and_keeps_tokens_whole(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "70")
    assert demo.run(["--help"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "(default: 64)" in flat and "(default: 32)" in flat and "(default: 0)" in flat
    assert "(default: digits)" in flat
    assert demo.DEFAULT_PLOT in out  # never split at its hyphens
    assert max(len(line) for line in out.splitlines()) <= 70


# ------------------------------------------------------------------ the progress line

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_live_progress_line_without_tqdm(monkeypatch):
    """On a terminal without tqdm: one line per epoch, redrawn in place as the steps run."""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    monkeypatch.setattr(demo, "REDRAW_SECONDS", 0.0)
    screen = _Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    demo.train("moons", epochs=3, hidden=8)
    out = screen.getvalue()
    lines = out.split("\n")
    progress = [line for line in lines if "\r" in line]
    assert len(progress) == 3  # one line per epoch
    steps = 25  # 800 training samples, batches of 32
    for k, line in enumerate(progress, start=1):
        frames = line.split("\r")[1:]
        assert len(frames) == steps + 1  # one redraw per step, then the epoch's result
        assert all(f"epoch {k}/3" in frame for frame in frames)
        assert re.search(rf"epoch {k}/3 +loss [\d.]+ +train acc", frames[-1])
        assert f"step {k * steps}/{3 * steps}" in frames[-2]


def test_plain_progress_when_piped(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stdout", screen)
    demo.train("moons", epochs=2, hidden=8)
    out = screen.getvalue()
    assert "\r" not in out
    assert len(re.findall(r"epoch \d/2 +loss", out)) == 2
