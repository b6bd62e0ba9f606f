"""Parallelism: worker processes give the same lake as one process, and two `pointline ingest run`
processes racing on one lake mint each file id once and write no row twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest
from ingest_kit import (
    cli_command,
    cli_env,
    make_host,
    manifest_state,
    quarantine,
    set_symbols,
    silver,
    table,
    trade_rows,
    version,
    write_trades,
)
from pointline.config import Lake
from pointline.ingest.outcome import FileJob
from pointline.ingest.service import IngestService, RunOptions
from pointline.ingest.units import plan_units
from pointline.plugins.host import PluginHost
from pointline.vendor import BronzeFile

SYMBOLS = [f"S{i:02d}" for i in range(16)]


def populate(lake: Lake) -> None:
    set_symbols(lake, [version("xa", s) for s in SYMBOLS])
    for i, s in enumerate(SYMBOLS):
        rows = trade_rows("xa", s, 200 + 10 * i)
        rows[i][6] = "0.05"  # one quarantined row per file
        write_trades(lake, "xa", s, rows)


@pytest.mark.slow
def test_worker_processes_write_the_same_lake_as_one_process(tmp_path: Path, host: PluginHost) -> None:
    lakes = {}
    for workers in (1, 2):
        lake = Lake(tmp_path / f"w{workers}")
        lake.root.mkdir()
        populate(lake)
        report = IngestService(lake, host, host_factory=make_host).run(RunOptions(workers=workers))
        assert report.ok
        assert len(report.results) == len(SYMBOLS)
        lakes[workers] = lake
    one, two = lakes[1], lakes[2]
    assert silver(two, host).equals(silver(one, host))
    assert quarantine(two, host).equals(quarantine(one, host))
    assert manifest_state(two, host)["status"].equals(manifest_state(one, host)["status"])


@pytest.mark.slow
def test_two_concurrent_ingest_runs_mint_unique_ids_and_write_no_duplicates(
    tmp_path: Path, lake: Lake, host: PluginHost
) -> None:
    populate(lake)
    command = [*cli_command(tmp_path), "ingest", "run"]
    # Overlapping selections, started together: S00-S09; everything with 2 worker processes; S08-S09.
    selections = [["--glob", "*/S0[0-9].csv.gz"], ["--workers", "2"], ["--glob", "*/S0[89].csv.gz"]]
    runs = [
        subprocess.Popen([*command, *s], env=cli_env(lake), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for s in selections
    ]
    for p in runs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, out + err

    m = manifest_state(lake, host)
    assert m.height == len(SYMBOLS)  # one identity, one id: nobody minted a second id for a file
    assert m["file_id"].n_unique() == len(SYMBOLS)
    assert m["bronze_path"].n_unique() == len(SYMBOLS)
    assert set(m["status"]) == {"success"}
    rows = silver(lake, host)
    assert rows.height == sum(200 + 10 * i - 1 for i in range(len(SYMBOLS)))
    assert rows.select("file_id", "file_line_number").is_duplicated().sum() == 0
    q = quarantine(lake, host)
    assert q.height == len(SYMBOLS)
    assert q.select("file_id", "file_line_number", "rule").is_duplicated().sum() == 0
    per_file = rows.group_by("file_id").agg(pl.len()).sort("file_id")["len"].to_list()
    assert sorted(per_file) == [200 + 10 * i - 1 for i in range(len(SYMBOLS))]
    # The race was real: some file was ingested by more than one of the runs.
    log = table(lake, host, "validation_log")
    assert log["run_id"].n_unique() == 3
    assert max(log.group_by("file_id").agg(runs=pl.col("run_id").n_unique())["runs"].to_list()) > 1


def test_units_stream_big_files_alone_and_share_small_files_among_workers() -> None:
    def job(name: str, size: int, table: str = "trades") -> FileJob:
        file = BronzeFile(vendor="kit", path=Path(name), relative_path=name, data_type=table)
        return FileJob(file=file, table=table, file_id=hash(name) % 1000, sha256="", size_bytes=size)

    jobs = [job("big", 100), *(job(f"s{i}", 10) for i in range(8)), job("q", 10, "quotes")]
    one = plan_units(jobs, unit_bytes=50)
    assert [(u.table, len(u.jobs), u.stream) for u in one] == [
        ("trades", 1, True),
        ("quotes", 1, False),
        ("trades", 5, False),
        ("trades", 3, False),
    ]
    two = plan_units(jobs, unit_bytes=1000, workers=2)
    small = [u for u in two if not u.stream]
    assert len(small) >= 2
    assert sorted(j.file.relative_path for u in two for j in u.jobs) == sorted(j.file.relative_path for j in jobs)
    assert all(len({j.table for j in u.jobs}) == 1 for u in two)
