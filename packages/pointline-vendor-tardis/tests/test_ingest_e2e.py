"""End to end: every real sample in bronze -> `symbols infer` -> core ingestion -> silver, decoded == CSV.

Uses core's ingestion service exactly as `pointline ingest run` does, then reads silver and dim_symbol
back and decodes every fixed-point cell with its row's dim_symbol version: 100% of prices and sizes
must equal the CSV decimals, every row must land, grouped files must resolve per-row symbols, and
Deribit's empty funding fields must be nulls.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from pointline.codec import decode
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.dims import infer as inference
from pointline.ingest.service import IngestService, RunReport
from pointline.plugins.host import PluginHost, reset_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import INGEST_MANIFEST, QUARANTINE
from tardis_helpers import GZ_DIR, GZ_SAMPLES, PLAIN_SAMPLES, SAMPLES, TARDIS_NAMES, csv_rows, perpetuals_file

from pointline_vendor_tardis import hooks
from pointline_vendor_tardis.parsers import DATA_TYPES


def run_ingest(lake: Lake, host: PluginHost) -> RunReport:
    """`pointline ingest run`, in process, with these plugins."""
    return IngestService(lake, host).run()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, dict[str, tuple[Path, str]]]:
    """A lake holding every real sample (both copies) and a grouped PERPETUALS file, inferred and ingested."""
    from pointline.plugins.host import reset_host

    from pointline_vendor_tardis import hooks

    lake = Lake(tmp_path_factory.mktemp("e2e") / "lake")
    bronze = lake.bronze / "tardis"
    bronze.mkdir(parents=True)
    sources: dict[str, tuple[Path, str]] = {}
    for name, data_type in GZ_SAMPLES.items():
        shutil.copy(GZ_DIR / name, bronze / name)
        sources[f"tardis/{name}"] = (GZ_DIR / name, data_type)
    for name, data_type in PLAIN_SAMPLES.items():
        target = f"plain/{TARDIS_NAMES[name]}"
        (bronze / target).parent.mkdir(exist_ok=True)
        shutil.copy(SAMPLES / name, bronze / target)
        sources[f"tardis/{target}"] = (SAMPLES / name, data_type)
    grouped = perpetuals_file(bronze / "deribit_derivative_ticker_2026-08-10_PERPETUALS.csv.gz")
    sources[f"tardis/{grouped.name}"] = (grouped, "derivative_ticker")
    host = PluginHost(entry_points_enabled=False, extra_plugins=[("tardis", hooks)])
    reset_host(host)  # worker code paths that call get_host() see the same plugins
    try:
        inference.infer(lake, host, host.vendor("tardis"))
        report = run_ingest(lake, host)
    finally:
        reset_host(None)
    assert report.ok, [r.error for r in report.failed] + [p.error for p in report.problems]
    return lake, sources


def test_every_file_lands_with_every_row(ingested: tuple[Lake, dict[str, tuple[Path, str]]]) -> None:
    lake, sources = ingested
    manifest = TableStore(lake, INGEST_MANIFEST).read()
    assert sorted(manifest.get_column("bronze_path")) == sorted(sources)
    assert set(manifest.get_column("status")) == {"success"}
    assert TableStore(lake, QUARANTINE).read().height == 0
    for row in manifest.iter_rows(named=True):
        source, _ = sources[row["bronze_path"]]
        assert row["rows_written"] == len(csv_rows(source)), row["bronze_path"]


def _silver(lake: Lake, file_id: int, data_type: str) -> pl.DataFrame:
    spec = DATA_TYPES[data_type].table
    rows = TableStore(lake, spec).scan().filter(pl.col("file_id") == file_id).collect().sort("file_line_number")
    dim = dim_symbol.read(lake).select("symbol_id", "exchange_symbol", "price_increment", "amount_increment")
    return rows.join(dim, on="symbol_id", how="left")


def test_decoded_silver_equals_the_csv_exactly(ingested: tuple[Lake, dict[str, tuple[Path, str]]]) -> None:
    lake, sources = ingested
    manifest = TableStore(lake, INGEST_MANIFEST).read()
    cells = 0
    for row in manifest.iter_rows(named=True):
        source, data_type = sources[row["bronze_path"]]
        table = DATA_TYPES[data_type].table
        silver = _silver(lake, row["file_id"], data_type)
        want = csv_rows(source)
        assert silver.height == len(want)
        assert silver.get_column("file_line_number").to_list() == list(range(2, len(want) + 2))
        # Per-row symbols (grouped files included), resolved to the right dim_symbol version.
        assert silver.get_column("exchange_symbol").to_list() == [r["symbol"] for r in want]
        assert silver.get_column("exchange").to_list() == [r["exchange"] for r in want]
        assert silver.get_column("ts_local_us").to_list() == [int(r["local_timestamp"]) for r in want]
        fields = {f.target: f.source for f in DATA_TYPES[data_type].fields}
        for col in table.fixed_point_columns:
            increment = "price_increment" if col.fixed_point == "price" else "amount_increment"
            decoded = silver.select(decode(pl.col(col.name), pl.col(increment))).to_series().to_list()
            csv_col = fields[col.source_name]
            assert decoded == [Decimal(r[csv_col]) if r[csv_col] else None for r in want], (
                row["bronze_path"],
                col.name,
            )
            cells += len(want)
    assert cells >= 2000  # the two copies of the 25-level book alone hold 2 x 10 rows x 100 cells


def test_deribit_ticker_with_empty_funding_fields_ingests_with_nulls(
    ingested: tuple[Lake, dict[str, tuple[Path, str]]],
) -> None:
    lake, _ = ingested
    ticker = TableStore(lake, DATA_TYPES["derivative_ticker"].table).read().filter(pl.col("exchange") == "deribit")
    assert ticker.height == 3 + 3 + 3  # gz copy, plain copy, and the grouped PERPETUALS file
    assert ticker.get_column("funding_ts_us").null_count() == ticker.height
    assert ticker.get_column("predicted_funding_rate").null_count() == ticker.height
    assert ticker.get_column("funding_rate").null_count() == 0


def test_grouped_file_rows_resolve_to_their_own_symbols(ingested: tuple[Lake, dict[str, tuple[Path, str]]]) -> None:
    lake, _ = ingested
    manifest = TableStore(lake, INGEST_MANIFEST).read()
    file_id = manifest.filter(pl.col("bronze_path").str.ends_with("_PERPETUALS.csv.gz")).get_column("file_id").item()
    silver = _silver(lake, file_id, "derivative_ticker")
    by_symbol = (
        silver.group_by("exchange", "exchange_symbol").agg(pl.col("symbol_id").n_unique(), pl.len()).sort("exchange")
    )
    assert by_symbol.rows() == [
        ("deribit", "BTC-PERPETUAL", 1, 3),
        ("okex-futures", "BTC-USD_UM_XPERP-310404", 1, 8),
        ("okex-swap", "BTC-USDC-SWAP", 1, 6),
    ]
    assert set(silver.get_column("date").cast(pl.String)) >= {"2023-04-01", "2023-05-01", "2026-08-10"}


def test_unsupported_data_type_is_reported_not_skipped(tmp_path: Path) -> None:
    """A Tardis file of a data type with no table (book_ticker) fails visibly; the other files land."""
    lake = Lake(tmp_path / "lake")
    bronze = lake.bronze / "tardis"
    bronze.mkdir(parents=True)
    shutil.copy(GZ_DIR / "bitmex_trades_2020-03-01_XBTUSD.csv.gz", bronze)
    shutil.copy(
        GZ_DIR / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv.gz",
        bronze / "huobi-dm-swap_book_ticker_2020-05-01_BTC-USD.csv.gz",
    )
    host = PluginHost(entry_points_enabled=False, extra_plugins=[("tardis", hooks)])
    reset_host(host)
    try:
        inference.infer(lake, host, host.vendor("tardis"))
        report = run_ingest(lake, host)
    finally:
        reset_host(None)
    assert [p.bronze_path for p in report.problems] == ["tardis/huobi-dm-swap_book_ticker_2020-05-01_BTC-USD.csv.gz"]
    assert "no table for data type 'book_ticker'" in report.problems[0].error
    assert report.rows_written == 10
