"""The pointline CLI: help that teaches, plugin and schema listings, and one-line user errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import toy_plugin
from pointline.cli.app import build_app, main
from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_EXCHANGE, DIM_TRADING_CALENDAR, TRADES
from pointline.testing.fixtures import PluginHostFactory
from test_storage import trades
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def cli(plugin_host: PluginHostFactory) -> CliRunner:
    """A runner whose process-wide host is core plus the toy plugin (independent of what is installed)."""
    plugin_host(toy_plugin)
    return runner


def invoke(*args: str) -> str:
    result = runner.invoke(build_app(), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_help_teaches(cli: CliRunner) -> None:
    out = invoke("--help")
    for text in (
        "exact, point-in-time-correct",
        "--lake",
        "POINTLINE_LAKE",
        "Examples",
        "plugins",
        "schema",
        "dim",
        "lake",
    ):
        assert text in out, text


def test_plugins_json_lists_core_and_plugins_with_versions_and_hooks(cli: CliRunner) -> None:
    infos = json.loads(invoke("plugins", "--json"))
    assert [i["name"] for i in infos] == ["pointline-core", "toy_plugin"]
    core, toy = infos
    assert core["distribution"] == "pointline-core"
    assert core["version"]
    assert "pointline_register_commands" in core["hooks"]
    assert toy["vendors"] == ["toy"]
    assert toy["exchanges"] == ["bitmex"]


def test_plugins_table(cli: CliRunner) -> None:
    out = invoke("plugins")
    assert "Installed Pointline plugins" in out
    assert "toy_plugin" in out
    assert "pointline-core" in out


def test_schema_list_shows_tiers_and_status(cli: CliRunner) -> None:
    out = invoke("schema", "list")
    for name in ("trades", "dim_symbol", "ingest_manifest", "fundamentals", "planned", "silver", "control"):
        assert name in out, name


def test_schema_show_trades_shows_partitioning_lineage_and_columns(cli: CliRunner) -> None:
    out = invoke("schema", "show", "trades")
    assert "partitioned by: exchange, date" in out
    assert "lineage key:    file_id, file_line_number" in out
    assert "ordering key:   symbol_id, ts_local_us, ts_exch_us, file_id, file_line_number" in out
    for column in TRADES.column_names:
        assert column in out, column
    assert "fixed-point" in out


def test_schema_show_resolves_table_families(cli: CliRunner) -> None:
    assert "kline_1m" in invoke("schema", "show", "kline_1m")


def test_user_errors_are_one_line_and_exit_2(cli: CliRunner, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["schema", "show", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: unknown table 'nope'; `pointline schema list` shows the registered tables"
    assert "Traceback" not in err


def test_the_installed_script_prints_one_line_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "pointline"
    assert script.exists(), f"the pointline console script is not installed next to {sys.executable}"
    env = dict(os.environ, POINTLINE_PLUGINS="", POINTLINE_LAKE=str(tmp_path / "lake"))
    done = subprocess.run([str(script), "schema", "show", "nope"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: unknown table 'nope'; `pointline schema list` shows the registered tables"
    ]
    assert done.stdout == ""


def test_lake_option_and_lake_stats(cli: CliRunner, lake: Lake, tmp_path: Path) -> None:
    other = tmp_path / "other-lake"
    result = runner.invoke(build_app(), ["--lake", str(other), "lake", "stats"])
    assert result.exit_code == 0, result.output
    assert "no tables yet" in result.output
    assert "other-lake" in result.output.replace("\n", "")
    TableStore(lake, TRADES).append(trades(1, 4))
    result = runner.invoke(build_app(), ["--lake", str(lake.root), "lake", "stats"])
    assert result.exit_code == 0, result.output
    assert "trades" in result.output
    assert "silver" in result.output


def test_dim_commands_write_dimensions(cli: CliRunner, lake: Lake) -> None:
    assert "wrote 1 exchanges" in invoke("dim", "populate-exchange")
    assert TableStore(lake, DIM_EXCHANGE).read()["exchange"].to_list() == ["bitmex"]
    out = invoke("dim", "populate-calendar", "--from", "2024-01-01", "--to", "2024-01-31", "--exchange", "bitmex")
    assert "wrote 31 rows for 1 exchanges" in out
    stored = TableStore(lake, DIM_TRADING_CALENDAR).read()
    assert stored["date"].min() == dt.date(2024, 1, 1)
    assert stored["is_session"].all()
