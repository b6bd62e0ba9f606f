"""The pipeline end to end with the in-test vendor: rows land exact, bad rows are quarantined with their
reason, bad files fail alone with a one-line error, and the logs say what happened."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest
from ingest_kit import (
    DAY,
    DAY_US,
    HOUR_US,
    bronze_path,
    manifest,
    quarantine,
    quote_rows,
    set_symbols,
    silver,
    table,
    trade_rows,
    version,
    write_quotes,
    write_trades,
)
from pointline.codec import decode
from pointline.config import Lake
from pointline.ingest.service import IngestService, RunOptions
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.symbols import symbol_id
from pointline.timeutil import MAX_TS


def run(lake: Lake, host: PluginHost, **options: object) -> object:
    return IngestService(lake, host).run(RunOptions(**options))  # type: ignore[arg-type]


def test_three_bad_lines_of_a_thousand_quarantine_with_reasons_and_997_land(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 1000)
    rows[99][6] = "60000.05"  # off the 0.1 grid            -> physical line 101
    rows[499][5] = "sideways"  # not buy/sell/unknown       -> line 501
    rows[899][2] = "-7"  # a negative arrival time          -> line 901
    write_trades(lake, "xa", "BTC", rows)

    report = IngestService(lake, host).run()

    (result,) = report.results
    assert (result.status, result.rows_read, result.rows_written, result.rows_quarantined) == ("success", 1000, 997, 3)
    assert dict(result.rule_counts) == {"bad_timestamp": 1, "invalid_enum": 1, "off_grid": 1}
    q = quarantine(lake, host).select("file_line_number", "rule", "column_name", "raw_value").rows()
    assert q == [
        (101, "off_grid", "px", "60000.05"),
        (501, "invalid_enum", "side", None),
        (901, "bad_timestamp", "ts_local_us", "-7"),
    ]
    out = silver(lake, host)
    assert out.height == 997
    assert sorted(set(range(2, 1002)) - set(out["file_line_number"])) == [101, 501, 901]
    m = manifest(lake, host).row(0, named=True)
    assert (m["status"], m["rows_read"], m["rows_written"], m["rows_quarantined"]) == ("success", 1000, 997, 3)


def test_prices_and_sizes_encode_exactly_and_decode_to_the_vendor_text(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "ETH", price_increment="0.01", amount_increment="0.0001")])
    prices = ["0.07", "0.3", "2999.99", "100000000.01", "0.01"]
    sizes = ["0.0003", "12.5", "0.0001", "3", "999999.9999"]
    rows = [
        ["xa", "ETH", DAY_US + i, DAY_US + i, f"t{i}", "buy", p, s]
        for i, (p, s) in enumerate(zip(prices, sizes, strict=True))
    ]
    write_trades(lake, "xa", "ETH", rows)
    IngestService(lake, host).run()
    out = silver(lake, host)
    assert out["px_int"].to_list() == [7, 30, 299999, 10000000001, 1]
    decoded = out.select(
        px=decode(pl.col("px_int"), pl.lit(Decimal("0.01"))), qty=decode(pl.col("qty_int"), pl.lit(Decimal("0.0001")))
    )
    assert [Decimal(str(v)) for v in decoded["px"]] == [Decimal(p) for p in prices]
    assert [Decimal(str(v)) for v in decoded["qty"]] == [Decimal(s) for s in sizes]


def test_a_symbol_listed_at_13_00_keeps_its_rows_from_13_00_to_midnight(lake: Lake, host: PluginHost) -> None:
    listing = DAY_US + 13 * HOUR_US
    set_symbols(lake, [version("xa", "NEW", valid_from=listing)])
    rows = trade_rows("xa", "NEW", 24 * 60)  # one trade a minute for the whole day
    write_trades(lake, "xa", "NEW", rows)

    (result,) = IngestService(lake, host).run().results

    out = silver(lake, host)
    assert result.status == "success"
    assert out.height == 11 * 60
    assert out["ts_local_us"].min() == listing
    assert out["ts_local_us"].max() == DAY_US + 24 * HOUR_US - 60_000_000
    assert set(out["symbol_id"]) == {symbol_id("xa", "NEW", listing)}
    q = quarantine(lake, host)
    assert q.height == 13 * 60
    assert set(q["rule"]) == {"no_symbol_coverage"}
    assert max(q["ts_local_us"].to_list()) < listing
    assert set(q["raw_value"]) == {"NEW"}


def test_a_delisting_keeps_the_rows_before_it(lake: Lake, host: PluginHost) -> None:
    delisting = DAY_US + 6 * HOUR_US
    set_symbols(lake, [version("xa", "OLD", valid_until=delisting)])
    write_trades(lake, "xa", "OLD", trade_rows("xa", "OLD", 24 * 60))
    IngestService(lake, host).run()
    assert silver(lake, host).height == 6 * 60
    assert silver(lake, host)["ts_local_us"].to_list()[-1] < delisting
    assert quarantine(lake, host).height == 18 * 60


def test_a_tick_size_change_inside_a_file_encodes_each_row_with_the_increment_in_force(
    lake: Lake, host: PluginHost
) -> None:
    change = DAY_US + 12 * HOUR_US
    set_symbols(
        lake,
        [
            version("xa", "BTC", valid_until=change, price_increment="0.5"),
            version("xa", "BTC", valid_from=change, price_increment="0.1"),
        ],
    )
    rows = [
        ["xa", "BTC", change - 1, None, "a", "buy", "100.5", "1"],  # old grid: 0.5 -> 201
        ["xa", "BTC", change, None, "b", "buy", "100.5", "1"],  # new grid: 0.1 -> 1005
        ["xa", "BTC", change + 1, None, "c", "buy", "100.3", "1"],  # on the new grid only
        ["xa", "BTC", change - 2, None, "d", "buy", "100.3", "1"],  # off the old grid -> quarantined
    ]
    write_trades(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    out = silver(lake, host)
    assert out["px_int"].to_list() == [201, 1005, 1003]
    assert out["symbol_id"].to_list() == [symbol_id("xa", "BTC", 0)] + [symbol_id("xa", "BTC", change)] * 2
    assert quarantine(lake, host).select("file_line_number", "rule").rows() == [(5, "off_grid")]


def test_symbols_match_exactly_never_by_prefix(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTCUSDT")])
    write_trades(lake, "xa", "BTCUSDT_240628", trade_rows("xa", "BTCUSDT_240628", 5))
    write_trades(lake, "xa", "BTCUSD", trade_rows("xa", "BTCUSD", 5))
    IngestService(lake, host).run()
    assert silver(lake, host).height == 0
    assert quarantine(lake, host).height == 10
    statuses = manifest(lake, host)["status"].to_list()
    assert statuses == ["quarantined", "quarantined"]


def test_crossed_and_locked_quotes_are_quarantined_and_one_sided_quotes_land(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    rows = quote_rows("xa", "BTC", 4)
    rows[1][4], rows[1][6] = "100.2", "100.1"  # crossed
    rows[2][4], rows[2][6] = "100.1", "100.1"  # locked: bid == ask
    rows[3][6], rows[3][7] = None, None  # no ask at all
    write_quotes(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    assert silver(lake, host, "quotes")["file_line_number"].to_list() == [2, 5]
    q = quarantine(lake, host).select("file_line_number", "rule", "raw_value").rows()
    assert q == [(3, "crossed_book", "100.2 >= 100.1"), (4, "crossed_book", "100.1 >= 100.1")]


def test_unparsable_numbers_and_missing_required_values_are_quarantined(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 4)
    rows[0][6] = "12x.5"
    rows[1][7] = None  # empty size
    rows[2][2] = "not-a-time"  # unparsable arrival time -> null -> bad_timestamp
    write_trades(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    q = quarantine(lake, host).select("file_line_number", "rule", "column_name").rows()
    assert q == [(2, "unparsable_number", "px"), (3, "missing_value", "qty"), (4, "bad_timestamp", "ts_local_us")]
    assert silver(lake, host)["file_line_number"].to_list() == [5]


def test_absurd_timestamps_are_quarantined(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 3)
    rows[0][2] = str(DAY_US * 1000)  # nanoseconds read as microseconds: year ~56,000
    rows[1][3] = "0"  # exchange time at the epoch
    write_trades(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    q = quarantine(lake, host).select("file_line_number", "rule", "column_name").rows()
    assert q == [(2, "bad_timestamp", "ts_local_us"), (3, "bad_timestamp", "ts_exch_us")]


def test_date_is_the_exchange_local_date_of_each_row_not_the_path_date(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xb", "SPY", price_increment="0.01", amount_increment="1")])
    # 2024-05-01 02:00 UTC is still 2024-04-30 in New York; 2024-05-01 16:00 UTC is 2024-05-01 there.
    rows = [
        ["xb", "SPY", DAY_US + 2 * HOUR_US, None, "a", "buy", "500.01", "10"],
        ["xb", "SPY", DAY_US + 16 * HOUR_US, None, "b", "sell", "500.02", "5"],
    ]
    write_trades(lake, "xb", "SPY", rows, date=dt.date(2024, 6, 1))
    IngestService(lake, host).run()
    assert silver(lake, host)["date"].to_list() == [dt.date(2024, 4, 30), dt.date(2024, 5, 1)]
    assert manifest(lake, host)["dates"].to_list() == [[dt.date(2024, 4, 30), dt.date(2024, 5, 1)]]


@pytest.mark.parametrize(
    ("damage", "reason", "needle"),
    [
        ("truncated_gzip", "parse_error", "kit/exchange=xa/type=trades/date=2024-05-01/BAD.csv.gz"),
        ("empty_file", "empty_file", "empty file"),
        ("header_only", "empty_file", "empty file"),
        ("missing_column", "parse_error", "column 'qty'"),
    ],
)
def test_a_broken_file_fails_alone_with_one_line_error_and_the_batch_lands(
    lake: Lake, host: PluginHost, damage: str, reason: str, needle: str
) -> None:
    set_symbols(lake, [version("xa", "BTC"), version("xa", "BAD"), version("xa", "ETH")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 50))
    write_trades(lake, "xa", "ETH", trade_rows("xa", "ETH", 30))
    bad = write_trades(lake, "xa", "BAD", trade_rows("xa", "BAD", 2000))
    if damage == "truncated_gzip":
        bad.write_bytes(bad.read_bytes()[: len(bad.read_bytes()) // 2])
    elif damage == "empty_file":
        bad.write_bytes(b"")
    elif damage == "header_only":
        bronze = bronze_path(lake, "xa", "trades", "BAD", gz=False)
        bad.unlink()
        bronze.write_text("exchange,symbol,local_ts,exch_ts,id,side,price,amount\n")
    else:
        text = "exchange,symbol,local_ts,exch_ts,id,side,price\nxa,BAD,1714521600000000,1,t,buy,1.0\n"
        bad.unlink()
        bronze_path(lake, "xa", "trades", "BAD", gz=False).write_text(text)

    report = IngestService(lake, host).run()

    failed = [r for r in report.results if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].failure_reason == reason
    assert failed[0].error is not None
    assert "\n" not in failed[0].error
    assert needle in failed[0].error
    assert failed[0].job.file.relative_path in failed[0].error
    assert not report.ok
    out = silver(lake, host)
    assert out.height == 80
    m = manifest(lake, host).select("bronze_path", "status", "error")
    assert sorted(m["status"]) == ["failed", "success", "success"]
    assert m.filter(pl.col("status") == "failed")["error"].item() == failed[0].error
    log = table(lake, host, "validation_log").filter(pl.col("status") == "failed")
    assert log.select("failure_reason", "error").rows() == [(reason, failed[0].error)]


def test_an_unregistered_exchange_fails_the_file_with_unknown_exchange(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 5))
    write_trades(lake, "xz", "BTC", trade_rows("xz", "BTC", 5))
    report = IngestService(lake, host).run()
    by_path = {r.job.file.exchange: r for r in report.results}
    assert by_path["xz"].failure_reason == "unknown_exchange"
    assert "'xz'" in (by_path["xz"].error or "")
    assert by_path["xa"].status == "success"
    assert silver(lake, host).height == 5


def test_a_second_run_skips_landed_files_and_writes_nothing(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 20))
    IngestService(lake, host).run()
    versions = {t: TableStore(lake, host.table(t)).version() for t in ("trades", "ingest_manifest", "validation_log")}
    again = IngestService(lake, host).run()
    assert (again.discovered, again.skipped, again.results) == (1, 1, [])
    assert {t: TableStore(lake, host.table(t)).version() for t in versions} == versions


def test_many_small_files_share_one_silver_commit(lake: Lake, host: PluginHost) -> None:
    symbols = [f"S{i}" for i in range(12)]
    set_symbols(lake, [version("xa", s) for s in symbols])
    for s in symbols:
        write_trades(lake, "xa", s, trade_rows("xa", s, 10))
    store = TableStore(lake, host.table("trades"))
    IngestService(lake, host).run()
    log = store.delta_table().history()
    writes = [h for h in log if h.get("operation") == "WRITE" and h.get("operationParameters", {}).get("predicate")]
    assert len(writes) == 1
    assert silver(lake, host).height == 120
    assert silver(lake, host)["file_id"].n_unique() == 12


def test_validation_log_and_dq_summary_describe_the_run(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC", valid_from=DAY_US + HOUR_US)])
    rows = trade_rows("xa", "BTC", 120)  # the first 60 minutes are before the listing
    rows[100][6] = "1.05"
    write_trades(lake, "xa", "BTC", rows)
    report = IngestService(lake, host).run()
    log = table(lake, host, "validation_log").row(0, named=True)
    assert log["run_id"] == report.run_id
    assert (log["status"], log["rows_read"], log["rows_written"], log["rows_quarantined"]) == ("success", 120, 59, 61)
    assert json.loads(log["rule_counts"]) == {"no_symbol_coverage": 60, "off_grid": 1}
    dq = table(lake, host, "dq_summary").row(0, named=True)
    assert (dq["table_name"], dq["exchange"], dq["date"]) == ("trades", "xa", DAY)
    assert (dq["rows"], dq["null_cells"], dq["duplicate_lineage_rows"], dq["quarantined_rows"]) == (59, 0, 0, 61)
    assert dq["min_ts_us"] == DAY_US + HOUR_US


def test_a_file_whose_every_row_fails_is_quarantined_not_failed(lake: Lake, host: PluginHost) -> None:
    write_trades(lake, "xa", "GHOST", trade_rows("xa", "GHOST", 7))
    report = IngestService(lake, host).run()
    (result,) = report.results
    assert (result.status, result.failure_reason, result.rows_quarantined) == ("quarantined", "all_rows_quarantined", 7)
    assert report.ok
    assert manifest(lake, host)["status"].to_list() == ["quarantined"]


def test_open_versions_and_the_max_timestamp_boundary(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC", valid_from=DAY_US, valid_until=MAX_TS)])
    rows = [["xa", "BTC", DAY_US, None, "a", "buy", "1", "1"], ["xa", "BTC", DAY_US - 1, None, "b", "buy", "1", "1"]]
    write_trades(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    assert silver(lake, host)["file_line_number"].to_list() == [2]


def test_dq_summary_counts_lineage_duplicates_and_nulls_it_did_not_write(lake: Lake, host: PluginHost) -> None:
    """The duplicate alarm works: rows appended behind the pipeline's back show up in dq_summary."""
    from pointline.ingest import dq

    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 10))
    IngestService(lake, host).run()
    store = TableStore(lake, host.table("trades"))
    rogue = store.read().head(3).with_columns(trade_id=pl.lit(None, pl.String))
    store.append(rogue)  # three lineage keys now appear twice, each with one null cell
    dq.recompute(lake, host, {"trades": {("xa", DAY)}})
    row = table(lake, host, "dq_summary").row(0, named=True)
    assert (row["rows"], row["duplicate_lineage_rows"], row["null_cells"]) == (13, 3, 3)
    # The figures read from the Delta log's statistics equal those of a full scan.
    spec, pairs = host.table("trades"), {("xa", DAY)}
    assert dq.log_stats(lake, spec, pairs) is not None
    fast = dq.silver_stats(lake, spec, pairs)
    assert fast.equals(dq.scan_stats(lake, spec, pairs).select(fast.columns))


def test_a_data_type_without_a_table_is_reported_and_logged_without_a_manifest_row(
    lake: Lake, host: PluginHost
) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 5))
    odd = bronze_path(lake, "xa", "trades", "BTC").parent.parent.parent / "type=funding" / "date=2024-05-01" / "BTC.csv"
    odd.parent.mkdir(parents=True)
    odd.write_text("exchange,symbol\nxa,BTC\n")
    report = IngestService(lake, host).run()
    assert [(p.failure_reason, p.bronze_path.rsplit("/", 3)[1]) for p in report.problems] == [
        ("unknown_table", "type=funding")
    ]
    assert not report.ok
    assert manifest(lake, host)["data_type"].to_list() == ["trades"]
    log = table(lake, host, "validation_log").filter(pl.col("failure_reason") == "unknown_table")
    assert log.select("file_id", "status").rows() == [(None, "failed")]
