"""Time windows and durations: every research window is half-open ``[start, end)`` in µs UTC."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pointline.errors import TimeInputError
from pointline.timeutil import from_us, to_us

TimeLike = int | str | dt.datetime | dt.date
"""µs UTC integers, timezone-aware datetimes, dates (UTC midnight) or ISO-8601 strings (no offset = UTC).

A naive datetime is rejected with :class:`~pointline.errors.TimeInputError`: its meaning would depend
on the machine's timezone.
"""

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Window:
    """A half-open time window ``[start_us, end_us)`` in µs UTC."""

    start_us: int
    end_us: int

    def __str__(self) -> str:
        return f"[{from_us(self.start_us).isoformat()}, {from_us(self.end_us).isoformat()})"

    def local_dates(self, timezone: str, *, slack_days: int = 0) -> tuple[dt.date, dt.date]:
        """First and last exchange-local date (inclusive) that rows of this window can be partitioned in.

        ``slack_days`` widens the range on both sides, for windows on a clock other than the one that
        defines the partition date (``ts_exch_us`` may sit across midnight from ``ts_local_us``).
        """
        first = local_date(self.start_us, timezone) - dt.timedelta(days=slack_days)
        last = local_date(self.end_us - 1, timezone) + dt.timedelta(days=slack_days)
        return first, last


def window(start: TimeLike, end: TimeLike) -> Window:
    """Parse ``start``/``end`` into a non-empty :class:`Window`; ``start >= end`` is an error."""
    s, e = to_us(start), to_us(end)
    if s >= e:
        raise TimeInputError(
            f"empty window: start {from_us(s).isoformat()} is not before end {from_us(e).isoformat()} "
            "(windows are half-open [start, end))"
        )
    return Window(s, e)


def local_date(ts_us: int, timezone: str) -> dt.date:
    """Exchange-local calendar date of one µs UTC timestamp (the scalar twin of pointline.timeutil.local_date)."""
    return from_us(ts_us).astimezone(ZoneInfo(timezone)).date()


def day_range(start: TimeLike, end: TimeLike, timezone: str) -> tuple[dt.date, dt.date]:
    """Exchange-local days ``[first, last]`` (inclusive) of a half-open day window ``[start, end)``.

    A date (``dt.date`` or ``"YYYY-MM-DD"``) names an exchange-local day, so ``("2024-05-01",
    "2024-06-01")`` is May on any exchange; any other time is converted to its local date, with ``end``
    exclusive.
    """
    first = _as_local_day(start, timezone, is_end=False)
    last = _as_local_day(end, timezone, is_end=True)
    if first > last:
        raise TimeInputError(f"empty day range: {start!s} .. {end!s} (half-open: the end day is excluded)")
    return first, last


def _as_local_day(value: TimeLike, timezone: str, *, is_end: bool) -> dt.date:
    day: dt.date | None = None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        day = dt.date.fromisoformat(value.strip())
    if day is not None:
        return day - dt.timedelta(days=1) if is_end else day
    ts = to_us(value)
    return local_date(ts - 1 if is_end else ts, timezone)


_UNITS_US = {
    "us": 1,
    "µs": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}
_DURATION = re.compile(r"(\d+)(us|µs|ms|s|m|h|d|w)")


def duration_us(value: int | str | dt.timedelta) -> int:
    """A fixed duration in µs from an int (µs), a ``timedelta`` or a string such as ``"500ms"``, ``"1h30m"``.

    Units: us, ms, s, m (minute), h, d, w — the fixed-length subset of Polars' duration strings.
    """
    if isinstance(value, bool):
        raise TimeInputError(f"{value!r} is not a duration")
    if isinstance(value, int):
        us = value
    elif isinstance(value, dt.timedelta):
        us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    elif isinstance(value, str):
        text = value.strip()
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise TimeInputError(f"cannot parse duration {value!r}: use e.g. 250ms, 5s, 1m, 1h30m or integer µs")
        us = sum(int(n) * _UNITS_US[u] for n, u in parts)
    else:
        raise TimeInputError(f"{value!r} is not a duration: use integer µs, a timedelta or a string like '5s'")
    if us < 0:
        raise TimeInputError(f"duration {value!r} is negative")
    return us
