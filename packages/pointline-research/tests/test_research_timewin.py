"""Time arguments, windows, exchange-local day ranges and durations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.errors import TimeInputError
from pointline_research.decoding import decode_count, output_scale
from pointline_research.timewin import Window, day_range, duration_us, window
from research_kit import T0


def test_window_accepts_every_time_form_and_rejects_naive_datetimes() -> None:
    expected = Window(T0, T0 + 86_400_000_000)
    assert window("2024-05-01", "2024-05-02") == expected
    assert window(T0, "2024-05-02T00:00:00Z") == expected
    assert (
        window(dt.datetime(2024, 5, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.date(2024, 5, 2)) == expected
    )
    with pytest.raises(TimeInputError, match="give it a timezone"):
        window(dt.datetime(2024, 5, 1), T0 + 1)
    with pytest.raises(TimeInputError, match="empty window"):
        window("2024-05-02", "2024-05-01")


def test_local_dates_of_a_window_follow_the_exchange_timezone() -> None:
    # [2024-05-01 03:00Z, 2024-05-01 04:00Z) is 23:00-24:00 on April 30 in New York
    win = window("2024-05-01T03:00:00Z", "2024-05-01T04:00:00Z")
    assert win.local_dates("America/New_York") == (dt.date(2024, 4, 30), dt.date(2024, 4, 30))
    assert win.local_dates("UTC") == (dt.date(2024, 5, 1), dt.date(2024, 5, 1))
    assert win.local_dates("UTC", slack_days=1) == (dt.date(2024, 4, 30), dt.date(2024, 5, 2))
    # the end is exclusive: a window ending at midnight does not touch the next day
    assert window("2024-05-01", "2024-05-02").local_dates("UTC") == (dt.date(2024, 5, 1), dt.date(2024, 5, 1))


def test_day_ranges_name_local_days_half_open() -> None:
    assert day_range("2024-05-01", "2024-06-01", "Asia/Shanghai") == (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    assert day_range(dt.date(2024, 5, 1), dt.date(2024, 5, 2), "UTC") == (dt.date(2024, 5, 1), dt.date(2024, 5, 1))
    # times (not dates) become local dates: 2024-05-01T02:00Z is still April 30 in New York
    assert day_range("2024-05-01T02:00:00Z", "2024-05-01T05:00:00Z", "America/New_York") == (
        dt.date(2024, 4, 30),
        dt.date(2024, 5, 1),
    )
    with pytest.raises(TimeInputError, match="empty day range"):
        day_range("2024-05-02", "2024-05-02", "UTC")


def test_durations() -> None:
    assert duration_us("1h30m") == 5_400_000_000
    assert duration_us("250ms") == 250_000
    assert duration_us(dt.timedelta(seconds=2)) == 2_000_000
    assert duration_us(7) == 7
    for bad in ("1 hour", "5", "1mo", -1, True):
        with pytest.raises(TimeInputError):
            duration_us(bad)  # type: ignore[arg-type]


INCREMENTS = st.sampled_from(["1", "0.5", "0.1", "0.01", "0.025", "0.00000001", "5", "100", "0.000000000000000001"])


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20),
    incs=st.lists(INCREMENTS, min_size=1, max_size=12),
)
def test_decoding_is_exact_for_every_count_and_increment(counts: list[int], incs: list[str]) -> None:
    by_id = {i: Decimal(x) for i, x in enumerate(incs)}
    ids = [i % len(incs) for i in range(len(counts))]
    # values must fit Decimal(38, scale): keep the product within range, as real prices are
    scale = output_scale(by_id)
    limit = Decimal(10) ** (38 - scale) - 1
    rows = [(c, i) for c, i in zip(counts, ids, strict=True) if abs(c * by_id[i]) <= limit]
    if not rows:
        return
    frame = pl.DataFrame(rows, schema={"count": pl.Int64, "symbol_id": pl.Int64}, orient="row")
    out = frame.select(decode_count(pl.col("count"), by_id).alias("v")).to_series().to_list()
    assert out == [c * by_id[i] for c, i in rows]
