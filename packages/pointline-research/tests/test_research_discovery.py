"""Discovery from dimension and control tables: exchanges, symbols, coverage with causes, summaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from pointline.config import Lake
from pointline.dims.dim_exchange import populate
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_TRADING_CALENDAR, QUOTES, TRADES, book_snapshot
from pointline_research import discovery
from pointline_research.errors import ResearchInputError, UnknownSymbolError
from research_kit import (
    DAY,
    HOUR,
    NY_EX,
    T0,
    UTC_EX,
    ids_of,
    log_row,
    manifest_row,
    quarantine_row,
    version,
    write_dim,
    write_events,
    write_log,
    write_manifest,
    write_quarantine,
)

MAY = [dt.date(2024, 5, d) for d in range(1, 9)]


def day(n: int) -> int:
    """µs at 10:00 UTC on 2024-05-n."""
    return T0 + (n - 1) * DAY + 10 * HOUR


def test_list_exchanges_falls_back_to_registered_and_counts_symbols(lake: Lake, host: PluginHost) -> None:
    write_dim(
        lake,
        [
            version("BTCUSDT", T0 - DAY, T0),
            version("BTCUSDT", T0),
            version("ETHUSDT", T0),
            version("ODD", T0, exchange="unregistered"),
        ],
    )
    out = discovery.list_exchanges()
    assert out.get_column("exchange").to_list() == [UTC_EX, NY_EX, "unregistered"]
    row = out.row(0, named=True)
    assert (row["timezone"], row["symbols"], row["versions"], row["current"]) == ("UTC", 2, 3, 2)
    assert out.filter(pl.col("exchange") == "unregistered").get_column("timezone").to_list() == [None]
    populate(lake, host)  # once dim_exchange exists it is the source
    assert discovery.list_exchanges().filter(pl.col("exchange") == UTC_EX).get_column("registered_by").to_list() == [
        "research-test"
    ]


@pytest.fixture
def symbols_lake(lake: Lake) -> pl.DataFrame:
    return write_dim(
        lake,
        [
            version("BTCUSDT", T0 - DAY, T0, price_increment="0.1"),
            version("BTCUSDT", T0, price_increment="0.01"),
            version("BTCUSDT_240628", T0 - DAY, T0 + DAY, instrument_type="future", base_asset="BTC"),
            version("ETHUSDT", T0 - DAY, base_asset="ETH"),
            version(
                "IBM",
                T0 - DAY,
                exchange=NY_EX,
                instrument_type="stock",
                asset_class="equity",
                base_asset="IBM",
                quote_asset="USD",
            ),
        ],
    )


def test_list_symbols_latest_version_per_instrument_by_default(symbols_lake: pl.DataFrame) -> None:
    out = discovery.list_symbols(UTC_EX)
    assert out.select("exchange_symbol", "price_increment", "versions", "is_current").rows() == [
        ("BTCUSDT", Decimal("0.01"), 2, True),
        ("BTCUSDT_240628", Decimal("0.1"), 1, False),  # expired: its last version, not current
        ("ETHUSDT", Decimal("0.1"), 1, True),
    ]
    assert out.columns[:4] == ["exchange", "exchange_symbol", "symbol_id", "instrument_type"]


def test_list_symbols_as_of_history_and_filters(symbols_lake: pl.DataFrame) -> None:
    before = discovery.list_symbols(UTC_EX, asof=T0 - 1)
    assert before.filter(pl.col("exchange_symbol") == "BTCUSDT").get_column("price_increment").to_list() == [
        Decimal("0.1")
    ]
    at = discovery.list_symbols(
        UTC_EX, asof="2024-05-01T00:00:00Z"
    )  # validity is half-open: the new version starts here
    assert at.filter(pl.col("exchange_symbol") == "BTCUSDT").get_column("price_increment").to_list() == [
        Decimal("0.01")
    ]
    assert discovery.list_symbols(UTC_EX, history=True).height == 4
    assert discovery.list_symbols(search="btc").get_column("exchange_symbol").to_list() == ["BTCUSDT", "BTCUSDT_240628"]
    assert discovery.list_symbols(instrument_type="stock").get_column("exchange_symbol").to_list() == ["IBM"]
    assert discovery.list_symbols(asset_class=["equity"], exchange=[NY_EX, UTC_EX]).height == 1
    assert discovery.list_symbols("nowhere").height == 0


@pytest.fixture
def coverage_lake(lake: Lake) -> Lake:
    """A week of BTCUSDT trades with every kind of gap (see test_coverage_names_every_cause)."""
    dim = write_dim(lake, [version("BTCUSDT", T0), version("ETHUSDT", T0)])
    (btc,) = ids_of(dim, "BTCUSDT")
    path = "pathvendor/exchange=binance-futures/type=trades/date=2024-05-0{d}/symbol={s}/data.csv"
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": btc, "ts_local_us": day(1), "px_int": 1, "qty_int": 1, "file_id": 1},
            {"symbol_id": btc, "ts_local_us": day(1) + 1, "px_int": 1, "qty_int": 1, "file_id": 1},
        ],
    )
    write_events(lake, TRADES, [{"symbol_id": btc, "ts_local_us": day(6), "px_int": 1, "qty_int": 1, "file_id": 6}])
    write_events(lake, QUOTES, [{"symbol_id": btc, "ts_local_us": day(1), "bid_px_int": 1, "file_id": 20}])
    write_manifest(
        lake,
        [
            manifest_row(1, path.format(d=1, s="BTCUSDT"), dates=[MAY[0]], rows_written=2),
            manifest_row(2, path.format(d=2, s="BTCUSDT"), status="failed", error="line 7: cannot parse price 'x'"),
            manifest_row(3, path.format(d=3, s="BTCUSDT"), status="quarantined", dates=None, rows_quarantined=3),
            manifest_row(4, path.format(d=4, s="BTCUSDT"), status="failed", error="empty file (no data rows)"),
            manifest_row(5, path.format(d=5, s="BTCUSDT"), status="pending"),
            manifest_row(6, path.format(d=6, s="BTCUSDT"), dates=[MAY[5]], rows_written=1, rows_quarantined=1),
            manifest_row(7, path.format(d=7, s="ETHUSDT"), status="failed", error="other symbol"),
            manifest_row(
                8,
                "pathvendor/exchange=binance-futures/type=trades/date=2024-05-08/PERPETUALS.csv",
                status="failed",
                error="truncated gzip",
            ),
            manifest_row(9, path.format(d=7, s="BTCUSDT"), status="superseded", dates=[MAY[6]]),
            manifest_row(20, path.format(d=1, s="BTCUSDT").replace("trades", "quotes"), table="quotes", dates=[MAY[0]]),
        ],
    )
    write_log(
        lake,
        [
            log_row(
                2,
                path.format(d=2, s="BTCUSDT"),
                status="failed",
                reason="parse_error",
                error="line 7: cannot parse price 'x'",
            ),
            log_row(4, path.format(d=4, s="BTCUSDT"), status="failed", reason="empty_file"),
            log_row(8, "PERPETUALS.csv", status="failed", reason="parse_error"),
        ],
    )
    write_quarantine(
        lake,
        [
            quarantine_row(3, 2, "off_grid", symbol="BTCUSDT", ts=day(3)),
            quarantine_row(3, 3, "off_grid", symbol="BTCUSDT", ts=day(3)),
            quarantine_row(3, 4, "no_symbol_coverage", symbol="BTCUSDT", ts=day(3)),
            quarantine_row(3, 4, "off_grid", symbol="BTCUSDT", ts=day(3)),  # one row breaking two rules is one row
            quarantine_row(3, 5, "off_grid", symbol="ETHUSDT", ts=day(3)),
            quarantine_row(6, 9, "crossed_book", symbol="BTCUSDT", ts=None),  # no timestamp: the file's date
            quarantine_row(9, 2, "off_grid", symbol="BTCUSDT", ts=day(7)),  # superseded file: history, not coverage
        ],
    )
    return lake


def test_coverage_names_every_cause(coverage_lake: Lake) -> None:
    out = discovery.data_coverage(UTC_EX, "BTCUSDT", "2024-04-30", "2024-05-09", tables=["trades"])
    by_day = {r["date"]: r for r in out.iter_rows(named=True)}
    assert [by_day[d]["status"] for d in [dt.date(2024, 4, 30), *MAY]] == [
        "not_listed",
        "present",
        "failed",
        "quarantined",
        "empty",
        "pending",
        "present",
        "missing",
        "failed",
    ]
    assert (by_day[MAY[0]]["rows"], by_day[MAY[0]]["files"]) == (2, 1)
    assert by_day[MAY[1]]["reason"] == "parse_error; line 7: cannot parse price 'x'"
    assert by_day[MAY[1]]["bronze_paths"] == [
        "pathvendor/exchange=binance-futures/type=trades/date=2024-05-02/symbol=BTCUSDT/data.csv"
    ]
    assert (by_day[MAY[2]]["quarantined_rows"], by_day[MAY[2]]["rules"]) == (3, "off_grid=3, no_symbol_coverage=1")
    assert by_day[MAY[3]]["reason"].startswith("empty_file")
    assert (by_day[MAY[5]]["rows"], by_day[MAY[5]]["quarantined_rows"], by_day[MAY[5]]["rules"]) == (
        1,
        1,
        "crossed_book=1",
    )
    assert by_day[MAY[6]]["quarantined_rows"] == 0
    assert by_day[MAY[6]]["reason"] is None
    assert by_day[MAY[7]]["reason"].endswith("(file holds several symbols)")


def test_coverage_defaults_to_the_tables_of_the_exchange(coverage_lake: Lake) -> None:
    # a table that only holds another exchange's rows is not part of this exchange's coverage
    write_events(coverage_lake, book_snapshot(5), [{"symbol_id": 1, "ts_local_us": day(1)}], exchange=NY_EX)
    out = discovery.data_coverage(UTC_EX, "BTCUSDT", dt.date(2024, 5, 1), dt.date(2024, 5, 3))
    assert out.select("table", "date", "status").rows() == [
        ("quotes", MAY[0], "present"),
        ("quotes", MAY[1], "missing"),
        ("trades", MAY[0], "present"),
        ("trades", MAY[1], "failed"),
    ]
    with pytest.raises(ResearchInputError, match="not an event table"):
        discovery.data_coverage(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", tables=["dim_symbol"])
    with pytest.raises(UnknownSymbolError):
        discovery.data_coverage(UTC_EX, "BTCUSD", "2024-05-01", "2024-05-02")


def test_coverage_uses_exchange_local_days_and_the_trading_calendar(lake: Lake) -> None:
    dim = write_dim(lake, [version("IBM", T0 - 10 * DAY, exchange=NY_EX)])
    (ibm,) = ids_of(dim, "IBM")
    friday_evening = T0 + 2 * DAY + 3 * HOUR  # 2024-05-03 03:00Z = Thursday 2024-05-02 23:00 in New York
    write_events(
        lake, TRADES, [{"symbol_id": ibm, "ts_local_us": friday_evening, "px_int": 1, "qty_int": 1}], exchange=NY_EX
    )
    calendar = pl.DataFrame(
        {
            "exchange": [NY_EX] * 3,
            "date": [dt.date(2024, 5, 3), dt.date(2024, 5, 4), dt.date(2024, 5, 2)],
            "is_session": [True, False, True],
        }
    ).with_columns(
        pl.lit(None, pl.Int64).alias(c) for c in ("open_ts_us", "close_ts_us", "break_start_ts_us", "break_end_ts_us")
    )
    TableStore(lake, DIM_TRADING_CALENDAR).append(calendar.select(DIM_TRADING_CALENDAR.column_names))
    out = discovery.data_coverage(NY_EX, "IBM", "2024-05-02", "2024-05-05", tables=["trades"])
    assert out.select("date", "status").rows() == [
        (dt.date(2024, 5, 2), "present"),
        (dt.date(2024, 5, 3), "missing"),
        (dt.date(2024, 5, 4), "no_session"),
    ]


def test_summarize_symbol_reports_versions_ticks_rows_and_coverage(coverage_lake: Lake) -> None:
    write_dim(
        coverage_lake, [version("BTCUSDT", T0, T0 + 3 * DAY), version("BTCUSDT", T0 + 3 * DAY, price_increment="0.05")]
    )
    summary = discovery.summarize_symbol(UTC_EX, "BTCUSDT")
    assert summary.versions.height == 2
    assert summary.tick_history.get_column("change").to_list() == ["first version", "price_increment 0.1 -> 0.05"]
    assert summary.tables.select("table", "rows", "days").rows() == [("quotes", 1, 1), ("trades", 3, 2)]
    # without a window, coverage spans the days that hold data (May 1 .. May 6)
    assert (summary.coverage.get_column("date").min(), summary.coverage.get_column("date").max()) == (MAY[0], MAY[5])
    windowed = discovery.summarize_symbol(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-03")
    assert windowed.coverage.height == 4


def test_a_dim_symbol_commit_is_seen_by_the_next_call(symbols_lake: pl.DataFrame, lake: Lake) -> None:
    """dim_symbol is cached per Delta version: a sync (new commit) must show up at once."""
    assert "SOLUSDT" not in discovery.list_symbols(UTC_EX).get_column("exchange_symbol").to_list()
    with pytest.raises(UnknownSymbolError):
        discovery.data_coverage(UTC_EX, "SOLUSDT", "2024-05-01", "2024-05-02")
    write_dim(lake, [version("SOLUSDT", T0)])
    assert "SOLUSDT" in discovery.list_symbols(UTC_EX).get_column("exchange_symbol").to_list()
    assert discovery.data_coverage(UTC_EX, "SOLUSDT", "2024-05-01", "2024-05-02").height == 0  # no event tables yet
