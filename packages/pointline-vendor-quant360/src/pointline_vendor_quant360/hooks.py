"""Pointline hooks of the Quant360 plugin: the Chinese exchanges and the China-market tables.

Only data for now; the vendor (archive pre-hook, parsers) is registered here once it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from pointline.exchanges import ExchangeSpec, load_exchanges_toml
from pointline.plugins.hookspecs import hookimpl
from pointline.tables.spec import TableSpec

from pointline_vendor_quant360.tables import TABLES


def exchanges() -> list[ExchangeSpec]:
    """SZSE and SSE, from the packaged ``exchanges.toml``."""
    return load_exchanges_toml(files("pointline_vendor_quant360").joinpath("exchanges.toml"))


@hookimpl
def pointline_register_exchanges(register: Callable[[ExchangeSpec], None]) -> None:
    for spec in exchanges():
        register(spec)


@hookimpl
def pointline_register_tables(register: Callable[[TableSpec], None]) -> None:
    for spec in TABLES:
        register(spec)
