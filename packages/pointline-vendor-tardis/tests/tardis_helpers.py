"""Helpers of the Tardis vendor tests: where the real samples are, and an independent CSV reader."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from pointline.vendor import BronzeFile

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "samples" / "tardis"
GZ_DIR = SAMPLES / "derived_gz"

PLAIN_SAMPLES: dict[str, str] = {
    "binance-futures_book_snapshot_25_BTCUSDT.csv": "book_snapshot_25",
    "binance-futures_book_snapshot_5_BTCUSDT.csv": "book_snapshot_5",
    "bitmex_trades_XBTUSD.csv": "trades",
    "deribit_derivative_ticker.csv": "derivative_ticker",
    "deribit_incremental_book_L2_BTC-PERPETUAL.csv": "incremental_book_L2",
    "huobi-dm-swap_quotes_BTC-USD.csv": "quotes",
    "okex_futures_xperp_derivative_ticker.csv": "derivative_ticker",
    "okex_swap_usdc_index_migration.csv": "derivative_ticker",
    "options_chain.csv": "options_chain",
}
"""The uncompressed real samples (their names are not Tardis download names) and their data types."""

GZ_SAMPLES: dict[str, str] = {
    "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv.gz": "book_snapshot_25",
    "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv.gz": "book_snapshot_5",
    "bitmex_trades_2020-03-01_XBTUSD.csv.gz": "trades",
    "deribit_derivative_ticker_2026-08-10_BTC-PERPETUAL.csv.gz": "derivative_ticker",
    "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz": "incremental_book_L2",
    "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz": "quotes",
    "okex-futures_derivative_ticker_2026-08-10_BTC-USD_UM_XPERP-310404.csv.gz": "derivative_ticker",
}
"""The gzipped real samples under Tardis's own download names, and their data types."""

ALL_SAMPLES: list[tuple[Path, str]] = [(SAMPLES / n, t) for n, t in PLAIN_SAMPLES.items()] + [
    (GZ_DIR / n, t) for n, t in GZ_SAMPLES.items()
]


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as the standard library's csv module reads them (the independent reference)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:  # type: ignore[operator]
        return list(csv.DictReader(fh))


def bronze_file(path: Path, data_type: str) -> BronzeFile:
    """A BronzeFile for a sample whose name says nothing (the plain samples)."""
    return BronzeFile(vendor="tardis", path=path, relative_path=f"tardis/{path.name}", data_type=data_type)


def write_gz(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path


def flat(text: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(text.split())


TARDIS_NAMES: dict[str, str] = {
    "binance-futures_book_snapshot_25_BTCUSDT.csv": "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv",
    "binance-futures_book_snapshot_5_BTCUSDT.csv": "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv",
    "bitmex_trades_XBTUSD.csv": "bitmex_trades_2020-03-01_XBTUSD.csv",
    "deribit_derivative_ticker.csv": "deribit_derivative_ticker_2026-08-10_BTC-PERPETUAL.csv",
    "deribit_incremental_book_L2_BTC-PERPETUAL.csv": "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv",
    "huobi-dm-swap_quotes_BTC-USD.csv": "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv",
    "okex_futures_xperp_derivative_ticker.csv": "okex-futures_derivative_ticker_2026-08-10_BTC-USD_UM_XPERP-310404.csv",
    "okex_swap_usdc_index_migration.csv": "okex-swap_derivative_ticker_2023-04-01_BTC-USDC-SWAP.csv",
    "options_chain.csv": "deribit_options_chain_2020-06-08_OPTIONS.csv",
}
"""The plain samples under the Tardis download name each would have had (options_chain is a grouped file)."""


def perpetuals_file(path: Path) -> Path:
    """A grouped ``PERPETUALS`` derivative_ticker file made of real rows of three instruments.

    The rows of the Deribit, OKX futures and OKX swap ticker samples, interleaved in arrival order, so
    consecutive rows change symbol (and venue): only each row's own columns can say what it is.
    """
    names = [
        "deribit_derivative_ticker.csv",
        "okex_futures_xperp_derivative_ticker.csv",
        "okex_swap_usdc_index_migration.csv",
    ]
    header = (SAMPLES / names[0]).read_text().splitlines()[0]
    lines = [line for n in names for line in (SAMPLES / n).read_text().splitlines()[1:]]
    lines.sort(key=lambda line: int(line.split(",")[3]))
    return write_gz(path, "\n".join([header, *lines]) + "\n")
