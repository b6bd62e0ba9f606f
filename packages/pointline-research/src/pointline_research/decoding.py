"""``decoded=True``: fixed-point ``*_int`` counts back to exact decimals, each row with its own version.

A stored ``px_int`` is a count of its row's dim_symbol ``price_increment`` (``qty_int`` of
``amount_increment``). Decoding multiplies the count by that increment in decimal arithmetic, so the
value is exactly the vendor's decimal. The output type is ``Decimal(38, s)`` with ``s`` the largest
number of decimal places among the increments involved (``0.1`` and ``0.01`` give ``s = 2``): every
value is still exact, and the small scale leaves room for exact products such as ``px * qty``.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from pointline.codec import SCALE, decimal_places
from pointline.tables.spec import FixedPoint, TableSpec

_WHEN_CHAIN_MAX = 8
"""Up to this many versions decode through a when/then chain, beyond it through a hash lookup."""
_INCREMENT_COLUMN: dict[FixedPoint, str] = {"price": "price_increment", "amount": "amount_increment"}


def decoded_name(column: str) -> str:
    """``px_int`` -> ``px``: the name a fixed-point column has once decoded."""
    return column.removesuffix("_int")


def increments(versions: pl.DataFrame, kind: FixedPoint) -> dict[int, Decimal]:
    """``symbol_id -> increment`` of one kind for the given dim_symbol versions."""
    column = _INCREMENT_COLUMN[kind]
    return dict(zip(versions.get_column("symbol_id").to_list(), versions.get_column(column).to_list(), strict=True))


def output_scale(incs: dict[int, Decimal]) -> int:
    """Decimal places that represent every multiple of every increment exactly (at most 18)."""
    return min(SCALE, max((decimal_places(i) for i in incs.values()), default=0))


def decode_count(count: pl.Expr, incs: dict[int, Decimal]) -> pl.Expr:
    """Exact ``Decimal(38, s)`` value of an Int64 count column, per row's ``symbol_id``.

    One version (the common case) multiplies by a literal; several map ``symbol_id`` to its increment
    with a vectorised hash lookup (no join, no per-row Python). Ids without a version decode to null.
    """
    scale = output_scale(incs)
    dtype = pl.Decimal(38, scale)
    distinct = set(incs.values())
    if not incs:
        increment: pl.Expr = pl.lit(None, dtype)
    elif len(distinct) == 1:
        # One version, or versions that share the increment (e.g. only the tick size changed).
        increment = pl.lit(distinct.pop(), dtype)
    elif len(incs) <= _WHEN_CHAIN_MAX:
        # A few versions (a tick change or two in the window): a when/then chain is ~3x faster than a
        # hash lookup.
        increment = pl.lit(None, dtype)
        for symbol_id, inc in reversed(incs.items()):
            increment = (
                pl.when(pl.col("symbol_id") == pl.lit(symbol_id, pl.Int64))
                .then(pl.lit(inc, dtype))
                .otherwise(increment)
            )
    else:
        increment = pl.col("symbol_id").replace_strict(
            list(incs.keys()), list(incs.values()), default=None, return_dtype=dtype
        )
    # count has no decimals and the increment has at most ``scale``: the product at ``scale`` is exact.
    return count.cast(pl.Decimal(38, 0)) * increment


def decode_columns(spec: TableSpec, versions: pl.DataFrame, present: list[str]) -> list[pl.Expr]:
    """Decoding expressions for the fixed-point columns of ``spec`` among ``present`` (stored names)."""
    by_kind = {kind: increments(versions, kind) for kind in _INCREMENT_COLUMN}
    return [
        decode_count(pl.col(c.name), by_kind[c.fixed_point]).alias(decoded_name(c.name))
        for c in spec.fixed_point_columns
        if c.name in present and c.fixed_point is not None
    ]
