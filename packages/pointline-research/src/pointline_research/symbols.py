"""Exact symbol resolution against dim_symbol (SCD2).

``(exchange, exchange_symbol)`` is matched exactly — never by substring or prefix, so ``BTCUSDT`` never
finds ``BTCUSDT_240628`` — and every version whose validity ``[valid_from_ts, valid_until_ts)``
overlaps the query window is returned. Silver rows carry the ``symbol_id`` of the version in force at
their own ``ts_local_us`` (ingestion resolved it), so filtering by those ids and decoding each row with
its own version's increments is point-in-time correct across tick-size changes.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence

import polars as pl
from pointline.config import Lake
from pointline.storage.delta import table_path
from pointline.tables.canonical import DIM_SYMBOL
from pointline.tables.validate import empty_frame

from pointline_research import snapshots
from pointline_research.errors import UnknownSymbolError
from pointline_research.timewin import Window

_SUGGESTIONS = 3


def dim_symbol(lake: Lake) -> pl.LazyFrame:
    """dim_symbol of ``lake`` as a LazyFrame over its current Delta snapshot (cached per commit).

    Every query resolves its symbol here, so the dimension (one row per instrument version: small) is
    read once per Delta commit and kept in memory; a new commit (a symbol sync) is seen on the next
    call (see :mod:`pointline_research.snapshots`). A lake without dim_symbol gives an empty frame of
    its schema.
    """
    found = snapshots.snapshot(table_path(lake, DIM_SYMBOL))
    if found is None:
        return empty_frame(DIM_SYMBOL).lazy()
    table, commit = found
    if commit is None:
        return pl.scan_delta(table)
    return _read(commit).lazy()


@functools.lru_cache(maxsize=4)
def _read(commit: snapshots.Commit) -> pl.DataFrame:
    return pl.read_delta(snapshots.snapshot_of(commit))


def resolve(lake: Lake, exchange: str, symbols: str | Sequence[str], window: Window | None = None) -> pl.DataFrame:
    """Every dim_symbol version of ``symbols`` on ``exchange`` overlapping ``window`` (all, if None).

    Raises :class:`UnknownSymbolError` (with did-you-mean suggestions) for a symbol that has no version
    at all on the exchange. A known symbol with no version in the window yields no rows: there was no
    such instrument then, which is an answer, not an error.
    """
    wanted = [symbols] if isinstance(symbols, str) else list(dict.fromkeys(symbols))
    versions = (
        dim_symbol(lake).filter(pl.col("exchange") == exchange, pl.col("exchange_symbol").is_in(wanted)).collect()
    )
    found = set(versions.get_column("exchange_symbol").to_list())
    missing = [s for s in wanted if s not in found]
    if missing:
        raise UnknownSymbolError(_unknown_message(lake, exchange, missing[0]))
    if window is not None:
        versions = versions.filter(pl.col("valid_from_ts") < window.end_us, pl.col("valid_until_ts") > window.start_us)
    return versions.sort("exchange_symbol", "valid_from_ts")


def versions_by_id(lake: Lake, symbol_ids: Sequence[int]) -> pl.DataFrame:
    """dim_symbol rows of explicit ``symbol_ids`` (unknown ids are simply absent)."""
    return dim_symbol(lake).filter(pl.col("symbol_id").is_in(list(symbol_ids))).collect()


def _unknown_message(lake: Lake, exchange: str, symbol: str) -> str:
    """``unknown symbol`` plus the most useful hint: a case slip, near names, or other exchanges."""
    dim = dim_symbol(lake)
    names = dim.filter(pl.col("exchange") == exchange).select(pl.col("exchange_symbol").unique()).collect().to_series()
    base = f"unknown symbol {symbol!r} on exchange {exchange!r}"
    if names.len() == 0:
        elsewhere = dim.filter(pl.col("exchange_symbol") == symbol).select(pl.col("exchange").unique()).collect()
        if elsewhere.height:
            listed = ", ".join(sorted(elsewhere.to_series().to_list()))
            return f"{base}: dim_symbol has no symbols for {exchange!r}, but {symbol!r} is listed on {listed}"
        return f"{base}: dim_symbol has no symbols for {exchange!r} (populate it with a vendor's symbols command)"
    candidates = names.to_list()
    folded = [n for n in candidates if n.casefold() == symbol.casefold()]
    close = folded or difflib.get_close_matches(symbol, candidates, n=_SUGGESTIONS, cutoff=0.6)
    if close:
        return f"{base}; did you mean {', '.join(repr(c) for c in close)}? (symbols match exactly)"
    return f"{base} ({len(candidates)} symbols listed there; `pointline symbols --exchange {exchange} --search ...` finds them)"
