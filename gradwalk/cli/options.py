"""What the commands share: the program's name, a help formatter, a parser that never exits.

Example:
    >>> p = ArgumentParser(prog="gradwalk demo", formatter_class=HelpFormatter)
    >>> _ = p.add_argument("--hidden", type=int, default=64, help="hidden units")
    >>> "(default: 64)" in p.format_help()
    True
    >>> p.parse_args(["--hidden", "x"])
    Traceback (most recent call last):
    ...
    gradwalk.cli.options.UsageError: argument --hidden: invalid int value: 'x'
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap


class UsageError(Exception):
    """Bad command-line input: reported as one ``error: ...`` line with exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but its errors raise ``UsageError`` (the command prints them) instead of
    exiting inside library code."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their line breaks (an example command is never wrapped);
    help texts wrap at spaces only, never inside a token such as ``gradwalk-demo-loss.png``;
    every option with a default shows it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or not action.option_strings or default is None
                or default is False or default is argparse.SUPPRESS or default == []):
            return text
        return text + " (default: %(default)s)"

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = " ".join(text.split())
        return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)


def program(command: str | None = None) -> str:
    """How the user started the program: ``gradwalk`` (the console script) or ``python -m
    gradwalk``, followed by the command.

    Example:
        >>> import sys
        >>> saved, sys.argv = sys.argv, ["/usr/local/bin/gradwalk"]
        >>> program("demo")
        'gradwalk demo'
        >>> sys.argv = saved
    """
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    base = os.path.basename(argv0)
    if base in ("gradwalk", "gradwalk.exe", "gradwalk-script.py"):
        name = "gradwalk"
    else:
        name = "python -m gradwalk"
    return f"{name} {command}" if command else name
