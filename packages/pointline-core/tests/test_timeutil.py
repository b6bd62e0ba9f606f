"""Exchange-local dates (vectorised, DST-correct) and parsing of user time arguments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.errors import PluginError, TimeInputError
from pointline.timeutil import (
    MAX_TS,
    US_PER_DAY,
    check_timezone,
    from_us,
    local_date,
    local_date_by_exchange,
    to_us,
)

# 1970 .. 2100 in µs, negative timestamps included on purpose (floor division, not truncation).
timestamps = st.integers(min_value=-10 * 365 * US_PER_DAY, max_value=130 * 365 * US_PER_DAY)


def us(text: str) -> int:
    return to_us(dt.datetime.fromisoformat(text))


def dates(ts: list[int], timezone: str) -> list[dt.date]:
    return (
        pl.DataFrame({"ts": ts}, schema={"ts": pl.Int64})
        .select(local_date(pl.col("ts"), timezone))
        .to_series()
        .to_list()
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(timestamps, min_size=1, max_size=200))
def test_utc_fast_path_equals_the_timezone_conversion(ts: list[int]) -> None:
    fast = dates(ts, "UTC")
    slow = (
        pl.DataFrame({"ts": ts}, schema={"ts": pl.Int64})
        .select(pl.from_epoch(pl.col("ts"), time_unit="us").dt.replace_time_zone("UTC").dt.date())
        .to_series()
        .to_list()
    )
    assert fast == slow
    assert fast == [from_us(t).date() for t in ts]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(timestamps, min_size=1, max_size=50),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]),
)
def test_local_dates_agree_with_zoneinfo(ts: list[int], timezone: str) -> None:
    expected = [from_us(t).astimezone(ZoneInfo(timezone)).date() for t in ts]
    assert dates(ts, timezone) == expected


@pytest.mark.parametrize(
    ("instant", "timezone", "date"),
    [
        # Shanghai is UTC+8 all year: 16:00 UTC is already the next day.
        ("2024-05-06T15:59:59.999999+00:00", "Asia/Shanghai", dt.date(2024, 5, 6)),
        ("2024-05-06T16:00:00+00:00", "Asia/Shanghai", dt.date(2024, 5, 7)),
        # New York: EST (UTC-5) before 2024-03-10 07:00 UTC, EDT (UTC-4) after.
        ("2024-03-10T04:59:59+00:00", "America/New_York", dt.date(2024, 3, 9)),
        ("2024-03-10T05:00:00+00:00", "America/New_York", dt.date(2024, 3, 10)),
        ("2024-07-01T03:59:59+00:00", "America/New_York", dt.date(2024, 6, 30)),
        ("2024-07-01T04:00:00+00:00", "America/New_York", dt.date(2024, 7, 1)),
        ("2024-11-03T04:30:00+00:00", "America/New_York", dt.date(2024, 11, 3)),
        ("2024-11-04T04:59:59+00:00", "America/New_York", dt.date(2024, 11, 3)),
        ("2024-11-04T05:00:00+00:00", "America/New_York", dt.date(2024, 11, 4)),
        ("2024-05-06T23:59:59.999999+00:00", "UTC", dt.date(2024, 5, 6)),
    ],
)
def test_exchange_local_dates_around_midnight_and_dst(instant: str, timezone: str, date: dt.date) -> None:
    assert dates([us(instant)], timezone) == [date]


def test_dates_for_several_exchanges_in_one_frame() -> None:
    frame = pl.DataFrame(
        {"exchange": ["szse", "nyse", "binance"], "ts_local_us": [us("2024-05-06T16:30:00+00:00")] * 3}
    )
    timezones = {"szse": "Asia/Shanghai", "nyse": "America/New_York", "binance": "UTC"}
    out = frame.select(local_date_by_exchange(["szse", "nyse", "binance"], timezones)).to_series().to_list()
    assert out == [dt.date(2024, 5, 7), dt.date(2024, 5, 6), dt.date(2024, 5, 6)]
    single = frame.head(1).select(local_date_by_exchange(["szse"], timezones)).to_series().to_list()
    assert single == [dt.date(2024, 5, 7)]


def test_to_us_accepts_the_documented_forms() -> None:
    utc_noon = 1714564800000000  # 2024-05-01T12:00:00Z
    assert to_us(utc_noon) == utc_noon
    assert to_us(str(utc_noon)) == utc_noon
    assert to_us("2024-05-01T12:00:00Z") == utc_noon
    assert to_us("2024-05-01T12:00:00+00:00") == utc_noon
    assert to_us("2024-05-01T20:00:00+08:00") == utc_noon
    assert to_us("2024-05-01T12:00:00") == utc_noon  # a string without offset is UTC
    assert to_us(dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)) == utc_noon
    assert to_us(dt.datetime(2024, 5, 1, 8, tzinfo=ZoneInfo("America/New_York"))) == utc_noon
    assert to_us(dt.date(2024, 5, 1)) == utc_noon - 12 * 3600 * 1_000_000
    assert to_us("2024-05-01") == utc_noon - 12 * 3600 * 1_000_000
    assert to_us(dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)) == -1


def test_naive_datetime_is_rejected_with_the_fix() -> None:
    with pytest.raises(TimeInputError, match=r"naive datetime .* give it a timezone.*tzinfo=datetime\.timezone\.utc"):
        to_us(dt.datetime(2024, 5, 1, 12))


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", True, 1.5])
def test_unparsable_times_are_typed_errors(bad: object) -> None:
    with pytest.raises(TimeInputError):
        to_us(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_from_us_inverts_to_us(ts: int) -> None:
    assert to_us(from_us(ts)) == ts


def test_timezone_check_and_constants() -> None:
    assert check_timezone("Asia/Shanghai") == "Asia/Shanghai"
    with pytest.raises(PluginError, match="not an IANA timezone"):
        check_timezone("Mars/Olympus")
    assert MAX_TS == 2**63 - 1
    assert US_PER_DAY == 86_400 * 1_000_000
