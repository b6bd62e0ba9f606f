"""Every installed package's plugin loads in one host, next to all the others, without conflicts."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import polars as pl
from conftest import CliRunner
from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_EXCHANGE

FIRST_PARTY = {
    "research": "pointline-research",
    "tardis": "pointline-vendor-tardis",
    "binance-vision": "pointline-vendor-binance-vision",
    "quant360": "pointline-vendor-quant360",
    "coingecko": "pointline-vendor-coingecko",
}


def test_every_installed_entry_point_is_listed_with_its_distribution(pointline: CliRunner) -> None:
    listed = {i["name"]: i for i in json.loads(pointline("plugins", "--json").stdout)}
    installed = {ep.name: ep for ep in entry_points(group="pointline")}
    assert set(installed) <= set(listed)
    for name, ep in installed.items():
        assert ep.dist is not None
        assert (listed[name]["distribution"], listed[name]["version"]) == (ep.dist.name, ep.dist.version)
    assert next(iter(listed)) == "pointline-core"


def test_all_first_party_packages_are_installed_together(pointline: CliRunner) -> None:
    listed = {i["name"]: i["distribution"] for i in json.loads(pointline("plugins", "--json").stdout)}
    assert {name: listed.get(name) for name in FIRST_PARTY} == FIRST_PARTY


def test_schema_show_trades_shows_partitioning_and_lineage(pointline: CliRunner) -> None:
    out = pointline("schema", "show", "trades").stdout
    assert "partitioned by: exchange, date" in out
    assert "lineage key:    file_id, file_line_number" in out


def test_vendor_tables_are_in_the_schema_catalog(pointline: CliRunner) -> None:
    out = pointline("schema", "list").stdout
    for table in ("trades", "szse_l3_orders", "szse_l3_ticks", "stock_basic_cn", "dim_asset_stats"):
        assert table in out, table


def test_dim_exchange_holds_every_vendor_exchange_once(pointline: CliRunner, tmp_path: Path) -> None:
    pointline("dim", "populate-exchange")
    frame = TableStore(Lake(tmp_path / "lake"), DIM_EXCHANGE).read()
    assert frame["exchange"].is_unique().all()
    by_name = {row["exchange"]: row for row in frame.to_dicts()}
    assert by_name["szse"]["calendar"] == "XSHG"
    assert by_name["szse"]["timezone"] == "Asia/Shanghai"
    # Binance spot is registered by two vendors with the same facts; the first (by plugin name) owns it.
    assert by_name["binance"]["registered_by"] == "binance-vision"
    assert by_name["binance-futures"]["asset_class"] == "crypto_derivative"
    assert frame.filter(pl.col("registered_by") == "tardis").height > 10


def test_a_user_error_is_one_line_with_every_plugin_loaded(pointline: CliRunner) -> None:
    done = pointline("schema", "show", "no_such_table", check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
