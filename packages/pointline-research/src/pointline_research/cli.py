"""`pointline query`, `pointline sql`, `pointline symbols` and `pointline coverage`.

Data goes to stdout (a rich table, CSV or JSON, or a file with ``--output``); progress and notes go to
stderr, so ``pointline query ... --format csv > out.csv`` stays clean.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from pointline.cli.common import OutputFormat, console, print_frame, rich_table
from pointline.timeutil import MAX_TS
from rich.console import Console

from pointline_research.context import resolve_lake
from pointline_research.errors import ResearchInputError, SqlError

err = Console(stderr=True)
TABLE_ROWS = 50
"""Rows a rich table shows unless --limit says otherwise."""
_STATUS_STYLE = {
    "present": "green",
    "quarantined": "yellow",
    "failed": "bold red",
    "empty": "magenta",
    "pending": "cyan",
    "not_listed": "dim",
    "no_session": "dim",
    "missing": "red",
}


def register(app: typer.Typer) -> None:
    """Attach the research commands to the root ``pointline`` app."""
    app.command("query", help="Rows of an event table for one exchange and exact symbol(s) over [start, end).")(
        query_command
    )
    app.command("sql", help="Run SQL on DuckDB views of every lake table (same Delta snapshot as the Python API).")(
        sql_command
    )
    app.command("symbols", help="List dim_symbol instruments, or summarise one with --symbol.")(symbols_command)
    app.command(
        "coverage",
        help="Per-day coverage of a symbol: present, missing, failed (file + reason), quarantined (per rule).",
    )(coverage_command)


# -- output ------------------------------------------------------------------------------------------


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def emit(
    frame: pl.DataFrame, fmt: Format, output: Path | None, *, title: str | None = None, max_rows: int = TABLE_ROWS
) -> None:
    """Print ``frame`` (or write it to ``output``) in the chosen format."""
    if fmt is Format.parquet and output is None:
        raise ResearchInputError("--format parquet needs --output FILE")
    if output is not None:
        if fmt is Format.parquet:
            frame.write_parquet(output)
        elif fmt is Format.json:
            frame.write_json(output)
        elif fmt is Format.csv:
            flat(frame).write_csv(output)
        else:
            raise ResearchInputError("--output needs --format csv, json or parquet")
        err.print(f"wrote {frame.height:,} rows to {output}")
        return
    if fmt is Format.table:
        print_frame(readable(frame), title=title, fmt=OutputFormat.table, max_rows=max_rows)
    elif fmt is Format.csv:
        print_frame(flat(frame), fmt=OutputFormat.csv)
    else:
        print_frame(frame, fmt=OutputFormat.json)


def flat(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with '; ' (CSV has no nested values)."""
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(n).cast(pl.List(pl.String)).list.join("; ") for n in lists) if lists else frame


