"""TableStore: validated, one-commit writes with the measured writer properties; idempotent replaces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake.exceptions import DeltaError
from pointline.config import Lake
from pointline.errors import SchemaMismatchError
from pointline.storage.delta import MergeScopeError, TableStore, scope_predicate, table_path, writer_properties
from pointline.storage.predicates import all_of, equals, is_in, literal
from pointline.tables.canonical import DIM_EXCHANGE, INGEST_MANIFEST, TRADES, book_snapshot
from pointline.tables.spec import Column, TableSpec, Tier
from polars.testing import assert_frame_equal

DAY = dt.date(2024, 5, 1)


def trades(file_id: int, rows: int, *, exchange: str = "binance", date: dt.date = DAY, px: int = 100) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "exchange": [exchange] * rows,
            "date": [date] * rows,
            "symbol_id": [42] * rows,
            "ts_local_us": [1_714_521_600_000_000 + i * 1000 for i in range(rows)],
            "ts_exch_us": [1_714_521_600_000_000 + i * 1000 - 7 for i in range(rows)],
            "file_id": [file_id] * rows,
            "file_line_number": list(range(2, rows + 2)),
            "trade_id": [str(i) for i in range(rows)],
            "side": [1 if i % 2 else -1 for i in range(rows)],
            "px_int": [px + i for i in range(rows)],
            "qty_int": [i + 1 for i in range(rows)],
        },
        schema=TRADES.schema,
    )


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(TRADES.column_names).sort("file_id", "file_line_number")


def parquet_files(store: TableStore) -> list[Path]:
    return sorted(store.path.rglob("*.parquet"))


def test_tables_live_under_their_tier(lake: Lake) -> None:
    assert table_path(lake, TRADES) == lake.root / "silver" / "trades"
    assert table_path(lake, DIM_EXCHANGE) == lake.root / "dim" / "dim_exchange"
    assert table_path(lake, INGEST_MANIFEST) == lake.root / "control" / "ingest_manifest"
    gold = TableSpec("daily", Tier.GOLD, (Column("k", pl.Int64()),), "x", lineage_key=("k",), ordering_key=("k",))
    assert table_path(lake, gold) == lake.root / "gold" / "daily"


def test_missing_table_scans_as_an_empty_frame_of_its_schema(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    assert not store.exists()
    assert store.version() is None
    assert store.read().schema == TRADES.schema
    store.delete_where("file_id = 1")  # a no-op, not an error
    store.create()
    assert store.exists()
    assert store.version() == 0
    assert store.read().height == 0


def test_append_round_trips_exactly(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    frame = trades(7, 5)
    store.append(frame)
    assert store.version() == 0
    assert_frame_equal(ordered(store.read()), frame)
    assert_frame_equal(ordered(store.scan().filter(pl.col("file_id") == 7).collect()), frame)


def test_writes_are_validated_against_the_spec(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    with pytest.raises(SchemaMismatchError, match="missing qty_int"):
        store.append(trades(1, 2).drop("qty_int"))
    assert not store.exists()  # nothing was written


def test_writer_properties_zstd_and_delta_binary_packed_on_slowly_varying_columns(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(trades(1, 1000))
    (path,) = parquet_files(store)
    assert path.name.endswith(".zstd.parquet")
    metadata = pq.ParquetFile(path).metadata
    group = metadata.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    for name, column in columns.items():
        assert column.compression == "ZSTD", name
    for name in ("ts_local_us", "ts_exch_us", "file_line_number", "px_int"):
        encodings = set(columns[name].encodings)
        assert "DELTA_BINARY_PACKED" in encodings, (name, encodings)
        assert not encodings & {"RLE_DICTIONARY", "PLAIN_DICTIONARY"}, (name, encodings)
    # Sizes jump around: a dictionary compresses them better than deltas.
    assert "DELTA_BINARY_PACKED" not in set(columns["qty_int"].encodings)
    props = writer_properties(TRADES)
    assert props.compression == "ZSTD(1)"
    assert props.max_row_group_size == 1_048_576


def test_wide_book_tables_write_without_dictionaries(lake: Lake) -> None:
    spec = book_snapshot(25)
    row = {c.name: 1 for c in spec.columns} | {"exchange": "binance", "date": DAY}
    frame = pl.DataFrame([row] * 3, schema=spec.schema)
    store = TableStore(lake, spec)
    store.append(frame)
    (path,) = parquet_files(store)
    group = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {group.column(i).path_in_schema: set(group.column(i).encodings) for i in range(group.num_columns)}
    assert "RLE_DICTIONARY" not in encodings["ask0_px_int"]
    assert "RLE_DICTIONARY" not in encodings["symbol_id"]


def test_replace_where_is_idempotent_and_one_commit(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(trades(1, 3))
    predicate = all_of(equals("exchange", "binance"), is_in("date", [DAY]), is_in("file_id", [2]))
    store.replace_where(trades(2, 4), predicate)
    store.replace_where(trades(2, 4), predicate)  # a retry
    store.replace_where(trades(2, 4, px=500), predicate)  # a corrected re-ingest
    assert store.version() == 3  # one commit per write
    got = ordered(store.read())
    assert_frame_equal(got, pl.concat([trades(1, 3), trades(2, 4, px=500)]))
    assert got.select("file_id", "file_line_number").is_duplicated().sum() == 0


def test_replace_where_rejects_rows_outside_its_predicate(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(trades(1, 2))
    with pytest.raises(DeltaError, match="2 rows failed validation check"):
        store.replace_where(trades(3, 2), "file_id = 2")
    assert_frame_equal(ordered(store.read()), trades(1, 2))


def test_replace_where_creates_a_missing_table(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.replace_where(trades(5, 2), "file_id = 5")
    assert store.read().height == 2


def test_overwrite_and_delete_where(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(trades(1, 3))
    store.overwrite(trades(9, 2))
    assert store.read()["file_id"].unique().to_list() == [9]
    store.delete_where("file_id = 9 AND file_line_number = 2")
    assert store.read()["file_line_number"].to_list() == [3]


def test_merge_upserts_inside_its_literal_scope(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(pl.concat([trades(1, 3), trades(1, 3, exchange="okex")]))
    update = trades(1, 5, px=900)  # lines 2-4 exist (updated), 5-6 are new
    metrics = store.merge(update, scope={"exchange": "binance", "date": [DAY], "file_id": [1]})
    assert metrics["num_target_rows_updated"] == 3
    assert metrics["num_target_rows_inserted"] == 2
    assert store.version() == 1
    got = store.read()
    assert_frame_equal(ordered(got.filter(pl.col("exchange") == "binance")), update)
    # Same keys on another exchange, outside the scope: untouched.
    assert_frame_equal(ordered(got.filter(pl.col("exchange") == "okex")), trades(1, 3, exchange="okex"))


def test_merge_without_update_keeps_existing_rows(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    store.append(trades(1, 2))
    metrics = store.merge(trades(1, 3, px=900), scope={"exchange": "binance", "file_id": 1}, update=False)
    assert (metrics["num_target_rows_updated"], metrics["num_target_rows_inserted"]) == (0, 1)
    assert store.read().sort("file_line_number")["px_int"].to_list() == [100, 101, 902]


def test_merge_refuses_a_full_scan_and_rows_outside_its_scope(lake: Lake) -> None:
    store = TableStore(lake, TRADES)
    with pytest.raises(MergeScopeError, match="needs literal scope terms"):
        store.merge(trades(1, 2), scope={})
    with pytest.raises(MergeScopeError, match="2 rows lie outside the scope"):
        store.merge(trades(1, 2), scope={"exchange": "okex"})
    with pytest.raises(MergeScopeError, match="unknown columns"):
        store.merge(trades(1, 2), scope={"venue": "binance"})
    assert not store.exists()


def test_scope_predicates_are_literal_sql() -> None:
    scope = {"exchange": "o'k", "date": [DAY, dt.date(2024, 4, 30)], "file_id": 7}
    assert scope_predicate(scope) == "(exchange = 'o''k') AND (date IN ('2024-04-30', '2024-05-01')) AND (file_id = 7)"
    assert scope_predicate({"file_id": [3, 1, 3]}, alias="t") == "(t.file_id IN (1, 3))"


def test_predicate_literals() -> None:
    assert literal("it's") == "'it''s'"
    assert literal(True) == "true"
    assert literal(-5) == "-5"
    assert literal(DAY) == "'2024-05-01'"
    assert is_in("x", []) == "false"
    assert is_in("x", ["b", "a", "b"]) == "x IN ('a', 'b')"
    assert all_of("a = 1", "", "b = 2") == "(a = 1) AND (b = 2)"
    with pytest.raises(TypeError, match="float"):
        literal(1.5)
