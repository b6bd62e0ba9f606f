"""Bars: boundaries, labels, exact aggregates, the threshold-crossing rule and partial bars."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from pointline_research import bars
from pointline_research.bars import BAR_COLUMNS
from pointline_research.errors import ResearchInputError
from research_kit import HOUR, T0

MIN = 60_000_000


def trades(
    ts: list[int],
    px: list[str],
    qty: list[str],
    side: list[int] | None = None,
    *,
    px_scale: int = 1,
    qty_scale: int = 3,
) -> pl.DataFrame:
    n = len(ts)
    return pl.DataFrame(
        {
            "ts_local_us": ts,
            "ts_exch_us": ts,
            "file_id": [1] * n,
            "file_line_number": list(range(2, n + 2)),
            "side": side if side is not None else [1] * n,
            "px": [Decimal(p) for p in px],
            "qty": [Decimal(q) for q in qty],
        },
        schema_overrides={"side": pl.Int8, "px": pl.Decimal(38, px_scale), "qty": pl.Decimal(38, qty_scale)},
    )


def test_time_bars_are_half_open_labelled_by_end_and_exact() -> None:
    t = trades(
        [T0, T0 + MIN - 1, T0 + MIN, T0 + 2 * MIN + 10],
        ["67000.1", "67000.3", "66999.9", "67001.0"],
        ["0.001", "0.002", "0.010", "1.000"],
        [1, -1, 1, -1],
    )
    out = bars.time_bars(t, every="1m")
    assert out.columns == list(BAR_COLUMNS)
    assert out.get_column("bar_start").to_list() == [T0, T0 + MIN, T0 + 2 * MIN]
    assert out.get_column("bar_end").to_list() == [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]
    first = out.row(0, named=True)
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        Decimal("67000.1"),
        Decimal("67000.3"),
        Decimal("67000.1"),
        Decimal("67000.3"),
    )
    assert first["volume"] == Decimal("0.003")
    assert first["dollar_volume"] == Decimal("67000.1") * Decimal("0.001") + Decimal("67000.3") * Decimal("0.002")
    assert first["dollar_volume"] == Decimal("201.0007")  # exact: no float, no rounding to the price scale
    assert first["vwap"] == pytest.approx(201.0007 / 0.003)
    assert (first["trade_count"], first["buy_volume"], first["sell_volume"]) == (2, Decimal("0.001"), Decimal("0.002"))
    # the trade exactly at T0 + 1m opens the second bar
    assert out.get_column("trade_count").to_list() == [2, 1, 1]


def test_time_bars_in_an_exchange_timezone_follow_local_midnight() -> None:
    evening = T0 + 3 * HOUR + 30 * MIN  # 2024-04-30 23:30 in New York
    t = trades([evening, T0 + 14 * HOUR], ["1.0", "2.0"], ["1.000", "1.000"])
    out = bars.time_bars(t, every="1d", timezone="America/New_York")
    local_midnight_may_1 = T0 + 4 * HOUR
    assert out.get_column("bar_end").to_list() == [local_midnight_may_1, local_midnight_may_1 + 24 * HOUR]
    assert out.get_column("bar_start").to_list() == [local_midnight_may_1 - 24 * HOUR, local_midnight_may_1]


def test_time_bars_keep_the_lazy_or_eager_kind_and_group_by() -> None:
    t = trades([T0, T0 + 1, T0 + 2], ["1.0", "5.0", "2.0"], ["1.000", "1.000", "1.000"]).with_columns(
        symbol_id=pl.Series([1, 2, 1])
    )
    lazy = bars.time_bars(t.lazy(), every="1m", by="symbol_id")
    assert isinstance(lazy, pl.LazyFrame)
    out = lazy.collect()
    assert out.select("symbol_id", "open", "close", "trade_count").rows() == [
        (1, Decimal("1.0"), Decimal("2.0"), 2),
        (2, Decimal("5.0"), Decimal("5.0"), 1),
    ]


def test_volume_bars_put_the_crossing_trade_in_the_bar_it_completes() -> None:
    t = trades([T0 + i for i in range(5)], ["1.0"] * 5, ["1.000", "2.000", "3.000", "1.000", "5.000"])
    out = bars.volume_bars(t, 3)
    # cumulative before each trade: 0, 1, 3, 6, 7 -> bars 0, 0, 1, 2, 2
    assert out.get_column("trade_count").to_list() == [2, 1, 2]
    assert out.get_column("volume").to_list() == [Decimal("3"), Decimal("3"), Decimal("6")]
    assert out.get_column("bar_start").to_list() == [T0, T0 + 2, T0 + 3]
    assert out.get_column("bar_end").to_list() == [T0 + 2, T0 + 3, T0 + 5]  # completing trade's time + 1 µs


def test_threshold_grid_does_not_carry_overshoot_and_drops_the_partial_bar() -> None:
    t = trades([T0, T0 + 1, T0 + 2], ["1.0"] * 3, ["2.000", "5.000", "1.000"])
    out = bars.volume_bars(t, "3")
    # before: 0, 2, 7 -> the 5-lot trade crosses 3 and 6 and closes bar 0; bar 2 (8 < 9) is partial
    assert out.get_column("volume").to_list() == [Decimal("7")]
    partial = bars.volume_bars(t, "3", include_partial=True)
    assert partial.get_column("volume").to_list() == [Decimal("7"), Decimal("1")]


def test_fractional_thresholds_are_exact() -> None:
    t = trades([T0 + i for i in range(4)], ["10.0"] * 4, ["0.100", "0.200", "0.200", "0.001"])
    out = bars.volume_bars(t, Decimal("0.3"), include_partial=True)
    assert out.get_column("volume").to_list() == [Decimal("0.300"), Decimal("0.201")]
    dollars = bars.dollar_bars(t, "3.00")
    assert dollars.get_column("dollar_volume").to_list() == [Decimal("3.0000")]
    assert dollars.get_column("trade_count").to_list() == [2]


def test_tick_bars_count_trades_per_group() -> None:
    t = trades([T0 + i for i in range(5)], ["1.0", "2.0", "3.0", "4.0", "5.0"], ["1.000"] * 5).with_columns(
        symbol_id=pl.Series([7, 7, 8, 7, 8])
    )
    assert bars.tick_bars(t, 2).get_column("close").to_list() == [Decimal("2.0"), Decimal("4.0")]
    grouped = bars.tick_bars(t, 2, by="symbol_id")
    assert grouped.select("symbol_id", "open", "close").rows() == [
        (7, Decimal("1.0"), Decimal("2.0")),
        (8, Decimal("3.0"), Decimal("5.0")),
    ]


def test_bars_use_the_total_order_for_open_and_close() -> None:
    t = trades([T0, T0], ["2.0", "1.0"], ["1.000", "1.000"]).with_columns(file_line_number=pl.Series([9, 3]))
    out = bars.time_bars(t, every="1s")
    assert out.select("open", "close").row(0) == (Decimal("1.0"), Decimal("2.0"))


def test_bars_explain_what_they_need() -> None:
    raw = pl.DataFrame({"ts_local_us": [T0], "px_int": [10], "qty_int": [3]})
    with pytest.raises(ResearchInputError, match="decoded=True"):
        bars.time_bars(raw)
    counted = bars.volume_bars(raw, 3, price="px_int", size="qty_int")
    assert counted.select("volume", "dollar_volume").row(0) == (3, 30)
    assert counted.get_column("buy_volume").to_list() == [None]  # no side column
    with pytest.raises(ResearchInputError, match="whole"):
        bars.volume_bars(raw, "1.5", price="px_int", size="qty_int")
    with pytest.raises(ResearchInputError, match="positive"):
        bars.volume_bars(trades([T0], ["1.0"], ["1.000"]), 0)
    with pytest.raises(ResearchInputError, match="positive integer"):
        bars.tick_bars(raw, 0, price="px_int", size="qty_int")
    wide = pl.DataFrame(
        {"ts_local_us": [T0], "px": [Decimal("1")], "qty": [Decimal("1")]},
        schema_overrides={"px": pl.Decimal(38, 18), "qty": pl.Decimal(38, 18)},
    )
    with pytest.raises(ResearchInputError, match="exact notional"):
        bars.time_bars(wide)
