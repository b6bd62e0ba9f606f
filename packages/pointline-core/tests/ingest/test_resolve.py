"""Point-in-time symbol resolution equals a brute-force reading of the SCD2 windows, for any versions and rows."""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.ingest.resolve import SymbolResolver

KEYS = [("xa", "BTC"), ("xa", "BTC_240628"), ("xb", "BTC"), ("xa", "ETH")]


@st.composite
def versions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Non-overlapping [from, until) windows per key, possibly with gaps, over a small time range."""
    out: list[dict[str, Any]] = []
    for exchange, symbol in draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS))):
        bounds = sorted(draw(st.sets(st.integers(0, 100), min_size=2, max_size=8)))
        for lo, hi in itertools.pairwise(bounds):
            if draw(st.booleans()):  # leave a gap (no version) sometimes
                continue
            out.append(
                {
                    "exchange": exchange,
                    "exchange_symbol": symbol,
                    "valid_from_ts": lo,
                    "valid_until_ts": hi,
                    "symbol_id": hash((exchange, symbol, lo)) % 10**9,
                    "price_increment": f"0.{lo:03d}1",
                    "amount_increment": "1",
                }
            )
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[tuple[str, str], int, bool]]]:
    """Versions, and rows whose times hit window edges (from - 1, from, until - 1, until) often."""
    vs = draw(versions())
    edges = sorted({v[b] + d for v in vs for b in ("valid_from_ts", "valid_until_ts") for d in (-1, 0)})
    ts = st.one_of(st.integers(-5, 105), st.sampled_from(edges)) if edges else st.integers(-5, 105)
    keys = st.sampled_from([*KEYS, ("xa", "BTCUSDT"), ("xc", "BTC")])
    return vs, draw(st.lists(st.tuples(keys, ts, st.booleans()), max_size=60))


def brute_force(vs: list[dict[str, Any]], exchange: str, symbol: str, ts: int) -> tuple[Any, Any]:
    hits = [
        v
        for v in vs
        if (v["exchange"], v["exchange_symbol"]) == (exchange, symbol)
        and v["valid_from_ts"] <= ts < v["valid_until_ts"]
    ]
    assert len(hits) <= 1
    return (hits[0]["symbol_id"], hits[0]["price_increment"]) if hits else (None, None)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_resolution_matches_the_windows_exactly(
    case: tuple[list[dict[str, Any]], list[tuple[tuple[str, str], int, bool]]],
) -> None:
    vs, rows = case
    dim = pl.DataFrame(
        vs,
        schema={
            "exchange": pl.String,
            "exchange_symbol": pl.String,
            "valid_from_ts": pl.Int64,
            "valid_until_ts": pl.Int64,
            "symbol_id": pl.Int64,
            "price_increment": pl.String,
            "amount_increment": pl.String,
        },
    )
    frame = pl.DataFrame(
        {
            "exchange": [k[0] for k, _, _ in rows],
            "exchange_symbol": [k[1] for k, _, _ in rows],
            "ts_local_us": [ts for _, ts, _ in rows],
            "ok": [ok for _, _, ok in rows],
        },
        schema={"exchange": pl.String, "exchange_symbol": pl.String, "ts_local_us": pl.Int64, "ok": pl.Boolean},
    )
    out = SymbolResolver(dim).resolve(frame, pl.col("ok"))
    assert out.select(frame.columns).equals(frame)  # row order and contents kept
    want = [brute_force(vs, e, s, ts) if ok else (None, None) for (e, s), ts, ok in rows]
    assert list(zip(out["symbol_id"], out["price_increment"], strict=True)) == want
