"""The vendor contract's helpers: parameterised table mappings, bronze paths, default batching."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import toy_plugin
from pointline.errors import BronzeFormatError, UnknownTableError
from pointline.vendor import (
    ApiSnapshotSource,
    ArchivePreHook,
    Downloader,
    InstrumentSource,
    bronze_relative,
    resolve_table_name,
)

MAPPING = {"trades": "trades", "klines_{interval}": "kline_{interval}", "{kind}_book_{depth}": "book_snapshot_{depth}"}


@pytest.mark.parametrize(
    ("data_type", "table"),
    [
        ("trades", "trades"),
        ("klines_1m", "kline_1m"),
        ("klines_1mo", "kline_1mo"),
        ("top_book_25", "book_snapshot_25"),
    ],
)
def test_placeholders_resolve(data_type: str, table: str) -> None:
    assert resolve_table_name(MAPPING, data_type) == table


@pytest.mark.parametrize("data_type", ["klines_", "klines_1m_x", "klines_1.5m", "quotes", "xtrades"])
def test_unmatched_data_types_are_unknown_tables(data_type: str) -> None:
    with pytest.raises(UnknownTableError, match=f"no table for data type '{data_type}'"):
        resolve_table_name(MAPPING, data_type)


def test_bronze_relative_is_posix_and_relative(tmp_path: Path) -> None:
    path = tmp_path / "bronze" / "toy" / "exchange=bitmex" / "f.csv"
    assert bronze_relative(path, tmp_path / "bronze") == "toy/exchange=bitmex/f.csv"
    with pytest.raises(ValueError, match="not in the subpath"):
        bronze_relative(tmp_path / "elsewhere.csv", tmp_path / "bronze")


def test_default_iter_batches_slices_read_and_parse(samples: Path, tmp_path: Path) -> None:
    vendor = toy_plugin.ToyVendor()
    target = tmp_path / "bronze" / "toy" / "bitmex_trades_XBTUSD.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes((samples / "tardis" / "bitmex_trades_XBTUSD.csv").read_bytes())
    described = vendor.describe_file(target, tmp_path / "bronze")
    assert described is not None
    batches = list(vendor.iter_batches(described, 4))
    assert [b.height for b in batches] == [4, 4, 2]
    assert pl.concat(batches).equals(vendor.read_and_parse(described))
    target.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n", encoding="utf-8")
    (empty,) = list(vendor.iter_batches(described, 4))
    assert empty.height == 0


def test_capabilities_are_separate_interfaces() -> None:
    vendor = toy_plugin.ToyVendor()
    for capability in (Downloader, InstrumentSource, ApiSnapshotSource, ArchivePreHook):
        assert not isinstance(vendor, capability)


def test_bronze_format_errors_name_file_line_and_column() -> None:
    error = BronzeFormatError("not a number: 'x'", path="tardis/a.csv.gz", line=17, column="price")
    assert str(error) == "tardis/a.csv.gz:17 column 'price': not a number: 'x'"
    assert (error.path, error.line, error.column) == ("tardis/a.csv.gz", 17, "price")
    assert str(BronzeFormatError("empty file")) == "empty file"
