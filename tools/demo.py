"""The main job, end to end on the embedded default: build a demo lake, ingest it, and query it.

1. generate realistic Tardis-format bronze files (tools/generate_bronze.py: 4 instruments, 2 days,
   a tick-size change, a mid-day listing, a grouped PERPETUALS file) and the instruments metadata;
2. `pointline dim populate-exchange` and `pointline tardis symbols sync --from-file` (SCD2 dim_symbol);
3. `pointline ingest run` with its progress bar and summary;
4. a short research report through the public API: tables and row counts, coverage, decoded trades
   with the prevailing quote, 1-minute bars, and exact prices across the tick-size change.

No server, no API key, no network. Run with ``nox -s demo`` (or ``python tools/demo.py [LAKE]`` in an
environment with every package installed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_bronze import generate  # noqa: E402

START, END = "2024-05-01", "2024-05-03"


def pointline(*args: str, lake: Path) -> None:
    """Run the CLI as a user would (its progress bars and tables go straight to the terminal)."""
    print(f"\n$ pointline {' '.join(args)}", flush=True)
    subprocess.run(["pointline", *args], check=True, env=dict(os.environ, POINTLINE_LAKE=str(lake)))


def report(lake: Path) -> None:
    from pointline.cli.common import print_frame
    from pointline_research import bars, discovery, joins, query
    from rich.console import Console

    os.environ["POINTLINE_LAKE"] = str(lake)
    console = Console()
    pl.Config.set_tbl_hide_dataframe_shape(True)

    console.rule("[bold]Coverage: trades rows per symbol and day (from the manifest and silver, not file listings)")
    symbols = discovery.list_symbols(exchange="binance-futures").get_column("exchange_symbol").to_list()
    cells = []
    for symbol in symbols:
        cov = discovery.data_coverage("binance-futures", symbol, START, END, tables=["trades"])
        cells.append(
            cov.select(pl.lit(symbol).alias("symbol"), "date", pl.format("{} ({})", "status", "rows").alias("cell"))
        )
    grid = pl.concat(cells).with_columns(pl.col("date").cast(pl.String)).pivot("date", index="symbol", values="cell")
    print_frame(grid.sort("symbol"), title="status (rows) per symbol-day")

    console.rule("[bold]Decoded trades with the prevailing quote (as-of, backward on ts_local_us)")
    tq = joins.trades_with_quotes("binance-futures", "ETHUSDT", START, END, decoded=True).collect()
    print_frame(
        readable(tq.select("ts_local_us", "side", "px", "qty", "bid_px", "ask_px").head(8)),
        title=f"ETHUSDT: {tq.height:,} trades, each with the quote in force at its arrival",
    )

    console.rule("[bold]1-minute bars (half-open [start, end), labelled by bar end)")
    t = query.trades("binance-futures", "ETHUSDT", START, END, decoded=True)
    one_minute = bars.time_bars(t, every="1m").collect()
    print_frame(
        readable(
            one_minute.select(
                "bar_end", "open", "high", "low", "close", "volume", pl.col("vwap").round(4), "trade_count"
            )
        ).head(8),
        title=f"ETHUSDT: {one_minute.height:,} one-minute bars",
    )

    console.rule("[bold]Exact prices across BTCUSDT's tick-size change at 12:00 UTC (0.01 -> 0.1)")
    around = query.trades(
        "binance-futures", "BTCUSDT", "2024-05-01T11:58:00+00:00", "2024-05-01T12:02:00+00:00", decoded=True
    ).collect()
    versions = around.get_column("symbol_id").unique(maintain_order=True).to_list()
    noon_us = 1_714_564_800_000_000
    before = around.filter(pl.col("ts_local_us") < noon_us).tail(5)
    after = around.filter(pl.col("ts_local_us") >= noon_us).head(5)
    print_frame(
        readable(pl.concat([before, after]).select("ts_local_us", "symbol_id", "px", "qty")),
        title=f"the last and first trades around noon: {len(versions)} dim_symbol versions, each price exact on its grid",
    )


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """µs timestamps as UTC datetimes, for display only."""
    us_columns = [c for c in frame.columns if c.endswith("_us") or c in ("bar_start", "bar_end")]
    return frame.with_columns(pl.from_epoch(pl.col(c), time_unit="us").alias(c) for c in us_columns)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lake", nargs="?", type=Path, default=Path("demo-lake"), help="Lake directory (rebuilt).")
    parser.add_argument("--rows-per-file", type=int, default=100_000)
    args = parser.parse_args(argv)
    lake: Path = args.lake.resolve()
    if lake.exists():
        shutil.rmtree(lake)
    started = time.perf_counter()
    print(f"Building a demo lake in {lake}")
    totals = generate(lake, start=dt.date.fromisoformat(START), days=2, rows_per_file=args.rows_per_file, seed=20240501)
    print("bronze:", ", ".join(f"{k} {v:,} rows" for k, v in totals.items()))
    pointline("dim", "populate-exchange", lake=lake)
    pointline(
        "tardis",
        "symbols",
        "sync",
        "--exchange",
        "binance-futures",
        "--from-file",
        str(lake / "instruments" / "binance-futures.json"),
        lake=lake,
    )
    pointline("ingest", "run", lake=lake)
    pointline("lake", "stats", lake=lake)
    report(lake)
    print(
        f"\nDone in {time.perf_counter() - started:.1f} s. Explore it (the CLI of the environment that ran this):\n"
        f'  POINTLINE_LAKE={lake} {Path(sys.executable).parent / "pointline"} sql "SELECT date, count(*) FROM trades GROUP BY 1"'
    )


if __name__ == "__main__":
    main()
