"""The one lazy scan every research read goes through: prune, filter, order, decode, project.

* Partition pruning: event tables are partitioned by ``(exchange, date)`` where ``date`` is the
  exchange-local date of ``ts_local_us``. A window on ``ts_local_us`` maps to exactly the local dates
  ``[date(start), date(end - 1)]`` in the exchange's timezone (never UTC dates for a non-UTC venue); a
  window on ``ts_exch_us`` reads one more day on each side, since the exchange clock can sit across
  midnight from the arrival clock. Polars' ``scan_delta`` turns these filters into partition pruning
  and file skipping by the Delta add-action statistics (``symbol_id``, ``ts_*`` min/max); the Delta
  snapshot itself is opened once per commit (:mod:`pointline_research.snapshots`).
* Order: a deterministic total order (the table's ordering key) is applied before projection, so the
  same query always returns the same rows in the same order.
* Decoding and projection come last, so only the columns asked for (plus the order keys) are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl
from pointline.config import Lake
from pointline.tables.spec import TableSpec
from pointline.tables.validate import empty_frame

from pointline_research import snapshots
from pointline_research.context import exchange_timezone
from pointline_research.decoding import decode_columns, decoded_name
from pointline_research.errors import ResearchInputError
from pointline_research.ordering import ordered
from pointline_research.timewin import Window

PARTITION_CLOCK = "ts_local_us"
"""The clock whose exchange-local date is the ``date`` partition of every event table."""
EXCHANGE_CLOCK_SLACK_DAYS = 1
"""Extra days read on each side for a window on ``ts_exch_us``."""


@dataclass(frozen=True)
class ScanRequest:
    """Everything one lazy read needs; built by :mod:`pointline_research.core` and ``query``."""

    spec: TableSpec
    symbol_ids: tuple[int, ...] | None = None
    """Rows of these dim_symbol versions only (None: every symbol)."""
    window: Window | None = None
    time_column: str | None = None
    exchanges: tuple[str, ...] | None = None
    """Restrict to these exchanges; also what partition pruning needs to know each timezone."""
    versions: pl.DataFrame | None = None
    """dim_symbol rows used to decode fixed-point columns (None: keep the ``*_int`` counts)."""
    columns: tuple[str, ...] | None = None
    order_by: tuple[str, ...] | None = None
    """Sort keys; None means the table's ordering key."""
    empty: bool = False
    """Return no rows (e.g. the symbol had no version in the window) but keep the output schema."""
    symbol_names: dict[int, str] | None = None
    """When set, add an ``exchange_symbol`` column mapped from ``symbol_id``."""


def output_columns(spec: TableSpec, decoded: bool) -> list[str]:
    """Column names a scan returns by default: stored names, fixed-point ones decoded when asked."""
    if not decoded:
        return spec.column_names
    return [decoded_name(c.name) if c.fixed_point else c.name for c in spec.columns]


def check_columns(spec: TableSpec, columns: Sequence[str], decoded: bool) -> None:
    """Raise a one-line error naming every requested column the table does not have."""
    known = set(spec.column_names) | (set(output_columns(spec, True)) if decoded else set())
    unknown = [c for c in columns if c not in known]
    if unknown:
        hint = ", ".join(output_columns(spec, decoded))
        raise ResearchInputError(
            f"table {spec.name!r} has no column(s) {', '.join(map(repr, unknown))}; it has: {hint}"
        )


