"""Research API benchmark: Pointline's reads, joins, bars and discovery against raw Polars on the same files.

    python bench/bench_research.py [--rows 1000000] [--days 2] [--symbols 2] [--dim-symbols 100000]
                                   [--keep DIR] [--results PATH]

Builds a synthetic lake (trades and quotes written through core's TableStore, one commit per
symbol-day "bronze file", dim_symbol with a mid-day tick-size change per symbol plus filler
instruments), then measures, each as the best of several warm runs:

* ``query.trades`` for one symbol-day, 3 columns, decoded — vs ``pl.scan_parquet`` of the same Delta
  files with the same filters (no decoding, no ordering);
* a one-hour slice (all columns, decoded), warm — vs the same raw scan;
* ``joins.trades_with_quotes`` for one symbol-day — vs a raw ``join_asof`` of the two scans, each
  reading the columns the Pointline result carries (payload counts plus the clock and lineage
  columns), sorted by ``ts_local_us`` only (what ``join_asof`` needs), nothing decoded;
* ``bars.time_bars(every="1m")`` on the decoded day — vs a raw ``group_by_dynamic`` with the same
  aggregates on the same frame;
* discovery with ``--dim-symbols`` instruments in dim_symbol: ``list_symbols``, ``list_exchanges``,
  symbol resolution (building a query plan) and ``data_coverage``.

Every raw baseline reads the same columns from the same files with the same filters as the Pointline
call it is compared with, and skips what Pointline adds: the exact Decimal decoding and the check (or
sort) that puts rows in the documented total order. Ratios (> 1 means Pointline is faster) matter more
than absolute times on a shared machine. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Result, best_of, machine, print_results, write_results
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost, reset_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_SYMBOL, INGEST_MANIFEST, QUOTES, TRADES
from pointline.timeutil import MAX_TS, US_PER_DAY, to_us
from pointline_research import bars, discovery, joins, query

EXCHANGE = "bench-venue"
DAY0 = to_us("2024-05-01")
HOUR = 3_600_000_000


class BenchPlugin:
    """Registers the benchmark's exchange (UTC, like every crypto venue)."""

    @hookimpl
    def pointline_register_exchanges(self, register: Any) -> None:
        register(ExchangeSpec(EXCHANGE, "crypto_derivative", "UTC", description="synthetic benchmark venue"))


def symbol_names(n: int) -> list[str]:
    return [f"SYM{i:03d}USDT" for i in range(n)]


def build_dim(lake: Lake, symbols: list[str], days: int, filler: int) -> pl.DataFrame:
    """Two versions per benchmark symbol (tick 0.1 -> 0.01 at noon of the last day) plus filler instruments."""
    change = DAY0 + (days - 1) * US_PER_DAY + 12 * HOUR
    rows: list[dict[str, object]] = []
    for s in symbols:
        rows.append(_version(s, DAY0 - US_PER_DAY, change, "0.1"))
        rows.append(_version(s, change, MAX_TS, "0.01"))
    for i in range(filler):
        rows.append(_version(f"FILL{i:06d}-PERP", DAY0 - 30 * US_PER_DAY, MAX_TS, "0.001"))
    schema = {c: t for c, t in DIM_SYMBOL.schema.items() if c not in ("symbol_id", "is_current", "updated_at_us")}
    final = dim_symbol.finalize_versions(pl.DataFrame(rows, schema=schema), now_us=DAY0)
    dim_symbol.upsert(lake, final)
    return final


def _version(symbol: str, valid_from: int, valid_until: int, tick: str) -> dict[str, object]:
    return {
        "exchange": EXCHANGE,
        "exchange_symbol": symbol,
        "valid_from_ts": valid_from,
        "valid_until_ts": valid_until,
        "asset_class": "crypto_derivative",
        "instrument_type": "perpetual",
        "base_asset": symbol[:6],
        "quote_asset": "USDT",
        "settle_asset": None,
        "price_increment": Decimal(tick),
        "amount_increment": Decimal("0.001"),
        "tick_size": None,
        "lot_size": None,
        "contract_multiplier": None,
        "is_inverse": None,
        "expiry_ts_us": None,
        "underlying": None,
        "strike": None,
        "put_call": None,
        "contract_month": None,
        "settlement_type": None,
        "isin": None,
        "listing_exchange": None,
        "source": "bench",
        "is_inferred": False,
    }


