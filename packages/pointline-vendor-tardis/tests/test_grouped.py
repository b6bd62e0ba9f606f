"""Grouped files (PERPETUALS, OPTIONS, ...): every row's symbol comes from the row, never from the file name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
from tardis_helpers import SAMPLES, csv_rows, perpetuals_file, write_gz

from pointline_vendor_tardis.vendor import TardisVendor


def test_options_file_rows_keep_their_own_symbols(tmp_path: Path, vendor: TardisVendor) -> None:
    path = write_gz(
        tmp_path / "tardis" / "deribit_options_chain_2020-06-08_OPTIONS.csv.gz",
        (SAMPLES / "options_chain.csv").read_text(),
    )
    described = vendor.describe_file(path, tmp_path)
    assert described is not None
    assert (described.symbol, described.extra["grouped"], described.data_type) == ("OPTIONS", "true", "options_chain")
    frame = vendor.read_and_parse(described)
    assert isinstance(frame, pl.DataFrame)
    want = [r["symbol"] for r in csv_rows(SAMPLES / "options_chain.csv")]
    assert frame.get_column("exchange_symbol").to_list() == want
    assert len(set(want)) == 5


def test_perpetuals_file_rows_keep_their_own_symbol_and_exchange(tmp_path: Path, vendor: TardisVendor) -> None:
    path = perpetuals_file(tmp_path / "tardis" / "deribit_derivative_ticker_2026-08-10_PERPETUALS.csv.gz")
    described = vendor.describe_file(path, tmp_path)
    assert described is not None
    assert (described.symbol, described.extra["grouped"]) == ("PERPETUALS", "true")
    frame = vendor.read_and_parse(described)
    assert isinstance(frame, pl.DataFrame)
    rows = csv_rows(path)
    assert list(zip(frame.get_column("exchange"), frame.get_column("exchange_symbol"), strict=True)) == [
        (r["exchange"], r["symbol"]) for r in rows
    ]
    assert Counter(frame.get_column("exchange_symbol")) == {
        "BTC-PERPETUAL": 3,
        "BTC-USD_UM_XPERP-310404": 8,
        "BTC-USDC-SWAP": 6,
    }
    switches = sum(a != b for a, b in zip(frame["exchange_symbol"], frame["exchange_symbol"][1:], strict=False))
    assert switches >= 2  # rows of different instruments follow each other
    assert "PERPETUALS" not in frame.get_column("exchange_symbol").to_list()
