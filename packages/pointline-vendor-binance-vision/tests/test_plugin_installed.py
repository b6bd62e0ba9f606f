"""The Binance Vision plugin is installed: its entry point loads in a real plugin host and registers its exchanges."""

from __future__ import annotations

from collections.abc import Callable

import pointline_vendor_binance_vision
import pytest
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost
from pointline.testing.installed import PluginInstalled, only_plugin, plugin_info
from pointline_vendor_binance_vision import hooks

NAME = "binance-vision"
EXCHANGES = {"binance": "crypto_spot", "binance-futures": "crypto_derivative", "binance-delivery": "crypto_derivative"}


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    return only_plugin(NAME, monkeypatch)


class TestInstalled(PluginInstalled):
    plugin_name = NAME
    distribution = "pointline-vendor-binance-vision"
    hooks_module = hooks
    package_version = pointline_vendor_binance_vision.__version__


def test_it_registers_its_hooks_and_exchanges(host: PluginHost) -> None:
    info = plugin_info(host, NAME)
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
