"""dq_summary: per table, exchange and exchange-local date, recomputed for the partitions a run touched.

Touched partitions go to a durable journal (``<lake>/_state/dq_pending.jsonl``) as units finish and are
summarised once at the end of the run (or by the next run, after a crash).

Each row holds: silver rows, null cells (over every column), rows that repeat a lineage key (always 0
unless something is wrong: it is the duplicate alarm), the time range, and how many distinct bronze rows
of that date sit in quarantine. Only touched partitions are read (partition-pruned scans), and they are
written back with one predicate overwrite per table, so a re-run recomputes rather than accumulates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Set

import polars as pl
from filelock import FileLock

from pointline.config import Lake
from pointline.ingest.manifest import now_us
from pointline.ingest.writer import with_commit_retry
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.storage.predicates import all_of, equals, is_in
from pointline.tables.canonical import DQ_SUMMARY, QUARANTINE
from pointline.tables.spec import TableSpec
from pointline.timeutil import US_PER_DAY, local_date_by_exchange, to_us

Partitions = Mapping[str, Set[tuple[str, dt.date]]]
"""table name -> {(exchange, date)}"""


def _partition_filter(pairs: Set[tuple[str, dt.date]]) -> pl.Expr:
    by_exchange: dict[str, list[dt.date]] = {}
    for exchange, date in pairs:
        by_exchange.setdefault(exchange, []).append(date)
    return pl.any_horizontal(
        [(pl.col("exchange") == e) & pl.col("date").is_in(sorted(ds)) for e, ds in sorted(by_exchange.items())]
    )


def _partition_predicate(pairs: Set[tuple[str, dt.date]]) -> str:
    by_exchange: dict[str, list[dt.date]] = {}
    for exchange, date in pairs:
        by_exchange.setdefault(exchange, []).append(date)
    return " OR ".join(f"({all_of(equals('exchange', e), is_in('date', ds))})" for e, ds in sorted(by_exchange.items()))


def silver_stats(lake: Lake, spec: TableSpec, pairs: Set[tuple[str, dt.date]]) -> pl.DataFrame:
    """rows, null_cells, duplicate_lineage_rows, min/max ts per (exchange, date) among ``pairs``.

    Row counts, null counts and the time range come from the Delta log's per-file statistics when every
    column has them (exact counts, no data read); only the lineage columns are scanned, for duplicates.
    Tables wider than the log's statistics (book snapshots) are scanned whole.
    """
    counts = log_stats(lake, spec, pairs)
    if counts is None:
        return scan_stats(lake, spec, pairs)
    return counts.join(lineage_duplicates(lake, spec, pairs), on=["exchange", "date"], how="left").with_columns(
        pl.col("duplicate_lineage_rows").fill_null(0)
    )


def log_stats(lake: Lake, spec: TableSpec, pairs: Set[tuple[str, dt.date]]) -> pl.DataFrame | None:
    """rows, null_cells and min/max ts per partition from add-action statistics, or None if incomplete."""
    store = TableStore(lake, spec)
    if not store.exists():
        return None
    ts = spec.time_column or "ts_local_us"
    data_columns = [c for c in spec.column_names if c not in ("exchange", "date")]
    nulls = [f"null_count.{c}" for c in data_columns]
    wanted = ["partition.exchange", "partition.date", "num_records", *nulls, f"min.{ts}", f"max.{ts}"]
    actions = pl.DataFrame(store.delta_table().get_add_actions(flatten=True))
    if any(c not in actions.columns for c in wanted):
        return None
    files = actions.select(wanted).rename({"partition.exchange": "exchange", "partition.date": "date"})
    files = files.filter(_partition_filter(pairs))
    if files.select(pl.any_horizontal(pl.all().is_null()).any()).item():
        return None  # a file written without statistics
    return files.group_by("exchange", "date").agg(
        rows=pl.col("num_records").sum().cast(pl.Int64),
        null_cells=pl.sum_horizontal(nulls).sum().cast(pl.Int64),
        min_ts_us=pl.col(f"min.{ts}").min(),
        max_ts_us=pl.col(f"max.{ts}").max(),
    )


def lineage_duplicates(lake: Lake, spec: TableSpec, pairs: Set[tuple[str, dt.date]]) -> pl.DataFrame:
    """Rows repeating a (file_id, file_line_number) per partition, reading only those columns.

    Reading the two integer columns is cheap; hashing millions of line numbers is not (about 10x the
    read, measured). So the count first takes a proof of zero that needs no hashing (see
    :func:`_no_repeats`), the normal case; only if that proof fails are repeats counted exactly, per
    (exchange, date, file_id) with an integer ``n_unique`` of line numbers.
    """
    lineage = (
        TableStore(lake, spec)
        .scan()
        .filter(_partition_filter(pairs))
        .select("exchange", "date", "file_id", "file_line_number")
        .collect()
    )
    present = _no_repeats(lineage)
    if present is not None:
        return present.with_columns(duplicate_lineage_rows=pl.lit(0, pl.Int64))
    return (
        lineage.lazy()
        .group_by("exchange", "date", "file_id")
        .agg(n=pl.len(), unique_lines=pl.col("file_line_number").n_unique())
        .group_by("exchange", "date")
        .agg(duplicate_lineage_rows=(pl.col("n") - pl.col("unique_lines")).sum().cast(pl.Int64))
        .collect()
    )


_MAX_RUNS = 1024
_MAX_RUNS_SHARE = 0.01
"""Past this many runs and this share of rows starting one, the data is not in line order (the proof
would sort nearly every row): count repeats directly."""


def _no_repeats(lineage: pl.DataFrame) -> pl.DataFrame | None:
    """The (exchange, date) pairs of ``lineage`` if no (exchange, date, file_id, line) repeats, else None.

    Cuts the rows, in the order read, into runs: a run continues while the key (exchange, date, file_id)
    stays the same and the line number strictly increases. Lines within a run are therefore distinct.
    If, for every key, the line intervals ``[first, last]`` of its runs are pairwise disjoint, no line
    repeats anywhere. Silver is written in line order, so a key normally is one run per parquet file
    and this is a few comparisons per row. None means "not proven" (repeats may exist), never a wrong 0.
    """
    keys = ["exchange", "date", "file_id"]
    line = pl.col("file_line_number")
    if lineage.height == 0:
        return lineage.select("exchange", "date").clear()
    if lineage.get_column("file_line_number").null_count():
        return None  # n_unique counts a repeated null; leave that to the exact count
    same_key = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in keys])
    continues = (same_key & (line > line.shift(1))).fill_null(False)
    marked = lineage.with_columns(__start=~continues)
    runs_count = int(marked.get_column("__start").sum())
    if runs_count > max(_MAX_RUNS, _MAX_RUNS_SHARE * lineage.height):
        return None
    starts = marked.filter(pl.col("__start")).select(*keys, lo=line)
    ends = marked.filter(pl.col("__start").shift(-1, fill_value=True)).select(hi=line)
    runs = pl.concat([starts, ends], how="horizontal").sort(*keys, "lo")
    overlap = runs.select(
        (
            pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in keys])
            & (pl.col("lo") <= pl.col("hi").shift(1))
        )
        .fill_null(False)
        .any()
    ).item()
    if overlap:
        return None
    return runs.select("exchange", "date").unique()


def scan_stats(lake: Lake, spec: TableSpec, pairs: Set[tuple[str, dt.date]]) -> pl.DataFrame:
    """Every dq figure by reading the partitions (the fallback when log statistics are incomplete)."""
    ts = spec.time_column or "ts_local_us"
    keys = ["exchange", "date", "file_id"]
    others = [c for c in spec.column_names if c not in keys]
    return (
        TableStore(lake, spec)
        .scan()
        .filter(_partition_filter(pairs))
        .group_by(keys)
        .agg(
            n=pl.len(),
            unique_lines=pl.col("file_line_number").n_unique(),
            nulls=pl.sum_horizontal([pl.col(c).null_count() for c in others]),
            lo=pl.col(ts).min(),
            hi=pl.col(ts).max(),
        )
        .group_by("exchange", "date")
        .agg(
            rows=pl.col("n").sum().cast(pl.Int64),
            null_cells=pl.col("nulls").sum().cast(pl.Int64),
            duplicate_lineage_rows=(pl.col("n") - pl.col("unique_lines")).sum().cast(pl.Int64),
            min_ts_us=pl.col("lo").min(),
            max_ts_us=pl.col("hi").max(),
        )
        .collect()
    )


def quarantine_counts(
    lake: Lake, table: str, pairs: Set[tuple[str, dt.date]], timezones: Mapping[str, str]
) -> pl.DataFrame:
    """Distinct quarantined bronze rows per (exchange, date) among ``pairs`` (rows without a time have no date)."""
    exchanges = sorted({e for e, _ in pairs if e in timezones})
    if not exchanges:
        return pl.DataFrame(schema={"exchange": pl.String, "date": pl.Date, "quarantined_rows": pl.Int64})
    dates = [d for _, d in pairs]
    # One day of margin each side covers every timezone offset; the exact local date is computed below.
    lo = to_us(min(dates)) - US_PER_DAY
    hi = to_us(max(dates)) + 2 * US_PER_DAY
    return (
        TableStore(lake, QUARANTINE)
        .scan()
        .filter(
            (pl.col("table_name") == table)
            & pl.col("exchange").is_in(exchanges)
            & pl.col("ts_local_us").is_between(lo, hi, closed="left")
        )
        .with_columns(date=local_date_by_exchange(exchanges, dict(timezones)))
        .filter(_partition_filter(pairs))
        .group_by("exchange", "date")
        .agg(quarantined_rows=pl.struct("file_id", "file_line_number").n_unique().cast(pl.Int64))
        .collect()
    )


def summarize(lake: Lake, host: PluginHost, table: str, pairs: Set[tuple[str, dt.date]]) -> pl.DataFrame:
    """dq_summary rows for ``pairs`` of ``table`` (partitions with nothing left get zero counts)."""
    spec = host.table(table)
    keys = pl.DataFrame(sorted(pairs), schema={"exchange": pl.String, "date": pl.Date}, orient="row")
    out = (
        keys.join(silver_stats(lake, spec, pairs), on=["exchange", "date"], how="left")
        .join(quarantine_counts(lake, table, pairs, host.timezones()), on=["exchange", "date"], how="left")
        .with_columns(
            pl.col("rows", "null_cells", "duplicate_lineage_rows", "quarantined_rows").fill_null(0),
            table_name=pl.lit(table),
            computed_at_us=pl.lit(now_us(), pl.Int64),
        )
    )
    return out.select(DQ_SUMMARY.column_names).cast(DQ_SUMMARY.schema)


def _lock(lake: Lake) -> FileLock:
    lake.state.mkdir(parents=True, exist_ok=True)
    return FileLock(lake.state / "dq.lock")


def _recompute(lake: Lake, host: PluginHost, touched: Partitions) -> int:
    written = 0
    for table, pairs in sorted(touched.items()):
        if not pairs:
            continue
        rows = summarize(lake, host, table, pairs)
        predicate = all_of(equals("table_name", table), _partition_predicate(pairs))
        with_commit_retry(lambda: TableStore(lake, DQ_SUMMARY).replace_where(rows, predicate))  # noqa: B023
        written += rows.height
    return written


def recompute(lake: Lake, host: PluginHost, touched: Partitions) -> int:
    """Rewrite dq_summary for every touched partition now; returns the number of rows written.

    Runs under ``<lake>/_state/dq.lock``: two processes summarising one partition take turns, so the
    one that commits last also read last and saw every silver commit before it.
    """
    with _lock(lake):
        return _recompute(lake, host, touched)


# -- the pending journal ----------------------------------------------------------------------------
# Partitions whose dq_summary is stale are journalled (appended and fsynced) BEFORE the manifest marks
# their files landed, and summarised once at the end of the run. A crash in between leaves them in the
# journal, and the next run (whatever it ingests) summarises them first: no landed file ever keeps a
# stale summary, and a run touching one partition from many units reads it once, not once per unit.
JOURNAL = "dq_pending.jsonl"


def mark(lake: Lake, touched: Partitions) -> None:
    """Durably note partitions whose dq_summary must be recomputed."""
    lines = [
        json.dumps({"table": t, "exchange": e, "date": d.isoformat()}) + "\n"
        for t, pairs in sorted(touched.items())
        for e, d in sorted(pairs)
    ]
    if not lines:
        return
    with _lock(lake), (lake.state / JOURNAL).open("a", encoding="utf-8") as fh:
        fh.writelines(lines)
        fh.flush()
        os.fsync(fh.fileno())


def pending(lake: Lake) -> dict[str, set[tuple[str, dt.date]]]:
    """Partitions in the journal (a torn last line, from a crash while writing it, is skipped)."""
    path = lake.state / JOURNAL
    out: dict[str, set[tuple[str, dt.date]]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            out.setdefault(entry["table"], set()).add((entry["exchange"], dt.date.fromisoformat(entry["date"])))
        except (ValueError, KeyError, TypeError):
            continue  # its files were not marked landed yet, so a re-run journals them again
    return out


def flush(lake: Lake, host: PluginHost) -> int:
    """Recompute every journalled partition, then empty the journal; returns dq rows written."""
    path = lake.state / JOURNAL
    if not path.exists():
        return 0
    with _lock(lake):
        written = _recompute(lake, host, pending(lake))
        path.unlink(missing_ok=True)
    return written


def read(lake: Lake, *, table: str | None = None, exchange: str | None = None) -> pl.DataFrame:
    scan = TableStore(lake, DQ_SUMMARY).scan()
    if table is not None:
        scan = scan.filter(pl.col("table_name") == table)
    if exchange is not None:
        scan = scan.filter(pl.col("exchange") == exchange)
    return scan.sort("table_name", "exchange", "date").collect()
