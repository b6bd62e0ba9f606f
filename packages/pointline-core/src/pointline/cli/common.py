"""Helpers shared by CLI commands: consoles, tables, JSON output, time and lake arguments."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from pointline.config import Lake

console = Console()


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def current_lake() -> Lake:
    """The lake every command works on (``--lake`` is applied by the root callback)."""
    return Lake.resolve()


def rich_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table; the first column (the row's name) never wraps, the others fold rather than truncate."""
    table = Table(title=title, header_style="bold cyan", title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, no_wrap=i == 0, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def print_frame(
    frame: pl.DataFrame, *, title: str | None = None, fmt: OutputFormat = OutputFormat.table, max_rows: int = 50
) -> None:
    """Print a frame as a rich table (first ``max_rows`` rows), JSON lines, or CSV."""
    if fmt is OutputFormat.json:
        # Plain JSON on stdout (no highlighting, no wrapping) so scripts can parse it.
        sys.stdout.write(json.dumps(frame.to_dicts(), default=_json_default, indent=2) + "\n")
        return
    if fmt is OutputFormat.csv:
        console.print(frame.write_csv(), end="", markup=False, highlight=False, soft_wrap=True)
        return
    shown = frame.head(max_rows)
    console.print(rich_table(title, shown.columns, shown.iter_rows()))
    if frame.height > max_rows:
        console.print(f"[dim]... {frame.height - max_rows} more rows ({frame.height} in all)[/]")


def _json_default(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)
