"""Golden tests: every real Tardis sample parses to exactly the values of its CSV.

The reference is the standard library's ``csv.DictReader`` and a column mapping written out here, by
hand, from the documented headers (vendor-formats.md section 1.3), independent of the parser's own tables.
Prices and sizes must come out as the *same decimal text*; timestamps, floats and enums as the CSV says;
empty fields as nulls.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from pointline.codec import decode, encode
from pointline.dims.infer import decimal_places_expr
from tardis_helpers import ALL_SAMPLES, GZ_DIR, GZ_SAMPLES, PLAIN_SAMPLES, SAMPLES, bronze_file, csv_rows

from pointline_vendor_tardis.parsers import DATA_TYPES
from pointline_vendor_tardis.vendor import TardisVendor


def _book(depth: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(depth):
        out |= {
            f"ask{i}_px": f"asks[{i}].price",
            f"ask{i}_qty": f"asks[{i}].amount",
            f"bid{i}_px": f"bids[{i}].price",
            f"bid{i}_qty": f"bids[{i}].amount",
        }
    return out


# parse-schema column -> CSV column, per kind of value. Written independently of parsers.DATA_TYPES.
DECIMAL_TEXT: dict[str, dict[str, str]] = {
    "trades": {"px": "price", "qty": "amount"},
    "liquidations": {"px": "price", "qty": "amount"},
    "quotes": {"bid_px": "bid_price", "bid_qty": "bid_amount", "ask_px": "ask_price", "ask_qty": "ask_amount"},
    "book_snapshot_25": _book(25),
    "book_snapshot_5": _book(5),
    "incremental_book_L2": {"px": "price", "qty": "amount"},
    "derivative_ticker": {},
    "options_chain": {
        "last_px": "last_price",
        "bid_px": "bid_price",
        "bid_qty": "bid_amount",
        "ask_px": "ask_price",
        "ask_qty": "ask_amount",
    },
}
FLOATS: dict[str, dict[str, str]] = {
    "derivative_ticker": {
        "funding_rate": "funding_rate",
        "predicted_funding_rate": "predicted_funding_rate",
        "open_interest": "open_interest",
        "last_px": "last_price",
        "index_px": "index_price",
        "mark_px": "mark_price",
    },
    "options_chain": {
        "strike": "strike_price",
        "open_interest": "open_interest",
        "bid_iv": "bid_iv",
        "ask_iv": "ask_iv",
        "mark_px": "mark_price",
        "mark_iv": "mark_iv",
        "underlying_px": "underlying_price",
        **{g: g for g in ("delta", "gamma", "vega", "theta", "rho")},
    },
}
INTS: dict[str, dict[str, str]] = {
    "derivative_ticker": {"funding_ts_us": "funding_timestamp"},
    "options_chain": {"expiry_ts_us": "expiration"},
}
TEXT: dict[str, dict[str, str]] = {
    "trades": {"trade_id": "id"},
    "options_chain": {"option_type": "type", "underlying_index": "underlying_index"},
}
SIDES = {"buy": 1, "sell": -1, "unknown": 0, "bid": 1, "ask": -1}


def test_every_real_sample_is_covered() -> None:
    """A sample added to the shared folder must join these tests (they parametrize over the lists)."""
    assert {p.name for p in SAMPLES.glob("*.csv")} == set(PLAIN_SAMPLES)
    assert {p.name for p in GZ_DIR.glob("*.csv.gz")} == set(GZ_SAMPLES)
    assert len(ALL_SAMPLES) == 16


def _or_none(text: str) -> str | None:
    return text if text != "" else None


@pytest.mark.parametrize(("path", "data_type"), ALL_SAMPLES, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_sample_parses_to_the_csv_values(vendor: TardisVendor, path: Path, data_type: str) -> None:
    rows = csv_rows(path)
    frame = vendor.read_and_parse(bronze_file(path, data_type))
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == len(rows) > 0
    assert frame.schema == DATA_TYPES[data_type].table.parse_schema()
    for i, (got, want) in enumerate(zip(frame.iter_rows(named=True), rows, strict=True)):
        assert got["file_line_number"] == i + 2  # header is line 1
        assert got["exchange"] == want["exchange"]
        assert got["exchange_symbol"] == want["symbol"]
        assert got["ts_local_us"] == int(want["local_timestamp"])
        assert got["ts_exch_us"] == int(want["timestamp"])
        for col, src in DECIMAL_TEXT[data_type].items():
            # Same text, so the same exact decimal: nothing went through a float.
            assert got[col] == _or_none(want[src]), (col, i)
            if got[col] is not None:
                assert Decimal(got[col]) == Decimal(want[src])
        for col, src in FLOATS.get(data_type, {}).items():
            assert got[col] == (float(want[src]) if want[src] else None), (col, i)
        for col, src in INTS.get(data_type, {}).items():
            assert got[col] == (int(want[src]) if want[src] else None), (col, i)
        for col, src in TEXT.get(data_type, {}).items():
            assert got[col] == _or_none(want[src]), (col, i)
        if "side" in want:
            assert got["side"] == SIDES[want["side"]]
        if "is_snapshot" in want:
            assert got["is_snapshot"] is {"true": True, "false": False}[want["is_snapshot"]]


def test_gz_and_plain_samples_parse_identically(vendor: TardisVendor) -> None:
    pairs = {
        "bitmex_trades_XBTUSD.csv": "bitmex_trades_2020-03-01_XBTUSD.csv.gz",
        "huobi-dm-swap_quotes_BTC-USD.csv": "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz",
        "binance-futures_book_snapshot_25_BTCUSDT.csv": "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv.gz",
    }
    for plain, gz in pairs.items():
        a = vendor.read_and_parse(bronze_file(SAMPLES / plain, PLAIN_SAMPLES[plain]))
        b = vendor.read_and_parse(bronze_file(GZ_DIR / gz, GZ_SAMPLES[gz]))
        assert isinstance(a, pl.DataFrame)
        assert a.equals(b)


def test_deribit_ticker_empty_funding_fields_are_nulls(vendor: TardisVendor) -> None:
    frame = vendor.read_and_parse(bronze_file(SAMPLES / "deribit_derivative_ticker.csv", "derivative_ticker"))
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == 3
    assert frame.get_column("funding_ts_us").null_count() == 3
    assert frame.get_column("predicted_funding_rate").null_count() == 3
    assert frame.get_column("funding_rate").to_list() == [0.00000459, 0.00000459, 0.00000452]


def test_quotes_take_columns_by_name_not_position(vendor: TardisVendor) -> None:
    """The quotes header is ask_amount, ask_price, bid_price, bid_amount: a positional reader swaps sides."""
    frame = vendor.read_and_parse(bronze_file(SAMPLES / "huobi-dm-swap_quotes_BTC-USD.csv", "quotes"))
    assert isinstance(frame, pl.DataFrame)
    first = frame.row(0, named=True)
    assert (first["ask_qty"], first["ask_px"], first["bid_px"], first["bid_qty"]) == ("5494", "8629.3", "8629.2", "806")


def test_book_snapshot_levels_interleave_asks_and_bids(vendor: TardisVendor) -> None:
    frame = vendor.read_and_parse(
        bronze_file(SAMPLES / "binance-futures_book_snapshot_5_BTCUSDT.csv", "book_snapshot_5")
    )
    assert isinstance(frame, pl.DataFrame)
    first = frame.row(0, named=True)
    # Row 1: asks[0] 11657.08 x 1.714, bids[0] 11657.07 x 10.896, asks[1] 11657.54 x 5.4, bids[1] 11656.97 x 0.2
    assert (first["ask0_px"], first["ask0_qty"], first["bid0_px"], first["bid0_qty"]) == (
        "11657.08",
        "1.714",
        "11657.07",
        "10.896",
    )
    assert (first["ask1_px"], first["bid1_px"]) == ("11657.54", "11656.97")
    px = [Decimal(first[f"ask{i}_px"]) for i in range(5)]
    bids = [Decimal(first[f"bid{i}_px"]) for i in range(5)]
    assert px == sorted(px)
    assert bids == sorted(bids, reverse=True)


def test_options_chain_real_header_and_empty_fields(vendor: TardisVendor) -> None:
    frame = vendor.read_and_parse(bronze_file(SAMPLES / "options_chain.csv", "options_chain"))
    assert isinstance(frame, pl.DataFrame)
    first = frame.row(0, named=True)
    assert first["option_type"] == "put"
    assert first["strike"] == 9875.0
    assert first["expiry_ts_us"] == 1591689600000000
    assert first["bid_iv"] == 55.91
    assert first["underlying_index"] == "SYN.BTC-9JUN20"
    # Rows 4 and 6 of the file (lines 5 and 7) have empty quotes or greeks: nulls, not zeros.
    assert frame.null_count().row(0, named=True)["open_interest"] >= 1
    assert set(frame.get_column("exchange_symbol")) == {
        "BTC-9JUN20-9875-P",
        "BTC-9JUN20-10000-C",
        "BTC-10JUN20-10000-C",
        "ETH-9JUN20-250-P",
        "ETH-9JUN20-300-C",
    }


WITH_FIXED_POINT = [(p, t) for p, t in ALL_SAMPLES if DECIMAL_TEXT[t]]


@pytest.mark.parametrize(("path", "data_type"), WITH_FIXED_POINT, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_decoded_fixed_point_equals_the_csv_decimals(vendor: TardisVendor, path: Path, data_type: str) -> None:
    """Parse -> infer the grid from the file's own decimals -> exact encode -> decode == the CSV, every cell.

    This is the value path of ingestion (minus storage) on every real sample: 100% of prices and sizes
    must survive exactly.
    """
    frame = vendor.read_and_parse(bronze_file(path, data_type))
    assert isinstance(frame, pl.DataFrame)
    table = DATA_TYPES[data_type].table
    rows = csv_rows(path)
    columns = [c.source_name for c in table.fixed_point_columns]
    places = (
        frame.select(decimal_places_expr(pl.col(c)).max().alias(c) for c in columns).row(0, named=True)
        if columns
        else {}
    )
    increments = {
        kind: format(
            Decimal(1).scaleb(
                -max((places[c.source_name] or 0) for c in table.fixed_point_columns if c.fixed_point == kind)
            ),
            "f",
        )
        for kind in {c.fixed_point for c in table.fixed_point_columns}
    }
    exprs: list[pl.Expr] = []
    for col in table.fixed_point_columns:
        increment = pl.lit(increments[col.fixed_point])
        enc = encode(pl.col(col.source_name), increment)
        exprs += [enc.problem.alias(f"{col.source_name}:problem"), decode(enc.count, increment).alias(col.source_name)]
    out = frame.select(exprs)
    for col in table.fixed_point_columns:
        source = col.source_name
        assert out.get_column(f"{source}:problem").null_count() == out.height, source
        csv_column = DECIMAL_TEXT[data_type][source]
        want = [Decimal(r[csv_column]) if r[csv_column] else None for r in rows]
        assert out.get_column(source).to_list() == want, source
