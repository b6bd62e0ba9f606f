"""A dry run walks the whole pipeline, reports what it would write, and leaves every byte of the lake as it was."""

from __future__ import annotations

import datetime as dt

from ingest_kit import (
    lake_digest,
    make_host,
    quote_rows,
    set_symbols,
    silver,
    trade_rows,
    version,
    write_quotes,
    write_trades,
)
from pointline.config import Lake
from pointline.ingest.service import IngestService, RunOptions
from pointline.plugins.host import PluginHost


def populate_bronze(lake: Lake) -> None:
    btc = trade_rows("xa", "BTC", 200)
    btc[7][6] = "0.05"
    write_trades(lake, "xa", "BTC", btc)
    write_trades(lake, "xa", "UNLISTED", trade_rows("xa", "UNLISTED", 5))
    write_quotes(lake, "xa", "BTC", quote_rows("xa", "BTC", 40))
    broken = write_trades(lake, "xa", "BROKEN", trade_rows("xa", "BROKEN", 300))
    broken.write_bytes(broken.read_bytes()[:100])


def outcome(report: object) -> list[tuple[object, ...]]:
    return sorted(
        (
            r.job.file.relative_path,
            r.status,
            r.failure_reason,
            r.rows_read,
            r.rows_written,
            r.rows_quarantined,
            tuple(r.rule_counts.items()),
        )
        for r in report.results  # type: ignore[attr-defined]
    )


def test_a_dry_run_on_a_fresh_lake_changes_no_byte_and_predicts_the_real_run(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    populate_bronze(lake)
    before = lake_digest(lake.root)

    dry = IngestService(lake, host).run(RunOptions(dry_run=True))

    assert lake_digest(lake.root) == before
    assert not lake.state.exists()
    assert dry.dry_run
    assert all(r.job.file_id < 0 for r in dry.results)  # provisional ids, never minted
    real = IngestService(lake, host).run()
    assert outcome(dry) == outcome(real)
    assert (dry.rows_written, dry.rows_quarantined, dry.files_failed) == (real.rows_written, real.rows_quarantined, 1)


def test_a_dry_run_on_a_populated_lake_with_reissues_and_force_changes_no_byte(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC"), version("xa", "ETH")])
    populate_bronze(lake)
    IngestService(lake, host).run()
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 150, step_us=30_000_000))  # a vendor re-issue
    write_trades(lake, "xa", "ETH", trade_rows("xa", "ETH", 30))  # a new file
    before = lake_digest(lake.root)

    for options in (
        RunOptions(dry_run=True),
        RunOptions(dry_run=True, force=True),
        RunOptions(dry_run=True, workers=2),
    ):
        report = IngestService(lake, host, host_factory=make_host).run(options)
        assert lake_digest(lake.root) == before, options
        assert report.rows_written > 0

    planned = IngestService(lake, host).run(RunOptions(dry_run=True))
    assert {r.job.reason for r in planned.results} == {"reissued", "new", "failed"}
    assert silver(lake, host).height == 199  # still the first run's rows


def test_a_dry_run_backfill_changes_no_byte(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", "BTC")])
    populate_bronze(lake)
    IngestService(lake, host).run()
    before = lake_digest(lake.root)
    report = IngestService(lake, host).backfill(
        "trades", "xa", dt.date(2024, 5, 1), dt.date(2024, 5, 1), RunOptions(dry_run=True)
    )
    assert lake_digest(lake.root) == before
    assert {r.job.reason for r in report.results} == {"rebuild"}
    assert report.rows_written == 199
