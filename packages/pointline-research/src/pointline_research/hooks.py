"""The research package's plugin: it adds ``query``, ``sql``, ``symbols`` and ``coverage`` to the CLI."""

from __future__ import annotations

import typer
from pointline.plugins.hookspecs import hookimpl


@hookimpl
def pointline_register_commands(app: typer.Typer) -> None:
    from pointline_research import cli

    cli.register(app)
