"""Which tables a lake holds, found from its table directories (never by listing data files)."""

from __future__ import annotations

from pointline.config import Lake
from pointline.errors import UnknownTableError
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore
from pointline.tables.spec import Status, TableSpec

TIER_DIRS = ("silver", "dim", "control", "gold")


def lake_tables(lake: Lake) -> list[TableSpec]:
    """Specs of every registered table (family members such as ``kline_1m`` included) present in ``lake``."""
    host = get_host()
    found: dict[str, TableSpec] = {}
    for tier in TIER_DIRS:
        base = lake.root / tier
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if not (child / "_delta_log").is_dir():
                continue
            try:
                spec = host.table(child.name)
            except UnknownTableError:
                continue  # a table of a plugin that is not installed here
            if TableStore(lake, spec).path == child:
                found[spec.name] = spec
    return [found[n] for n in sorted(found)]


def event_tables(lake: Lake) -> list[TableSpec]:
    """Active bronze-derived event tables present in ``lake``."""
    return [s for s in lake_tables(lake) if s.is_event_table and s.status is Status.ACTIVE]
