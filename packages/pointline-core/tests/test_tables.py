"""Table specs: every canonical table is consistent, parse schemas are right, writes are validated."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from pointline.errors import PluginError, SchemaMismatchError
from pointline.plugins.host import PluginHost
from pointline.tables.canonical import (
    DIM_SYMBOL,
    EVENT_ORDER,
    QUOTES,
    TRADES,
    book_snapshot,
    canonical_tables,
    kline,
)
from pointline.tables.spec import Column, Status, TableSpec, Tier
from pointline.tables.validate import check_frame, conform, empty_frame


@pytest.mark.parametrize("spec", canonical_tables(), ids=lambda s: s.name)
def test_every_canonical_table_is_complete(spec: TableSpec) -> None:
    assert spec.description
    assert spec.lineage_key, "every table has a lineage key"
    assert spec.ordering_key, "every table has a deterministic ordering key"
    assert isinstance(spec.tier, Tier)
    assert isinstance(spec.status, Status)
    if spec.tier is Tier.SILVER and spec.status is Status.ACTIVE:
        assert spec.partition_by == ("exchange", "date")
        assert spec.lineage_key == ("file_id", "file_line_number")
        assert spec.ordering_key == EVENT_ORDER
        assert spec.time_column == "ts_local_us"
        assert spec.is_event_table
        for name in ("ts_local_us", "ts_exch_us", "file_line_number"):
            assert spec.column(name).delta_encoded, f"{spec.name}.{name} should be delta-encoded"
        assert not spec.column("ts_local_us").nullable
        assert spec.column("file_id").dtype == pl.Int64  # Int64 end to end: a reused id lost 1 M rows


def test_trades_parse_schema_is_what_a_vendor_returns() -> None:
    assert TRADES.parse_schema() == pl.Schema(
        {
            "exchange": pl.String,
            "exchange_symbol": pl.String,
            "ts_local_us": pl.Int64,
            "ts_exch_us": pl.Int64,
            "file_line_number": pl.Int64,
            "trade_id": pl.String,
            "side": pl.Int8,
            "px": pl.String,
            "qty": pl.String,
        }
    )


def test_fixed_point_columns_become_decimal_text_named_without_int() -> None:
    assert [c.source_name for c in QUOTES.fixed_point_columns] == ["bid_px", "bid_qty", "ask_px", "ask_qty"]
    book = book_snapshot(25).parse_schema()
    assert book["ask3_qty"] == pl.String
    assert "ask3_qty_int" not in book
    assert len(book_snapshot(25).fixed_point_columns) == 100
    assert {c.fixed_point for c in kline("1m").fixed_point_columns} == {"price", "amount"}


def test_a_book_snapshot_is_wide_with_asks_before_bids_per_level() -> None:
    names = book_snapshot(5).column_names
    first_level = names.index("ask0_px_int")
    assert names[first_level : first_level + 8] == [
        "ask0_px_int",
        "ask0_qty_int",
        "bid0_px_int",
        "bid0_qty_int",
        "ask1_px_int",
        "ask1_qty_int",
        "bid1_px_int",
        "bid1_qty_int",
    ]


def test_dim_symbol_is_scd2_with_exact_increments() -> None:
    assert DIM_SYMBOL.tier is Tier.DIM
    for name in ("price_increment", "amount_increment"):
        assert DIM_SYMBOL.column(name).dtype == pl.Decimal(38, 18)
    assert {"valid_from_ts", "valid_until_ts", "is_current", "symbol_id"} <= set(DIM_SYMBOL.column_names)
    assert DIM_SYMBOL.column("expiry_ts_us").nullable
    assert DIM_SYMBOL.column("isin").nullable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": (Column("a", pl.Int64()), Column("a", pl.String()))}, "declares column(s) twice: a"),
        ({"partition_by": ("nope",)}, "partition_by names unknown column(s) nope"),
        ({"lineage_key": ("x",)}, "lineage_key names unknown column(s) x"),
        ({"ordering_key": ("y",)}, "ordering_key names unknown column(s) y"),
        ({"time_column": "t"}, "time_column 't' is not a column"),
        ({"columns": (Column("px", pl.Int64(), fixed_point="price"),)}, "must be Int64 named *_int"),
        ({"columns": (Column("px_int", pl.Float64(), fixed_point="price"),)}, "must be Int64 named *_int"),
    ],
)
def test_inconsistent_specs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"name": "t", "tier": Tier.DIM, "columns": (Column("a", pl.Int64()),), "description": "x"}
    with pytest.raises(PluginError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        TableSpec(**{**base, **kwargs})  # type: ignore[arg-type]


def trades_frame(rows: int = 2) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "exchange": ["bitmex"] * rows,
            "date": [dt.date(2020, 3, 1)] * rows,
            "symbol_id": [1] * rows,
            "ts_local_us": list(range(rows)),
            "ts_exch_us": list(range(rows)),
            "file_id": [1] * rows,
            "file_line_number": list(range(2, rows + 2)),
            "trade_id": ["a"] * rows,
            "side": [1] * rows,
            "px_int": [10] * rows,
            "qty_int": [1] * rows,
        },
        schema=TRADES.schema,
    )


def test_schema_errors_list_missing_unexpected_and_mistyped_columns() -> None:
    bad = trades_frame().drop("qty_int").with_columns(pl.col("side").cast(pl.Int64), extra=pl.lit(1))
    with pytest.raises(SchemaMismatchError) as info:
        check_frame(TRADES, bad)
    error = info.value
    assert error.missing == ["qty_int"]
    assert error.unexpected == ["extra"]
    assert error.mistyped == [("side", "Int8", "Int64")]
    assert str(error) == (
        "frame does not match the schema of table 'trades': missing qty_int; unexpected extra; "
        "mistyped side (expected Int8, got Int64)"
    )


def test_nulls_in_required_columns_are_rejected_and_nullable_ones_accepted() -> None:
    frame = trades_frame().with_columns(
        ts_exch_us=pl.lit(None, pl.Int64), trade_id=pl.lit(None, pl.String), px_int=pl.lit(None, pl.Int64)
    )
    with pytest.raises(SchemaMismatchError, match="nulls in non-nullable px_int"):
        check_frame(TRADES, frame)
    check_frame(TRADES, frame.with_columns(px_int=pl.lit(5, pl.Int64)))


def test_conform_orders_columns_and_empty_frame_has_the_schema() -> None:
    shuffled = trades_frame().select(reversed(TRADES.column_names))
    assert conform(TRADES, shuffled).columns == TRADES.column_names
    empty = empty_frame(TRADES)
    assert empty.height == 0
    assert empty.schema == TRADES.schema


def test_schema_catalog_is_reachable_through_the_host() -> None:
    host = PluginHost(entry_points_enabled=False)
    assert host.table("trades") is TRADES
    assert host.table("kline_1d").status is Status.ACTIVE
