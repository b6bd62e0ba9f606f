"""Point-in-time as-of joins. The rules are written down in ``docs/join-semantics.md``; in short:

* **Key and direction**: backward on ``ts_local_us`` (arrival time, the replay clock): each left row
  gets the last right row with ``right.ts <= left.ts``. A right row with the *same* timestamp counts
  as known (the quote that arrived in the same microsecond as the trade is included); pass
  ``strict=True`` for ``right.ts < left.ts``.
* **Ties**: right rows are ordered by ``(ts_local_us, ts_exch_us, file_id, file_line_number)``; among
  right rows with equal ``ts_local_us`` the *last* in that order wins (the most recent known state).
  Left rows keep the same total order. Results are therefore deterministic.
* **Tolerance**: optional; it only bounds staleness (``left.ts - tolerance <= right.ts``); a left row
  with no right row in range gets nulls. It never lets a future row in.
* **Instrument, not version**: ``trades_with_quotes`` and friends join one instrument across its
  dim_symbol versions (the prevailing quote may predate a tick-size change), so they decode by
  default; the right side's ``symbol_id`` is kept as ``quote_symbol_id``/``book_symbol_id``.
* **Bars and klines** are known only at their end: join on ``bar_end`` (bars from
  :mod:`pointline_research.bars`) or on kline ``ts_local_us`` (which *is* the bar end).

Everything runs in Polars ``join_asof`` (DuckDB's ASOF JOIN is slower here and not deterministic on
ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

from pointline_research import query
from pointline_research.context import LakeLike, resolve_lake
from pointline_research.errors import ResearchInputError
from pointline_research.ordering import TIME_ORDER, ordered
from pointline_research.timewin import TimeLike, duration_us, window

TIE_ORDER = TIME_ORDER
"""The documented total order of event rows; among equal right keys the last in it wins."""
DEFAULT_LOOKBACK = "1h"
"""How far before ``start`` the right side is read when no tolerance is given, so the first left rows
find the state in force at the window's start."""
_KEY = "__pointline_asof_key"

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def asof_join(
    left: Frame,
    right: pl.DataFrame | pl.LazyFrame,
    *,
    on: str = "ts_local_us",
    right_on: str | None = None,
    by: str | Sequence[str] | None = None,
    tolerance: int | str | None = None,
    strict: bool = False,
    suffix: str = "_right",
    left_order: Sequence[str] | None = None,
    right_order: Sequence[str] | None = None,
) -> Frame:
    """Backward as-of join of ``right`` onto ``left`` with the documented total tie order.

    * ``on``/``right_on``: the µs time keys (``right_on`` defaults to ``on``). The right key survives in
      the output (suffixed with ``suffix`` if the name collides), so ``right.ts <= left.ts`` is checkable.
    * ``by``: exact-match keys, e.g. ``"symbol_id"`` (only when both sides share versions).
    * ``tolerance``: µs or a duration string (``"5s"``); the oldest right row a left row may take.
    * ``strict``: ``right.ts < left.ts`` instead of ``<=``.
    * ``left_order``/``right_order``: the total order (time key first); by default the time key then
      whichever of ``ts_exch_us, file_id, file_line_number`` the frame has.

    Returns the same kind of frame as ``left``; rows keep the left total order, one output row per
    left row.
    """
    joined = _asof(
        left.lazy(),
        right.lazy(),
        on=on,
        right_on=right_on or on,
        by=[by] if isinstance(by, str) else list(by or []),
        tolerance=tolerance,
        strict=strict,
        suffix=suffix,
        left_order=left_order,
        right_order=right_order,
        presorted=False,
    )
    if isinstance(left, pl.DataFrame):
        return joined.collect()
    return joined


def _asof(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    *,
    on: str,
    right_on: str,
    by: list[str],
    tolerance: int | str | None,
    strict: bool,
    suffix: str,
    left_order: Sequence[str] | None,
    right_order: Sequence[str] | None,
    presorted: bool,
) -> pl.LazyFrame:
    """:func:`asof_join` on lazy frames; ``presorted`` skips the order check for ``query.*`` outputs."""
    left_cols = left.collect_schema().names()
    right_cols = right.collect_schema().names()
    for cols, key, side in ((left_cols, on, "left"), (right_cols, right_on, "right")):
        missing = [c for c in [key, *by] if c not in cols]
        if missing:
            raise ResearchInputError(f"as-of join: the {side} frame has no column(s) {', '.join(missing)}")
    l_order = _order(on, left_cols, left_order)
    r_order = _order(right_on, right_cols, right_order)
    if not presorted or by:
        left = ordered(left, l_order, time_key=on)
        right = ordered(right, [*by, *r_order], time_key=right_on)
    # The right side is in (by, total order): keep only the last row of each (by, ts) run, which is
    # exactly "among equal timestamps the last in the documented order wins", whatever join_asof does.
    last_of_run = pl.any_horizontal(pl.col(c) != pl.col(c).shift(-1) for c in [*by, right_on]).fill_null(True)
    prepared = right.filter(last_of_run).with_columns(pl.col(right_on).alias(_KEY))
    prepared = prepared.rename({c: f"{c}{suffix}" for c in right_cols if c in left_cols and c not in by})
    joined = left.join_asof(
        prepared,
        left_on=on,
        right_on=_KEY,
        by=by or None,
        strategy="backward",
        tolerance=duration_us(tolerance) if tolerance is not None else None,
        allow_exact_matches=not strict,
        check_sortedness=False,
    )
    return joined.drop(_KEY, strict=False)


