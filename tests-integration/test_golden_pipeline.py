"""Golden end to end: fixed bronze -> the ``pointline`` CLI -> silver equal, row for row, to reviewed files.

The bronze (real Tardis samples, a grouped options file, small generated files) and the commands
(``tardis symbols infer``, ``tardis symbols sync``, ``ingest run``) are described in
``golden/pipeline.py``; the expected tables are ``golden/expected/*.csv``, written by
``golden/make_golden.py`` and reviewed by eye (``golden/README.md``).

Beyond the row-for-row comparison, the research API is checked against the bronze text itself: every
price and size that ``pointline_research.query`` decodes equals the decimal in the vendor's CSV, read
here with the standard library's ``csv`` module and a column mapping written out by hand.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from golden import pipeline
from pointline.config import Lake
from pointline.plugins.host import reset_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import QUARANTINE, VALIDATION_LOG
from pointline_research import query

REGENERATE = (
    "If the change is intended, regenerate with `python tests-integration/golden/make_golden.py` and review "
    "`git diff tests-integration/golden/expected` row by row before committing (golden/README.md)."
)


@dataclass(frozen=True)
class GoldenLake:
    root: Path
    tables: dict[str, pl.DataFrame] = field(repr=False)
    """The compared tables after the first ingest."""
    forced: dict[str, pl.DataFrame] = field(repr=False)
    """The same tables after ``pointline ingest run --force`` re-ingested every file."""


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldenLake]:
    root = tmp_path_factory.mktemp("golden") / "lake"
    pipeline.build(root)
    tables = pipeline.snapshot_all(root)
    pipeline.pointline(root, "ingest", "run", "--force")
    reset_host(None)  # the research reads below load the installed plugins, like a notebook does
    yield GoldenLake(root, tables, pipeline.snapshot_all(root))
    reset_host(None)


@pytest.mark.parametrize("name", pipeline.GOLDEN)
def test_table_equals_its_golden_file(golden: GoldenLake, name: str) -> None:
    diff = pipeline.difference(pipeline.read_expected(name), golden.tables[name])
    assert diff is None, f"{name} differs from golden/expected/{name}.csv:\n{diff}\n\n{REGENERATE}"


def test_every_file_lands_whole_and_nothing_is_quarantined(golden: GoldenLake) -> None:
    manifest = golden.tables["ingest_manifest"]
    assert manifest.height == len(list((golden.root / "bronze" / "tardis").iterdir())) == 26
    assert set(manifest.get_column("status")) == {"success"}
    assert (manifest.get_column("rows_read") == manifest.get_column("rows_written")).all()
    assert TableStore(Lake(golden.root), QUARANTINE).read().height == 0
    # Every silver table of the issue is fed, and its rows are exactly those the manifest counts.
    for table in pipeline.SILVER:
        landed = manifest.filter(pl.col("table_name") == table).get_column("rows_written").sum()
        assert golden.tables[table].height == landed > 0, table


def test_forced_reingest_leaves_every_table_as_it_was(golden: GoldenLake) -> None:
    log = TableStore(Lake(golden.root), VALIDATION_LOG).read()
    runs = log.group_by("run_id").agg(pl.len(), pl.col("status").unique(), pl.col("rows_written").sum())
    # Two runs (the first ingest, then the forced one), each writing every file again, all of it.
    assert runs.height == 2
    assert runs.get_column("len").to_list() == [26, 26]
    assert runs.get_column("status").to_list() == [["success"], ["success"]]
    assert runs.get_column("rows_written").n_unique() == 1
    for name in pipeline.GOLDEN:
        diff = pipeline.difference(golden.tables[name], golden.forced[name])
        assert diff is None, f"`ingest run --force` changed {name}:\n{diff}"


def test_sync_then_infer_gives_the_same_dim_symbol_as_infer_then_sync(tmp_path: Path) -> None:
    """Infer skips keys that have synced versions; sync replaces inferred ones: the order does not matter."""
    root = tmp_path / "lake"
    pipeline.stage_bronze(root)
    pipeline.sync_symbols(root)
    out = pipeline.infer_symbols(root)
    assert "4 synced" in out
    diff = pipeline.difference(pipeline.read_expected("dim_symbol"), pipeline.snapshot(root, "dim_symbol"))
    assert diff is None, f"sync then infer gave another dim_symbol:\n{diff}"


# -- decoded values against the bronze text ----------------------------------------------------------
def _book(depth: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(depth):
        for side in ("ask", "bid"):
            out |= {f"{side}{i}_px": f"{side}s[{i}].price", f"{side}{i}_qty": f"{side}s[{i}].amount"}
    return out


DECIMALS: dict[str, dict[str, str]] = {
    "trades": {"px": "price", "qty": "amount"},
    "quotes": {"bid_px": "bid_price", "bid_qty": "bid_amount", "ask_px": "ask_price", "ask_qty": "ask_amount"},
    "book_snapshot_25": _book(25),
    "book_snapshot_5": _book(5),
    "incremental_book_l2": {"px": "price", "qty": "amount"},
    "derivative_ticker": {},
    "options_chain": {
        "last_px": "last_price",
        "bid_px": "bid_price",
        "bid_qty": "bid_amount",
        "ask_px": "ask_price",
        "ask_qty": "ask_amount",
    },
}
"""Decoded research column -> Tardis CSV column, per table (written from the documented headers)."""
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
        **{greek: greek for greek in ("delta", "gamma", "vega", "theta", "rho")},
    },
}
"""Float columns (computed by the venue, off any grid) -> CSV column: stored as the nearest double."""


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


def _mismatches(table: str, rows: list[dict[str, str]], got: pl.DataFrame) -> Iterator[str]:
    """Cells where the research API's row differs from the CSV row of the same physical line."""
    if got.get_column("file_line_number").to_list() != list(range(2, len(rows) + 2)):
        yield f"lines {got.get_column('file_line_number').to_list()[:5]}... for {len(rows)} CSV rows"
        return
    columns = {"exchange_symbol": "symbol", "ts_local_us": "local_timestamp", "ts_exch_us": "timestamp"}
    for line, (want, have) in enumerate(zip(rows, got.iter_rows(named=True), strict=True), start=2):
        expected: dict[str, object] = {c: want[s] for c, s in columns.items()}
        expected |= {"ts_local_us": int(want["local_timestamp"]), "ts_exch_us": int(want["timestamp"])}
        expected |= {c: Decimal(want[s]) if want[s] else None for c, s in DECIMALS[table].items()}
        expected |= {c: float(want[s]) if want[s] else None for c, s in FLOATS.get(table, {}).items()}
        for column, value in expected.items():
            if have[column] != value:
                yield f"line {line} {column}: CSV {value!r}, research API {have[column]!r}"


