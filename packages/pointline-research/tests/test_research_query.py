"""query.* and core.*: exact symbol resolution across SCD2 versions, exact decoding, windows, pruning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from pointline.config import Lake
from pointline.errors import TimeInputError, UnknownExchangeError
from pointline.storage.delta import TableStore
from pointline.tables.canonical import QUOTES, TRADES, book_snapshot, kline
from pointline_research import core, query
from pointline_research.errors import ResearchInputError, UnknownSymbolError
from research_kit import DAY, HOUR, NY_EX, T0, UTC_EX, ids_of, version, write_dim, write_events

NOON = T0 + 12 * HOUR


@pytest.fixture
def tick_change_lake(lake: Lake) -> tuple[Lake, pl.DataFrame]:
    """BTCUSDT changes price increment 0.1 -> 0.01 at noon; BTCUSDT_240628 trades alongside."""
    dim = write_dim(
        lake,
        [
            version("BTCUSDT", T0 - DAY, NOON, price_increment="0.1"),
            version("BTCUSDT", NOON, price_increment="0.01", amount_increment="0.0001"),
            version("BTCUSDT_240628", T0 - DAY, instrument_type="future"),
        ],
    )
    old, new = ids_of(dim, "BTCUSDT")
    (future,) = ids_of(dim, "BTCUSDT_240628")
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": old, "ts_local_us": T0 + HOUR, "px_int": 670001, "qty_int": 1500, "side": 1},
            {"symbol_id": old, "ts_local_us": NOON - 1, "px_int": 3, "qty_int": 7, "side": -1},
        ],
    )
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": new, "ts_local_us": NOON, "px_int": 6700005, "qty_int": 12345, "side": 1, "file_id": 2},
            {"symbol_id": new, "ts_local_us": NOON + HOUR, "px_int": 7, "qty_int": 1, "side": 1, "file_id": 2},
        ],
    )
    write_events(
        lake,
        TRADES,
        [{"symbol_id": future, "ts_local_us": T0 + 2 * HOUR, "px_int": 680000, "qty_int": 5, "file_id": 3}],
    )
    return lake, dim


def test_decoded_prices_are_exact_across_a_tick_size_change(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    lazy = query.trades(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", decoded=True)
    assert isinstance(lazy, pl.LazyFrame)
    frame = lazy.collect()
    assert frame.get_column("px").to_list() == [
        Decimal("67000.1"),
        Decimal("0.3"),
        Decimal("67000.05"),
        Decimal("0.07"),
    ]
    assert frame.get_column("qty").to_list() == [Decimal("1.5"), Decimal("0.007"), Decimal("1.2345"), Decimal("0.0001")]
    # the smallest scale that holds every version's values exactly
    assert frame.schema["px"] == pl.Decimal(38, 2)
    assert frame.schema["qty"] == pl.Decimal(38, 4)
    assert "px_int" not in frame.columns


def test_symbol_match_is_exact_never_a_prefix(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    _, dim = tick_change_lake
    frame = query.trades(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02").collect()
    assert set(frame.get_column("symbol_id").to_list()) == set(ids_of(dim, "BTCUSDT"))
    assert frame.height == 4
    future = query.trades(UTC_EX, "BTCUSDT_240628", "2024-05-01", "2024-05-02", decoded=True).collect()
    assert future.get_column("px").to_list() == [Decimal("68000.0")]


def test_rows_come_in_time_order_across_versions_and_the_window_is_half_open(
    tick_change_lake: tuple[Lake, pl.DataFrame],
) -> None:
    frame = query.trades(UTC_EX, "BTCUSDT", T0 + HOUR, NOON + HOUR).collect()
    assert frame.get_column("ts_local_us").to_list() == [T0 + HOUR, NOON - 1, NOON]  # end excluded, start included
    assert frame.get_column("ts_local_us").is_sorted()


def test_time_inputs_accept_us_aware_datetimes_and_iso_but_not_naive(
    tick_change_lake: tuple[Lake, pl.DataFrame],
) -> None:
    aware = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    by_iso = query.trades(UTC_EX, "BTCUSDT", "2024-05-01T00:00:00+00:00", "2024-05-02").collect()
    by_us = query.trades(UTC_EX, "BTCUSDT", T0, T0 + DAY).collect()
    by_dt = query.trades(UTC_EX, "BTCUSDT", aware, aware + dt.timedelta(days=1)).collect()
    assert by_iso.equals(by_us)
    assert by_dt.equals(by_us)
    with pytest.raises(TimeInputError, match="naive datetime"):
        query.trades(UTC_EX, "BTCUSDT", dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2))
    with pytest.raises(TimeInputError, match="empty window"):
        query.trades(UTC_EX, "BTCUSDT", T0, T0)


def test_projection_returns_exactly_the_columns_asked(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    frame = query.trades(
        UTC_EX, "BTCUSDT", T0, T0 + DAY, decoded=True, columns=["ts_local_us", "px", "px_int"]
    ).collect()
    assert frame.columns == ["ts_local_us", "px", "px_int"]
    assert frame.get_column("px_int").to_list() == [670001, 3, 6700005, 7]
    with pytest.raises(ResearchInputError, match="no column"):
        query.trades(UTC_EX, "BTCUSDT", T0, T0 + DAY, columns=["price"])
    with pytest.raises(ResearchInputError, match="no column"):  # decoded names need decoded=True
        query.trades(UTC_EX, "BTCUSDT", T0, T0 + DAY, columns=["px"])


def test_unknown_symbol_suggests_the_exact_spelling(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    with pytest.raises(UnknownSymbolError, match="did you mean 'BTCUSDT'"):
        query.trades(UTC_EX, "btcusdt", T0, T0 + DAY)
    with pytest.raises(UnknownSymbolError, match="listed on binance-futures"):
        query.trades(NY_EX, "BTCUSDT", T0, T0 + DAY)
    with pytest.raises(UnknownExchangeError):
        query.trades("no-such-venue", "BTCUSDT", T0, T0 + DAY).collect()


def test_known_symbol_without_a_version_in_the_window_is_an_empty_frame(
    tick_change_lake: tuple[Lake, pl.DataFrame],
) -> None:
    frame = query.trades(UTC_EX, "BTCUSDT", T0 - 10 * DAY, T0 - 5 * DAY, decoded=True).collect()
    assert frame.height == 0
    assert "px" in frame.columns
    assert "px_int" not in frame.columns


def test_several_exact_symbols_interleave_by_time_with_their_names(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    frame = query.trades(UTC_EX, ["BTCUSDT", "BTCUSDT_240628"], T0, T0 + DAY, with_symbol=True).collect()
    assert frame.get_column("exchange_symbol").to_list() == [
        "BTCUSDT",
        "BTCUSDT_240628",
        "BTCUSDT",
        "BTCUSDT",
        "BTCUSDT",
    ]
    assert frame.columns.index("exchange_symbol") == frame.columns.index("symbol_id") + 1


def test_out_of_window_partitions_are_never_opened(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    lake, dim = tick_change_lake
    old = ids_of(dim, "BTCUSDT")[0]
    write_events(
        lake, TRADES, [{"symbol_id": old, "ts_local_us": T0 - 12 * HOUR, "px_int": 1, "qty_int": 1, "file_id": 9}]
    )
    earlier = next((lake.root / "silver" / "trades").glob("exchange=*/date=2024-04-30/*.parquet"))
    earlier.unlink()  # a scan that opened the 2024-04-30 partition would now fail
    assert query.trades(UTC_EX, "BTCUSDT", T0, T0 + DAY).collect().height == 4
    with pytest.raises(FileNotFoundError):
        query.trades(UTC_EX, "BTCUSDT", T0 - DAY, T0 + DAY).collect()


def test_non_utc_exchange_prunes_by_local_dates(lake: Lake) -> None:
    """Rows at 23:30 New York time live in that local date's partition, which is the next UTC date."""
    dim = write_dim(lake, [version("IBM", T0 - 10 * DAY, exchange=NY_EX, price_increment="0.01", amount_increment="1")])
    (ibm,) = ids_of(dim, "IBM")
    late_evening = T0 + 3 * HOUR + 30 * 60_000_000  # 2024-05-01 03:30Z = 2024-04-30 23:30 EDT
    morning = T0 + 14 * HOUR  # 2024-05-01 10:00 EDT
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": ibm, "ts_local_us": late_evening, "px_int": 16000, "qty_int": 10},
            {"symbol_id": ibm, "ts_local_us": morning, "px_int": 16001, "qty_int": 5},
        ],
        exchange=NY_EX,
    )
    dates = sorted(TableStore(lake, TRADES).read().get_column("date").to_list())
    assert dates == [dt.date(2024, 4, 30), dt.date(2024, 5, 1)]
    frame = query.trades(NY_EX, "IBM", "2024-05-01T03:00:00Z", "2024-05-01T15:00:00Z", decoded=True).collect()
    assert frame.get_column("px").to_list() == [Decimal("160.00"), Decimal("160.01")]
    only_evening = query.trades(NY_EX, "IBM", "2024-04-30T20:00:00-04:00", "2024-05-01T00:00:00-04:00").collect()
    assert only_evening.get_column("ts_local_us").to_list() == [late_evening]


