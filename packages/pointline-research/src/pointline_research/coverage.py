"""Real data coverage of one instrument: per table and exchange-local day, what exists and why not.

Everything is answered from the lake's tables — the silver rows of the instrument's dim_symbol
versions (counted through Delta statistics and partition pruning), ``ingest_manifest``,
``validation_log``, ``quarantine``, ``dim_symbol`` and ``dim_trading_calendar`` — never by listing
bronze or data files. Each ``(table, date)`` gets one status, the first that applies:

==============  ==============================================================================
present         rows exist (``quarantined_rows`` may still count rejected rows of that day)
quarantined     no rows, but rows were read and quarantined (``rules`` counts them per rule)
failed          no rows; a bronze file of that day failed to ingest (``reason``, ``bronze_paths``)
empty           no rows; the vendor's file for that day was empty
pending         no rows; a file is registered but not ingested yet
not_listed      no dim_symbol version of the symbol is valid on that day
no_session      the exchange's trading calendar has no session that day
missing         nothing at all: no bronze file was ingested for that day
==============  ==============================================================================

A failed file is attributed to the symbol and day through its manifest row (dates, time range) and
the metadata its vendor plugin reads from the path (``Vendor.describe_file``; Hive ``symbol=``/``date=``
segments when the vendor is not installed). A grouped file holding many symbols counts for each of them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

import polars as pl
from pointline.config import Lake
from pointline.errors import PointlineError
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_TRADING_CALENDAR, INGEST_MANIFEST, QUARANTINE, VALIDATION_LOG
from pointline.tables.spec import TableSpec
from pointline.timeutil import local_date, to_us

from pointline_research.context import LakeLike, exchange_timezone, resolve_lake, table_spec
from pointline_research.errors import ResearchInputError
from pointline_research.symbols import resolve
from pointline_research.tables import event_tables
from pointline_research.timewin import TimeLike, day_range
from pointline_research.timewin import local_date as scalar_local_date

STATUSES = ("present", "quarantined", "failed", "empty", "pending", "not_listed", "no_session", "missing")
"""Day statuses, in precedence order."""
EMPTY_FILE_REASON = "empty_file"
"""validation_log.failure_reason of an empty vendor file."""
_ISSUE_RANK = {"failed": 0, "empty": 1, "pending": 2}
_HIVE = re.compile(r"^(symbol|date|exchange)=(.+)$")

COVERAGE_SCHEMA = pl.Schema(
    {
        "table": pl.String(),
        "date": pl.Date(),
        "status": pl.String(),
        "rows": pl.Int64(),
        "files": pl.Int64(),
        "quarantined_rows": pl.Int64(),
        "rules": pl.String(),
        "reason": pl.String(),
        "bronze_paths": pl.List(pl.String()),
    }
)


def data_coverage(
    exchange: str,
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    tables: Sequence[str] | None = None,
    lake: LakeLike = None,
) -> pl.DataFrame:
    """One row per ``(table, exchange-local date)`` in ``[start, end)`` with its status (see module doc).

    ``start``/``end`` given as dates (``"2024-05-01"``) name exchange-local days, end excluded; other
    times are converted to local dates. ``tables`` defaults to the event tables that hold files or rows
    of ``exchange``.
    Columns: table, date, status, rows, files, quarantined_rows, rules, reason, bronze_paths.
    """
    root = resolve_lake(lake)
    tz = exchange_timezone(root, exchange)
    first, last = day_range(start, end, tz)
    versions = resolve(root, exchange, symbol)
    specs = _specs(root, tables, exchange)
    if not specs:
        return pl.DataFrame(schema=COVERAGE_SCHEMA)
    names = [s.name for s in specs]
    days = pl.DataFrame({"date": pl.date_range(first, last, "1d", eager=True)})
    grid = pl.DataFrame({"table": names}).join(days, how="cross")
    ids = versions.get_column("symbol_id").to_list()
    manifest = _manifest(root, exchange, names)
    present = _present(root, specs, exchange, ids, first, last)
    quarantined = _quarantined(root, names, exchange, symbol, manifest, tz, first, last)
    issues = _file_issues(root, manifest, exchange, symbol, tz, first, last)
    listed = _listed(versions, days, tz)
    sessions = _sessions(root, exchange, first, last)
    out = (
        grid.join(present, on=["table", "date"], how="left")
        .join(quarantined, on=["table", "date"], how="left")
        .join(issues, on=["table", "date"], how="left")
        .join(listed, on="date", how="left")
        .join(sessions, on="date", how="left")
        .with_columns(
            pl.col("rows", "files", "quarantined_rows").fill_null(0),
        )
    )
    status = (
        pl.when(pl.col("rows") > 0)
        .then(pl.lit("present"))
        .when(pl.col("quarantined_rows") > 0)
        .then(pl.lit("quarantined"))
        .when(pl.col("issue").is_not_null())
        .then(pl.col("issue"))
        .when(~pl.col("listed"))
        .then(pl.lit("not_listed"))
        # is_session is null where the lake has no calendar for the day: that is not "no session"
        .when((~pl.col("is_session")).fill_null(False))
        .then(pl.lit("no_session"))
        .otherwise(pl.lit("missing"))
    )
    paths = pl.concat_list(pl.col("quarantine_paths").fill_null([]), pl.col("issue_paths").fill_null([])).list.unique(
        maintain_order=True
    )
    return (
        out.with_columns(status=status, bronze_paths=paths)
        .with_columns(reason=pl.when(pl.col("rows") > 0).then(None).otherwise(pl.col("reason")))
        .select(COVERAGE_SCHEMA.names())
        .cast(COVERAGE_SCHEMA)
        .sort("table", "date")
    )


def _specs(lake: Lake, tables: Sequence[str] | None, exchange: str) -> list[TableSpec]:
    if tables is None:
        return _exchange_tables(lake, exchange)
    specs = [table_spec(t) for t in tables]
    bad = [s.name for s in specs if not s.is_event_table]
    if bad:
        raise ResearchInputError(f"coverage is per symbol: {', '.join(bad)} is not an event table")
    return specs


def _exchange_tables(lake: Lake, exchange: str) -> list[TableSpec]:
    """Event tables that hold anything for ``exchange``: manifest files, or rows (partition-pruned)."""
    specs = event_tables(lake)
    listed = set(
        TableStore(lake, INGEST_MANIFEST)
        .scan()
        .filter(pl.col("exchange") == exchange)
        .select(pl.col("table_name").unique())
        .collect()
        .to_series()
        .to_list()
    )
    unlisted = [s for s in specs if s.name not in listed]
    probes = [
        TableStore(lake, s).scan().filter(pl.col("exchange") == exchange).select("exchange").head(1) for s in unlisted
    ]
    with_rows = {s.name for s, probe in zip(unlisted, pl.collect_all(probes), strict=True) if probe.height}
    return [s for s in specs if s.name in listed or s.name in with_rows]


def _present(
    lake: Lake, specs: list[TableSpec], exchange: str, ids: list[int], first: dt.date, last: dt.date
) -> pl.DataFrame:
    """Rows and distinct files per (table, date) for the symbol's versions (partition- and stats-pruned)."""
    plans = [
        TableStore(lake, spec)
        .scan()
        .filter(
            pl.col("exchange") == exchange,
            pl.col("date").is_between(pl.lit(first, pl.Date), pl.lit(last, pl.Date)),
            pl.col("symbol_id").is_in(ids),
        )
        .group_by("date")
        .agg(rows=pl.len().cast(pl.Int64), files=pl.col("file_id").n_unique().cast(pl.Int64))
        .with_columns(table=pl.lit(spec.name))
        for spec in specs
    ]
    frames = pl.collect_all(plans)
    schema = pl.Schema({"table": pl.String(), "date": pl.Date(), "rows": pl.Int64(), "files": pl.Int64()})
    return pl.concat([f.select(schema.names()).cast(schema) for f in frames]) if frames else pl.DataFrame(schema=schema)


