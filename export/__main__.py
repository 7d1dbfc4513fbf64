"""`python -m export` entry point."""

from export.cli import app

app(prog_name="python -m export")
