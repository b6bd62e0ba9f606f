"""Time helpers: µs UTC integers, exchange-local dates, and parsing of user time arguments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from pointline.errors import PluginError, TimeInputError

US_PER_DAY = 86_400_000_000
MAX_TS = 2**63 - 1
"""``valid_until_ts`` of an open-ended dim_symbol version."""
_FIXED_UTC = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z"}


def check_timezone(name: str) -> str:
    """Return ``name`` if it is a valid IANA timezone, else raise :class:`PluginError`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PluginError(f"{name!r} is not an IANA timezone") from None
    return name


def local_date(ts_us: pl.Expr, timezone: str) -> pl.Expr:
    """Exchange-local calendar date of a µs UTC timestamp column, vectorised.

    UTC venues (all crypto) use integer floor division, which is several times faster than a timezone
    conversion; others convert through the IANA database so DST and historic offsets are right.
    """
    if timezone in _FIXED_UTC:
        return (ts_us.floordiv(US_PER_DAY)).cast(pl.Int32).cast(pl.Date)
    return pl.from_epoch(ts_us, time_unit="us").dt.replace_time_zone("UTC").dt.convert_time_zone(timezone).dt.date()


def local_date_by_exchange(exchanges: list[str], timezones: dict[str, str], *, ts: str = "ts_local_us") -> pl.Expr:
    """A ``date`` expression for frames holding rows of several exchanges, each in its own timezone."""
    if len(exchanges) == 1:
        return local_date(pl.col(ts), timezones[exchanges[0]])
    return pl.coalesce([pl.when(pl.col("exchange") == e).then(local_date(pl.col(ts), timezones[e])) for e in exchanges])


def to_us(value: int | str | dt.datetime | dt.date) -> int:
    """Convert a user time argument to µs UTC.

    Accepts integer µs, timezone-aware datetimes, dates (midnight UTC), and ISO-8601 strings (a string
    without an offset is read as UTC, since strings are how users type UTC days). A naive datetime is
    rejected: its meaning depends on the machine's timezone.
    """
    if isinstance(value, bool):
        raise TimeInputError(f"{value!r} is not a time")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TimeInputError(
                f"naive datetime {value.isoformat()} is ambiguous: give it a timezone, "
                "e.g. datetime(..., tzinfo=datetime.timezone.utc)"
            )
        return _datetime_us(value)
    if isinstance(value, dt.date):
        return _datetime_us(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise TimeInputError(
                f"cannot parse time {value!r}: use ISO 8601 (2024-05-01 or 2024-05-01T12:00:00+00:00) or integer µs"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return _datetime_us(parsed)
    raise TimeInputError(
        f"{value!r} ({type(value).__name__}) is not a time: use µs, an aware datetime or an ISO string"
    )


def _datetime_us(value: dt.datetime) -> int:
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(ts_us: int) -> dt.datetime:
    """µs UTC to an aware UTC datetime."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_us)
