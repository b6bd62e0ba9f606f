"""``core.*``: lazy scans by explicit ``symbol_id`` (the tier below :mod:`pointline_research.query`).

Use these when you already hold dim_symbol ids (from :func:`pointline_research.discovery.list_symbols`
or a previous result) or want several instruments in one frame. Rows come in the table's ordering
key, ``(symbol_id, ts_local_us, ts_exch_us, file_id, file_line_number)`` for event tables::

    from pointline_research import core
    core.trades([123, 456], "2024-05-01", "2024-05-02", columns=["symbol_id", "ts_local_us", "px_int"])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import polars as pl

from pointline_research.context import LakeLike, resolve_lake, table_spec
from pointline_research.errors import ResearchInputError
from pointline_research.scanning import ScanRequest, run
from pointline_research.symbols import dim_symbol, versions_by_id
from pointline_research.timewin import TimeLike, Window, window

SymbolIds = int | Iterable[int] | None
"""One ``symbol_id``, several, or None for every symbol."""


def scan(
    table: str,
    symbol_id: SymbolIds = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    exchange: str | Sequence[str] | None = None,
    decoded: bool = False,
    lake: LakeLike = None,
) -> pl.LazyFrame:
    """Lazy scan of any registered table, filtered to ``symbol_id`` and the window ``[start, end)``.

    * ``time_column`` picks the clock of the window: the table's time column (``ts_local_us``, arrival
      time) by default, or e.g. ``ts_exch_us``.
    * Partitions are pruned by exchange-local dates; the exchanges come from ``exchange`` or, when
      omitted, from the dim_symbol rows of the ids.
    * ``decoded=True`` replaces each ``*_int`` count by its exact decimal (``px_int`` -> ``px``) using the
      increments of each row's own version; ask for ``px_int`` in ``columns`` to keep the count too.
    * ``columns`` projects (stored or decoded names); order keys are applied before projection.

    Non-event tables (dimensions, control tables) take ``symbol_id=None`` and, if windowed, a
    ``time_column``.
    """
    spec = table_spec(table)
    root = resolve_lake(lake)
    ids = _ids(symbol_id)
    if ids is not None and "symbol_id" not in spec.column_names:
        raise ResearchInputError(f"table {spec.name!r} has no symbol_id column: pass symbol_id=None")
    exchanges = (exchange,) if isinstance(exchange, str) else tuple(exchange) if exchange is not None else None
    versions = None
    if ids is not None and (decoded or exchanges is None):
        versions = versions_by_id(root, ids)
        known = set(versions.get_column("symbol_id").to_list())
        if exchanges is None and known.issuperset(ids):
            # Every id's exchange (hence timezone) is known: restrict to them so dates can be pruned.
            exchanges = tuple(sorted(set(versions.get_column("exchange").to_list())))
    if decoded and versions is None:
        versions = _versions_of(root, exchanges)
    request = ScanRequest(
        spec=spec,
        symbol_ids=ids,
        window=_optional_window(start, end),
        time_column=time_column,
        exchanges=exchanges,
        versions=versions if decoded else None,
        columns=tuple(columns) if columns is not None else None,
    )
    return run(root, request)


def _optional_window(start: TimeLike | None, end: TimeLike | None) -> Window | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ResearchInputError("give both start and end (the window is half-open [start, end)), or neither")
    return window(start, end)


def _ids(symbol_id: SymbolIds) -> tuple[int, ...] | None:
    if symbol_id is None:
        return None
    if isinstance(symbol_id, bool):
        raise ResearchInputError(f"{symbol_id!r} is not a symbol_id")
    if isinstance(symbol_id, int):
        return (symbol_id,)
    ids = tuple(dict.fromkeys(int(i) for i in symbol_id))
    if not ids:
        raise ResearchInputError("symbol_id is an empty list: pass None for every symbol")
    return ids


def _versions_of(lake: LakeLike, exchanges: tuple[str, ...] | None) -> pl.DataFrame:
    frame = dim_symbol(resolve_lake(lake))
    if exchanges is not None:
        frame = frame.filter(pl.col("exchange").is_in(list(exchanges)))
    return frame.collect()


class TableScan(Protocol):
    """A :func:`scan` bound to one table."""

    def __call__(
        self,
        symbol_id: SymbolIds,
        start: TimeLike,
        end: TimeLike,
        *,
        columns: Sequence[str] | None = None,
        time_column: str | None = None,
        exchange: str | Sequence[str] | None = None,
        decoded: bool = False,
        lake: LakeLike = None,
    ) -> pl.LazyFrame: ...


def bind(table: str) -> TableScan:
    """:func:`scan` with the table fixed, e.g. ``bind("kline_1m")(ids, start, end)``."""

    def bound(
        symbol_id: SymbolIds,
        start: TimeLike,
        end: TimeLike,
        *,
        columns: Sequence[str] | None = None,
        time_column: str | None = None,
        exchange: str | Sequence[str] | None = None,
        decoded: bool = False,
        lake: LakeLike = None,
    ) -> pl.LazyFrame:
        return scan(
            table,
            symbol_id,
            start,
            end,
            columns=columns,
            time_column=time_column,
            exchange=exchange,
            decoded=decoded,
            lake=lake,
        )

    bound.__name__ = bound.__qualname__ = table
    bound.__doc__ = f"Lazy scan of ``{table}`` by explicit symbol_id over ``[start, end)``; see :func:`scan`."
    return bound


trades = bind("trades")
quotes = bind("quotes")
book_snapshot_25 = bind("book_snapshot_25")
derivative_ticker = bind("derivative_ticker")
liquidations = bind("liquidations")
options_chain = bind("options_chain")


def kline(interval: str) -> TableScan:
    """The scan of ``kline_<interval>`` (``core.kline("1m")(ids, start, end)``); ``ts_local_us`` is the bar end."""
    return bind(f"kline_{interval}")
