"""``python -m gradwalk`` (and the ``gradwalk`` console script).

Commands: ``demo`` (the default: the lesson, then an MLP trained on handwritten digits),
``lesson`` (the lesson only), ``check`` (compare autograd with a hand derivative; see
``python -m gradwalk check --help``).

Example:
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: python -m gradwalk [demo|lesson|check] [options]
    ...
    0
"""

from __future__ import annotations

import sys

USAGE = """\
usage: python -m gradwalk [demo|lesson|check] [options]

commands:
  demo     the autograd lesson, then an MLP trained on the bundled handwritten digits
           (the default; python -m gradwalk demo --help lists its options)
  lesson   the autograd lesson only
  check    compare autograd's derivative of an expression with yours
           (python -m gradwalk check --help)
"""

COMMANDS = ("demo", "lesson", "check")


def main(argv: list[str] | None = None) -> int:
    """Dispatch a command; returns the exit status.

    Example:
        >>> main(["lesson"])  # doctest: +ELLIPSIS
        Autograd in four steps
        ...
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if not argv or argv[0].startswith("-"):
        command, rest = "demo", argv
    else:
        command, rest = argv[0], argv[1:]
    if command == "demo":
        from .demo import run

        return run(rest)
    if command == "lesson":
        if rest:
            print(f"gradwalk lesson takes no options (got {' '.join(rest)})", file=sys.stderr)
            return 2
        from .demo import run_lesson

        return 0 if run_lesson() else 1
    if command == "check":
        from .cli.check import main as check_main

        return int(check_main(rest) or 0)
    print(f"gradwalk: unknown command {command!r}; choose one of {', '.join(COMMANDS)}\n",
          file=sys.stderr)
    print(USAGE, end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
