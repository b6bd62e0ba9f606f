"""`pointline query`, `sql`, `symbols` and `coverage`, through the real root app and its error handling."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from pointline.cli.app import build_app, main
from pointline.config import Lake
from pointline.tables.canonical import TRADES
from research_kit import DAY, HOUR, T0, ids_of, manifest_row, version, write_dim, write_events, write_manifest
from typer.testing import CliRunner

runner = CliRunner()
T0_DATE = dt.date(2024, 5, 1)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables wrap at 80 columns under a test runner; a wide console keeps cells on one line."""
    from pointline.cli.common import console

    monkeypatch.setattr(console, "_width", 250)


@pytest.fixture
def cli_lake(lake: Lake) -> Lake:
    dim = write_dim(
        lake,
        [
            version("BTCUSDT", T0 - DAY, T0 + 12 * HOUR),
            version("BTCUSDT", T0 + 12 * HOUR, price_increment="0.01"),
            version("ETHUSDT", T0 - DAY),
        ],
    )
    old, new = ids_of(dim, "BTCUSDT")
    write_events(
        lake,
        TRADES,
        [
            {"symbol_id": old, "ts_local_us": T0 + HOUR, "px_int": 670001, "qty_int": 1500, "side": 1},
            {
                "symbol_id": new,
                "ts_local_us": T0 + 13 * HOUR,
                "px_int": 6700005,
                "qty_int": 2,
                "side": -1,
                "file_id": 2,
            },
        ],
    )
    write_manifest(
        lake,
        [
            manifest_row(
                1,
                "pathvendor/exchange=binance-futures/type=trades/date=2024-05-01/symbol=BTCUSDT/a.csv",
                dates=[T0_DATE],
            )
        ],
    )
    return lake


def invoke(*args: str) -> str:
    result = runner.invoke(build_app(), list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_query_csv_gives_exact_decoded_prices(cli_lake: Lake) -> None:
    out = invoke(
        "query",
        "trades",
        "--exchange",
        "binance-futures",
        "--symbol",
        "BTCUSDT",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-02",
        "--decoded",
        "--format",
        "csv",
        "--columns",
        "ts_local_us,px,qty,side",
    )
    frame = pl.read_csv(io.StringIO(out), schema_overrides={"px": pl.String, "qty": pl.String})
    assert frame.rows() == [(T0 + HOUR, "67000.10", "1.500", 1), (T0 + 13 * HOUR, "67000.05", "0.002", -1)]


def test_query_table_and_json_formats(cli_lake: Lake, tmp_path: Path) -> None:
    table = invoke(
        "query",
        "trades",
        "-e",
        "binance-futures",
        "-s",
        "BTCUSDT",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-02",
        "-c",
        "ts_local_us,px_int",
    )
    assert "2024-05-01 01:00:00" in table  # µs timestamps shown as UTC times in tables
    rows = json.loads(
        invoke(
            "query",
            "trades",
            "-e",
            "binance-futures",
            "-s",
            "BTCUSDT",
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-02",
            "--decoded",
            "-f",
            "json",
            "-n",
            "1",
        )
    )
    assert rows[0]["px"] == "67000.10"
    assert len(rows) == 1
    target = tmp_path / "t.parquet"
    invoke(
        "query",
        "trades",
        "-e",
        "binance-futures",
        "-s",
        "BTCUSDT",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-02",
        "-f",
        "parquet",
        "-o",
        str(target),
    )
    assert pl.read_parquet(target).height == 2


def test_sql_runs_on_the_lake(cli_lake: Lake, tmp_path: Path) -> None:
    out = invoke("sql", "SELECT date, count(*) AS n FROM trades GROUP BY 1", "--format", "csv")
    assert out.splitlines() == ["date,n", "2024-05-01,2"]
    target = tmp_path / "r.json"
    invoke("sql", "SELECT exchange_symbol FROM dim_symbol ORDER BY 1", "-f", "json", "-o", str(target))
    assert [r["exchange_symbol"] for r in json.loads(target.read_text())] == ["BTCUSDT", "BTCUSDT", "ETHUSDT"]


def test_user_errors_are_one_line_and_exit_2(cli_lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["sql", "SELECT * FROM nope"], "SQL error"),
        (
            [
                "query",
                "trades",
                "-e",
                "binance-futures",
                "-s",
                "BTCUSD",
                "--start",
                "2024-05-01",
                "--end",
                "2024-05-02",
            ],
            "unknown symbol 'BTCUSD'",
        ),
        (
            [
                "query",
                "trades",
                "-e",
                "binance-futures",
                "-s",
                "BTCUSDT",
                "--start",
                "2024-05-01",
                "--end",
                "2024-05-02",
                "-f",
                "parquet",
            ],
            "needs --output",
        ),
        (["coverage", "-e", "binance-futures", "-s", "BTCUSDT", "--from", "May 1", "--to", "2024-05-02"], "YYYY-MM-DD"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert message in err
        assert err.startswith("error:")
        assert "Traceback" not in err


def test_symbols_lists_and_summarises(cli_lake: Lake) -> None:
    listed = invoke("symbols", "--exchange", "binance-futures", "--format", "csv")
    frame = pl.read_csv(io.StringIO(listed))
    assert frame.get_column("exchange_symbol").to_list() == ["BTCUSDT", "ETHUSDT"]
    assert frame.get_column("versions").to_list() == [2, 1]
    history = pl.read_csv(io.StringIO(invoke("symbols", "--search", "btc", "--history", "-f", "csv")))
    assert history.height == 2
    summary = invoke("symbols", "--exchange", "binance-futures", "--symbol", "BTCUSDT")
    assert "price_increment 0.1 -> 0.01" in summary
    assert "trades" in summary


def test_coverage_shows_days_and_exports(cli_lake: Lake) -> None:
    shown = invoke(
        "coverage", "--exchange", "binance-futures", "--symbol", "BTCUSDT", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert "present (2)" in shown
    assert "missing" in shown
    rows = pl.read_csv(
        io.StringIO(
            invoke(
                "coverage",
                "-e",
                "binance-futures",
                "-s",
                "BTCUSDT",
                "--from",
                "2024-05-01",
                "--to",
                "2024-05-02",
                "-f",
                "csv",
            )
        )
    )
    assert rows.select("date", "status", "rows").rows() == [("2024-05-01", "present", 2), ("2024-05-02", "missing", 0)]
