"""``query.*``: read one instrument by exchange and exact symbol, across all its dim_symbol versions.

``query.trades("binance-futures", "BTCUSDT", "2024-05-01", "2024-05-02", decoded=True)`` returns a
LazyFrame of every trade of exactly ``BTCUSDT`` (never ``BTCUSDT_240628``) with arrival time in
``[start, end)``, stitched across every SCD2 version valid in the window (a tick-size change mid-day is
invisible except in ``symbol_id``) and ordered by ``(ts_local_us, ts_exch_us, file_id,
file_line_number)``. ``decoded=True`` gives exact decimal prices and sizes (``px``, ``qty``,
``bid_px``, ...), each row decoded with its own version's increments.

Time arguments are µs integers, timezone-aware datetimes or ISO strings (no offset = UTC); a naive
datetime is an error that says which timezone to give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import polars as pl

from pointline_research.context import LakeLike, exchange_timezone, resolve_lake, table_spec
from pointline_research.errors import ResearchInputError
from pointline_research.ordering import TIME_ORDER
from pointline_research.scanning import EXCHANGE_CLOCK_SLACK_DAYS, PARTITION_CLOCK, ScanRequest, run
from pointline_research.symbols import resolve
from pointline_research.timewin import TimeLike, Window, window

ORDER = TIME_ORDER
"""Row order of ``query.*`` results: versions (and symbols) interleave by time; ties are deterministic."""
_DAY_US = 86_400_000_000


def table(
    name: str,
    exchange: str,
    symbol: str | Sequence[str],
    start: TimeLike,
    end: TimeLike,
    *,
    decoded: bool = False,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    with_symbol: bool = False,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """Rows of event table ``name`` for ``symbol`` (exact; or a list of exact symbols) on ``exchange``.

    * ``[start, end)`` applies to ``time_column`` (default ``ts_local_us``, the arrival clock).
    * ``decoded=True`` turns ``*_int`` counts into exact ``Decimal`` columns named without ``_int``.
    * ``columns`` projects (stored or decoded names); ``with_symbol`` adds ``exchange_symbol``.
    * An unknown symbol raises :class:`~pointline_research.errors.UnknownSymbolError` with suggestions;
      a known symbol with no version in the window returns an empty frame of the right schema.
    """
    spec = table_spec(name)
    if not spec.is_event_table:
        raise ResearchInputError(
            f"query.* reads event tables; {spec.name!r} is a {spec.tier.value} table (use core.scan)"
        )
    root = resolve_lake(lake)
    win = window(start, end)
    exchange_timezone(root, exchange)  # an unknown exchange fails here, before any symbol look-up
    clock = time_column or spec.time_column or PARTITION_CLOCK
    versions = resolve(root, exchange, symbol, _version_window(win, clock))
    ids = tuple(versions.get_column("symbol_id").to_list())
    names = dict(zip(ids, versions.get_column("exchange_symbol").to_list(), strict=True))
    request = ScanRequest(
        spec=spec,
        symbol_ids=ids,
        window=win,
        time_column=clock,
        exchanges=(exchange,),
        versions=versions if decoded else None,
        columns=tuple(columns) if columns is not None else None,
        order_by=ORDER,
        empty=not ids,
        symbol_names=names if with_symbol else None,
    )
    return run(root, request)


def _version_window(win: Window, clock: str) -> Window | None:
    """Window the versions must overlap. Versions are valid on the arrival clock; for another clock
    the window is widened (exchange clock) or not applied at all (unrelated clocks)."""
    if clock == PARTITION_CLOCK:
        return win
    if clock == "ts_exch_us":
        slack = EXCHANGE_CLOCK_SLACK_DAYS * _DAY_US
        return Window(win.start_us - slack, win.end_us + slack)
    return None


class SymbolQuery(Protocol):
    """:func:`table` bound to one table."""

    def __call__(
        self,
        exchange: str,
        symbol: str | Sequence[str],
        start: TimeLike,
        end: TimeLike,
        *,
        decoded: bool = False,
        columns: Sequence[str] | None = None,
        time_column: str | None = None,
        with_symbol: bool = False,
        lake: LakeLike = None,
    ) -> pl.LazyFrame: ...


def bind(name: str) -> SymbolQuery:
    """:func:`table` with the table fixed."""

    def bound(
        exchange: str,
        symbol: str | Sequence[str],
        start: TimeLike,
        end: TimeLike,
        *,
        decoded: bool = False,
        columns: Sequence[str] | None = None,
        time_column: str | None = None,
        with_symbol: bool = False,
        lake: LakeLike = None,
    ) -> pl.LazyFrame:
        return table(
            name,
            exchange,
            symbol,
            start,
            end,
            decoded=decoded,
            columns=columns,
            time_column=time_column,
            with_symbol=with_symbol,
            lake=lake,
        )

    bound.__name__ = bound.__qualname__ = name
    bound.__doc__ = f"``{name}`` of one exchange + exact symbol over ``[start, end)``; see :func:`table`."
    return bound


trades = bind("trades")
quotes = bind("quotes")
book_snapshot_25 = bind("book_snapshot_25")
derivative_ticker = bind("derivative_ticker")
liquidations = bind("liquidations")
options_chain = bind("options_chain")


def book_snapshot(
    exchange: str,
    symbol: str | Sequence[str],
    start: TimeLike,
    end: TimeLike,
    *,
    depth: int = 25,
    decoded: bool = False,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    with_symbol: bool = False,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """``book_snapshot_<depth>`` rows (``ask0_px`` is the best ask); see :func:`table`."""
    return table(
        f"book_snapshot_{depth}",
        exchange,
        symbol,
        start,
        end,
        decoded=decoded,
        columns=columns,
        time_column=time_column,
        with_symbol=with_symbol,
        lake=lake,
    )


def kline(
    exchange: str,
    symbol: str | Sequence[str],
    start: TimeLike,
    end: TimeLike,
    *,
    interval: str,
    decoded: bool = False,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    with_symbol: bool = False,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """``kline_<interval>`` bars. A bar is known only at its end: ``ts_local_us`` is the bar end, so the
    window selects bars that *ended* in ``[start, end)``, and as-of joins key on the end."""
    return table(
        f"kline_{interval}",
        exchange,
        symbol,
        start,
        end,
        decoded=decoded,
        columns=columns,
        time_column=time_column,
        with_symbol=with_symbol,
        lake=lake,
    )