def test_research_api_decodes_every_price_and_size_to_the_bronze_decimal(golden: GoldenLake) -> None:
    """Real samples and generated files alike; BTCUSDT's day 1 decodes rows of both tick sizes."""
    lake = Lake(golden.root)
    checked = 0
    problems: list[str] = []
    for file in golden.tables["ingest_manifest"].iter_rows(named=True):
        table = file["table_name"]
        spec = pipeline.SPECS[table]
        assert set(DECIMALS[table]) == {c.name.removesuffix("_int") for c in spec.fixed_point_columns}, table
        rows = _csv_rows(lake.bronze / file["bronze_path"])
        symbols = sorted({r["symbol"] for r in rows})
        start = min(int(r["local_timestamp"]) for r in rows)
        end = max(int(r["local_timestamp"]) for r in rows) + 1
        got = (
            query.table(table, file["exchange"], symbols, start, end, decoded=True, with_symbol=True, lake=lake)
            .filter(pl.col("file_id") == file["file_id"])
            .collect()
            .sort("file_line_number")
        )
        problems += [f"{file['bronze_path']}: {m}" for m in _mismatches(table, rows, got)]
        checked += len(rows) * (len(DECIMALS[table]) + len(FLOATS.get(table, {})))
    assert not problems, f"{len(problems)} cells differ; the first 20:\n" + "\n".join(problems[:20])
    # 26 files; the two book snapshots alone hold 10 x 100 + 10 x 20 decimal cells.
    assert checked > 5_000


def test_a_difference_names_the_rows_that_changed() -> None:
    """The failure message of a golden test shows the rows that differ, not just "not equal"."""
    expected = pl.DataFrame({"id": [1, 2, 3], "px": [10, None, 30]})
    assert pipeline.difference(expected, expected.clone()) is None
    changed = pipeline.difference(expected, pl.DataFrame({"id": [1, 2, 4], "px": [10, 20, 30]}))
    assert changed is not None
    assert "2 expected rows missing, 2 unexpected rows" in changed
    for row in ("- 2,<null>", "- 3,30", "+ 2,20", "+ 4,30"):
        assert row in changed
    assert "different order" in str(pipeline.difference(expected, expected.reverse()))
    assert "columns differ" in str(pipeline.difference(expected, expected.with_columns(pl.col("px").cast(pl.Float64))))
