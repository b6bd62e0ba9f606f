"""Dimensions: dim_symbol invariants, the trading calendar, and dim_exchange from registered exchanges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
import toy_plugin
from pointline.config import Lake
from pointline.dims import calendar, dim_exchange
from pointline.dims.dim_symbol import DimSymbolInvariantError, check_invariants, finalize_versions
from pointline.exchanges import ExchangeSpec
from pointline.storage.delta import TableStore
from pointline.symbols import symbol_id
from pointline.tables.canonical import DIM_EXCHANGE, DIM_SYMBOL, DIM_TRADING_CALENDAR
from pointline.testing.fixtures import PluginHostFactory
from pointline.timeutil import MAX_TS, to_us

T0, T1, T2 = to_us("2024-01-01"), to_us("2024-05-06"), to_us("2024-09-01")


def version(symbol: str, valid_from: int, valid_until: int, *, exchange: str = "binance-futures") -> dict[str, object]:
    """One dim_symbol version with the required columns filled and the optional ones null."""
    row: dict[str, object] = {c.name: None for c in DIM_SYMBOL.columns}
    row.update(
        exchange=exchange,
        exchange_symbol=symbol,
        valid_from_ts=valid_from,
        valid_until_ts=valid_until,
        asset_class="crypto_derivative",
        instrument_type="perpetual",
        price_increment=Decimal("0.1"),
        amount_increment=Decimal("0.001"),
        source="test",
        is_inferred=False,
    )
    return row


def dim(*rows: dict[str, object]) -> pl.DataFrame:
    versions = pl.DataFrame(list(rows), schema=DIM_SYMBOL.schema).drop("symbol_id", "is_current", "updated_at_us")
    return finalize_versions(versions, now_us=0)


def test_finalize_assigns_ids_and_the_current_flag() -> None:
    frame = dim(version("BTCUSDT", T0, T1), version("BTCUSDT", T1, MAX_TS))
    assert frame.columns == DIM_SYMBOL.column_names
    assert frame["is_current"].to_list() == [False, True]
    assert frame["symbol_id"].to_list() == [
        symbol_id("binance-futures", "BTCUSDT", T0),
        symbol_id("binance-futures", "BTCUSDT", T1),
    ]
    check_invariants(frame)  # a clean history passes


def test_overlapping_versions_are_rejected() -> None:
    with pytest.raises(DimSymbolInvariantError, match="versions of binance-futures/BTCUSDT overlap"):
        check_invariants(dim(version("BTCUSDT", T0, T2), version("BTCUSDT", T1, MAX_TS)))


def test_two_current_versions_are_rejected() -> None:
    both = dim(version("BTCUSDT", T0, T1), version("BTCUSDT", T1, MAX_TS)).with_columns(is_current=pl.lit(True))
    with pytest.raises(DimSymbolInvariantError, match="BTCUSDT has 2 current versions"):
        check_invariants(both)


def test_duplicate_ids_are_rejected() -> None:
    frame = dim(version("BTCUSDT", T0, T1), version("ETHUSDT", T0, MAX_TS))
    clash = frame.with_columns(symbol_id=pl.lit(frame["symbol_id"][0]))
    with pytest.raises(DimSymbolInvariantError, match=r"symbol_id -?\d+ is used by 2 rows"):
        check_invariants(clash)


def test_empty_windows_are_rejected_and_other_venues_may_share_a_symbol() -> None:
    with pytest.raises(DimSymbolInvariantError, match="empty validity window"):
        check_invariants(dim(version("BTCUSDT", T1, T1)))
    check_invariants(dim(version("BTCUSDT", T0, MAX_TS), version("BTCUSDT", T0, MAX_TS, exchange="binance")))


NYSE = ExchangeSpec("nyse", "equity", "America/New_York", mic="XNYS", calendar="XNYS")
SSE = ExchangeSpec("sse", "equity", "Asia/Shanghai", mic="XSHG", calendar="XSHG")
ALWAYS = ExchangeSpec("binance", "crypto_spot", "UTC")


def test_nyse_2024_has_252_sessions_with_utc_open_and_close() -> None:
    frame = calendar.sessions(NYSE, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert frame.height == 366
    assert frame["is_session"].sum() == 252
    may6 = frame.filter(pl.col("date") == dt.date(2024, 5, 6)).row(0, named=True)
    assert (may6["open_ts_us"], may6["close_ts_us"]) == (to_us("2024-05-06T13:30:00Z"), to_us("2024-05-06T20:00:00Z"))
    july4 = frame.filter(pl.col("date") == dt.date(2024, 7, 4)).row(0, named=True)
    assert not july4["is_session"]
    assert july4["open_ts_us"] is None


def test_shanghai_sessions_have_a_lunch_break() -> None:
    frame = calendar.sessions(SSE, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert frame["is_session"].sum() == 242
    may6 = frame.filter(pl.col("date") == dt.date(2024, 5, 6)).row(0, named=True)
    assert may6["break_start_ts_us"] == to_us("2024-05-06T03:30:00Z")
    assert may6["break_end_ts_us"] == to_us("2024-05-06T05:00:00Z")


def test_a_24_7_venue_has_every_day_from_local_midnight_to_midnight() -> None:
    frame = calendar.sessions(ALWAYS, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert frame.height == 366
    assert frame["is_session"].all()
    assert (frame["close_ts_us"] - frame["open_ts_us"]).unique().to_list() == [86_400_000_000]
    new_york = ExchangeSpec("cme-globex-like", "future", "America/New_York")
    dst = calendar.sessions(new_york, dt.date(2024, 3, 10), dt.date(2024, 3, 10)).row(0, named=True)
    assert dst["close_ts_us"] - dst["open_ts_us"] == 23 * 3600 * 1_000_000  # the spring-forward day


def test_unknown_calendar_codes_are_a_clear_error() -> None:
    shenzhen = ExchangeSpec("szse", "equity", "Asia/Shanghai", calendar="XSHE")
    with pytest.raises(calendar.CalendarError, match="calendar 'XSHE'"):
        calendar.sessions(shenzhen, dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def test_populate_calendar_rewrites_only_its_range(lake: Lake) -> None:
    assert calendar.populate(lake, [NYSE, ALWAYS], dt.date(2024, 1, 1), dt.date(2024, 1, 31)) == 62
    assert calendar.populate(lake, [NYSE], dt.date(2024, 2, 1), dt.date(2024, 2, 29)) == 29
    assert calendar.populate(lake, [NYSE], dt.date(2024, 2, 1), dt.date(2024, 2, 29)) == 29  # a re-run converges
    stored = TableStore(lake, DIM_TRADING_CALENDAR).read()
    counts = dict(stored.group_by("exchange").len().iter_rows())
    assert counts == {"nyse": 60, "binance": 31}
    assert stored.select("exchange", "date").is_duplicated().sum() == 0


def test_populate_exchange_writes_every_registered_exchange(lake: Lake, plugin_host: PluginHostFactory) -> None:
    host = plugin_host(toy_plugin)
    assert dim_exchange.populate(lake, host) == 1
    stored = TableStore(lake, DIM_EXCHANGE).read()
    assert stored.to_dicts() == [
        {
            "exchange": "bitmex",
            "asset_class": "crypto_derivative",
            "timezone": "UTC",
            "mic": None,
            "calendar": None,
            "description": "BitMEX",
            "registered_by": "toy_plugin",
        }
    ]
