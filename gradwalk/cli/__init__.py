"""Command-line tools: ``python -m gradwalk check`` (``gradwalk.cli.check.main``).

``expr`` parses the expressions safely and within bounds, ``numeric`` computes autograd's
derivative, finite differences and kinks, ``symbolic`` runs sympy in a child process under a
time limit, and ``options`` holds what every command shares (the program's name, the help
formatter, ``UsageError``).
"""
