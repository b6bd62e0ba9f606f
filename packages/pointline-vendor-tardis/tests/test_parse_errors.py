"""Bad and unusual input: one clear error naming file, line and column, or a row core can quarantine."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pointline.errors import BronzeFormatError
from tardis_helpers import GZ_DIR, SAMPLES, bronze_file, write_gz

from pointline_vendor_tardis import csvread
from pointline_vendor_tardis.parsers import DATA_TYPES
from pointline_vendor_tardis.vendor import TardisVendor

TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
T0 = 1583020803145000


def trade_line(i: int, *, side: str = "buy", price: str = "8531.5", amount: str = "2152") -> str:
    return f"bitmex,XBTUSD,{T0 + i},{T0 + i + 100},id{i},{side},{price},{amount}"


def trades_file(tmp_path: Path, lines: list[str], *, name: str = "t.csv.gz", header: str = TRADES_HEADER) -> Path:
    return write_gz(tmp_path / name, "\n".join([header, *lines]) + "\n")


def parse(vendor: TardisVendor, path: Path, data_type: str = "trades") -> pl.DataFrame:
    frame = vendor.read_and_parse(bronze_file(path, data_type))
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_missing_column_names_file_and_column(vendor: TardisVendor, tmp_path: Path) -> None:
    path = trades_file(tmp_path, [trade_line(0)], header=TRADES_HEADER.replace(",side", ""))
    with pytest.raises(BronzeFormatError) as err:
        parse(vendor, path)
    assert err.value.path == str(path)
    assert err.value.line == 1
    assert err.value.column == "side"
    assert "missing column(s) side" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "content", [b"", gzip.compress(b"", mtime=0), b"\n\n"], ids=["zero-bytes", "empty-gzip", "blank"]
)
def test_empty_file_is_an_error(vendor: TardisVendor, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv.gz"
    path.write_bytes(content)
    with pytest.raises(BronzeFormatError, match="empty file") as err:
        parse(vendor, path)
    assert err.value.path == str(path)


def test_header_only_file_is_an_empty_frame(vendor: TardisVendor, tmp_path: Path) -> None:
    frame = parse(vendor, trades_file(tmp_path, []))
    assert frame.height == 0
    assert frame.schema == DATA_TYPES["trades"].table.parse_schema()
    batches = list(vendor.iter_batches(bronze_file(trades_file(tmp_path, [], name="b.csv.gz"), "trades"), 10))
    assert len(batches) == 1
    assert batches[0].height == 0


def test_truncated_gzip_is_an_error(vendor: TardisVendor, tmp_path: Path) -> None:
    whole = (GZ_DIR / "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv.gz").read_bytes()
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BronzeFormatError, match="truncated or corrupt gzip") as err:
        parse(vendor, path, "book_snapshot_25")
    assert err.value.path == str(path)
    with pytest.raises(BronzeFormatError, match="truncated or corrupt gzip"):
        for _ in vendor.iter_batches(bronze_file(path, "book_snapshot_25"), 2):
            pass


def test_corrupt_gzip_is_an_error(vendor: TardisVendor, tmp_path: Path) -> None:
    whole = bytearray((GZ_DIR / "bitmex_trades_2020-03-01_XBTUSD.csv.gz").read_bytes())
    whole[-6] ^= 0xFF  # flip a CRC byte
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(bytes(whole))
    with pytest.raises(BronzeFormatError, match="truncated or corrupt gzip"):
        parse(vendor, path)


@pytest.mark.parametrize(
    ("scale", "column", "unit"),
    [(1000, "local_timestamp", "nanoseconds"), (1 / 1000, "local_timestamp", "milliseconds")],
    ids=["ns", "ms"],
)
def test_timestamps_not_in_microseconds_fail_the_file(
    vendor: TardisVendor, tmp_path: Path, scale: float, column: str, unit: str
) -> None:
    lines = [f"bitmex,XBTUSD,{int((T0 + i) * scale)},{int((T0 + i + 100) * scale)},id{i},buy,1,1" for i in range(3)]
    path = trades_file(tmp_path, lines)
    with pytest.raises(BronzeFormatError, match=unit) as err:
        parse(vendor, path)
    assert (err.value.line, err.value.column) == (2, column)


def test_nanosecond_exchange_timestamp_fails_the_file(vendor: TardisVendor, tmp_path: Path) -> None:
    path = trades_file(tmp_path, [f"bitmex,XBTUSD,{T0 * 1000},{T0},x,buy,1,1"])
    with pytest.raises(BronzeFormatError, match="nanoseconds") as err:
        parse(vendor, path)
    assert err.value.column == "timestamp"


def test_unparsable_number_names_line_and_column(vendor: TardisVendor, tmp_path: Path) -> None:
    lines = [trade_line(0), trade_line(1), trade_line(2).replace(str(T0 + 2 + 100), "12:00:01")]
    with pytest.raises(BronzeFormatError, match="cannot parse '12:00:01'") as err:
        parse(vendor, trades_file(tmp_path, lines))
    assert (err.value.line, err.value.column) == (4, "local_timestamp")
    header = "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_funding_rate,open_interest,last_price,index_price,mark_price"
    ticker = f"deribit,BTC-PERPETUAL,{T0},{T0 + 5},,0.00000459,,705041730,65255.5,n/a,65220.13"
    path = write_gz(tmp_path / "ticker.csv.gz", f"{header}\n{ticker}\n")
    with pytest.raises(BronzeFormatError, match="as a number") as err:
        parse(vendor, path, "derivative_ticker")
    assert (err.value.line, err.value.column) == (2, "index_price")


@pytest.mark.parametrize(
    "bad", ["bitmex,XBTUSD,1,2,3,buy,1,1,extra", "bitmex,XBTUSD,1583020803145009,1583020803145109,x,buy,1"]
)
def test_rows_with_the_wrong_field_count_name_their_line(vendor: TardisVendor, tmp_path: Path, bad: str) -> None:
    path = trades_file(tmp_path, [trade_line(0), trade_line(1), bad, trade_line(3)])
    with pytest.raises(BronzeFormatError, match="fields, the header has 8") as err:
        parse(vendor, path)
    assert err.value.line == 4


def test_short_rows_are_found_when_the_last_column_may_be_empty(vendor: TardisVendor, tmp_path: Path) -> None:
    """Quotes may lack a side (empty trailing fields are valid), but a row must still have every field."""
    header = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
    one_sided = f"huobi-dm-swap,BTC-USD,{T0},{T0 + 9},5494,8629.3,,"
    frame = parse(vendor, write_gz(tmp_path / "ok.csv.gz", f"{header}\n{one_sided}\n"), "quotes")
    assert (frame["bid_px"][0], frame["bid_qty"][0], frame["ask_px"][0]) == (None, None, "8629.3")
    short = f"huobi-dm-swap,BTC-USD,{T0},{T0 + 9},5494,8629.3"
    with pytest.raises(BronzeFormatError, match="6 fields") as err:
        parse(vendor, write_gz(tmp_path / "bad.csv.gz", f"{header}\n{one_sided}\n{short}\n"), "quotes")
    assert err.value.line == 3


def test_unknown_enum_text_is_left_for_core_to_quarantine(vendor: TardisVendor, tmp_path: Path) -> None:
    lines = [
        trade_line(0, side="buy"),
        trade_line(1, side="SELL"),
        trade_line(2, side="unknown"),
        trade_line(3, side="b"),
    ]
    frame = parse(vendor, trades_file(tmp_path, lines))
    assert frame.get_column("side").to_list() == [1, -1, 0, None]  # null -> core's missing_value rule, row kept
    assert frame.get_column("file_line_number").to_list() == [2, 3, 4, 5]


def test_invalid_option_type_keeps_its_text(vendor: TardisVendor, tmp_path: Path) -> None:
    text = (
        (SAMPLES / "options_chain.csv")
        .read_text()
        .replace(",put,9875,", ",PUT,9875,", 1)
        .replace(",call,300,", ",x,300,")
    )
    frame = parse(vendor, write_gz(tmp_path / "oc.csv.gz", text), "options_chain")
    assert frame.get_column("option_type").to_list()[0] == "put"
    assert "x" in frame.get_column("option_type").to_list()  # core's invalid_enum rule records the value


def test_blank_lines_are_skipped_and_lines_stay_physical(vendor: TardisVendor, tmp_path: Path) -> None:
    path = write_gz(tmp_path / "b.csv.gz", "\n".join([TRADES_HEADER, trade_line(0), "", trade_line(1), "", ""]) + "\n")
    frame = parse(vendor, path)
    assert frame.get_column("file_line_number").to_list() == [2, 4]


def test_crlf_bom_and_plain_csv(vendor: TardisVendor, tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([TRADES_HEADER, trade_line(0), trade_line(1)]) + "\r\n").encode())
    frame = parse(vendor, path)
    assert frame.get_column("qty").to_list() == ["2152", "2152"]
    assert frame.get_column("exchange").to_list() == ["bitmex", "bitmex"]


def test_non_utf8_header_is_an_error(vendor: TardisVendor, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00e\x00x\n")
    with pytest.raises(BronzeFormatError, match="not UTF-8"):
        parse(vendor, path)


def test_exchange_is_lower_cased_and_symbol_kept_per_row(vendor: TardisVendor, tmp_path: Path) -> None:
    frame = parse(vendor, trades_file(tmp_path, ["BitMEX,XBTUSD,1583020803145000,1583020803145100,a,buy,1,1"]))
    assert frame.row(0, named=True)["exchange"] == "bitmex"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch_rows=st.integers(min_value=1, max_value=5000),
    block_floor=st.sampled_from([16, 256, 1 << 16]),
    blank_every=st.sampled_from([0, 7, 1000]),
)
def test_iter_batches_concatenates_to_read_and_parse(
    tmp_path_factory: pytest.TempPathFactory, batch_rows: int, block_floor: int, blank_every: int
) -> None:
    """Streaming in blocks (down to blocks smaller than one line) changes nothing, line numbers included."""
    vendor = TardisVendor()
    lines = [trade_line(i, price=f"{8000 + i % 977}.{i % 10}", amount=str(1 + i % 13)) for i in range(1500)]
    if blank_every:
        lines = [line if i % blank_every else "" for i, line in enumerate(lines, start=1)]
    path = trades_file(tmp_path_factory.mktemp("b"), lines)
    whole = parse(vendor, path)
    original = csvread.MIN_BLOCK_BYTES
    csvread.MIN_BLOCK_BYTES = block_floor
    try:
        batches = list(vendor.iter_batches(bronze_file(path, "trades"), batch_rows))
    finally:
        csvread.MIN_BLOCK_BYTES = original
    assert pl.concat(batches).equals(whole)
    assert whole.get_column("file_line_number").is_unique().all()
    assert whole.height == sum(1 for line in lines if line)
    if block_floor == 1 << 16 and batch_rows < 100:
        assert len(batches) > 1
