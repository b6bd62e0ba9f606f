"""The plugin as installed: entry point, vendor, exchanges as data, tables, and CLI commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pointline.plugins.host import PluginHost
from tardis_helpers import ALL_SAMPLES, csv_rows

from pointline_vendor_tardis import hooks
from pointline_vendor_tardis.vendor import TardisVendor

WELL_KNOWN = {
    "binance", "binance-futures", "binance-delivery", "binance-options", "binance-us", "bitmex", "deribit", "okex",
    "okex-futures", "okex-swap", "okex-options", "huobi", "huobi-dm", "huobi-dm-swap", "huobi-dm-linear-swap", "bybit",
    "bybit-spot", "bybit-options", "coinbase", "kraken", "cryptofacilities", "bitfinex", "bitfinex-derivatives",
    "bitstamp", "gemini", "ftx", "ftx-us", "kucoin", "gate-io", "gate-io-futures", "bitget", "bitget-futures", "okcoin",
    "phemex", "delta", "poloniex", "upbit", "ascendex", "dydx", "serum", "mango", "woo-x", "blockchain-com", "crypto-com",
    "hyperliquid",
}  # fmt: skip


def test_exchanges_are_data_and_all_utc() -> None:
    specs = hooks.exchanges()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert set(names) >= WELL_KNOWN
    assert {s.timezone for s in specs} == {"UTC"}
    assert {s.asset_class for s in specs} == {"crypto_spot", "crypto_derivative", "crypto_option"}
    assert all(s.calendar is None for s in specs)  # 24/7 venues
    by_name = {s.name: s for s in specs}
    assert by_name["binance"].asset_class == "crypto_spot"
    assert by_name["binance-futures"].asset_class == "crypto_derivative"
    assert by_name["deribit"].asset_class == "crypto_derivative"
    assert by_name["okex-options"].asset_class == "crypto_option"


def test_every_sample_exchange_is_registered() -> None:
    names = {s.name for s in hooks.exchanges()}
    for path, _ in ALL_SAMPLES:
        assert {r["exchange"] for r in csv_rows(path)} <= names, path.name


def test_host_registers_vendor_exchanges_and_commands() -> None:
    host = PluginHost(entry_points_enabled=False, extra_plugins=[("tardis", hooks)])
    vendor = host.vendor("tardis")
    assert isinstance(vendor, TardisVendor)
    assert host.exchange("deribit").timezone == "UTC"
    for data_type, table in vendor.table_mapping().items():
        assert host.table_for(vendor, data_type).name == table
    assert host.table_for(vendor, "incremental_book_L2").name == "incremental_book_l2"
    info = next(i for i in host.plugin_infos() if i.name == "tardis")
    assert set(info.hooks) == {
        "pointline_register_vendors",
        "pointline_register_exchanges",
        "pointline_register_commands",
    }


@pytest.fixture
def only_tardis_env() -> dict[str, str]:
    """Environment that loads the tardis entry point (and core) only, so other plugins cannot interfere."""
    return {**os.environ, "POINTLINE_PLUGINS": "tardis"}


def test_entry_point_is_found_by_a_real_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTLINE_PLUGINS", "tardis")
    host = PluginHost()
    assert isinstance(host.vendor("tardis"), TardisVendor)
    info = next(i for i in host.plugin_infos() if i.name == "tardis")
    assert info.distribution == "pointline-vendor-tardis"
    assert info.version == "0.1.0"


def test_pointline_plugins_json_lists_tardis(only_tardis_env: dict[str, str], tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("pointline")
    out = subprocess.run(
        [str(exe), "plugins", "--json"], capture_output=True, text=True, env=only_tardis_env, cwd=tmp_path, check=True
    )
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert plugins["tardis"]["vendors"] == ["tardis"]
    assert "deribit" in plugins["tardis"]["exchanges"]
    help_text = subprocess.run(
        [str(exe), "tardis", "--help"], capture_output=True, text=True, env=only_tardis_env, check=True
    ).stdout
    assert "download" in help_text
    assert "symbols" in help_text
