"""As-of joins: direction, equal timestamps, the total tie order, tolerance, by-keys and the helpers."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from pointline.config import Lake
from pointline.tables.canonical import QUOTES, TRADES, book_snapshot
from pointline_research import joins
from pointline_research.errors import ResearchInputError
from research_kit import DAY, HOUR, T0, UTC_EX, ids_of, version, write_dim, write_events


def frame(**columns: list[object]) -> pl.DataFrame:
    return pl.DataFrame(columns)


def test_backward_join_includes_right_rows_with_the_same_timestamp() -> None:
    left = frame(ts_local_us=[10, 20, 30])
    right = frame(ts_local_us=[5, 20, 31], v=["a", "b", "c"])
    out = joins.asof_join(left, right)
    assert out.get_column("v").to_list() == ["a", "b", "b"]
    assert out.get_column("ts_local_us_right").to_list() == [5, 20, 20]
    strict = joins.asof_join(left, right, strict=True)
    assert strict.get_column("v").to_list() == ["a", "a", "b"]


def test_ties_on_the_key_resolve_to_the_last_row_of_the_total_order() -> None:
    left = frame(ts_local_us=[100])
    # Given out of order on purpose: the total order (ts_local_us, ts_exch_us, file_id, file_line_number)
    # puts (100, 99, 2, 5) last, so it wins whatever the input order.
    right = frame(
        ts_local_us=[100, 100, 100, 100],
        ts_exch_us=[99, 98, 99, 99],
        file_id=[2, 3, 1, 2],
        file_line_number=[5, 9, 9, 4],
        v=["winner", "older exch time", "earlier file", "earlier line"],
    )
    for shuffled in (right, right.reverse(), right.sample(fraction=1.0, shuffle=True, seed=7)):
        assert joins.asof_join(left, shuffled).get_column("v").to_list() == ["winner"]


def test_tolerance_bounds_staleness_only() -> None:
    left = frame(ts_local_us=[1_000_000, 10_000_000])
    right = frame(ts_local_us=[500_000, 9_500_000], v=[1, 2])
    out = joins.asof_join(left, right, tolerance="600ms")
    assert out.get_column("v").to_list() == [1, 2]
    out = joins.asof_join(left, right, tolerance=400_000)
    assert out.get_column("v").to_list() == [None, None]


def test_by_keys_match_exactly_and_left_order_is_the_total_order() -> None:
    left = frame(ts_local_us=[20, 10, 20], symbol_id=[2, 1, 1], file_id=[1, 1, 1], file_line_number=[3, 1, 2])
    right = frame(ts_local_us=[15, 5], symbol_id=[1, 2], v=["one", "two"])
    out = joins.asof_join(left, right, by="symbol_id")
    assert out.select("ts_local_us", "symbol_id", "v").rows() == [(10, 1, None), (20, 1, "one"), (20, 2, "two")]


def test_lazy_in_lazy_out_and_custom_keys() -> None:
    left = frame(ts_local_us=[60, 120]).lazy()
    bars = frame(bar_end=[60, 120], close=[1, 2])
    out = joins.asof_join(left, bars, right_on="bar_end")
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().get_column("close").to_list() == [1, 2]
    with pytest.raises(ResearchInputError, match="no column"):
        joins.asof_join(frame(t=[1]), bars)
    with pytest.raises(ResearchInputError, match="must start with the time key"):
        joins.asof_join(frame(ts_local_us=[1]), frame(ts_local_us=[1]), right_order=["file_id"])


@pytest.fixture
def market(lake: Lake) -> tuple[Lake, list[int]]:
    """BTCUSDT with a tick change at noon; quotes before and after it; a quote the hour before the day."""
    noon = T0 + 12 * HOUR
    dim = write_dim(
        lake,
        [version("BTCUSDT", T0 - DAY, noon, price_increment="0.1"), version("BTCUSDT", noon, price_increment="0.01")],
    )
    old, new = ids_of(dim, "BTCUSDT")
    write_events(
        lake,
        QUOTES,
        [
            {
                "symbol_id": old,
                "ts_local_us": T0 - 30 * 60_000_000,
                "bid_px_int": 10,
                "bid_qty_int": 1,
                "ask_px_int": 11,
                "ask_qty_int": 1,
            },
            {
                "symbol_id": old,
                "ts_local_us": noon - 10,
                "bid_px_int": 20,
                "bid_qty_int": 1,
                "ask_px_int": 21,
                "ask_qty_int": 1,
            },
            {
                "symbol_id": new,
                "ts_local_us": noon + 10,
                "bid_px_int": 300,
                "bid_qty_int": 1,
                "ask_px_int": 301,
                "ask_qty_int": 1,
                "file_id": 2,
            },
            {
                "symbol_id": new,
                "ts_local_us": noon + 10,
                "bid_px_int": 305,
                "bid_qty_int": 1,
                "ask_px_int": 306,
                "ask_qty_int": 1,
                "file_id": 2,
            },
        ],
    )
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": old, "ts_local_us": T0 + 5, "px_int": 11, "qty_int": 1, "side": 1},
            {"symbol_id": new, "ts_local_us": noon + 5, "px_int": 211, "qty_int": 1, "side": 1},
            {"symbol_id": new, "ts_local_us": noon + 10, "px_int": 305, "qty_int": 1, "side": -1},
        ],
    )
    return lake, [old, new]


def test_trades_with_quotes_takes_the_prevailing_quote_across_versions(market: tuple[Lake, list[int]]) -> None:
    _, (old, new) = market
    out = joins.trades_with_quotes(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02").collect()
    assert out.select("px", "bid_px", "ask_px").rows() == [
        (Decimal("1.1"), Decimal("1.0"), Decimal("1.1")),  # quote from before the window (within the lookback)
        (Decimal("2.11"), Decimal("2.0"), Decimal("2.1")),  # the prevailing quote predates the tick change
        (Decimal("3.05"), Decimal("3.05"), Decimal("3.06")),  # same-µs quotes: the last in file order wins
    ]
    assert out.get_column("quote_symbol_id").to_list() == [old, old, new]
    assert (out["quote_ts_local_us"] <= out["ts_local_us"]).all()
    assert {"quote_file_id", "quote_file_line_number", "quote_ts_exch_us"} <= set(out.columns)


def test_trades_with_quotes_tolerance_and_lookback(market: tuple[Lake, list[int]]) -> None:
    stale = joins.trades_with_quotes(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", tolerance="1s").collect()
    assert stale.get_column("bid_px").to_list() == [None, Decimal("2.0"), Decimal("3.05")]
    short = joins.trades_with_quotes(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", lookback="1m").collect()
    assert short.get_column("bid_px").to_list()[0] is None  # the 23:30 quote is beyond a 1-minute lookback
    raw = joins.trades_with_quotes(
        UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", decoded=False, trade_columns=["px_int"]
    ).collect()
    assert raw.get_column("bid_px_int").to_list() == [10, 20, 305]
    assert "px_int" in raw.columns
    assert "ts_local_us" in raw.columns
    narrow = joins.trades_with_quotes(
        UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", trade_columns=["px"], quote_columns=["bid_px"]
    )
    assert narrow.collect_schema().names() == [
        "ts_local_us", "ts_exch_us", "file_id", "file_line_number", "px",
        "quote_symbol_id", "quote_ts_local_us", "quote_ts_exch_us", "quote_file_id", "quote_file_line_number", "bid_px",
    ]  # fmt: skip
    assert narrow.collect().get_column("bid_px").to_list() == [Decimal("1.0"), Decimal("2.0"), Decimal("3.05")]


def test_trades_with_book_keeps_the_best_levels(market: tuple[Lake, list[int]]) -> None:
    lake, (_, new) = market
    write_events(
        lake,
        book_snapshot(25),
        [
            {
                "symbol_id": new,
                "ts_local_us": T0 + 12 * HOUR,
                "ask0_px_int": 2110,
                "bid0_px_int": 2100,
                "ask1_px_int": 2120,
                "ask2_px_int": 2130,
            }
        ],
    )
    out = joins.trades_with_book(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", levels=2).collect()
    assert [c for c in out.columns if c.startswith(("ask", "bid"))] == [
        "ask0_px",
        "ask0_qty",
        "bid0_px",
        "bid0_qty",
        "ask1_px",
        "ask1_qty",
        "bid1_px",
        "bid1_qty",
    ]
    assert out.get_column("ask1_px").to_list() == [None, Decimal("21.20"), Decimal("21.20")]
    assert out.get_column("book_symbol_id").to_list() == [None, new, new]
    with pytest.raises(ResearchInputError, match="levels"):
        joins.trades_with_book(UTC_EX, "BTCUSDT", "2024-05-01", "2024-05-02", levels=30)
