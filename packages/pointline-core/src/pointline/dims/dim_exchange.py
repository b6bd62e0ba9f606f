"""dim_exchange: the registered exchanges, written as a dimension table."""

from __future__ import annotations

import polars as pl

from pointline.config import Lake
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.tables.canonical import DIM_EXCHANGE


def exchange_frame(host: PluginHost) -> pl.DataFrame:
    """One row per exchange registered by an installed plugin."""
    owners = {e: info.name for info in host.plugin_infos() for e in info.exchanges}
    rows = [
        {
            "exchange": e.name,
            "asset_class": e.asset_class,
            "timezone": e.timezone,
            "mic": e.mic,
            "calendar": e.calendar,
            "description": e.description,
            "registered_by": owners.get(e.name, "?"),
        }
        for e in host.exchanges.values()
    ]
    return pl.DataFrame(rows, schema=DIM_EXCHANGE.schema)


def populate(lake: Lake, host: PluginHost) -> int:
    """Rewrite dim_exchange from the plugins installed now; returns the number of exchanges."""
    frame = exchange_frame(host)
    TableStore(lake, DIM_EXCHANGE).overwrite(frame)
    return frame.height