def _manifest(lake: Lake, exchange: str, names: list[str]) -> pl.DataFrame:
    """Live manifest rows of these tables that may concern ``exchange``, with their last failure reason."""
    manifest = (
        TableStore(lake, INGEST_MANIFEST)
        .scan()
        .filter(
            pl.col("table_name").is_in(names),
            pl.col("status") != "superseded",
            pl.col("exchange").is_null() | (pl.col("exchange") == exchange),
        )
        .collect()
    )
    if manifest.height == 0:
        return manifest.with_columns(failure_reason=pl.lit(None, pl.String))
    reasons = (
        TableStore(lake, VALIDATION_LOG)
        .scan()
        .filter(pl.col("file_id").is_in(manifest.get_column("file_id").to_list()))
        .sort("logged_at_us")
        .group_by("file_id")
        .agg(failure_reason=pl.col("failure_reason").last())
        .collect()
    )
    return manifest.join(reasons, on="file_id", how="left")


def _quarantined(
    lake: Lake,
    names: list[str],
    exchange: str,
    symbol: str,
    manifest: pl.DataFrame,
    tz: str,
    first: dt.date,
    last: dt.date,
) -> pl.DataFrame:
    """Quarantined rows of the symbol per (table, date): count, per-rule counts, files."""
    files = manifest.select("file_id", "bronze_path", file_date=pl.col("dates").list.first())
    rows = (
        TableStore(lake, QUARANTINE)
        .scan()
        .filter(pl.col("table_name").is_in(names), pl.col("exchange_symbol") == symbol)
        .filter(pl.col("exchange").is_null() | (pl.col("exchange") == exchange))
        .select("table_name", "file_id", "file_line_number", "ts_local_us", "rule")
        # One rejected row can break several rules; it is one row.
        .collect()
        .join(files, on="file_id", how="inner")  # live files only: superseded files' rows are history
        .with_columns(date=pl.coalesce(local_date(pl.col("ts_local_us"), tz), pl.col("file_date")))
        .filter(pl.col("date").is_between(pl.lit(first, pl.Date), pl.lit(last, pl.Date)))
    )
    by_rule = (
        rows.group_by("table_name", "date", "rule")
        .agg(n=pl.struct("file_id", "file_line_number").n_unique())
        .sort("n", "rule", descending=[True, False])
        .group_by("table_name", "date", maintain_order=True)
        .agg(rules=pl.format("{}={}", pl.col("rule"), pl.col("n")).str.join(", "))
    )
    totals = rows.group_by("table_name", "date").agg(
        quarantined_rows=pl.struct("file_id", "file_line_number").n_unique().cast(pl.Int64),
        quarantine_paths=pl.col("bronze_path").unique().sort(),
    )
    return totals.join(by_rule, on=["table_name", "date"], how="left").rename({"table_name": "table"})


