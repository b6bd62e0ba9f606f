"""Pointline hooks of the Binance Vision plugin: Binance's markets, registered as data.

Only exchanges for now; the vendor (parsers, layout) is registered here once it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from pointline.exchanges import ExchangeSpec, load_exchanges_toml
from pointline.plugins.hookspecs import hookimpl


def exchanges() -> list[ExchangeSpec]:
    """Binance's spot, USD-M and COIN-M markets, from the packaged ``exchanges.toml``."""
    return load_exchanges_toml(files("pointline_vendor_binance_vision").joinpath("exchanges.toml"))


@hookimpl
def pointline_register_exchanges(register: Callable[[ExchangeSpec], None]) -> None:
    for spec in exchanges():
        register(spec)
