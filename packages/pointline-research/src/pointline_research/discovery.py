"""Discovery: what the lake holds, answered from dimension and manifest tables (never by listing files).

* :func:`list_exchanges` — dim_exchange (else the exchanges installed plugins register), with symbol counts;
* :func:`list_symbols` — dim_symbol with filters, as-of resolution and history;
* :func:`data_coverage` — per table and exchange-local day: present, or missing and why;
* :func:`summarize_symbol` — versions, tick-size history, row counts per table and coverage.

``search`` in :func:`list_symbols` is a case-insensitive *discovery* filter; resolving a symbol for a
query is always an exact match (see :mod:`pointline_research.symbols`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from pointline.dims.dim_exchange import exchange_frame
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_EXCHANGE
from pointline.timeutil import to_us

from pointline_research.context import LakeLike, exchange_timezone, resolve_lake
from pointline_research.coverage import COVERAGE_SCHEMA, data_coverage
from pointline_research.ordering import ordered
from pointline_research.symbols import dim_symbol, resolve
from pointline_research.tables import event_tables
from pointline_research.timewin import TimeLike, local_date

__all__ = ["SymbolSummary", "data_coverage", "list_exchanges", "list_symbols", "summarize_symbol"]

KEY = ["exchange", "exchange_symbol"]
LEADING = [
    "exchange",
    "exchange_symbol",
    "symbol_id",
    "instrument_type",
    "asset_class",
    "base_asset",
    "quote_asset",
    "price_increment",
    "amount_increment",
    "valid_from_ts",
    "valid_until_ts",
    "is_current",
    "versions",
]
"""Columns :func:`list_symbols` puts first; every other dim_symbol column follows."""


def list_exchanges(*, lake: LakeLike = None) -> pl.DataFrame:
    """Exchanges with timezone, asset class and how many symbols/versions dim_symbol holds for each.

    From ``dim_exchange`` when the lake has it, else from the exchanges installed plugins register;
    exchanges that only appear in dim_symbol are listed too (with null metadata).
    """
    root = resolve_lake(lake)
    exchanges = TableStore(root, DIM_EXCHANGE).read()
    if exchanges.height == 0:
        exchanges = exchange_frame(get_host())
    counts = (
        dim_symbol(root)
        .group_by("exchange")
        .agg(
            symbols=pl.col("exchange_symbol").n_unique().cast(pl.Int64),
            versions=pl.len().cast(pl.Int64),
            current=pl.col("is_current").sum().cast(pl.Int64),
        )
        .collect()
    )
    return (
        exchanges.join(counts, on="exchange", how="full", coalesce=True)
        .with_columns(pl.col("symbols", "versions", "current").fill_null(0))
        .sort("exchange")
    )


def list_symbols(
    exchange: str | Sequence[str] | None = None,
    *,
    asof: TimeLike | None = None,
    search: str | None = None,
    instrument_type: str | Sequence[str] | None = None,
    asset_class: str | Sequence[str] | None = None,
    underlying: str | None = None,
    history: bool = False,
    lake: LakeLike = None,
) -> pl.DataFrame:
    """Symbols of dim_symbol, one row per instrument unless ``history``.

    * default: each instrument's latest version (``is_current`` tells whether it is still open);
    * ``asof``: the versions valid at that instant (``valid_from_ts <= asof < valid_until_ts``);
    * ``history=True``: every version.

    ``search`` keeps rows whose symbol, base, quote or underlying contains the text (case-insensitive);
    the other filters are exact. ``versions`` counts each instrument's versions.
    """
    frame = dim_symbol(resolve_lake(lake))
    if exchange is not None:
        frame = frame.filter(pl.col("exchange").is_in([exchange] if isinstance(exchange, str) else list(exchange)))
    # In key order (dim_symbol is stored that way, so this is a check), versions of one instrument are
    # consecutive: count them and flag the latest with run arithmetic instead of window functions.
    frame = ordered(frame, [*KEY, "valid_from_ts"])
    starts = pl.any_horizontal(pl.col(c) != pl.col(c).shift(1) for c in KEY).fill_null(True)
    ends = pl.any_horizontal(pl.col(c) != pl.col(c).shift(-1) for c in KEY).fill_null(True)
    frame = frame.with_columns(versions=pl.len().over(starts.cum_sum()).cast(pl.Int64), __latest=ends)
    for column, value in (("instrument_type", instrument_type), ("asset_class", asset_class)):
        if value is not None:
            frame = frame.filter(pl.col(column).is_in([value] if isinstance(value, str) else list(value)))
    if underlying is not None:
        frame = frame.filter(pl.col("underlying") == underlying)
    if search:
        needle = search.lower()  # the same folding as str.to_lowercase below
        fields = ("exchange_symbol", "base_asset", "quote_asset", "underlying")
        hit = pl.any_horizontal(
            pl.col(f).str.to_lowercase().str.contains(needle, literal=True).fill_null(False) for f in fields
        )
        frame = frame.filter(hit)
    if asof is not None:
        t = to_us(asof)
        frame = frame.filter(pl.col("valid_from_ts") <= t, pl.col("valid_until_ts") > t)
    elif not history:
        frame = frame.filter(pl.col("__latest"))
    names = [c for c in frame.collect_schema().names() if c != "__latest"]
    return frame.select(LEADING + [c for c in names if c not in LEADING]).collect()


@dataclass(frozen=True)
class SymbolSummary:
    """Everything the lake knows about one instrument."""

    exchange: str
    symbol: str
    versions: pl.DataFrame
    """Every dim_symbol version, oldest first."""
    tick_history: pl.DataFrame
    """One row per version: validity, increments and what changed from the previous version."""
    tables: pl.DataFrame
    """Per event table with rows: rows, days, first_ts_us, last_ts_us."""
    coverage: pl.DataFrame
    """:func:`data_coverage` over the requested window, else over the days that hold data."""


def summarize_symbol(
    exchange: str,
    symbol: str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    lake: LakeLike = None,
) -> SymbolSummary:
    """Versions, tick-size history, row counts per table and coverage of ``symbol`` on ``exchange``."""
    root = resolve_lake(lake)
    versions = resolve(root, exchange, symbol)
    ids = versions.get_column("symbol_id").to_list()
    specs = event_tables(root)
    plans = [
        TableStore(root, spec)
        .scan()
        .filter(pl.col("exchange") == exchange, pl.col("symbol_id").is_in(ids))
        .select(
            table=pl.lit(spec.name),
            rows=pl.len().cast(pl.Int64),
            days=pl.col("date").n_unique().cast(pl.Int64),
            first_ts_us=pl.col("ts_local_us").min(),
            last_ts_us=pl.col("ts_local_us").max(),
        )
        for spec in specs
    ]
    schema = pl.Schema(
        {
            "table": pl.String(),
            "rows": pl.Int64(),
            "days": pl.Int64(),
            "first_ts_us": pl.Int64(),
            "last_ts_us": pl.Int64(),
        }
    )
    counts = pl.concat([f.cast(schema) for f in pl.collect_all(plans)]) if plans else pl.DataFrame(schema=schema)
    counts = counts.filter(pl.col("rows") > 0)
    if start is not None and end is not None:
        coverage = data_coverage(exchange, symbol, start, end, lake=root)
    elif counts.height:
        tz = exchange_timezone(root, exchange)
        first = local_date(int(counts.get_column("first_ts_us").min()), tz)  # type: ignore[arg-type]
        last = local_date(int(counts.get_column("last_ts_us").max()), tz)  # type: ignore[arg-type]
        coverage = data_coverage(
            exchange, symbol, first, last + dt.timedelta(days=1), tables=counts.get_column("table").to_list(), lake=root
        )
    else:
        coverage = pl.DataFrame(schema=COVERAGE_SCHEMA)
    return SymbolSummary(exchange, symbol, versions, _tick_history(versions), counts, coverage)


def _tick_history(versions: pl.DataFrame) -> pl.DataFrame:
    """Validity, increments and a short description of what changed at each version."""
    changes: list[str] = []
    previous: dict[str, object] | None = None
    for row in versions.iter_rows(named=True):  # one row per version: a handful
        if previous is None:
            changes.append("first version")
        else:
            diffs = [
                f"{field} {_text(previous[field])} -> {_text(row[field])}"
                for field in ("price_increment", "amount_increment", "tick_size", "lot_size", "contract_multiplier")
                if previous[field] != row[field]
            ]
            changes.append("; ".join(diffs) or "metadata only")
        previous = row
    return versions.select(
        "symbol_id", "valid_from_ts", "valid_until_ts", "price_increment", "amount_increment", "is_current", "source"
    ).with_columns(change=pl.Series(changes, dtype=pl.String))


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)