def test_exchange_clock_window_reads_neighbouring_partitions(lake: Lake) -> None:
    """A row that arrived after midnight but was stamped by the exchange before it is found on ts_exch_us."""
    dim = write_dim(lake, [version("ETHUSDT", T0 - 10 * DAY)])
    (eth,) = ids_of(dim, "ETHUSDT")
    write_events(
        lake, TRADES, [{"symbol_id": eth, "ts_local_us": T0 + 5, "ts_exch_us": T0 - 5, "px_int": 30000, "qty_int": 1}]
    )
    on_arrival = query.trades(UTC_EX, "ETHUSDT", T0 - DAY, T0).collect()
    on_exchange = query.trades(UTC_EX, "ETHUSDT", T0 - DAY, T0, time_column="ts_exch_us").collect()
    assert on_arrival.height == 0
    assert on_exchange.get_column("ts_exch_us").to_list() == [T0 - 5]


def test_other_tables_decode_their_own_fixed_point_columns(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    lake, dim = tick_change_lake
    old, new = ids_of(dim, "BTCUSDT")
    write_events(
        lake,
        QUOTES,
        [
            {
                "symbol_id": old,
                "ts_local_us": T0,
                "bid_px_int": 670000,
                "bid_qty_int": 1,
                "ask_px_int": None,
                "ask_qty_int": None,
            }
        ],
    )
    quotes = query.quotes(UTC_EX, "BTCUSDT", T0, T0 + DAY, decoded=True).collect()
    assert quotes.select("bid_px", "bid_qty", "ask_px").row(0) == (Decimal("67000.0"), Decimal("0.001"), None)
    book = book_snapshot(25)
    write_events(
        lake,
        book,
        [{"symbol_id": new, "ts_local_us": NOON, "ask0_px_int": 6700010, "bid0_px_int": 6700000, "bid24_qty_int": 3}],
    )
    snap = query.book_snapshot_25(UTC_EX, "BTCUSDT", T0, T0 + DAY, decoded=True).collect()
    assert snap.select("ask0_px", "bid0_px", "bid24_qty").row(0) == (
        Decimal("67000.10"),
        Decimal("67000.00"),
        Decimal("0.0003"),
    )
    bars = kline("1m")
    write_events(
        lake,
        bars,
        [
            {
                "symbol_id": old,
                "ts_local_us": T0 + 60_000_000,
                "open_ts_us": T0,
                "open_px_int": 1,
                "high_px_int": 2,
                "low_px_int": 1,
                "close_px_int": 2,
                "volume_qty_int": 10,
            }
        ],
    )
    k = query.kline(UTC_EX, "BTCUSDT", T0, T0 + DAY, interval="1m", decoded=True).collect()
    assert k.select("open_ts_us", "ts_local_us", "close_px", "volume_qty").row(0) == (
        T0,
        T0 + 60_000_000,
        Decimal("0.2"),
        Decimal("0.010"),
    )


def test_query_refuses_non_event_tables(lake: Lake) -> None:
    with pytest.raises(ResearchInputError, match="event tables"):
        query.table("dim_symbol", UTC_EX, "BTCUSDT", T0, T0 + DAY)


def test_core_scan_by_explicit_ids_orders_by_the_table_key(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    _, dim = tick_change_lake
    old, new = ids_of(dim, "BTCUSDT")
    (future,) = ids_of(dim, "BTCUSDT_240628")
    frame = core.trades(
        [new, future, old], T0, T0 + DAY, decoded=True, columns=["symbol_id", "ts_local_us", "px"]
    ).collect()
    expected_ids = sorted([old, old, new, new, future])
    assert frame.get_column("symbol_id").to_list() == expected_ids
    assert frame.filter(pl.col("symbol_id") == future).get_column("px").to_list() == [Decimal("68000.0")]
    one = core.scan("trades", old, T0, NOON).collect()
    assert one.get_column("px_int").to_list() == [670001, 3]


def test_core_scan_reads_dimension_tables_and_checks_arguments(tick_change_lake: tuple[Lake, pl.DataFrame]) -> None:
    dims = core.scan("dim_symbol", columns=["exchange_symbol", "valid_from_ts"]).collect()
    assert dims.get_column("exchange_symbol").to_list() == ["BTCUSDT", "BTCUSDT", "BTCUSDT_240628"]
    with pytest.raises(ResearchInputError, match="no symbol_id"):
        core.scan("dim_exchange", 1)
    with pytest.raises(ResearchInputError, match="both start and end"):
        core.scan("trades", None, T0)
    with pytest.raises(ResearchInputError, match="no time column"):
        core.scan("dim_symbol", None, T0, T0 + DAY).collect()
    with pytest.raises(ResearchInputError, match="no integer µs column 'exchange_symbol'"):
        core.scan("dim_symbol", None, T0, T0 + DAY, time_column="exchange_symbol")
    windowed = core.scan("dim_symbol", None, T0, T0 + DAY, time_column="valid_from_ts").collect()
    assert windowed.height == 1  # the noon version


def test_missing_table_reads_as_empty_with_its_schema(lake: Lake, tmp_path: Path) -> None:
    write_dim(lake, [version("BTCUSDT", T0)])
    frame = query.liquidations(UTC_EX, "BTCUSDT", T0, T0 + DAY, decoded=True).collect()
    assert frame.height == 0
    assert "px" in frame.columns