def is_timestamp(name: str, dtype: pl.DataType) -> bool:
    """µs UTC columns by naming convention (``ts_local_us``, ``*_ts``, ``*_ts_us``, ``bar_start``/``bar_end``)."""
    if not dtype.is_integer():
        return False
    return name.startswith("ts_") or name.endswith(("_ts", "_ts_us")) or name in ("bar_start", "bar_end")


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """For rich tables only: µs timestamps as ISO UTC text (open-ended validity as 'open'), and
    decimals without trailing zeros (``0.100000000000000000`` -> ``0.1``)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if is_timestamp(name, dtype):
            text = pl.from_epoch(pl.col(name), time_unit="us").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            exprs.append(pl.when(pl.col(name) == MAX_TS).then(pl.lit("open")).otherwise(text).alias(name))
        elif isinstance(dtype, pl.Decimal) and (dtype.scale or 0) > 0:
            trimmed = pl.col(name).cast(pl.String).str.replace(r"0+$", "").str.strip_suffix(".")
            exprs.append(trimmed.alias(name))
    return frame.with_columns(exprs) if exprs else frame


# -- commands ----------------------------------------------------------------------------------------


def query_command(
    table: str = typer.Argument(
        ..., help="Event table: trades, quotes, book_snapshot_25, derivative_ticker, kline_1m, ..."
    ),
    exchange: str = typer.Option(..., "--exchange", "-e", help="Exchange id, e.g. binance-futures."),
    symbol: list[str] = typer.Option(..., "--symbol", "-s", help="Exact exchange symbol (repeatable)."),
    start: str = typer.Option(..., "--start", help="Window start (inclusive): ISO date/time (UTC if no offset) or µs."),
    end: str = typer.Option(..., "--end", help="Window end (exclusive)."),
    decoded: bool = typer.Option(
        False, "--decoded", help="Exact decimal prices/sizes (px, qty, ...) instead of *_int counts."
    ),
    columns: str | None = typer.Option(None, "--columns", "-c", help="Comma-separated columns to return."),
    time_column: str | None = typer.Option(None, "--time-column", help="Clock of the window (default ts_local_us)."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Return at most N rows."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    from pointline_research import query

    lazy = query.table(
        table,
        exchange,
        symbol if len(symbol) > 1 else symbol[0],
        start,
        end,
        decoded=decoded,
        columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
        time_column=time_column,
        with_symbol=len(symbol) > 1,
    )
    if limit is not None:
        lazy = lazy.head(limit)
    with err.status(f"reading {table} ..."):
        frame = lazy.collect()
    title = f"{table} {exchange} {', '.join(symbol)} [{start}, {end})"
    emit(frame, fmt, output, title=title, max_rows=limit or TABLE_ROWS)


def sql_command(
    statement: str = typer.Argument(..., help='SQL, e.g. "SELECT date, count(*) FROM trades GROUP BY 1".'),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Rows shown in table format (default 50)."),
) -> None:
    import duckdb

    from pointline_research import duck

    con = duck.connect(resolve_lake())
    try:
        with err.status("running SQL ..."):
            frame = con.sql(statement).pl()
    except duckdb.Error as exc:
        raise SqlError(f"SQL error: {str(exc).strip().splitlines()[0]}") from None
    finally:
        con.close()
    emit(frame, fmt, output, max_rows=limit or TABLE_ROWS)


SYMBOL_COLUMNS = (
    "exchange",
    "exchange_symbol",
    "instrument_type",
    "base_asset",
    "quote_asset",
    "price_increment",
    "amount_increment",
    "valid_from_ts",
    "valid_until_ts",
    "versions",
    "symbol_id",
)


def symbols_command(
    exchange: str | None = typer.Option(None, "--exchange", "-e", help="Only this exchange."),
    search: str | None = typer.Option(
        None, "--search", help="Case-insensitive text in symbol, base, quote or underlying."
    ),
    asof: str | None = typer.Option(None, "--asof", help="Versions valid at this time (ISO or µs)."),
    history: bool = typer.Option(False, "--history", help="Every version, not just the latest per instrument."),
    instrument_type: str | None = typer.Option(None, "--type", help="spot, perpetual, future, option, ..."),
    symbol: str | None = typer.Option(None, "--symbol", "-s", help="Summarise this exact symbol (needs --exchange)."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Rows shown in table format (default 50)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    from pointline_research import discovery

    if symbol is not None:
        if exchange is None:
            raise ResearchInputError("--symbol needs --exchange")
        _summary(exchange, symbol)
        return
    frame = discovery.list_symbols(exchange, asof=asof, search=search, instrument_type=instrument_type, history=history)
    if fmt is Format.table and output is None:
        frame = frame.select(SYMBOL_COLUMNS)
    emit(frame, fmt, output, title=f"{frame.height:,} symbols", max_rows=limit or TABLE_ROWS)


def _summary(exchange: str, symbol: str) -> None:
    from pointline_research import discovery

    with err.status(f"summarising {exchange} {symbol} ..."):
        summary = discovery.summarize_symbol(exchange, symbol)
    history = summary.tick_history
    print_frame(readable(history), title=f"{exchange} {symbol}: {history.height} version(s)")
    if summary.tables.height:
        print_frame(readable(summary.tables), title="rows per table")
    else:
        console.print("[dim]no rows in any table[/]")
    if summary.coverage.height:
        counts = summary.coverage.group_by("table", "status").agg(days=pl.len()).sort("table", "status")
        print_frame(counts, title="days by status")


def coverage_command(
    exchange: str = typer.Option(..., "--exchange", "-e", help="Exchange id."),
    symbol: str = typer.Option(..., "--symbol", "-s", help="Exact exchange symbol."),
    first: str = typer.Option(..., "--from", help="First exchange-local day, YYYY-MM-DD."),
    last: str = typer.Option(..., "--to", help="Last exchange-local day (inclusive), YYYY-MM-DD."),
    table: list[str] = typer.Option(
        None, "--table", "-t", help="Only these tables (repeatable); default every event table."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    from pointline_research import discovery

    try:
        start, stop = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        raise ResearchInputError(f"--from/--to must be YYYY-MM-DD days, got {first!r} and {last!r}") from None
    with err.status(f"reading coverage of {exchange} {symbol} ..."):
        frame = discovery.data_coverage(exchange, symbol, start, stop + dt.timedelta(days=1), tables=table or None)
    if fmt is not Format.table or output is not None:
        emit(frame, fmt, output)
        return
    print_coverage(frame, f"{exchange} {symbol}: {first} .. {last}")


def print_coverage(frame: pl.DataFrame, title: str) -> None:
    """A day x table matrix of coloured statuses, then one line per day that is not simply present."""
    tables = frame.get_column("table").unique(maintain_order=True).to_list()
    rows = []
    for day, group in frame.group_by("date", maintain_order=True):
        cells = {r["table"]: _cell(r) for r in group.iter_rows(named=True)}
        rows.append([str(day[0]), *(cells.get(t, "") for t in tables)])
    console.print(f"[bold]{title}[/]")
    console.print(rich_table(None, ["date", *tables], rows))
    # "missing" needs no explanation beyond the matrix; every other gap (and rejected rows) does.
    problems = frame.filter(~pl.col("status").is_in(["present", "missing"]) | (pl.col("quarantined_rows") > 0))
    if problems.height:
        detail = [
            (r["date"], r["table"], f"[{_STATUS_STYLE[r['status']]}]{r['status']}[/]", _detail(r))
            for r in problems.iter_rows(named=True)
        ]
        console.print(rich_table("details", ["date", "table", "status", "detail"], detail))
    totals = frame.group_by("status").agg(days=pl.len()).sort("status")
    summary = ", ".join(f"{s}: {n}" for s, n in totals.iter_rows())
    console.print(f"[dim]{summary}[/]")


def _cell(row: dict[str, object]) -> str:
    status = str(row["status"])
    text = f"{status} ({row['rows']:,})" if status == "present" else status
    return f"[{_STATUS_STYLE[status]}]{text}[/]"


def _detail(row: dict[str, object]) -> str:
    parts = []
    if row["rules"]:
        parts.append(f"{row['quarantined_rows']} quarantined: {row['rules']}")
    if row["reason"]:
        parts.append(str(row["reason"]))
    paths = row["bronze_paths"]
    if isinstance(paths, list) and paths:
        parts.append(", ".join(paths))
    return " | ".join(parts)
