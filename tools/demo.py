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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_bronze import generate  # noqa: E402

START, END = "2024-05-01", "2024-05-03"


def pointline(*args: str, lake: Path) -> None:
    """Run the CLI as a user would (its progress bars and tables go straight to the terminal)."""
    print(f"\n$ pointline {' '.join(args)}", flush=True)
    subprocess.run(["pointline", *args], check=True, env=dict(os.environ, POINTLINE_LAKE=str(lake)))


def report(lake: Path) -> None:
    import polars as pl
    from pointline.cli.common import print_frame
    from pointline_research import bars, discovery, joins, query
    from rich.console import Console

    os.environ["POINTLINE_LAKE"] = str(lake)
    console = Console()
    pl.Config.set_tbl_hide_dataframe_shape(True)

    console.rule("[bold]Coverage: which symbol-days are in the lake")
    coverage = discovery.data_coverage("binance-futures", None, START, END, tables=["trades"])
    print_frame(coverage, title="trades coverage")

    console.rule("[bold]Decoded trades with the prevailing quote (as-of, backward on ts_local_us)")
    tq = joins.trades_with_quotes("binance-futures", "ETHUSDT", START, END, decoded=True).collect()
    cols = [c for c in ("ts_local_us", "side", "px", "qty", "bid_px", "ask_px") if c in tq.columns]
    print_frame(tq.select(cols).head(8), title=f"ETHUSDT: {tq.height:,} trades, each with the quote in force")

    console.rule("[bold]1-minute bars (labelled by bar end)")
    t = query.trades("binance-futures", "ETHUSDT", START, END, decoded=True)
    print_frame(bars.time_bars(t, every="1m").collect().head(8), title="ETHUSDT 1m bars")

    console.rule("[bold]Exact prices across BTCUSDT's tick-size change at 12:00 (0.01 -> 0.1)")
    noon = "2024-05-01T12:00:00+00:00"
    around = query.trades(
        "binance-futures", "BTCUSDT", "2024-05-01T11:59:59+00:00", "2024-05-01T12:00:01+00:00", decoded=True
    )
    around_df = around.collect()
    print_frame(
        around_df.select([c for c in ("ts_local_us", "symbol_id", "px", "qty") if c in around_df.columns]).head(12),
        title=f"trades around {noon}",
    )


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
        f'\nDone in {time.perf_counter() - started:.1f} s. Explore it: POINTLINE_LAKE={lake} pointline sql "SELECT date, count(*) FROM trades GROUP BY 1"'
    )


if __name__ == "__main__":
    main()
