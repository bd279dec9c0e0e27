"""``python -m gradwalk`` (and the ``gradwalk`` console script).

Commands: ``demo`` (the default: the lesson, then an MLP trained on handwritten digits),
``lesson`` (the lesson only), ``check`` (compare autograd with a hand derivative; see
``python -m gradwalk check --help``), ``compile-explain`` (run a script with one function
compiled and print what ``gradwalk.compile`` made of it; Note [compile-explain] in
``gradwalk/compiler/cli.py``). ``--version`` prints the version.

Note [a quiet command line]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
No input makes the command line print a traceback: bad options are one ``error:`` line and
exit status 2; output piped into ``head`` stops quietly (``BrokenPipeError``: stdout is pointed
at /dev/null so the interpreter's final flush cannot fail again); Ctrl-C stops with status 130
(128 + SIGINT, as shells report it) and one short line. ``main`` does this itself, so the
console script (which calls ``main`` directly) behaves as ``python -m gradwalk`` does.

Example:
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: ... [demo|lesson|check|compile-explain] [options]
    ...
    0
    >>> main(["--version"])  # doctest: +ELLIPSIS
    gradwalk 0...
    0
"""

from __future__ import annotations

import os
import sys

from .cli.options import program

USAGE = """\
usage: {prog} [demo|lesson|check|compile-explain] [options]

commands:
  demo     the autograd lesson, then an MLP trained on the bundled handwritten digits
           (the default; {prog} demo --help lists its options)
  lesson   the autograd lesson only
  check    compare autograd's derivative of an expression with yours
           ({prog} check --help)
  compile-explain
           run a script with one function compiled (gradwalk.compile), then print the
           generated programs, guards, recompiles and graph breaks
           ({prog} compile-explain --help)

options:
  -h, --help  show this message and exit
  --version   show gradwalk's version and exit
"""

LESSON_USAGE = """\
usage: {prog} lesson

The autograd lesson: one input, two inputs and the chain rule, a linear regression fitted by
gradient descent, then an exercise to check with `{prog} check`. It takes no options.
"""

COMMANDS = ("demo", "lesson", "check", "compile-explain")


def main(argv: list[str] | None = None) -> int:
    """Dispatch a command; returns the exit status (Note [a quiet command line]).

    Example:
        >>> main(["lesson"])  # doctest: +ELLIPSIS
        The autograd lesson
        ...
        0
    """
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141  # 128 + SIGPIPE, as when the shell's own tools stop on a closed pipe
    except KeyboardInterrupt:
        try:
            print("\ninterrupted", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 130


def _dispatch(argv: list[str]) -> int:
    prog = program()
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE.format(prog=prog), end="")
        return 0
    if argv and argv[0] in ("-V", "--version", "version"):
        from . import __version__

        print(f"gradwalk {__version__}")
        return 0
    if not argv or argv[0].startswith("-"):
        command, rest = "demo", argv
    else:
        command, rest = argv[0], argv[1:]
    if command == "demo":
        from .demo import run

        return run(rest)
    if command == "lesson":
        if rest and rest[0] in ("-h", "--help"):
            print(LESSON_USAGE.format(prog=prog), end="")
            return 0
        if rest:
            print(f"error: {prog} lesson takes no options (got {' '.join(rest)}); see "
                  f"{prog} lesson --help", file=sys.stderr)
            return 2
        from .demo import run_lesson

        return 0 if run_lesson() else 1
    if command == "check":
        from .cli.check import main as check_main

        return int(check_main(rest) or 0)
    if command == "compile-explain":
        from .compiler.cli import main as explain_main

        return explain_main(rest)
    print(f"error: unknown command {command!r}; choose one of {', '.join(COMMANDS)}\n",
          file=sys.stderr)
    print(USAGE.format(prog=prog), end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
