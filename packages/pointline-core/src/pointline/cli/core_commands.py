"""Core's own CLI commands: plugins, schema, dim and lake."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from pointline.cli.common import console, rich_table
from pointline.plugins.host import get_host
from pointline.tables.spec import TableSpec


def register(app: typer.Typer) -> None:
    """Attach core's commands to the root app."""
    app.command("plugins", help="List installed plugins with their distributions, versions and hooks.")(plugins)
    schema_app = typer.Typer(help="Inspect registered table schemas.", no_args_is_help=True)
    schema_app.command("list", help="List every registered table with its tier and status.")(schema_list)
    schema_app.command("show", help="Show one table's columns, partitioning, lineage and ordering keys.")(schema_show)
    app.add_typer(schema_app, name="schema")

    from pointline.cli import dim_commands, ingest_commands, lake_commands

    dim_commands.register(app)
    lake_commands.register(app)
    ingest_commands.register(app)


def plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    infos = get_host().plugin_infos()
    if as_json:
        # Plain JSON (no highlighting, no wrapping) so scripts can parse it.
        typer.echo(json.dumps([asdict(i) for i in infos], indent=2))
        return
    rows = [
        (
            i.name,
            i.distribution,
            i.version,
            ", ".join(h.removeprefix("pointline_") for h in i.hooks),
            ", ".join(i.vendors),
            len(i.tables),
            len(i.exchanges),
        )
        for i in infos
    ]
    console.print(
        rich_table(
            "Installed Pointline plugins",
            ["plugin", "distribution", "version", "hooks", "vendors", "tables", "exchanges"],
            rows,
        )
    )


def schema_list() -> None:
    tables = get_host().tables
    rows = [
        (t.name, t.tier.value, t.status.value, ", ".join(t.partition_by) or "-", len(t.columns), t.description)
        for t in tables.values()
    ]
    console.print(
        rich_table("Registered tables", ["table", "tier", "status", "partitioned by", "columns", "description"], rows)
    )


def schema_show(table: str = typer.Argument(..., help="Table name, e.g. trades or kline_1m.")) -> None:
    spec = get_host().table(table)
    console.print(f"[bold]{spec.name}[/] ({spec.tier.value}, {spec.status.value}) — {spec.description}")
    console.print(f"partitioned by: [cyan]{', '.join(spec.partition_by) or '(none)'}[/]")
    console.print(f"lineage key:    [cyan]{', '.join(spec.lineage_key) or '(none)'}[/]")
    console.print(f"ordering key:   [cyan]{', '.join(spec.ordering_key) or '(none)'}[/]")
    if spec.time_column:
        console.print(f"time column:    [cyan]{spec.time_column}[/]")
    console.print(rich_table(None, ["column", "type", "nullable", "role", "description"], _column_rows(spec)))


def _column_rows(spec: TableSpec) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for c in spec.columns:
        roles = []
        if c.name in spec.partition_by:
            roles.append("partition")
        if c.name in spec.lineage_key:
            roles.append("lineage")
        if c.fixed_point:
            roles.append(f"fixed-point ({c.fixed_point}_increment)")
        rows.append((c.name, str(c.dtype), "yes" if c.nullable else "no", ", ".join(roles), c.description))
    return rows