@dataclass(frozen=True)
class _Hint:
    symbol: str | None
    date: dt.date | None
    exchange: str | None


def _describe(lake: Lake, vendor: str, bronze_path: str) -> _Hint:
    """Symbol/date/exchange a bronze path tells, through its vendor plugin, else Hive segments."""
    host = get_host()
    if vendor in host.vendors:
        try:
            described = host.vendor(vendor).describe_file(lake.bronze / bronze_path, lake.bronze)
        except (PointlineError, OSError, ValueError):
            described = None
        if described is not None:
            return _Hint(described.symbol, described.date, described.exchange)
    found: dict[str, str] = {}
    for part in PurePosixPath(bronze_path).parts:
        match = _HIVE.match(part)
        if match:
            found[match.group(1)] = match.group(2)
    day = None
    if "date" in found:
        try:
            day = dt.date.fromisoformat(found["date"])
        except ValueError:
            day = None
    return _Hint(found.get("symbol"), day, found.get("exchange"))


def _file_issues(
    lake: Lake, manifest: pl.DataFrame, exchange: str, symbol: str, tz: str, first: dt.date, last: dt.date
) -> pl.DataFrame:
    """Failed, empty and pending files of the symbol per (table, date), with reasons and paths.

    This loops over problem *files* (a handful), never over rows.
    """
    troubled = manifest.filter(pl.col("status").is_in(["failed", "pending"]))
    entries: list[dict[str, object]] = []
    for row in troubled.iter_rows(named=True):
        hint = _describe(lake, row["vendor"], row["bronze_path"])
        if (row["exchange"] or hint.exchange or exchange) != exchange:
            continue
        if hint.symbol is not None and hint.symbol != symbol:
            continue
        days = _file_days(row, hint, tz)
        kind = (
            "pending"
            if row["status"] == "pending"
            else "empty"
            if row["failure_reason"] == EMPTY_FILE_REASON
            else "failed"
        )
        reason = "; ".join(str(x) for x in (row["failure_reason"], row["error"]) if x) or row["status"]
        if hint.symbol is None:
            reason += " (file holds several symbols)"
        for day in days:
            if first <= day <= last:
                entries.append(
                    {
                        "table": row["table_name"],
                        "date": day,
                        "kind": kind,
                        "reason": reason,
                        "path": row["bronze_path"],
                    }
                )
    schema = {"table": pl.String, "date": pl.Date, "kind": pl.String, "reason": pl.String, "path": pl.String}
    frame = pl.DataFrame(entries, schema=schema)
    return (
        frame.with_columns(rank=pl.col("kind").replace_strict(_ISSUE_RANK, return_dtype=pl.Int8))
        .sort("table", "date", "rank", "path")
        .group_by("table", "date", maintain_order=True)
        .agg(
            issue=pl.col("kind").first(),
            reason=pl.col("reason").unique(maintain_order=True).str.join("; "),
            issue_paths=pl.col("path").unique(maintain_order=True),
        )
    )


