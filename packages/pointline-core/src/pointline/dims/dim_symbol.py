"""dim_symbol: SCD2 instrument versions, their invariants, and writing new versions.

A version is valid on ``[valid_from_ts, valid_until_ts)``; the open version has ``valid_until_ts =
MAX_TS`` and ``is_current = True``. Invariants (checked before every write): no two versions of one
``(exchange, exchange_symbol)`` overlap, at most one is current, and ``symbol_id`` is unique.
"""

from __future__ import annotations

import time

import polars as pl

from pointline.config import Lake
from pointline.errors import PointlineError
from pointline.storage.delta import TableStore
from pointline.symbols import symbol_ids
from pointline.tables.canonical import DIM_SYMBOL
from pointline.timeutil import MAX_TS

KEY = ("exchange", "exchange_symbol")
MANAGED = ("symbol_id", "is_current", "updated_at_us")
"""Columns :func:`finalize_versions` adds; a version frame from a vendor or from inference has the rest."""
VERSION_COLUMNS = tuple(c for c in DIM_SYMBOL.column_names if c not in MANAGED)
"""The columns of a version frame (what :meth:`pointline.vendor.InstrumentSource.instrument_versions` returns)."""


class DimSymbolInvariantError(PointlineError):
    """dim_symbol versions overlap, have two current rows, or collide on symbol_id."""


def store(lake: Lake) -> TableStore:
    return TableStore(lake, DIM_SYMBOL)


def read(lake: Lake) -> pl.DataFrame:
    """The whole dimension (it is small: one row per instrument version)."""
    return store(lake).read()


def version_schema() -> pl.Schema:
    """Schema of a version frame: dim_symbol's columns minus the ones :func:`finalize_versions` adds."""
    full = DIM_SYMBOL.schema
    return pl.Schema({name: full[name] for name in VERSION_COLUMNS})


def versions_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A version frame from row dicts (missing optional columns are null), cast to :func:`version_schema`.

    Increments may be given as :class:`decimal.Decimal` or decimal text; either way they stay exact.
    """
    schema = version_schema()
    if not rows:
        return pl.DataFrame(schema=schema)
    columns = {name: [row.get(name) for row in rows] for name in schema}
    return pl.DataFrame(columns, schema=schema, strict=False)


def check_invariants(dim: pl.DataFrame) -> None:
    """Raise :class:`DimSymbolInvariantError` naming the first offending key."""
    if dim.height == 0:
        return
    dupes = dim.group_by("symbol_id").len().filter(pl.col("len") > 1)
    if dupes.height:
        raise DimSymbolInvariantError(
            f"dim_symbol: symbol_id {dupes['symbol_id'][0]} is used by {dupes['len'][0]} rows"
        )
    bad_window = dim.filter(pl.col("valid_from_ts") >= pl.col("valid_until_ts"))
    if bad_window.height:
        r = bad_window.row(0, named=True)
        raise DimSymbolInvariantError(
            f"dim_symbol: {r['exchange']}/{r['exchange_symbol']} has an empty validity window at {r['valid_from_ts']}"
        )
    ordered = dim.sort([*KEY, "valid_from_ts"])
    overlap = ordered.with_columns(prev_until=pl.col("valid_until_ts").shift(1).over(list(KEY))).filter(
        pl.col("prev_until") > pl.col("valid_from_ts")
    )
    if overlap.height:
        r = overlap.row(0, named=True)
        raise DimSymbolInvariantError(
            f"dim_symbol: versions of {r['exchange']}/{r['exchange_symbol']} overlap at {r['valid_from_ts']}"
        )
    current = dim.filter(pl.col("is_current")).group_by(list(KEY)).len().filter(pl.col("len") > 1)
    if current.height:
        r = current.row(0, named=True)
        raise DimSymbolInvariantError(
            f"dim_symbol: {r['exchange']}/{r['exchange_symbol']} has {r['len']} current versions"
        )


def finalize_versions(versions: pl.DataFrame, *, now_us: int | None = None) -> pl.DataFrame:
    """Add ``symbol_id``, ``is_current`` and ``updated_at_us`` to versions in dim_symbol's shape.

    ``versions`` holds every other dim_symbol column. ``is_current`` is true for the open-ended version.
    """
    now = now_us if now_us is not None else time.time_ns() // 1000
    out = versions.with_columns(
        is_current=pl.col("valid_until_ts") == MAX_TS,
        updated_at_us=pl.lit(now, pl.Int64),
    )
    out = out.with_columns(symbol_ids(out))
    return out.select(DIM_SYMBOL.column_names)


def upsert(lake: Lake, versions: pl.DataFrame, *, replace_inferred_only: bool = False) -> tuple[int, int]:
    """Write ``versions`` (complete histories of their keys) into dim_symbol.

    Every existing version of the keys present in ``versions`` is replaced, so a re-sync with a longer
    tick-size history rewrites the key's history in one commit; unchanged versions keep their ids
    because ids derive from ``valid_from_ts``. With ``replace_inferred_only`` (used by inference),
    keys that already have vendor-synced versions are left alone. Returns (keys written, keys skipped).
    """
    incoming = finalize_versions(versions) if "symbol_id" not in versions.columns else versions
    existing = read(lake)
    skipped = 0
    if replace_inferred_only and existing.height:
        synced = existing.filter(~pl.col("is_inferred")).select(KEY).unique()
        before = incoming.select(KEY).unique().height
        incoming = incoming.join(synced, on=list(KEY), how="anti")
        skipped = before - incoming.select(KEY).unique().height
    keys = incoming.select(KEY).unique()
    kept = existing.join(keys, on=list(KEY), how="anti") if existing.height else existing
    merged = pl.concat([kept, incoming], how="vertical_relaxed").select(DIM_SYMBOL.column_names).cast(DIM_SYMBOL.schema)
    merged = merged.sort(list(DIM_SYMBOL.ordering_key))
    check_invariants(merged)
    # The dimension is small and versions of a key must change together: one whole-table overwrite
    # commit keeps readers on a consistent snapshot.
    store(lake).overwrite(merged)
    return keys.height, skipped
