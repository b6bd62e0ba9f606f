"""Vendor re-issues supersede old rows, backfill rebuilds partitions from bronze, and quarantined rows
come back in once dim_symbol is fixed — each without duplicates and with a record of what happened."""

from __future__ import annotations

import datetime as dt

import polars as pl
from ingest_kit import (
    DAY,
    DAY_US,
    HOUR_US,
    bronze_path,
    manifest,
    quarantine,
    set_symbols,
    silver,
    table,
    trade_rows,
    version,
    write_trades,
)
from pointline.config import Lake
from pointline.ingest.service import IngestService, RunOptions
from pointline.plugins.host import PluginHost

DAY2 = DAY + dt.timedelta(days=1)


def test_a_reissued_file_supersedes_the_old_rows(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    old = trade_rows("xa", "BTC", 100)
    old[0][6] = "0.05"  # one quarantined row in the old version
    write_trades(lake, "xa", "BTC", old)
    IngestService(lake, host).run()
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 60, step_us=120_000_000))

    report = IngestService(lake, host).run()

    assert report.superseded == {1: 2}
    m = manifest(lake, host).select("file_id", "status", "superseded_by", "rows_written").rows()
    assert m == [(1, "superseded", 2, 99), (2, "success", None, 60)]
    out = silver(lake, host)
    assert out.height == 60
    assert set(out["file_id"]) == {2}
    assert quarantine(lake, host).height == 0  # the old version's quarantine records went with it
    log = table(lake, host, "validation_log").filter(pl.col("run_id") == report.run_id)
    assert sorted(log.select("file_id", "status").rows()) == [(1, "superseded"), (2, "success")]
    assert "superseded by file_id 2 (vendor re-issue)" in log.filter(pl.col("file_id") == 1)["error"].item()
    dq = table(lake, host, "dq_summary").row(0, named=True)
    assert (dq["rows"], dq["quarantined_rows"]) == (60, 0)


def test_a_broken_reissue_leaves_the_old_version_in_place(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 100))
    IngestService(lake, host).run()
    path = bronze_path(lake, "xa", "trades", "BTC")
    path.write_bytes(path.read_bytes()[:50])

    report = IngestService(lake, host).run()

    assert [r.status for r in report.results] == ["failed"]
    assert manifest(lake, host).select("file_id", "status").rows() == [(1, "success"), (2, "failed")]
    assert silver(lake, host).height == 100
    assert set(silver(lake, host)["file_id"]) == {1}


def test_backfill_rebuilds_the_range_under_new_ids_and_supersedes_the_old(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC"), version("xa", "ETH"), version("xb", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 30))  # 2024-05-01
    write_trades(lake, "xa", "ETH", trade_rows("xa", "ETH", 30, start_us=DAY_US + 24 * HOUR_US), date=DAY2)
    write_trades(lake, "xb", "BTC", trade_rows("xb", "BTC", 30, start_us=DAY_US + 14 * HOUR_US))
    IngestService(lake, host).run()
    before = silver(lake, host)
    ids = dict(manifest(lake, host).select("bronze_path", "file_id").iter_rows())

    report = IngestService(lake, host).backfill("trades", "xa", DAY, DAY)

    rebuilt = ids[bronze_path(lake, "xa", "trades", "BTC").relative_to(lake.bronze).as_posix()]
    assert report.ok
    assert list(report.superseded) == [rebuilt]
    new_id = report.superseded[rebuilt]
    m = manifest(lake, host)
    assert m.filter(pl.col("file_id") == rebuilt).select("status", "superseded_by").row(0) == ("superseded", new_id)
    assert m.filter(pl.col("status") == "superseded").height == 1
    after = silver(lake, host)
    assert after.height == before.height
    # Same rows; only the rebuilt file's id changed.
    remap = pl.col("file_id").replace({new_id: rebuilt})
    assert after.with_columns(remap).sort("file_id", "file_line_number").equals(before)
    log = table(lake, host, "validation_log").filter(pl.col("run_id") == report.run_id)
    assert "backfill rebuild" in log.filter(pl.col("status") == "superseded")["error"].item()


def test_backfill_reports_a_file_missing_from_bronze_and_keeps_its_rows(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    path = write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 10))
    IngestService(lake, host).run()
    path.unlink()
    report = IngestService(lake, host).backfill("trades", "xa", DAY, DAY)
    assert [(p.failure_reason, p.file_id) for p in report.problems] == [("missing_bronze", 1)]
    assert not report.ok
    assert silver(lake, host).height == 10
    assert manifest(lake, host)["status"].to_list() == ["success"]


def test_retry_quarantined_brings_rows_in_after_dim_symbol_is_fixed(lake: Lake, host: PluginHost) -> None:
    listing = DAY_US + 12 * HOUR_US
    set_symbols(lake, [version("xa", "NEW", valid_from=listing)])
    write_trades(lake, "xa", "NEW", trade_rows("xa", "NEW", 24))  # 00:00-00:23, before the listing
    write_trades(lake, "xa", "LATE", trade_rows("xa", "LATE", 10))  # not in dim_symbol at all
    IngestService(lake, host).run()
    assert manifest(lake, host)["status"].to_list() == ["quarantined", "quarantined"]
    # A plain run does not retry; nothing changed in bronze.
    assert IngestService(lake, host).run().results == []

    set_symbols(lake, [version("xa", "NEW"), version("xa", "LATE")])  # corrected: listed since forever
    report = IngestService(lake, host).run(RunOptions(retry_quarantined=True))

    assert sorted(r.job.reason for r in report.results) == ["retry_quarantined", "retry_quarantined"]
    assert silver(lake, host).height == 34
    assert quarantine(lake, host).height == 0
    assert manifest(lake, host)["status"].to_list() == ["success", "success"]
    assert manifest(lake, host)["file_id"].to_list() == [1, 2]  # same ids: nothing superseded
    assert table(lake, host, "dq_summary")["quarantined_rows"].to_list() == [0]
