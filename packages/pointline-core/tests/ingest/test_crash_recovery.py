"""Idempotency: a crash at any step (or a forced re-ingest) followed by a re-run leaves the lake exactly as
one clean ingest would: same silver rows, same quarantine records, same manifest, same dq_summary."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from ingest_kit import (
    KitVendor,
    cli_command,
    cli_env,
    manifest_state,
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
from pointline.config import Lake
from pointline.ingest import faults
from pointline.ingest.faults import CHECKPOINTS, SimulatedCrash, crash_at
from pointline.ingest.service import IngestService, RunOptions
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost
from pointline.vendor import Vendor
from polars.testing import assert_frame_equal

BUFFERED = RunOptions()
STREAMED = RunOptions(unit_bytes=1, batch_rows=7)
"""Every file streams alone, in chunks of 7 rows: the large-file path on tiny files."""


def bronze_v1(lake: Lake) -> None:
    set_symbols(lake, [version("xa", "BTC"), version("xa", "ETH", valid_from=1_714_550_400_000_000)])
    btc = trade_rows("xa", "BTC", 40)
    btc[5][6] = "1.23"  # off grid
    write_trades(lake, "xa", "BTC", btc)
    write_trades(lake, "xa", "ETH", trade_rows("xa", "ETH", 30, step_us=3_600_000_000))  # half before listing
    write_quotes(lake, "xa", "BTC", quote_rows("xa", "BTC", 25))
    broken = write_trades(lake, "xa", "DOGE", trade_rows("xa", "DOGE", 500))
    broken.write_bytes(broken.read_bytes()[:300])


def bronze_v2(lake: Lake) -> None:
    """A vendor re-issue of the BTC trades file: fewer rows, different prices."""
    rows = trade_rows("xa", "BTC", 33, step_us=90_000_000)
    write_trades(lake, "xa", "BTC", rows)


def snapshot(lake: Lake, host: PluginHost) -> dict[str, pl.DataFrame]:
    return {
        "trades": silver(lake, host, "trades"),
        "quotes": silver(lake, host, "quotes"),
        "quarantine": quarantine(lake, host),
        "manifest": manifest_state(lake, host),
        "dq": table(lake, host, "dq_summary").drop("computed_at_us").sort("table_name", "exchange", "date"),
    }


def assert_same_lake(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    for name in want:
        try:
            assert_frame_equal(got[name], want[name])
        except AssertionError as exc:
            raise AssertionError(f"{name} differs from a clean ingest: {exc}") from None


def fresh_lake(tmp_path: Path, name: str) -> Lake:
    root = tmp_path / name
    root.mkdir()
    return Lake(root)


_CLEAN: dict[tuple[RunOptions, tuple[str, ...]], dict[str, pl.DataFrame]] = {}


def clean(
    tmp_path: Path, host: PluginHost, options: RunOptions, *setups: Callable[[Lake], None]
) -> dict[str, pl.DataFrame]:
    """The reference: each setup followed by one uninterrupted run (computed once per module)."""
    key = (options, tuple(s.__name__ for s in setups))
    if key not in _CLEAN:
        lake = fresh_lake(tmp_path, "clean")
        for setup in setups:
            setup(lake)
            IngestService(lake, host).run(options)
        _CLEAN[key] = snapshot(lake, host)
    return _CLEAN[key]


def crash_then_rerun(lake: Lake, host: PluginHost, options: RunOptions, checkpoint: str) -> None:
    with pytest.raises(SimulatedCrash):
        IngestService(lake, host, faults=crash_at(checkpoint)).run(options)
    IngestService(lake, host).run(options)


@pytest.mark.parametrize("options", [BUFFERED, STREAMED], ids=["buffered", "streamed"])
@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_crash_at_any_step_then_rerun_equals_one_clean_ingest(
    tmp_path: Path, host: PluginHost, options: RunOptions, checkpoint: str
) -> None:
    want = clean(tmp_path, host, options, bronze_v1)
    lake = fresh_lake(tmp_path, "crashed")
    bronze_v1(lake)
    crash_then_rerun(lake, host, options, checkpoint)
    got = snapshot(lake, host)
    assert_same_lake(got, want)
    assert got["trades"].height > 0
    assert got["quarantine"].height > 0
    assert sorted(got["manifest"]["status"]) == ["failed", "success", "success", "success"]


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_crash_while_a_reissue_supersedes_the_old_file_then_rerun_equals_clean(
    tmp_path: Path, host: PluginHost, checkpoint: str
) -> None:
    want = clean(tmp_path, host, BUFFERED, bronze_v1, bronze_v2)
    lake = fresh_lake(tmp_path, "crashed")
    bronze_v1(lake)
    IngestService(lake, host).run(BUFFERED)
    bronze_v2(lake)
    crash_then_rerun(lake, host, BUFFERED, checkpoint)
    got = snapshot(lake, host)
    assert_same_lake(got, want)
    assert got["manifest"].filter(pl.col("status") == "superseded").height == 1


@pytest.mark.parametrize("options", [BUFFERED, STREAMED], ids=["buffered", "streamed"])
@pytest.mark.parametrize(
    "checkpoint", [faults.MID_SILVER_WRITE, faults.AFTER_SILVER_COMMIT, faults.BEFORE_MANIFEST_UPDATE]
)
def test_crash_during_a_forced_reingest_then_rerun_equals_clean(
    tmp_path: Path, host: PluginHost, options: RunOptions, checkpoint: str
) -> None:
    want = clean(tmp_path, host, options, bronze_v1)
    lake = fresh_lake(tmp_path, "crashed")
    bronze_v1(lake)
    IngestService(lake, host).run(options)
    forced = RunOptions(force=True, unit_bytes=options.unit_bytes, batch_rows=options.batch_rows)
    crash_then_rerun(lake, host, forced, checkpoint)
    assert_same_lake(snapshot(lake, host), want)


def test_forced_reingest_leaves_the_lake_identical(tmp_path: Path, host: PluginHost) -> None:
    lake = fresh_lake(tmp_path, "lake")
    bronze_v1(lake)
    IngestService(lake, host).run()
    before = snapshot(lake, host)
    report = IngestService(lake, host).run(RunOptions(force=True))
    assert len(report.results) == 4
    assert_same_lake(snapshot(lake, host), before)


def test_a_failed_reingest_of_a_landed_file_removes_its_rows(tmp_path: Path, host: PluginHost) -> None:
    """Silver holds rows of a file only while the manifest says it landed."""
    lake = fresh_lake(tmp_path, "lake")
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 10))
    IngestService(lake, host).run()
    # The exchange is no longer registered (a plugin was uninstalled): a forced re-ingest now fails.
    bare = PluginHost(entry_points_enabled=False, extra_plugins=[("kit", _VendorOnly())])
    report = IngestService(lake, bare).run(RunOptions(force=True))
    assert [r.failure_reason for r in report.results] == ["unknown_exchange"]
    assert silver(lake, host).height == 0
    assert manifest_state(lake, host)["status"].to_list() == ["failed"]


class _VendorOnly:
    """The kit vendor without its exchanges."""

    @hookimpl
    def pointline_register_vendors(self, register: Callable[[Vendor], None]) -> None:
        register(KitVendor())


def run_cli(lake: Lake, workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``pointline <args>`` in a fresh Python process with the kit vendor installed."""
    return subprocess.run(
        [*cli_command(workdir), *args],
        capture_output=True,
        text=True,
        env=cli_env(lake, **env),
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "checkpoint",
    [faults.MID_SILVER_WRITE, faults.AFTER_SILVER_COMMIT, faults.BEFORE_MANIFEST_UPDATE, faults.BEFORE_DQ],
)
def test_a_killed_process_then_rerun_equals_clean(tmp_path: Path, host: PluginHost, checkpoint: str) -> None:
    """A real process dies at the checkpoint (os._exit: no cleanup at all), then `ingest run` again."""
    want = clean(tmp_path, host, BUFFERED, bronze_v1)
    lake = fresh_lake(tmp_path, "crashed")
    bronze_v1(lake)
    died = run_cli(lake, tmp_path, "ingest", "run", **{faults.ENV_VAR: checkpoint})
    assert died.returncode == faults.CRASH_EXIT_CODE, died.stderr
    rerun = run_cli(lake, tmp_path, "ingest", "run")
    assert rerun.returncode == 1, rerun.stderr  # the truncated file still fails, and says so
    assert_same_lake(snapshot(lake, host), want)
