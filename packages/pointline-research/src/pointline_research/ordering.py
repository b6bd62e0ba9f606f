"""Deterministic total order, cheaply: check first, sort only what needs it.

Polars sorts by one key on nearly sorted data in tens of milliseconds per million rows, but a
multi-key sort (row encoding) costs about ten times that. Rows read from the lake are almost always
in order already (each file is written in file order, which is time order), so:

1. if the frame is already in the total order (one vectorised pass over the keys), keep it;
2. else stable-sort by the time key, then by any leading keys (``symbol_id``, ``by`` groups), each a
   single-key sort, and check again — this fixes the common case of several files (a midnight spill
   file, two versions' files) concatenated out of time order;
3. else sort by all keys.

The result is always exactly ``frame.sort(keys, nulls_last=False, maintain_order=True)``: rows equal
on every key keep their input order (lineage columns make such rows impossible in the lake).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from pointline.tables.canonical import EVENT_ORDER

TIME_ORDER: tuple[str, ...] = EVENT_ORDER[1:]
"""``(ts_local_us, ts_exch_us, file_id, file_line_number)``: the documented total order of event rows
across instruments and versions (the table ordering key without ``symbol_id``); also the as-of tie order."""


def in_order(frame: pl.DataFrame, keys: Sequence[str]) -> bool:
    """True if ``frame`` is non-decreasing in the lexicographic order of ``keys`` (nulls first)."""
    if frame.height < 2 or not keys:
        return True
    later_or_equal: pl.Expr = pl.lit(True)
    # Build "row >= previous row" from the last key to the first: greater on a key, or equal and
    # later-or-equal on the rest. A null sorts before every value.
    for key in reversed(keys):
        cur, prev = pl.col(key), pl.col(key).shift(1)
        if frame.get_column(key).null_count() == 0:
            greater, equal = cur > prev, cur == prev  # the first row's null comparison is sliced off
        else:
            greater = (cur.is_not_null() & prev.is_null()) | (cur > prev).fill_null(False)
            equal = (cur.is_null() & prev.is_null()) | (cur == prev).fill_null(False)
        later_or_equal = greater | (equal & later_or_equal)
    return bool(frame.select(later_or_equal.slice(1).all()).item())


def total_order(frame: pl.DataFrame, keys: Sequence[str], *, time_key: str | None = None) -> pl.DataFrame:
    """``frame`` sorted by ``keys`` (nulls first), skipping the sort when it is already in order.

    ``time_key`` (a member of ``keys``) is the near-sorted clock used for the cheap second attempt;
    the keys before it in ``keys`` are treated as grouping keys.
    """
    keys = list(keys)
    if in_order(frame, keys):
        return frame
    if time_key is not None and time_key in keys:
        staged = frame.sort(time_key, maintain_order=True, nulls_last=False)
        for lead in reversed(keys[: keys.index(time_key)]):
            staged = staged.sort(lead, maintain_order=True, nulls_last=False)
        if in_order(staged, keys):
            return staged
    # Stable, so frames whose keys do not make a total order (user frames without lineage columns)
    # keep their input order among equal keys.
    return frame.sort(keys, nulls_last=False, maintain_order=True)


def ordered(frame: pl.LazyFrame, keys: Sequence[str], *, time_key: str | None = None) -> pl.LazyFrame:
    """Lazy :func:`total_order`: runs when the frame is collected.

    Filters placed after it may still be pushed below it (sorting does not change which rows pass a
    filter); projections and slices may not (the keys are needed, and ``head`` must see the order).
    """
    keys = list(keys)
    return frame.map_batches(
        lambda batch: total_order(batch, keys, time_key=time_key),
        predicate_pushdown=True,
        projection_pushdown=False,
        slice_pushdown=False,
    )
