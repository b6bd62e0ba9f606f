"""DuckDB views: same rows as Polars, typed partitions, pinned to the snapshot read at connect time."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.tables.canonical import TRADES
from pointline_research import duck, query
from pointline_research.errors import ResearchInputError
from research_kit import DAY, NY_EX, T0, UTC_EX, ids_of, manifest_row, version, write_dim, write_events, write_manifest


@pytest.fixture
def small_lake(lake: Lake) -> Lake:
    dim = write_dim(lake, [version("BTCUSDT", T0 - DAY), version("IBM", T0 - DAY, exchange=NY_EX)])
    (btc,), (ibm,) = ids_of(dim, "BTCUSDT"), ids_of(dim, "IBM")
    write_events(
        lake,
        TRADES,
        [{"symbol_id": btc, "ts_local_us": T0 + i * DAY // 2, "px_int": 10 + i, "qty_int": 1} for i in range(4)],
    )
    write_events(lake, TRADES, [{"symbol_id": ibm, "ts_local_us": T0 + DAY, "px_int": 5, "qty_int": 1}], exchange=NY_EX)
    write_manifest(lake, [manifest_row(1, "pathvendor/a.csv", dates=[dt.date(2024, 5, 1), dt.date(2024, 5, 2)])])
    return lake


def test_views_answer_like_polars_with_typed_partition_columns(small_lake: Lake) -> None:
    con = duck.connect(small_lake)
    by_duck = con.sql("SELECT exchange, date, count(*) AS n FROM trades GROUP BY 1, 2 ORDER BY 1, 2").pl()
    by_polars = (
        TableStore(small_lake, TRADES).read().group_by("exchange", "date").agg(n=pl.len()).sort("exchange", "date")
    )
    assert by_duck.rows() == by_polars.rows()
    assert by_duck.schema["date"] == pl.Date
    assert by_duck.schema["exchange"] == pl.String
    assert con.sql("SELECT * FROM trades LIMIT 0").columns == TRADES.column_names
    dims = con.sql("SELECT exchange_symbol, price_increment FROM dim_symbol ORDER BY 1").fetchall()
    assert [r[0] for r in dims] == ["BTCUSDT", "IBM"]
    dates = con.sql("SELECT dates FROM ingest_manifest").fetchall()
    assert dates == [([dt.date(2024, 5, 1), dt.date(2024, 5, 2)],)]


def test_a_connection_stays_on_its_snapshot(small_lake: Lake) -> None:
    con = duck.connect(small_lake, tables=["trades"])
    version_before = TableStore(small_lake, TRADES).version()
    rows = query.trades(UTC_EX, "BTCUSDT", T0, T0 + 3 * DAY, lake=small_lake).collect()
    write_events(
        small_lake,
        TRADES,
        [{"symbol_id": rows["symbol_id"][0], "ts_local_us": T0 + 3, "px_int": 1, "qty_int": 1, "file_id": 9}],
    )
    assert con.sql("SELECT count(*) FROM trades").fetchall() == [(5,)]
    assert con.sql("SELECT table_name, version, files FROM pointline_snapshot").fetchall() == [
        ("trades", version_before, 3)
    ]
    assert duck.connect(small_lake).sql("SELECT count(*) FROM trades").fetchall() == [(6,)]


def test_views_list_only_live_files_after_an_overwrite(small_lake: Lake) -> None:
    store = TableStore(small_lake, TRADES)
    live = store.read().filter(pl.col("exchange") == UTC_EX, pl.col("date") == dt.date(2024, 5, 1))
    store.replace_where(live.head(1), "exchange = 'binance-futures' AND date = '2024-05-01'")
    con = duck.connect(small_lake)
    # the replaced file is still on disk (until vacuum), but not in the snapshot
    assert con.sql("SELECT count(*) FROM trades").fetchall() == [(store.read().height,)] == [(4,)]


def test_empty_tables_are_views_with_their_schema_and_unknown_names_fail(small_lake: Lake) -> None:
    from pointline.tables.canonical import QUOTES

    TableStore(small_lake, QUOTES).create()
    con = duck.connect(small_lake)
    assert con.sql("SELECT count(*) FROM quotes").fetchall() == [(0,)]
    assert con.sql("SELECT * FROM quotes").columns == QUOTES.column_names
    with pytest.raises(ResearchInputError, match="no table nope"):
        duck.connect(small_lake, tables=["nope"])
