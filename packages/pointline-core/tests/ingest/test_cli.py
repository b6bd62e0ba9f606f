"""The ingestion CLI: what the user types and sees, and the exit codes scripts rely on."""

from __future__ import annotations

import json

import pytest
from ingest_kit import lake_digest, set_symbols, trade_rows, version, write_trades
from pointline.cli.app import build_app, main
from pointline.config import Lake
from pointline.plugins.host import PluginHost
from typer.testing import CliRunner, Result


def cli(*args: str) -> Result:
    return CliRunner().invoke(build_app(), list(args), catch_exceptions=False)


@pytest.fixture
def bronze(lake: Lake, host: PluginHost) -> Lake:
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 300)
    rows[9][6] = "0.05"
    write_trades(lake, "xa", "BTC", rows)
    write_trades(lake, "xa", "GHOST", trade_rows("xa", "GHOST", 4))
    broken = write_trades(lake, "xa", "BROKEN", trade_rows("xa", "BROKEN", 400))
    broken.write_bytes(broken.read_bytes()[:120])
    return lake


def test_ingest_run_prints_a_summary_and_exits_1_when_a_file_failed(bronze: Lake) -> None:
    result = cli("ingest", "run")
    assert result.exit_code == 1
    out = result.output
    assert "files failed" in out
    assert "299" in out  # rows written
    assert "failed [parse_error] kit/exchange=xa/type=trades/date=2024-05-01/BROKEN.csv.gz: OSError" in out
    # Nothing left to do except the broken file, which fails again (and still says so).
    again = cli("ingest", "run", "--glob", "*/BTC.csv.gz")
    assert again.exit_code == 0
    assert "files skipped (already ingested) │ 1" in again.output


def test_dry_run_says_so_writes_nothing_and_uses_the_same_exit_code(bronze: Lake) -> None:
    before = lake_digest(bronze.root)
    result = cli("ingest", "run", "--dry-run")
    assert result.exit_code == 1
    assert "dry run: nothing written" in result.output
    assert "rows to write" in result.output
    assert lake_digest(bronze.root) == before


def test_bronze_discover_lists_files_and_what_a_run_would_do(bronze: Lake) -> None:
    cli("ingest", "run", "--glob", "*/BTC.csv.gz")
    listed = json.loads(cli("bronze", "discover", "--format", "json").output)
    actions = {row["bronze_path"].rsplit("/", 1)[1]: row["action"] for row in listed}
    assert actions == {
        "BTC.csv.gz": "skip (already_ingested)",
        "GHOST.csv.gz": "ingest (new)",
        "BROKEN.csv.gz": "ingest (new)",
    }
    pending = json.loads(cli("bronze", "discover", "--pending-only", "--format", "json").output)
    assert sorted(r["bronze_path"].rsplit("/", 1)[1] for r in pending) == ["BROKEN.csv.gz", "GHOST.csv.gz"]
    only_btc = json.loads(cli("bronze", "discover", "--glob", "*BTC*", "--format", "json").output)
    assert [r["file_id"] for r in only_btc] == [1]


def test_manifest_validation_dq_and_quarantine_commands(bronze: Lake) -> None:
    cli("ingest", "run")
    summary = json.loads(cli("manifest", "summary", "--format", "json").output)
    assert sorted((r["status"], r["files"]) for r in summary) == [("failed", 1), ("quarantined", 1), ("success", 1)]
    listed = json.loads(cli("manifest", "list", "--status", "failed", "--format", "json").output)
    assert [r["bronze_path"].rsplit("/", 1)[1] for r in listed] == ["BROKEN.csv.gz"]
    shown = cli("manifest", "show", str(listed[0]["file_id"])).output
    assert "unexpected end of file" in shown
    failed = cli("validation", "show", "--failed").output.strip().splitlines()
    assert len(failed) == 2  # the broken file and the fully quarantined one, one line each
    assert any("parse_error" in line and "BROKEN.csv.gz" in line for line in failed)
    assert any("all_rows_quarantined" in line and "GHOST.csv.gz" in line for line in failed)
    dq = json.loads(cli("dq", "summary", "--format", "json").output)
    assert [(r["table_name"], r["exchange"], r["rows"], r["quarantined_rows"]) for r in dq] == [
        ("trades", "xa", 299, 5)
    ]
    q = json.loads(cli("quarantine", "show", "--rule", "off_grid", "--format", "json").output)
    assert [(r["file_line_number"], r["raw_value"]) for r in q] == [(11, "0.05")]


def test_backfill_command_and_its_user_errors(bronze: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    cli("ingest", "run")
    result = cli("ingest", "backfill", "--table", "trades", "--exchange", "xa", "--date-range", "2024-05-01:2024-05-01")
    assert result.exit_code == 0, result.output
    assert "superseded file ids (old->new)" in result.output
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", "backfill", "--table", "trades", "--exchange", "xa", "--date-range", "2024-05-09:2024-05-01"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "the last day is before the first" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["manifest", "list", "--status", "done"])
    assert exit_info.value.code == 2