def _order(key: str, columns: Sequence[str], explicit: Sequence[str] | None) -> list[str]:
    if explicit is not None:
        order = list(explicit)
        if not order or order[0] != key:
            raise ResearchInputError(f"as-of join: the order must start with the time key {key!r}, got {order}")
        missing = [c for c in order if c not in columns]
        if missing:
            raise ResearchInputError(f"as-of join: order column(s) {', '.join(missing)} are not in the frame")
        return order
    return [key, *(c for c in TIE_ORDER[1:] if c in columns and c != key)]


_LINEAGE = ("symbol_id", "ts_local_us", "ts_exch_us", "file_id", "file_line_number")


def _prefixed(frame: pl.LazyFrame, prefix: str) -> tuple[pl.LazyFrame, list[str]]:
    """Prefix the identity/clock/lineage columns of the right side (payload names stay as they are)."""
    cols = frame.collect_schema().names()
    renames = {c: f"{prefix}{c}" for c in _LINEAGE if c in cols}
    dropped = [c for c in ("exchange", "date") if c in cols]
    order = [renames[c] for c in TIE_ORDER if c in renames]
    return frame.drop(dropped).rename(renames), order


def _with_order(columns: Sequence[str] | None) -> list[str] | None:
    """A trade projection that still carries the total order the join sorts by."""
    if columns is None:
        return None
    return list(dict.fromkeys([*TIE_ORDER, *columns]))


def _right_start(start_us: int, tolerance: int | str | None, lookback: int | str | None) -> int:
    """Where the right side is read from: far enough back for the state in force at ``start``."""
    reach = lookback if lookback is not None else tolerance if tolerance is not None else DEFAULT_LOOKBACK
    return start_us - duration_us(reach)


def trades_with_quotes(
    exchange: str,
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    decoded: bool = True,
    tolerance: int | str | None = None,
    lookback: int | str | None = None,
    strict: bool = False,
    trade_columns: Sequence[str] | None = None,
    quote_columns: Sequence[str] | None = None,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """Every trade in ``[start, end)`` with the quote prevailing at its arrival (``quote.ts <= trade.ts``).

    Quote columns keep their names (``bid_px``, ``ask_px``, ...); the quote's clock and lineage become
    ``quote_ts_local_us``, ``quote_ts_exch_us``, ``quote_file_id``, ``quote_file_line_number`` and
    ``quote_symbol_id``. Quotes are read from ``start - lookback`` (default: ``tolerance`` if given,
    else 1 hour) so the first trades find the quote in force at ``start``; a trade with no quote in
    reach gets nulls. ``trade_columns``/``quote_columns`` project either side (the clock and lineage
    columns are always kept).
    """
    root = resolve_lake(lake)
    win = window(start, end)
    trades_lf = query.trades(
        exchange, symbol, win.start_us, win.end_us, decoded=decoded, columns=_with_order(trade_columns), lake=root
    )
    quotes_lf = query.quotes(
        exchange,
        symbol,
        _right_start(win.start_us, tolerance, lookback),
        win.end_us,
        decoded=decoded,
        columns=None if quote_columns is None else list(dict.fromkeys([*_LINEAGE, *quote_columns])),
        lake=root,
    )
    right, order = _prefixed(quotes_lf, "quote_")
    return _helper_join(trades_lf, right, "quote_ts_local_us", order, tolerance, strict)


def trades_with_book(
    exchange: str,
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    depth: int = 25,
    levels: int | None = None,
    decoded: bool = True,
    tolerance: int | str | None = None,
    lookback: int | str | None = None,
    strict: bool = False,
    trade_columns: Sequence[str] | None = None,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """Every trade in ``[start, end)`` with the book snapshot prevailing at its arrival.

    ``levels`` keeps only the best ``levels`` levels of each side (``ask0_px`` .. ``ask{levels-1}_px``);
    the snapshot's clock and lineage become ``book_ts_local_us``, ``book_file_id``, ... Other rules as
    :func:`trades_with_quotes`.
    """
    root = resolve_lake(lake)
    win = window(start, end)
    keep = depth if levels is None else levels
    if not 0 < keep <= depth:
        raise ResearchInputError(f"levels must be between 1 and {depth}, got {levels}")
    trades_lf = query.trades(
        exchange, symbol, win.start_us, win.end_us, decoded=decoded, columns=_with_order(trade_columns), lake=root
    )
    book_lf = query.book_snapshot(
        exchange,
        symbol,
        _right_start(win.start_us, tolerance, lookback),
        win.end_us,
        depth=depth,
        decoded=decoded,
        lake=root,
    )
    suffix = "" if decoded else "_int"
    level_cols = [
        f"{side}{i}_{field}{suffix}" for i in range(keep) for side in ("ask", "bid") for field in ("px", "qty")
    ]
    book_lf = book_lf.select([*_LINEAGE, *level_cols])
    right, order = _prefixed(book_lf, "book_")
    return _helper_join(trades_lf, right, "book_ts_local_us", order, tolerance, strict)


def _helper_join(
    trades: pl.LazyFrame,
    right: pl.LazyFrame,
    right_on: str,
    order: list[str],
    tolerance: int | str | None,
    strict: bool,
) -> pl.LazyFrame:
    # Both sides come from query.*, which returns rows in the total order already.
    return _asof(
        trades,
        right,
        on="ts_local_us",
        right_on=right_on,
        by=[],
        tolerance=tolerance,
        strict=strict,
        suffix="_right",
        left_order=None,
        right_order=order,
        presorted=True,
    )
