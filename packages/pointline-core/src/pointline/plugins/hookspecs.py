"""pluggy hook specifications of the ``pointline`` project.

Every hook is registration style: core passes a ``register`` callable and the plugin calls it once per
thing it provides. Core knows which plugin is calling, so a conflict names both plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from pointline.exchanges import ExchangeSpec
    from pointline.tables.spec import TableSpec
    from pointline.vendor import Vendor

PROJECT = "pointline"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator for plugin hook implementations: ``@hookimpl def pointline_register_vendors(register): ...``."""


@hookspec
def pointline_register_vendors(register: Callable[[Vendor], None]) -> None:
    """Register :class:`pointline.vendor.Vendor` instances."""


@hookspec
def pointline_register_tables(register: Callable[[TableSpec], None]) -> None:
    """Register :class:`pointline.tables.spec.TableSpec` objects."""


@hookspec
def pointline_register_exchanges(register: Callable[[ExchangeSpec], None]) -> None:
    """Register :class:`pointline.exchanges.ExchangeSpec` objects (usually loaded from packaged TOML)."""


@hookspec
def pointline_register_commands(app: typer.Typer) -> None:
    """Add commands to the ``pointline`` CLI, e.g. ``app.add_typer(vendor_app, name="tardis")``."""
