"""symbol_id: signed Int64 of BLAKE2b-8 over ``exchange|exchange_symbol|valid_from_ts``, the same everywhere."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pointline.symbols import symbol_id, symbol_ids

# Golden vectors: if these change, every symbol_id already written to a lake would silently change too.
KNOWN = [
    ("binance-futures", "BTCUSDT", 0, 2077898860191230957),
    ("binance-futures", "BTCUSDT", 1714521600000000, -633348324429056033),
    ("szse", "000001", 1704038400000000, 2815237829926264725),
    ("bitmex", "XBTUSD", -1, 5471327047965693594),
]


@pytest.mark.parametrize(("exchange", "symbol", "valid_from", "expected"), KNOWN)
def test_known_vectors(exchange: str, symbol: str, valid_from: int, expected: int) -> None:
    assert symbol_id(exchange, symbol, valid_from) == expected


def test_definition_is_blake2b_8_big_endian_signed() -> None:
    digest = hashlib.blake2b(b"binance-futures|BTCUSDT|1714521600000000", digest_size=8).digest()
    assert symbol_id("binance-futures", "BTCUSDT", 1714521600000000) == int.from_bytes(digest, "big", signed=True)
    assert symbol_id("binance-futures", "BTCUSDT", 1714521600000000) < 0  # signed: the top bit is the sign


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=30), st.integers(-(2**62), 2**62))
def test_ids_are_int64_and_deterministic(exchange: str, symbol: str, valid_from: int) -> None:
    first = symbol_id(exchange, symbol, valid_from)
    assert -(2**63) <= first < 2**63
    assert symbol_id(exchange, symbol, valid_from) == first


def test_a_new_version_or_another_venue_gets_another_id() -> None:
    ids = {
        symbol_id("binance-futures", "BTCUSDT", 0),
        symbol_id("binance-futures", "BTCUSDT", 1),
        symbol_id("binance", "BTCUSDT", 0),
        symbol_id("binance-futures", "BTCUSDT_240628", 0),
    }
    assert len(ids) == 4


def test_frame_helper_matches_the_scalar_function() -> None:
    frame = pl.DataFrame(
        {
            "exchange": [k[0] for k in KNOWN],
            "exchange_symbol": [k[1] for k in KNOWN],
            "valid_from_ts": [k[2] for k in KNOWN],
        }
    )
    ids = symbol_ids(frame)
    assert ids.dtype == pl.Int64
    assert ids.name == "symbol_id"
    assert ids.to_list() == [k[3] for k in KNOWN]
