"""Where a research call reads from: the lake, the plugin host, exchange timezones, table stores.

Every public helper takes ``lake=None`` and resolves it here, so ``POINTLINE_LAKE`` (or ``--lake``,
or the config file) is honoured the same way as by the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from pointline.config import Lake
from pointline.errors import UnknownExchangeError
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_EXCHANGE
from pointline.tables.spec import TableSpec

LakeLike = Lake | str | os.PathLike[str] | None
"""A :class:`~pointline.config.Lake`, a lake root path, or None for the configured lake."""


def resolve_lake(lake: LakeLike = None) -> Lake:
    """The lake to read: ``lake`` itself, its path, or (None) ``--lake``/``POINTLINE_LAKE``/config/``./lake``."""
    if isinstance(lake, Lake):
        return lake
    return Lake.resolve(None if lake is None else Path(lake))


def table_spec(name: str) -> TableSpec:
    """A registered table (or a family member such as ``kline_1m``); unknown names raise UnknownTableError."""
    return get_host().table(name)


def store(lake: Lake, table: str | TableSpec) -> TableStore:
    """The :class:`TableStore` of one table in ``lake``."""
    spec = table if isinstance(table, TableSpec) else table_spec(table)
    return TableStore(lake, spec)


def exchange_timezone(lake: Lake, exchange: str) -> str:
    """The IANA timezone that defines ``exchange``'s local dates (its partition dates).

    Installed plugins are asked first (no I/O); a lake written by plugins that are not installed here
    still answers through its ``dim_exchange`` table.
    """
    try:
        return get_host().exchange(exchange).timezone
    except UnknownExchangeError:
        found = (
            TableStore(lake, DIM_EXCHANGE).scan().filter(pl.col("exchange") == exchange).select("timezone").collect()
        )
        if found.height:
            return str(found.item(0, 0))
        raise
