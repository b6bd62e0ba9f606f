"""The CoinGecko plugin is installed: its entry point loads in a real plugin host (and registers nothing yet)."""

from __future__ import annotations

import pointline_vendor_coingecko
import pytest
from pointline.plugins.host import PluginHost
from pointline.testing.installed import PluginInstalled, only_plugin, plugin_info
from pointline_vendor_coingecko import hooks

NAME = "coingecko"


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    return only_plugin(NAME, monkeypatch)


class TestInstalled(PluginInstalled):
    plugin_name = NAME
    distribution = "pointline-vendor-coingecko"
    hooks_module = hooks
    package_version = pointline_vendor_coingecko.__version__


def test_it_registers_no_exchange_and_no_table_by_design(host: PluginHost) -> None:
    info = plugin_info(host, NAME)
    assert (info.hooks, info.vendors, info.exchanges, info.tables) == ((), (), (), ())
    assert "coingecko" not in host.exchanges  # asset-keyed data: no pseudo-venue
    assert host.table_owner("dim_asset_stats") == "pointline-core"  # the table it will fill is core's