def run(lake: Lake, request: ScanRequest) -> pl.LazyFrame:
    """Build the lazy plan for ``request``; nothing is read until the caller collects."""
    spec = request.spec
    decoded = request.versions is not None
    if request.columns is not None:
        check_columns(
            spec, [c for c in request.columns if not (c == "exchange_symbol" and request.symbol_names)], decoded
        )
    source = empty_frame(spec).lazy() if request.empty else snapshots.scan(lake, spec)
    filters = list(_filters(lake, request))
    if filters:
        source = source.filter(*filters)
    order = [c for c in (request.order_by or spec.ordering_key) if c in spec.column_names]
    wanted = list(request.columns) if request.columns is not None else output_columns(spec, decoded)
    if order:
        # Read only what is returned plus the order keys, then put the rows in the total order.
        stored = {c.name for c in spec.columns if c.name in wanted or decoded_name(c.name) in wanted}
        by_id = decoded or bool(request.symbol_names)
        needed = [c for c in spec.column_names if c in stored or c in order or (c == "symbol_id" and by_id)]
        time_key = spec.time_column if spec.time_column in order else None
        source = ordered(source.select(needed), order, time_key=time_key)
    if request.versions is not None:
        decode_for = [c.name for c in spec.fixed_point_columns if decoded_name(c.name) in wanted]
        # Rows filtered to ids that all have a version need no per-row "is this id known" test.
        versioned = set(request.versions.get_column("symbol_id").to_list())
        ids_known = request.symbol_ids is not None and versioned.issuperset(request.symbol_ids)
        source = source.with_columns(decode_columns(spec, request.versions, decode_for, ids_known=ids_known))
    if request.symbol_names:
        source = source.with_columns(_symbol_name(request.symbol_names))
        if "exchange_symbol" not in wanted:
            wanted.insert(wanted.index("symbol_id") + 1 if "symbol_id" in wanted else 0, "exchange_symbol")
    return source.select(wanted)


def _symbol_name(names: dict[int, str]) -> pl.Expr:
    if len(set(names.values())) == 1:
        return pl.lit(next(iter(names.values())), pl.String).alias("exchange_symbol")
    return (
        pl.col("symbol_id")
        .replace_strict(list(names), list(names.values()), default=None, return_dtype=pl.String)
        .alias("exchange_symbol")
    )


def _filters(lake: Lake, request: ScanRequest) -> Iterable[pl.Expr]:
    spec = request.spec
    names = set(spec.column_names)
    exchanges = request.exchanges
    if exchanges is not None and "exchange" in names:
        yield pl.col("exchange").is_in(list(exchanges)) if len(exchanges) != 1 else pl.col("exchange") == exchanges[0]
    if request.symbol_ids is not None:
        ids = list(request.symbol_ids)
        yield pl.col("symbol_id").is_in(ids) if len(ids) != 1 else pl.col("symbol_id") == ids[0]
    win = request.window
    if win is None:
        return
    clock = request.time_column or spec.time_column
    if clock is None:
        raise ResearchInputError(f"table {spec.name!r} has no time column: pass time_column= to window it")
    if clock not in names or not spec.schema[clock].is_integer():
        raise ResearchInputError(f"table {spec.name!r} has no integer µs column {clock!r} to window on")
    yield (pl.col(clock) >= win.start_us) & (pl.col(clock) < win.end_us)
    pruning = _date_pruning(lake, spec, win, clock, exchanges)
    if pruning is not None:
        yield pruning


def _date_pruning(
    lake: Lake, spec: TableSpec, win: Window, clock: str, exchanges: tuple[str, ...] | None
) -> pl.Expr | None:
    """``(exchange = e AND date BETWEEN first AND last) OR ...`` in each exchange's own timezone."""
    if "date" not in spec.partition_by or "exchange" not in spec.column_names or not exchanges:
        return None
    if clock == PARTITION_CLOCK:
        slack = 0
    elif clock == "ts_exch_us":
        slack = EXCHANGE_CLOCK_SLACK_DAYS
    else:
        return None  # another clock (e.g. funding_ts_us) says nothing about the partition date
    terms: list[pl.Expr] = []
    for exchange in exchanges:
        first, last = win.local_dates(exchange_timezone(lake, exchange), slack_days=slack)
        terms.append((pl.col("exchange") == exchange) & pl.col("date").is_between(_lit(first), _lit(last)))
    combined = terms[0]
    for term in terms[1:]:
        combined = combined | term
    return combined


def _lit(day: dt.date) -> pl.Expr:
    return pl.lit(day, pl.Date)
