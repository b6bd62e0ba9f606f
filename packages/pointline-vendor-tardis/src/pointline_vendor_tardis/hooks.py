"""Pointline plugin hooks of the Tardis vendor (entry point ``tardis`` in group ``pointline``)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

import typer
from pointline.exchanges import ExchangeSpec, load_exchanges_toml
from pointline.plugins.hookspecs import hookimpl
from pointline.vendor import Vendor

from pointline_vendor_tardis.vendor import TardisVendor


def exchanges() -> list[ExchangeSpec]:
    """Every Tardis exchange id, from the packaged ``exchanges.toml``."""
    return load_exchanges_toml(files("pointline_vendor_tardis").joinpath("exchanges.toml"))


@hookimpl
def pointline_register_vendors(register: Callable[[Vendor], None]) -> None:
    register(TardisVendor())


@hookimpl
def pointline_register_exchanges(register: Callable[[ExchangeSpec], None]) -> None:
    for spec in exchanges():
        register(spec)


@hookimpl
def pointline_register_commands(app: typer.Typer) -> None:
    from pointline_vendor_tardis.cli import tardis_app

    app.add_typer(tardis_app, name="tardis")