def _file_days(row: dict[str, object], hint: _Hint, tz: str) -> list[dt.date]:
    """The local dates a file's rows landed in (manifest), else its time range, else its path's date."""
    dates = row.get("dates")
    if isinstance(dates, list) and dates:
        return [d for d in dates if isinstance(d, dt.date)]
    lo, hi = row.get("min_ts_us"), row.get("max_ts_us")
    if isinstance(lo, int) and isinstance(hi, int):
        day, last = scalar_local_date(lo, tz), scalar_local_date(hi, tz)
        span = []
        while day <= last:
            span.append(day)
            day += dt.timedelta(days=1)
        return span
    return [hint.date] if hint.date is not None else []


def _listed(versions: pl.DataFrame, days: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Whether any version of the symbol is valid during each exchange-local day."""
    zone = ZoneInfo(tz)
    dates: list[dt.date] = days.get_column("date").to_list()
    # One bound pair per *day* (not per row); zoneinfo resolves DST gaps and folds at midnight.
    bounds = days.with_columns(
        day_start=pl.Series([to_us(dt.datetime.combine(d, dt.time(), zone)) for d in dates], dtype=pl.Int64),
        day_end=pl.Series(
            [to_us(dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), zone)) for d in dates], dtype=pl.Int64
        ),
    )
    hits = (
        bounds.join(versions.select("valid_from_ts", "valid_until_ts"), how="cross")
        .filter(pl.col("valid_from_ts") < pl.col("day_end"), pl.col("valid_until_ts") > pl.col("day_start"))
        .select("date")
        .unique()
        .with_columns(listed=pl.lit(True))
    )
    return days.join(hits, on="date", how="left").with_columns(pl.col("listed").fill_null(False))


def _sessions(lake: Lake, exchange: str, first: dt.date, last: dt.date) -> pl.DataFrame:
    return (
        TableStore(lake, DIM_TRADING_CALENDAR)
        .scan()
        .filter(
            pl.col("exchange") == exchange, pl.col("date").is_between(pl.lit(first, pl.Date), pl.lit(last, pl.Date))
        )
        .select("date", "is_session")
        .collect()
    )
