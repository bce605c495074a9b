"""The `cityos disaster` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="disaster", no_args_is_help=True)
