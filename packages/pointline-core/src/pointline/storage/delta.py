"""The Delta repository layer: every table read and write goes through :class:`TableStore`.

Writes validate the frame against the table's spec, use the measured writer properties (ZSTD level 1,
DELTA_BINARY_PACKED without dictionary on monotonic integer columns, ~1 M-row row groups) and are one
atomic commit each. Idempotent re-writes use :meth:`TableStore.replace_where` — a single-commit
predicate overwrite, never delete-then-append.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from deltalake import ColumnProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from pointline.config import Lake
from pointline.tables.spec import TableSpec, Tier
from pointline.tables.validate import conform, empty_frame

ROW_GROUP_ROWS = 1_048_576
WIDE_TABLE_COLUMNS = 40
"""Tables wider than this (book snapshots) write without dictionaries: measured faster and smaller."""

_TIER_DIR = {Tier.SILVER: "silver", Tier.DIM: "dim", Tier.CONTROL: "control", Tier.GOLD: "gold"}


def writer_properties(spec: TableSpec) -> WriterProperties:
    """Writer properties for a table, from the storage measurements in docs/architecture.md."""
    columns = {
        name: ColumnProperties(dictionary_enabled=False, encoding="DELTA_BINARY_PACKED")
        for name in spec.delta_encoded_columns
    }
    default = ColumnProperties(dictionary_enabled=False) if len(spec.columns) > WIDE_TABLE_COLUMNS else None
    return WriterProperties(
        compression="ZSTD",
        compression_level=1,
        max_row_group_size=ROW_GROUP_ROWS,
        default_column_properties=default,
        column_properties=columns or None,
    )


def table_path(lake: Lake, spec: TableSpec) -> Path:
    """``<lake>/silver/<table>``, ``dim/<table>``, ``control/<table>`` or ``gold/<table>`` by tier."""
    return lake.table_path(_TIER_DIR[spec.tier], spec.name)


class TableStore:
    """Reads and writes one registered table of one lake."""

    def __init__(self, lake: Lake, spec: TableSpec) -> None:
        self.lake = lake
        self.spec = spec
        self.path = table_path(lake, spec)

    def exists(self) -> bool:
        return (self.path / "_delta_log").is_dir()

    def delta_table(self) -> DeltaTable:
        return DeltaTable(str(self.path))

    def version(self) -> int | None:
        if not self.exists():
            return None
        return self.delta_table().version()

    def _write(self, frame: pl.DataFrame, *, mode: str, predicate: str | None = None) -> None:
        data = conform(self.spec, frame)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(
            str(self.path),
            data.to_arrow(),
            mode=mode,  # type: ignore[arg-type]
            partition_by=list(self.spec.partition_by) or None,
            predicate=predicate,
            writer_properties=writer_properties(self.spec),
        )

    def create(self) -> None:
        """Create the table empty, with its schema and partitioning, if it does not exist."""
        if not self.exists():
            self._write(empty_frame(self.spec), mode="append")

    def append(self, frame: pl.DataFrame) -> None:
        """Append rows in one commit (creates the table on first write)."""
        self._write(frame, mode="append")

    def replace_where(self, frame: pl.DataFrame, predicate: str) -> None:
        """Atomically replace every row matching ``predicate`` with ``frame`` (one commit).

        delta-rs rejects the write if any row of ``frame`` falls outside the predicate, and raises a
        retryable commit conflict instead of duplicating when two writers collide.
        """
        if not self.exists():
            self.create()
        self._write(frame, mode="overwrite", predicate=predicate)

    def overwrite(self, frame: pl.DataFrame) -> None:
        """Replace the whole table (small dimension tables only)."""
        self._write(frame, mode="overwrite")

    def delete_where(self, predicate: str) -> None:
        """Delete matching rows in one commit."""
        if self.exists():
            self.delta_table().delete(predicate)

    def scan(self) -> pl.LazyFrame:
        """A lazy scan of the current snapshot (an empty frame of the right schema if not yet written)."""
        if not self.exists():
            return empty_frame(self.spec).lazy()
        try:
            return pl.scan_delta(str(self.path))
        except TableNotFoundError:
            return empty_frame(self.spec).lazy()

    def read(self) -> pl.DataFrame:
        return self.scan().collect()
