"""The `cityos sensors` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="sensors", no_args_is_help=True)
