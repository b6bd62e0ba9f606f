"""`pointline lake ...` and `pointline delta ...`: what is in the lake, and table maintenance."""

from __future__ import annotations

import typer

from pointline.cli.common import console, current_lake, rich_table
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore


def register(app: typer.Typer) -> None:
    lake_app = typer.Typer(help="Inspect the lake.", no_args_is_help=True)
    lake_app.command("stats", help="Rows, files, bytes and bytes/row of every table in the lake.")(stats)
    app.add_typer(lake_app, name="lake")


def stats() -> None:
    lake = current_lake()
    rows = []
    for spec in get_host().tables.values():
        store = TableStore(lake, spec)
        if not store.exists():
            continue
        dt = store.delta_table()
        actions = dt.get_add_actions(flatten=True)
        files = actions.num_rows
        size = sum(actions.column("size_bytes").to_pylist()) if files else 0
        nrows = sum(v or 0 for v in actions.column("num_records").to_pylist()) if files else 0
        rows.append(
            (
                spec.name,
                spec.tier.value,
                f"{nrows:,}",
                files,
                f"{size:,}",
                f"{size / nrows:.2f}" if nrows else "-",
                dt.version(),
            )
        )
    if not rows:
        console.print(
            f"lake {lake.root}: no tables yet (put vendor files under {lake.bronze} and run `pointline ingest run`)"
        )
        return
    console.print(
        rich_table(f"Lake {lake.root}", ["table", "tier", "rows", "files", "bytes", "bytes/row", "version"], rows)
    )
