"""``gradwalk.cli.options``: the program's name and the help formatter."""

import argparse
import os
import sys

import pytest

from gradwalk.cli.options import ArgumentParser, HelpFormatter, UsageError, program


@pytest.mark.parametrize("argv0,name", [
    (os.path.join("venv", "bin", "gradwalk"), "gradwalk"),
    ("gradwalk", "gradwalk"),
    (os.path.join("site-packages", "gradwalk", "__main__.py"), "python -m gradwalk"),
    ("", "python -m gradwalk"),
])
def test_program(monkeypatch, argv0, name):
    monkeypatch.setattr(sys, "argv", [argv0])
    assert program() == name
    assert program("check") == name + " check"


def test_help_wraps_at_spaces_and_shows_defaults(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    p = ArgumentParser(prog="gradwalk demo", formatter_class=HelpFormatter,
                       description="line one\n  an example: gradwalk check \"x**3 + 2*sin(x)\"")
    p.add_argument("--plot", default="a-very-long-file-name-with-hyphens.png",
                   help="where the plot goes, a file or a directory")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--flag", action="store_true", help="a switch")
    p.add_argument("--list", nargs="+", default=[], help="some items")
    p.add_argument("--none", default=None, help="nothing")
    p.add_argument("--own", default=3, help="three (default three)")
    text = p.format_help()
    flat = " ".join(text.split())
    assert "a-very-long-file-name-with-hyphens.png" in text  # one token, never split
    assert "  an example: gradwalk check \"x**3 + 2*sin(x)\"" in text  # kept as written
    assert "random seed (default: 0)" in flat
    for word in ("a switch", "some items", "nothing", "three (default three)"):
        assert f"{word} (default:" not in flat and word in flat


def test_parser_raises_instead_of_exiting():
    p = ArgumentParser(prog="x")
    p.add_argument("--n", type=int, choices=(1, 2))
    with pytest.raises(UsageError, match="invalid choice"):
        p.parse_args(["--n", "3"])
    assert isinstance(p, argparse.ArgumentParser)
