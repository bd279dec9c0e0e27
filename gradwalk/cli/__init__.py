"""Command-line tools: ``python -m gradwalk check`` (``gradwalk.cli.check.main``)."""
