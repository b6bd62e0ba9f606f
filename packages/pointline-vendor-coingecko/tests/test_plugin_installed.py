"""The CoinGecko plugin is installed: its entry point loads in a real plugin host (and registers nothing yet)."""

from __future__ import annotations

from importlib.metadata import distribution, entry_points

import pointline_vendor_coingecko
import pytest
from pointline.plugins.host import PluginHost
from pointline_vendor_coingecko import hooks

NAME = "coingecko"


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """A real host loading installed entry points, restricted to this plugin (other vendors may be installed)."""
    monkeypatch.setenv("POINTLINE_PLUGINS", NAME)
    monkeypatch.delenv("POINTLINE_DISABLE_PLUGINS", raising=False)
    return PluginHost()


def test_entry_point_is_declared_by_the_distribution() -> None:
    (ep,) = [ep for ep in entry_points(group="pointline") if ep.name == NAME]
    assert ep.value == "pointline_vendor_coingecko.hooks"
    assert ep.dist is not None
    assert ep.dist.name == "pointline-vendor-coingecko"
    assert ep.load() is hooks


def test_plugin_host_loads_it_with_its_version(host: PluginHost) -> None:
    (info,) = [i for i in host.plugin_infos() if i.name == NAME]
    assert info.distribution == "pointline-vendor-coingecko"
    assert info.version == distribution("pointline-vendor-coingecko").version == pointline_vendor_coingecko.__version__


def test_it_registers_no_exchange_and_no_table_by_design(host: PluginHost) -> None:
    (info,) = [i for i in host.plugin_infos() if i.name == NAME]
    assert (info.hooks, info.vendors, info.exchanges, info.tables) == ((), (), (), ())
    assert "coingecko" not in host.exchanges  # asset-keyed data: no pseudo-venue
    assert host.table_owner("dim_asset_stats") == "pointline-core"  # the table it will fill is core's
