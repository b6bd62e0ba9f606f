"""dim_trading_calendar from exchange_calendars (offline), for exchanges that declare a calendar code.

24/7 venues (no calendar code) get every day as a session from local midnight to the next local
midnight. exchange_calendars' default range rolls with today's date, so the range is always explicit,
and it is imported lazily: with pandas it costs about 0.4 s, which ``pointline --help`` should not pay.
"""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl

from pointline.config import Lake
from pointline.errors import PointlineError
from pointline.exchanges import ExchangeSpec
from pointline.storage.delta import TableStore
from pointline.storage.predicates import all_of, equals, literal
from pointline.tables.canonical import DIM_TRADING_CALENDAR

_TIMES = ("open_ts_us", "close_ts_us", "break_start_ts_us", "break_end_ts_us")
_SCHEDULE_COLUMNS = {
    "open": "open_ts_us",
    "close": "close_ts_us",
    "break_start": "break_start_ts_us",
    "break_end": "break_end_ts_us",
}


class CalendarError(PointlineError):
    """A calendar code is unknown to exchange_calendars, or the range lies outside its data."""


def _local_midnight_us(dates: pl.Expr, timezone: str) -> pl.Expr:
    """µs UTC of local midnight at the start of each date in ``timezone``."""
    return dates.cast(pl.Datetime("us")).dt.replace_time_zone(timezone).dt.convert_time_zone("UTC").dt.epoch("us")


def _all_days(start: dt.date, end: dt.date) -> pl.DataFrame:
    return pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)})


def _always_open(exchange: ExchangeSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
    return _all_days(start, end).with_columns(
        exchange=pl.lit(exchange.name),
        is_session=pl.lit(True),
        open_ts_us=_local_midnight_us(pl.col("date"), exchange.timezone),
        # The next local midnight, not open + 24 h: a DST change makes a local day 23 or 25 hours long.
        close_ts_us=_local_midnight_us(pl.col("date") + pl.duration(days=1), exchange.timezone),
        break_start_ts_us=pl.lit(None, pl.Int64),
        break_end_ts_us=pl.lit(None, pl.Int64),
    )


def _schedule(code: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Sessions of calendar ``code`` on ``[start, end]`` as µs UTC columns, one row per session date."""
    with warnings.catch_warnings():
        # exchange_calendars under pandas 3 emits deprecation warnings we cannot fix here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import exchange_calendars as xcals

        try:
            cal = xcals.get_calendar(code, start=start.isoformat(), end=end.isoformat())
        except Exception as exc:  # xcals raises its own hierarchy (InvalidCalendarName, DateOutOfBounds, ...)
            raise CalendarError(f"calendar {code!r} for {start}..{end}: {exc}") from None
        schedule = cal.schedule.loc[start.isoformat() : end.isoformat()]
        frame = pl.from_pandas(schedule.reset_index(names="session"))
    out = frame.select(
        pl.col("session").cast(pl.Date).alias("date"),
        *(
            (pl.col(src).dt.epoch("us") if src in frame.columns else pl.lit(None, pl.Int64)).alias(dst)
            for src, dst in _SCHEDULE_COLUMNS.items()
        ),
    )
    return out.with_columns(pl.col(c).cast(pl.Int64) for c in _TIMES)


def sessions(exchange: ExchangeSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Calendar rows for ``exchange`` on ``[start, end]``: one per day, sessions flagged."""
    if exchange.calendar is None:
        return _always_open(exchange, start, end).select(DIM_TRADING_CALENDAR.column_names)
    return (
        _all_days(start, end)
        .join(_schedule(exchange.calendar, start, end), on="date", how="left")
        .with_columns(exchange=pl.lit(exchange.name), is_session=pl.col("open_ts_us").is_not_null())
        .select(DIM_TRADING_CALENDAR.column_names)
    )


def populate(lake: Lake, exchanges: list[ExchangeSpec], start: dt.date, end: dt.date) -> int:
    """Rewrite each exchange's calendar rows for ``[start, end]``; returns rows written.

    Each exchange is one atomic predicate overwrite of exactly those dates, so a re-run converges and
    days outside the range (an earlier populate of another year) are kept.
    """
    store = TableStore(lake, DIM_TRADING_CALENDAR)
    total = 0
    for exchange in exchanges:
        frame = sessions(exchange, start, end)
        in_range = f"date >= {literal(start)} AND date <= {literal(end)}"
        store.replace_where(frame, all_of(equals("exchange", exchange.name), in_range))
        total += frame.height
    return total
