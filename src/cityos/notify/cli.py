"""The `cityos notify` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="notify", no_args_is_help=True)
