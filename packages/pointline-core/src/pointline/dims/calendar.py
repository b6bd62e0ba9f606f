"""dim_trading_calendar from exchange_calendars (offline), for exchanges that declare a calendar code.

24/7 venues (no calendar code) get every day as a session from midnight to midnight local time.
exchange_calendars' default range rolls with today's date, so the range is always explicit.
"""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl

from pointline.config import Lake
from pointline.exchanges import ExchangeSpec
from pointline.storage.delta import TableStore
from pointline.storage.predicates import equals
from pointline.tables.canonical import DIM_TRADING_CALENDAR
from pointline.timeutil import to_us


def sessions(exchange: ExchangeSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Calendar rows for ``exchange`` on ``[start, end]``."""
    if exchange.calendar is None:
        days = pl.date_range(start, end, "1d", eager=True)
        local = pl.DataFrame({"date": days}).with_columns(
            open_ts_us=pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone(exchange.timezone).dt.convert_time_zone("UTC").dt.epoch("us"),
        )
        return local.with_columns(
            exchange=pl.lit(exchange.name),
            is_session=pl.lit(True),
            close_ts_us=pl.col("open_ts_us").shift(-1).fill_null(pl.col("open_ts_us") + 86_400_000_000),
            break_start_ts_us=pl.lit(None, pl.Int64),
            break_end_ts_us=pl.lit(None, pl.Int64),
        ).select(DIM_TRADING_CALENDAR.column_names)
    with warnings.catch_warnings():
        # exchange_calendars under pandas 3 emits deprecation warnings we cannot fix here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import exchange_calendars as xcals

        cal = xcals.get_calendar(exchange.calendar, start=start.isoformat(), end=end.isoformat())
        sched = cal.schedule.loc[start.isoformat() : end.isoformat()]
        def col(name: str) -> list[int | None]:
            if name not in sched.columns:
                return [None] * len(sched)
            return [None if v is None or v != v else to_us(v.to_pydatetime()) for v in sched[name]]
        frame = pl.DataFrame(
            {
                "date": [d.date() for d in sched.index],
                "open_ts_us": col("open"),
                "close_ts_us": col("close"),
                "break_start_ts_us": col("break_start"),
                "break_end_ts_us": col("break_end"),
            },
            schema_overrides={k: pl.Int64 for k in ("open_ts_us", "close_ts_us", "break_start_ts_us", "break_end_ts_us")},
        )
    all_days = pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)})
    return (
        all_days.join(frame, on="date", how="left")
        .with_columns(exchange=pl.lit(exchange.name), is_session=pl.col("open_ts_us").is_not_null())
        .select(DIM_TRADING_CALENDAR.column_names)
    )


def populate(lake: Lake, exchanges: list[ExchangeSpec], start: dt.date, end: dt.date) -> int:
    """Rewrite each exchange's calendar rows for ``[start, end]``; returns rows written."""
    store = TableStore(lake, DIM_TRADING_CALENDAR)
    total = 0
    for exchange in exchanges:
        frame = sessions(exchange, start, end)
        store.replace_where(frame, equals("exchange", exchange.name))
        total += frame.height
    return total
