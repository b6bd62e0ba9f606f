"""Bronze layout: Tardis download names and the Hive layout, symbol sanitising, and what is not a file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tardis_helpers import GZ_DIR, GZ_SAMPLES

from pointline_vendor_tardis import layout
from pointline_vendor_tardis.vendor import TardisVendor


def place(bronze: Path, relative: str, content: bytes = b"x") -> Path:
    path = bronze / "tardis" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "exchange", "data_type", "day", "symbol"),
    [
        (
            "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv.gz",
            "binance-futures",
            "book_snapshot_25",
            "2020-09-01",
            "BTCUSDT",
        ),
        (
            "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz",
            "deribit",
            "incremental_book_L2",
            "2020-04-01",
            "BTC-PERPETUAL",
        ),
        (
            "okex-futures_derivative_ticker_2026-08-10_BTC-USD_UM_XPERP-310404.csv.gz",
            "okex-futures",
            "derivative_ticker",
            "2026-08-10",
            "BTC-USD_UM_XPERP-310404",
        ),
        ("deribit_options_chain_2020-06-08_OPTIONS.csv.gz", "deribit", "options_chain", "2020-06-08", "OPTIONS"),
        (
            "huobi-dm-linear-swap_trades_2021-01-01_BTC-USDT.csv",
            "huobi-dm-linear-swap",
            "trades",
            "2021-01-01",
            "BTC-USDT",
        ),
        ("kraken_trades_2021-01-01_XBT-USD.csv.gz", "kraken", "trades", "2021-01-01", "XBT-USD"),
        ("bybit_trades_2024-03-01_BTCUSDT_2024-03-29.csv.gz", "bybit", "trades", "2024-03-01", "BTCUSDT_2024-03-29"),
    ],
)
def test_tardis_download_names(
    tmp_path: Path, vendor: TardisVendor, name: str, exchange: str, data_type: str, day: str, symbol: str
) -> None:
    path = place(tmp_path, name)
    described = vendor.describe_file(path, tmp_path)
    assert described is not None
    assert (described.exchange, described.data_type, described.date, described.symbol) == (
        exchange,
        data_type,
        dt.date.fromisoformat(day),
        symbol,
    )
    assert described.relative_path == f"tardis/{name}"
    assert described.vendor == "tardis"
    assert described.extra["layout"] == "download"
    assert described.extra["grouped"] == ("true" if symbol == "OPTIONS" else "false")


def test_download_names_anywhere_under_the_vendor_dir(tmp_path: Path, vendor: TardisVendor) -> None:
    path = place(tmp_path, "datasets/2020/bitmex_trades_2020-03-01_XBTUSD.csv.gz")
    described = vendor.describe_file(path, tmp_path)
    assert described is not None
    assert described.symbol == "XBTUSD"
    assert described.relative_path == "tardis/datasets/2020/bitmex_trades_2020-03-01_XBTUSD.csv.gz"


def test_hive_layout(tmp_path: Path, vendor: TardisVendor) -> None:
    path = place(tmp_path, "exchange=binance-futures/type=book_snapshot_25/date=2020-09-01/BTCUSDT.csv.gz")
    described = vendor.describe_file(path, tmp_path)
    assert described is not None
    assert (described.exchange, described.data_type, described.date, described.symbol) == (
        "binance-futures",
        "book_snapshot_25",
        dt.date(2020, 9, 1),
        "BTCUSDT",
    )
    assert described.extra["layout"] == "hive"


def test_vendor_dir_as_root_is_accepted(tmp_path: Path, vendor: TardisVendor) -> None:
    path = place(tmp_path, "deribit_trades_2020-01-01_PERPETUALS.csv.gz")
    described = vendor.describe_file(path, tmp_path / "tardis")
    assert described is not None
    assert described.extra["grouped"] == "true"


@pytest.mark.parametrize(
    "relative",
    [
        ".incoming/exchange=deribit/type=trades/date=2020-01-01/BTC-PERPETUAL.csv.gz.part",
        ".incoming/deribit_trades_2020-01-01_BTC-PERPETUAL.csv.gz",
        "deribit_trades_2020-01-01_BTC-PERPETUAL.csv.gz.part",
        "deribit_trades_2020-01-01_BTC-PERPETUAL.csv.gz.sha256",
        "notes.txt",
        "trades.csv.gz",
        "deribit_trades_2020-13-45_BTC-PERPETUAL.csv.gz",
        "exchange=deribit/type=trades/date=someday/BTC-PERPETUAL.csv.gz",
        "Deribit_trades_2020-01-01_BTC.csv.gz",
    ],
)
def test_not_bronze_files(tmp_path: Path, vendor: TardisVendor, relative: str) -> None:
    assert vendor.describe_file(place(tmp_path, relative), tmp_path) is None


def test_file_outside_the_root_is_not_described(tmp_path: Path, vendor: TardisVendor) -> None:
    outside = tmp_path / "elsewhere" / "bitmex_trades_2020-03-01_XBTUSD.csv.gz"
    outside.parent.mkdir()
    outside.write_bytes(b"x")
    assert vendor.describe_file(outside, tmp_path / "lake" / "bronze") is None


def test_every_real_gz_sample_is_described_with_its_data_type(tmp_path: Path, vendor: TardisVendor) -> None:
    for name, data_type in GZ_SAMPLES.items():
        path = place(tmp_path, name, (GZ_DIR / name).read_bytes())
        described = vendor.describe_file(path, tmp_path)
        assert described is not None
        assert described.data_type == data_type
        assert described.exchange is not None
        assert described.exchange in name


def test_bronze_patterns_find_both_layouts(tmp_path: Path, vendor: TardisVendor) -> None:
    a = place(tmp_path, "bitmex_trades_2020-03-01_XBTUSD.csv.gz")
    b = place(tmp_path, "exchange=bitmex/type=trades/date=2020-03-02/XBTUSD.csv")
    found = {p for pattern in vendor.bronze_patterns for p in (tmp_path / "tardis").glob(pattern)}
    assert {a, b} <= found


def test_normalise_and_sanitise_like_tardis() -> None:
    assert layout.normalize_symbol("btc/usd:perp") == "BTC-USD-PERP"
    assert layout.sanitize_symbol('a:b\\c/d?e*f<g>h|i"j') == "a-b-c-d-e-f-g-h-i-j"
    assert (
        layout.download_name("kraken", "trades", dt.date(2021, 1, 2), "xbt/usd")
        == "kraken_trades_2021-01-02_XBT-USD.csv.gz"
    )
    assert layout.hive_path("kraken", "trades", dt.date(2021, 1, 2), "xbt/usd") == PurePosixPath(
        "exchange=kraken/type=trades/date=2021-01-02/XBT-USD.csv.gz"
    )


SYMBOLS = st.text(alphabet=st.sampled_from("ABCXYZ019-_:/"), min_size=1, max_size=24).filter(
    lambda s: s.strip("_") == s
)


@given(
    exchange=st.sampled_from(["binance", "binance-futures", "huobi-dm-linear-swap", "okex-swap"]),
    data_type=st.sampled_from(["trades", "book_snapshot_25", "incremental_book_L2", "options_chain", "quotes"]),
    day=st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2030, 12, 31)),
    symbol=SYMBOLS,
    hive=st.booleans(),
)
def test_written_names_read_back(exchange: str, data_type: str, day: dt.date, symbol: str, hive: bool) -> None:
    """What the downloader writes, discovery reads back: exchange, data type, day, and the file-name symbol."""
    relative = layout.relative_path(exchange, data_type, day, symbol, "hive" if hive else "download")
    info = layout.parse_relative(relative)
    assert info is not None
    assert (info.exchange, info.data_type, info.date) == (exchange, data_type, day)
    assert info.symbol == layout.sanitize_symbol(layout.normalize_symbol(symbol))
