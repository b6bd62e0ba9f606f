"""Deterministic symbol ids.

``symbol_id`` is the signed big-endian Int64 of the 8-byte BLAKE2b digest of
``exchange|exchange_symbol|valid_from_ts``: the same version always gets the same id on every machine,
and 64 bits keep collisions negligible for millions of contracts (a collision is still checked when
dim_symbol is written).
"""

from __future__ import annotations

import hashlib

import polars as pl


def symbol_id(exchange: str, exchange_symbol: str, valid_from_ts: int) -> int:
    """The id of one dim_symbol version."""
    key = f"{exchange}|{exchange_symbol}|{valid_from_ts}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)


def symbol_ids(frame: pl.DataFrame) -> pl.Series:
    """Ids for every row of a frame with ``exchange``, ``exchange_symbol`` and ``valid_from_ts``.

    Dimension frames are small (thousands to a few hundred thousand rows), so hashing in Python here is
    not a hot path; event rows never hash, they join.
    """
    values = [
        symbol_id(e, s, v) for e, s, v in frame.select("exchange", "exchange_symbol", "valid_from_ts").iter_rows()
    ]
    return pl.Series("symbol_id", values, dtype=pl.Int64)
