"""The Binance Vision plugin is installed: its entry point loads in a real plugin host and registers its exchanges."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import distribution, entry_points

import pointline_vendor_binance_vision
import pytest
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost
from pointline_vendor_binance_vision import hooks

NAME = "binance-vision"
EXCHANGES = {"binance": "crypto_spot", "binance-futures": "crypto_derivative", "binance-delivery": "crypto_derivative"}


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """A real host loading installed entry points, restricted to this plugin (other vendors may be installed)."""
    monkeypatch.setenv("POINTLINE_PLUGINS", NAME)
    monkeypatch.delenv("POINTLINE_DISABLE_PLUGINS", raising=False)
    return PluginHost()


def test_entry_point_is_declared_by_the_distribution() -> None:
    (ep,) = [ep for ep in entry_points(group="pointline") if ep.name == NAME]
    assert ep.value == "pointline_vendor_binance_vision.hooks"
    assert ep.dist is not None
    assert ep.dist.name == "pointline-vendor-binance-vision"
    assert ep.load() is hooks


def test_plugin_host_loads_it_with_its_version_and_hooks(host: PluginHost) -> None:
    (info,) = [i for i in host.plugin_infos() if i.name == NAME]
    assert info.distribution == "pointline-vendor-binance-vision"
    assert (
        info.version
        == distribution("pointline-vendor-binance-vision").version
        == pointline_vendor_binance_vision.__version__
    )
    assert info.hooks == ("pointline_register_exchanges",)
    assert info.vendors == ()  # no parser yet: the package says so rather than registering a stub
    assert set(info.exchanges) == set(EXCHANGES)


def test_exchanges_are_24_7_utc_venues(host: PluginHost) -> None:
    for name, asset_class in EXCHANGES.items():
        spec = host.exchange(name)
        assert spec.asset_class == asset_class
        assert spec.timezone == "UTC"
        assert spec.calendar is None
        assert spec.mic is None


class SameVenue:
    """Another plugin (Tardis does this) registering Binance spot with the same facts, worded differently."""

    @hookimpl
    def pointline_register_exchanges(self, register: Callable[[ExchangeSpec], None]) -> None:
        register(ExchangeSpec("binance", "crypto_spot", "UTC", description="Binance (spot market)"))


def test_exchanges_agree_with_another_plugin_registering_the_same_venue() -> None:
    host = PluginHost(entry_points_enabled=False, extra_plugins=[(NAME, hooks), ("other", SameVenue())])
    assert host.exchange_owner("binance") == NAME
    assert host.exchange("binance").description == "Binance spot"
