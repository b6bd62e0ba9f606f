"""Provisional dim_symbol rows inferred from bronze (pointline.dims.infer, driven by the Tardis vendor)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.cli.app import build_app
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.dims import infer as inference
from pointline.plugins.host import PluginHost
from pointline.timeutil import MAX_TS
from tardis_helpers import GZ_DIR, GZ_SAMPLES, SAMPLES, csv_rows, flat, write_gz
from typer.testing import CliRunner

PRICE_COLUMNS = {"price", "bid_price", "ask_price", "last_price"}
AMOUNT_COLUMNS = {"amount", "bid_amount", "ask_amount"}


def _places(text: str) -> int:
    exponent = Decimal(text).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def expected_increments(paths: list[Path]) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """The grids by brute force over csv.DictReader rows: 10**-max(decimal places) per key and kind."""
    seen: dict[tuple[str, str], list[int]] = {}
    for path in paths:
        for row in csv_rows(path):
            key = (row["exchange"], row["symbol"])
            p, a = seen.setdefault(key, [0, 0])
            for col, text in row.items():
                if not text:
                    continue
                is_price = col in PRICE_COLUMNS or col.endswith("].price")
                is_amount = col in AMOUNT_COLUMNS or col.endswith("].amount")
                if (is_price and col != "last_price") or (col == "last_price" and "strike_price" in row):
                    p = max(p, _places(text))
                elif is_amount:
                    a = max(a, _places(text))
            seen[key] = [p, a]
    return {k: (Decimal(1).scaleb(-p), Decimal(1).scaleb(-a)) for k, (p, a) in seen.items()}


def fill_bronze(lake: Lake, names: list[str] | None = None) -> list[Path]:
    """Copy real gz samples flat into bronze/tardis, as the acceptance script does."""
    out = []
    for name in names or list(GZ_SAMPLES):
        dest = lake.bronze / "tardis" / name
        shutil.copy(GZ_DIR / name, dest)
        out.append(dest)
    return out


def current(lake: Lake) -> dict[tuple[str, str], tuple[Decimal, Decimal, bool]]:
    dim = dim_symbol.read(lake)
    return {
        (r["exchange"], r["exchange_symbol"]): (r["price_increment"], r["amount_increment"], r["is_inferred"])
        for r in dim.iter_rows(named=True)
    }


def test_infers_the_finest_grid_of_every_key(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    paths = fill_bronze(tmp_lake)
    report = inference.infer(tmp_lake, tardis_host, tardis_host.vendor("tardis"))
    assert report.files == len(GZ_SAMPLES)
    assert report.failures == []
    want = expected_increments(paths)
    got = current(tmp_lake)
    assert {k: v[:2] for k, v in got.items()} == want
    assert got[("binance-futures", "BTCUSDT")][:2] == (Decimal("0.01"), Decimal("0.001"))
    assert got[("okex-futures", "BTC-USD_UM_XPERP-310404")][:2] == (Decimal(1), Decimal(1))  # ticker only
    dim = dim_symbol.read(tmp_lake)
    dim_symbol.check_invariants(dim)
    assert set(dim.get_column("source")) == {"inferred"}
    assert dim.get_column("is_inferred").all()
    assert set(dim.get_column("instrument_type")) == {"unknown"}
    assert (
        dim.get_column("valid_from_ts").unique().to_list(),
        dim.get_column("valid_until_ts").unique().to_list(),
    ) == ([0], [MAX_TS])
    asset = dict(zip(dim.get_column("exchange"), dim.get_column("asset_class"), strict=True))
    assert asset["bitmex"] == "crypto_derivative"
    assert set(report.keys.get_column("status")) == {inference.NEW}


def test_second_run_changes_nothing(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake)
    vendor = tardis_host.vendor("tardis")
    inference.infer(tmp_lake, tardis_host, vendor)
    version = dim_symbol.store(tmp_lake).version()
    report = inference.infer(tmp_lake, tardis_host, vendor)
    assert set(report.keys.get_column("status")) == {inference.UNCHANGED}
    assert report.written == 0
    assert dim_symbol.store(tmp_lake).version() == version


def test_finer_decimals_refine_and_report_backfill(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake, ["bitmex_trades_2020-03-01_XBTUSD.csv.gz"])
    vendor = tardis_host.vendor("tardis")
    inference.infer(tmp_lake, tardis_host, vendor)
    before = dim_symbol.read(tmp_lake)
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    write_gz(
        tmp_lake.bronze / "tardis" / "bitmex_trades_2020-03-02_XBTUSD.csv.gz",
        f"{header}\nbitmex,XBTUSD,1583107200000000,1583107200100000,x,buy,8531.25,3\n",
    )
    result = CliRunner().invoke(build_app(), ["tardis", "symbols", "infer"])
    assert result.exit_code == 0, result.output
    assert "refined" in flat(result.output)
    assert "ingest backfill" in flat(result.output)
    got = current(tmp_lake)[("bitmex", "XBTUSD")]
    assert got == (Decimal("0.01"), Decimal(1), True)
    after = dim_symbol.read(tmp_lake)
    assert after.get_column("symbol_id").to_list() == before.get_column("symbol_id").to_list()  # same window, same id


def test_grids_never_get_coarser(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    """A key inferred finer before (say from a file since removed) keeps its finer grid."""
    fill_bronze(tmp_lake, ["bitmex_trades_2020-03-01_XBTUSD.csv.gz"])
    fine = dim_symbol.versions_frame(
        [
            {
                "exchange": "bitmex", "exchange_symbol": "XBTUSD", "valid_from_ts": 0, "valid_until_ts": MAX_TS,
                "asset_class": "crypto_derivative", "instrument_type": "unknown", "price_increment": Decimal("0.001"),
                "amount_increment": Decimal(1), "source": "inferred", "is_inferred": True,
            }
        ]
    )  # fmt: skip
    dim_symbol.upsert(tmp_lake, fine)
    report = inference.infer(tmp_lake, tardis_host, tardis_host.vendor("tardis"))
    assert report.keys.row(0, named=True)["status"] == inference.UNCHANGED
    assert current(tmp_lake)[("bitmex", "XBTUSD")][0] == Decimal("0.001")


def test_synced_keys_are_never_overwritten(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake, ["bitmex_trades_2020-03-01_XBTUSD.csv.gz", "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz"])
    synced = dim_symbol.versions_frame(
        [
            {
                "exchange": "bitmex", "exchange_symbol": "XBTUSD", "valid_from_ts": 1553904000000000, "valid_until_ts": MAX_TS,
                "asset_class": "crypto_derivative", "instrument_type": "perpetual", "price_increment": Decimal("0.5"),
                "amount_increment": Decimal(100), "source": "tardis", "is_inferred": False,
            }
        ]
    )  # fmt: skip
    dim_symbol.upsert(tmp_lake, synced)
    report = inference.infer(tmp_lake, tardis_host, tardis_host.vendor("tardis"))
    status = dict(zip(report.keys.get_column("exchange_symbol"), report.keys.get_column("status"), strict=True))
    assert status == {"XBTUSD": inference.SYNCED, "BTC-USD": inference.NEW}
    assert current(tmp_lake)[("bitmex", "XBTUSD")] == (Decimal("0.5"), Decimal(100), False)


def test_unknown_exchange_and_unreadable_files_do_not_stop_inference(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake, ["bitmex_trades_2020-03-01_XBTUSD.csv.gz"])
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    write_gz(
        tmp_lake.bronze / "tardis" / "nowhere_trades_2020-03-01_ABC.csv.gz",
        f"{header}\nnowhere,ABC,1583020803145000,1583020803145100,x,buy,1.5,1\n",
    )
    cut = (GZ_DIR / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz").read_bytes()
    (tmp_lake.bronze / "tardis" / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz").write_bytes(cut[:60])
    report = inference.infer(tmp_lake, tardis_host, tardis_host.vendor("tardis"))
    status = dict(zip(report.keys.get_column("exchange_symbol"), report.keys.get_column("status"), strict=True))
    assert status == {"XBTUSD": inference.NEW, "ABC": inference.UNKNOWN_EXCHANGE}
    assert [f.path for f in report.failures] == ["tardis/huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz"]
    assert "truncated or corrupt gzip" in report.failures[0].error
    assert set(current(tmp_lake)) == {("bitmex", "XBTUSD")}


def test_dry_run_and_exchange_filter(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake)
    vendor = tardis_host.vendor("tardis")
    report = inference.infer(tmp_lake, tardis_host, vendor, dry_run=True)
    assert report.keys.height == 5
    assert report.written == 0
    assert not dim_symbol.store(tmp_lake).exists()
    only = inference.infer(tmp_lake, tardis_host, vendor, exchange="Deribit")
    assert only.keys.get_column("exchange_symbol").to_list() == ["BTC-PERPETUAL"]
    assert set(current(tmp_lake)) == {("deribit", "BTC-PERPETUAL")}


def test_grouped_options_file_infers_each_row_symbol(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    text = (SAMPLES / "options_chain.csv").read_text()
    write_gz(tmp_lake.bronze / "tardis" / "deribit_options_chain_2020-06-08_OPTIONS.csv.gz", text)
    report = inference.infer(tmp_lake, tardis_host, tardis_host.vendor("tardis"))
    assert "OPTIONS" not in report.keys.get_column("exchange_symbol").to_list()
    want = expected_increments([SAMPLES / "options_chain.csv"])
    assert {k: v[:2] for k, v in current(tmp_lake).items()} == want
    assert len(want) == 5


def test_cli_infer_prints_a_table(tardis_host: PluginHost, tmp_lake: Lake) -> None:
    fill_bronze(tmp_lake)
    result = CliRunner().invoke(build_app(), ["tardis", "symbols", "infer"])
    assert result.exit_code == 0, result.output
    assert "wrote 5 inferred symbols (5 new)" in flat(result.output)
    assert "XBTUSD" in flat(result.output)
    assert "0.001" in flat(result.output)


NUMBERS = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=None
)


@given(value=NUMBERS, form=st.sampled_from(["plain", "sci", "padded"]))
def test_decimal_places_expression_matches_decimal_arithmetic(value: Decimal, form: str) -> None:
    text = {
        "plain": format(value, "f"),
        "sci": format(value, "e"),
        "padded": format(value, "f") + ("0" if "." in format(value, "f") else ".000"),
    }[form]
    _, digits, exponent = Decimal(text).as_tuple()  # exact (normalize() would round to 28 digits)
    assert isinstance(exponent, int)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    want = 0 if digits == (0,) else min(18, max(0, -exponent))
    got = pl.select(inference.decimal_places_expr(pl.lit(text))).item()
    assert got == want, text
    if form != "sci":  # the fast formula for exponent-free text agrees
        assert pl.select(inference.decimal_places_expr(pl.lit(text), scientific=False)).item() == want, text


@pytest.mark.parametrize("text", ["", "abc", ".", "1.2.3", "e5", "x.yyyyyyy", None])
def test_decimal_places_of_non_numbers_is_null(text: str | None) -> None:
    assert pl.select(inference.decimal_places_expr(pl.lit(text, pl.String))).item() is None
    assert pl.select(inference.decimal_places_expr(pl.lit(text, pl.String), scientific=False)).item() is None


def _reference_places(text: str) -> int:
    _, digits, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return 0 if digits == (0,) else min(18, max(0, -exponent))


CELL = st.one_of(
    st.none(),
    st.decimals(
        allow_nan=False, allow_infinity=False, min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=8
    ).map(lambda d: format(d, "f")),
    st.sampled_from(["1.5e-7", "2E3", "100", "0.50", "7.000"]),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), CELL, CELL), min_size=1, max_size=40))
def test_observe_matches_a_brute_force_per_key(rows: list[tuple[str, str | None, str | None]]) -> None:
    """Single-instrument frames (distinct-value path) and grouped ones (per-row path) agree with Decimal."""
    from pointline.tables.canonical import TRADES

    frame = pl.DataFrame(
        {
            "exchange": ["x"] * len(rows),
            "exchange_symbol": [r[0] for r in rows],
            "px": [r[1] for r in rows],
            "qty": [r[2] for r in rows],
        },
        schema={"exchange": pl.String, "exchange_symbol": pl.String, "px": pl.String, "qty": pl.String},
    )
    got = {
        r["exchange_symbol"]: (r["price_places"], r["amount_places"])
        for r in inference.observe(frame, TRADES).iter_rows(named=True)
    }
    want: dict[str, tuple[int | None, int | None]] = {}
    for symbol, px, qty in rows:
        p, a = want.get(symbol, (None, None))
        if px is not None:
            p = max(p or 0, _reference_places(px))
        if qty is not None:
            a = max(a or 0, _reference_places(qty))
        want[symbol] = (p, a)
    assert got == want
