"""Core's own plugin: it registers the canonical tables and core's commands through the same hooks
third-party plugins use."""

from __future__ import annotations

from collections.abc import Callable

import typer

from pointline.plugins.hookspecs import hookimpl
from pointline.tables.canonical import canonical_tables
from pointline.tables.spec import TableSpec


@hookimpl
def pointline_register_tables(register: Callable[[TableSpec], None]) -> None:
    for spec in canonical_tables():
        register(spec)


@hookimpl
def pointline_register_commands(app: typer.Typer) -> None:
    from pointline.cli import core_commands

    core_commands.register(app)