def day_frame(
    spec_name: str, rows: int, day: int, ids: tuple[int, int], change: int, file_id: int, rng: np.random.Generator
) -> pl.DataFrame:
    """One symbol-day of synthetic trades or quotes, with ~35% tied timestamps like real data."""
    start = DAY0 + day * US_PER_DAY
    steps = rng.integers(0, 2 * US_PER_DAY // rows, size=rows)
    steps[rng.random(rows) < 0.35] = 0
    exch = start + np.cumsum(steps)
    # Arrival = exchange time + a lognormal latency (median ~3 ms), kept monotone like a recorder's
    # clock: rows are then in the total order in file order, as real per-symbol-day files are.
    ts = np.maximum.accumulate(exch + rng.lognormal(8, 0.5, size=rows).astype(np.int64))
    ts = np.minimum(ts, start + US_PER_DAY - 1)
    exch = np.minimum(exch, ts)
    old, new = ids
    symbol_id = np.where(ts < change, old, new)
    # a random walk in ticks of the *current* version: the new tick is 10x finer
    walk = 670_000 + np.cumsum(rng.integers(-2, 3, size=rows))
    px_int = np.where(ts < change, walk, walk * 10)
    base = {
        "exchange": pl.Series([EXCHANGE] * rows, dtype=pl.String),
        "date": pl.Series([dt.date(2024, 5, 1) + dt.timedelta(days=day)] * rows, dtype=pl.Date),
        "symbol_id": symbol_id,
        "ts_local_us": ts,
        "ts_exch_us": exch,
        "file_id": np.full(rows, file_id),
        "file_line_number": np.arange(2, rows + 2),
    }
    if spec_name == "trades":
        frame = pl.DataFrame(base).with_columns(
            trade_id=pl.int_range(pl.len()).cast(pl.String),
            side=pl.Series(rng.choice([-1, 1], size=rows).astype(np.int8)),
            px_int=pl.Series(px_int),
            qty_int=pl.Series(rng.lognormal(3, 1, size=rows).astype(np.int64) + 1),
        )
        return frame.select(TRADES.column_names).cast(TRADES.schema)
    spread = rng.integers(1, 6, size=rows)
    frame = pl.DataFrame(base).with_columns(
        bid_px_int=pl.Series(px_int),
        bid_qty_int=pl.Series(rng.integers(1, 5_000, size=rows)),
        ask_px_int=pl.Series(px_int + np.where(ts < change, spread, spread * 10)),
        ask_qty_int=pl.Series(rng.integers(1, 5_000, size=rows)),
    )
    return frame.select(QUOTES.column_names).cast(QUOTES.schema)


def build_lake(root: Path, args: argparse.Namespace) -> tuple[Lake, pl.DataFrame]:
    lake = Lake(root)
    symbols = symbol_names(args.symbols)
    started = time.perf_counter()
    dim = build_dim(lake, symbols, args.days, args.dim_symbols)
    rng = np.random.default_rng(7)
    change = DAY0 + (args.days - 1) * US_PER_DAY + 12 * HOUR
    file_id = 0
    manifest = []
    for s in symbols:
        versions = dim.filter(pl.col("exchange_symbol") == s).sort("valid_from_ts")["symbol_id"].to_list()
        for day in range(args.days):
            for spec in (TRADES, QUOTES):
                file_id += 1
                frame = day_frame(spec.name, args.rows, day, (versions[0], versions[1]), change, file_id, rng)
                TableStore(lake, spec).append(frame)
                manifest.append(_manifest_row(file_id, spec.name, s, day, frame.height))
    TableStore(lake, INGEST_MANIFEST).append(pl.DataFrame(manifest, schema=INGEST_MANIFEST.schema))
    total = 2 * args.rows * args.days * args.symbols
    print(
        f"built {total:,} trade+quote rows and {dim.height:,} dim_symbol versions in {time.perf_counter() - started:.1f} s"
    )
    return lake, dim


def _manifest_row(file_id: int, table: str, symbol: str, day: int, rows: int) -> dict[str, object]:
    date = dt.date(2024, 5, 1) + dt.timedelta(days=day)
    return {
        "file_id": file_id,
        "vendor": "bench",
        "data_type": table,
        "bronze_path": f"bench/exchange={EXCHANGE}/type={table}/date={date}/symbol={symbol}/data.csv.gz",
        "sha256": f"{file_id:064x}",
        "size_bytes": rows * 40,
        "table_name": table,
        "exchange": EXCHANGE,
        "status": "success",
        "rows_read": rows,
        "rows_written": rows,
        "rows_quarantined": 0,
        "min_ts_us": None,
        "max_ts_us": None,
        "dates": [date],
        "error": None,
        "superseded_by": None,
        "created_at_us": DAY0,
        "updated_at_us": DAY0,
    }


def raw_scan(lake: Lake, spec_name: str, ids: list[int], start: int, end: int) -> pl.LazyFrame:
    """The baseline: plain Parquet over the same Delta snapshot's files, with the same filters (exchange,
    date partitions, symbol ids, window) as the Pointline scan; no decoding, no ordering."""
    spec = TRADES if spec_name == "trades" else QUOTES
    files = TableStore(lake, spec).delta_table().file_uris()
    first, last = (
        dt.date(1970, 1, 1) + dt.timedelta(days=start // US_PER_DAY),
        dt.date(1970, 1, 1) + dt.timedelta(days=(end - 1) // US_PER_DAY),
    )
    return pl.scan_parquet(files, hive_partitioning=True).filter(
        pl.col("exchange") == EXCHANGE,
        pl.col("date").is_between(first, last),
        pl.col("symbol_id").is_in(ids),
        pl.col("ts_local_us") >= start,
        pl.col("ts_local_us") < end,
    )


def ms(seconds: float) -> float:
    return seconds * 1000


def run(args: argparse.Namespace, lake: Lake, dim: pl.DataFrame) -> dict[str, Sequence[Result]]:
    symbol = symbol_names(args.symbols)[0]
    ids = dim.filter(pl.col("exchange_symbol") == symbol)["symbol_id"].to_list()
    day = args.days - 1  # the day with the tick-size change: decoding has to use both versions
    start, end = DAY0 + day * US_PER_DAY, DAY0 + (day + 1) * US_PER_DAY
    repeat = args.repeat
    reads: list[Result] = []

    def ours_day() -> pl.DataFrame:
        return query.trades(
            EXCHANGE, symbol, start, end, decoded=True, columns=["ts_local_us", "px", "qty"], lake=lake
        ).collect()

    def raw_day() -> pl.DataFrame:
        return raw_scan(lake, "trades", ids, start, end).select("ts_local_us", "px_int", "qty_int").collect()

    ours, frame = best_of(ours_day, repeat)
    raw, raw_frame = best_of(raw_day, repeat)
    assert frame.height == raw_frame.height
    reads.append(
        Result(
            "query.trades 1 symbol-day, 3 cols, decoded",
            ms(ours),
            "ms",
            ms(raw),
            False,
            target=">= 0.8x raw",
            meets_target=raw / ours >= 0.8,
            note=f"{frame.height:,} rows; raw: same 3 cols/files/filters, counts, no order check",
        )
    )

    hour_start = start + 13 * HOUR

    def ours_hour() -> pl.DataFrame:
        return query.trades(EXCHANGE, symbol, hour_start, hour_start + HOUR, decoded=True, lake=lake).collect()

    def raw_hour() -> pl.DataFrame:
        return raw_scan(lake, "trades", ids, hour_start, hour_start + HOUR).collect()

    ours, frame = best_of(ours_hour, repeat)
    raw, _ = best_of(raw_hour, repeat)
    reads.append(
        Result(
            "1-hour slice, all cols, decoded (warm)",
            ms(ours),
            "ms",
            ms(raw),
            False,
            target="<= 50 ms (DESIGN scan target)",
            meets_target=ms(ours) <= 50,
            note=f"{frame.height:,} rows; raw: same files/filters, counts, no order check",
        )
    )

    analytics: list[Result] = []

    def ours_join() -> pl.DataFrame:
        return joins.trades_with_quotes(
            EXCHANGE, symbol, start, end, trade_columns=["px", "qty"], quote_columns=["bid_px", "ask_px"], lake=lake
        ).collect()

    lineage = ["ts_local_us", "ts_exch_us", "file_id", "file_line_number"]

    def raw_join() -> pl.DataFrame:
        # The columns the Pointline result carries: trade clock/lineage + counts, quote lineage + counts.
        tr = raw_scan(lake, "trades", ids, start, end).select(*lineage, "px_int", "qty_int").sort("ts_local_us")
        qu = (
            raw_scan(lake, "quotes", ids, start - HOUR, end)
            .select("symbol_id", *lineage, "bid_px_int", "ask_px_int")
            .with_columns(pl.col("ts_local_us").alias("quote_ts_local_us"))
            .sort("ts_local_us")
        )
        return tr.join_asof(
            qu, on="ts_local_us", strategy="backward", check_sortedness=False, suffix="_quote"
        ).collect()

    ours, frame = best_of(ours_join, repeat)
    raw, _ = best_of(raw_join, repeat)
    analytics.append(
        Result(
            "trades_with_quotes 1 symbol-day, decoded (px, qty x bid, ask)",
            ms(ours),
            "ms",
            ms(raw),
            False,
            target=">= 0.8x raw",
            meets_target=raw / ours >= 0.8,
            note=f"{frame.height:,} trades; raw: same columns as counts, sorted by ts_local_us only",
        )
    )

    def ours_join_counts() -> pl.DataFrame:
        return joins.trades_with_quotes(
            EXCHANGE,
            symbol,
            start,
            end,
            decoded=False,
            trade_columns=["px_int", "qty_int"],
            quote_columns=["bid_px_int", "ask_px_int"],
            lake=lake,
        ).collect()

    ours, frame = best_of(ours_join_counts, repeat)
    analytics.append(Result("trades_with_quotes, raw counts (decoded=False)", ms(ours), "ms", ms(raw), False))

    decoded = query.trades(EXCHANGE, symbol, start, end, decoded=True, lake=lake).collect()

    def ours_bars() -> pl.DataFrame:
        return bars.time_bars(decoded, every="1m")

    def raw_bars() -> pl.DataFrame:
        # The same aggregates (exact notional included) without the total-order check and bookkeeping.
        px, qty = pl.col("px"), pl.col("qty")
        scale = decoded.schema["px"].scale + decoded.schema["qty"].scale  # type: ignore[attr-defined]
        notional = px.cast(pl.Decimal(38, scale)) * qty
        return (
            decoded.with_columns(t=pl.from_epoch("ts_local_us", time_unit="us"))
            .group_by_dynamic("t", every="1m", closed="left", label="right")
            .agg(
                px.first().alias("open"),
                px.max().alias("high"),
                px.min().alias("low"),
                px.last().alias("close"),
                qty.sum().alias("volume"),
                notional.sum().alias("dollar_volume"),
                pl.len().alias("trades"),
                qty.filter(pl.col("side") == 1).sum().alias("buy"),
                qty.filter(pl.col("side") == -1).sum().alias("sell"),
            )
            .with_columns(vwap=pl.col("dollar_volume").cast(pl.Float64) / pl.col("volume").cast(pl.Float64))
        )

    ours, frame = best_of(ours_bars, repeat)
    raw, _ = best_of(raw_bars, repeat)
    analytics.append(
        Result(
            "time_bars 1m over 1 symbol-day",
            ms(ours),
            "ms",
            ms(raw),
            False,
            target=">= 0.8x raw",
            meets_target=raw / ours >= 0.8,
            note=f"{frame.height:,} bars",
        )
    )

    disc: list[Result] = []
    dim_store = TableStore(lake, DIM_SYMBOL)

    def raw_dim() -> pl.DataFrame:
        return pl.scan_delta(str(dim_store.path)).filter(pl.col("exchange") == EXCHANGE).collect()

    raw, _ = best_of(raw_dim, repeat)
    ours, listed = best_of(lambda: discovery.list_symbols(EXCHANGE, lake=lake), repeat)
    disc.append(
        Result(
            f"list_symbols(exchange), {dim.height:,} versions",
            ms(ours),
            "ms",
            ms(raw),
            False,
            target="< 100 ms",
            meets_target=ms(ours) < 100,
            note=f"{listed.height:,} rows",
        )
    )
    ours, found = best_of(lambda: discovery.list_symbols(search="sym0", lake=lake), repeat)
    disc.append(Result("list_symbols(search=...)", ms(ours), "ms", ms(raw), False, note=f"{found.height} rows"))
    ours, _ = best_of(lambda: discovery.list_exchanges(lake=lake), repeat)
    disc.append(Result("list_exchanges", ms(ours), "ms", None, False))
    ours, _ = best_of(lambda: query.trades(EXCHANGE, symbol, start, end, lake=lake), repeat)
    disc.append(Result("symbol resolution (query plan, not collected)", ms(ours), "ms", ms(raw), False))
    ours, cov = best_of(
        lambda: discovery.data_coverage(
            EXCHANGE, symbol, "2024-05-01", dt.date(2024, 5, 1) + dt.timedelta(days=args.days + 5), lake=lake
        ),
        repeat,
    )
    disc.append(Result(f"data_coverage ({cov.height} table-days)", ms(ours), "ms", None, False))
    return {"Research reads": reads, "Joins and bars": analytics, "Discovery": disc}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="trades (and quotes) per symbol-day")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--symbols", type=int, default=2)
    parser.add_argument("--dim-symbols", type=int, default=100_000, help="filler instruments in dim_symbol")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the best is reported)")
    parser.add_argument("--keep", type=Path, help="build the lake here and keep it (default: a temporary directory)")
    parser.add_argument("--results", type=Path, help="also write the tables as Markdown to this file")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: measure the lake already built there instead of rebuilding"
    )
    args = parser.parse_args()
    reset_host(PluginHost(entry_points_enabled=False, extra_plugins=[("bench", BenchPlugin())]))
    print(machine())
    root = args.keep or Path(tempfile.mkdtemp(prefix="pointline-bench-research-"))
    reuse = args.reuse and args.keep is not None and (root / "dim").is_dir()
    if root.exists() and any(root.iterdir()) and not reuse:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        lake, dim = (Lake(root), TableStore(Lake(root), DIM_SYMBOL).read()) if reuse else build_lake(root, args)
        sections = run(args, lake, dim)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for title, results in sections.items():
        print_results(title, results)
    if args.results is not None:
        write_results(sections, "python bench/bench_research.py " + " ".join(sys.argv[1:]), args.results)


if __name__ == "__main__":
    main()
