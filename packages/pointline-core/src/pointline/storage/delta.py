"""The Delta repository layer: every table read and write goes through :class:`TableStore`.

Writes validate the frame against the table's spec, use the measured writer properties (ZSTD level 1,
DELTA_BINARY_PACKED without dictionary on monotonic integer columns, ~1 M-row row groups) and are one
atomic commit each. Idempotent re-writes use :meth:`TableStore.replace_where` — a single-commit
predicate overwrite, never delete-then-append. :meth:`TableStore.merge` exists for keyed upserts and
always carries literal scope terms, because a default MERGE scans the whole target (measured: 33 s and
+12 GB for a 1 M-row batch into 100 M rows).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import polars as pl
import pyarrow as pa
from deltalake import ColumnProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from pointline.config import Lake
from pointline.errors import PointlineError
from pointline.storage.predicates import all_of, equals, is_in
from pointline.tables.spec import TableSpec, Tier
from pointline.tables.validate import conform, empty_frame

ROW_GROUP_ROWS = 1_048_576
WIDE_TABLE_COLUMNS = 40
"""Tables wider than this (book snapshots) write without dictionaries: measured faster and smaller."""

_TIER_DIR = {Tier.SILVER: "silver", Tier.DIM: "dim", Tier.CONTROL: "control", Tier.GOLD: "gold"}

ScopeValue = object
"""A scope term's value: one literal (``= v``) or a collection of literals (``IN (...)``)."""


class MergeScopeError(PointlineError):
    """A merge was asked without literal scope terms, or with rows outside its scope."""


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


def _is_many(value: object) -> TypeGuard[Collection[object]]:
    return isinstance(value, Collection) and not isinstance(value, str | bytes)


def scope_predicate(scope: Mapping[str, ScopeValue], *, alias: str | None = None) -> str:
    """SQL for literal scope terms: ``col = v`` for a scalar, ``col IN (...)`` for a collection.

    ``alias`` qualifies every column (``t.exchange``), as a MERGE predicate needs.
    """
    prefix = f"{alias}." if alias else ""
    terms = [
        is_in(prefix + column, value) if _is_many(value) else equals(prefix + column, value)
        for column, value in scope.items()
    ]
    return all_of(*terms)


class TableStore:
    """Reads and writes one registered table of one lake."""

    def __init__(self, lake: Lake, spec: TableSpec) -> None:
        self.lake = lake
        self.spec = spec
        self.path = table_path(lake, spec)

    def exists(self) -> bool:
        """True once the table has a Delta log."""
        return (self.path / "_delta_log").is_dir()

    def delta_table(self) -> DeltaTable:
        """The underlying :class:`deltalake.DeltaTable` (for maintenance and statistics)."""
        return DeltaTable(str(self.path))

    def version(self) -> int | None:
        """The current Delta version, or None if the table was never written."""
        if not self.exists():
            return None
        return self.delta_table().version()

    def _write(self, frame: pl.DataFrame, *, overwrite: bool, predicate: str | None = None) -> None:
        data = conform(self.spec, frame).to_arrow()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partition_by = list(self.spec.partition_by) or None
        properties = writer_properties(self.spec)
        if overwrite:
            write_deltalake(
                str(self.path),
                data,
                mode="overwrite",
                partition_by=partition_by,
                predicate=predicate,
                writer_properties=properties,
            )
        else:
            write_deltalake(
                str(self.path), data, mode="append", partition_by=partition_by, writer_properties=properties
            )

    def create(self) -> None:
        """Create the table empty, with its schema and partitioning, if it does not exist."""
        if not self.exists():
            self._write(empty_frame(self.spec), overwrite=False)

    def append(self, frame: pl.DataFrame) -> None:
        """Append rows in one commit (creates the table on first write)."""
        self._write(frame, overwrite=False)

    def replace_where(self, frame: pl.DataFrame, predicate: str) -> None:
        """Atomically replace every row matching ``predicate`` with ``frame`` (one commit).

        delta-rs rejects the write if any row of ``frame`` falls outside the predicate, and raises a
        retryable commit conflict instead of duplicating when two writers collide.
        """
        if not self.exists():
            self.create()
        self._write(frame, overwrite=True, predicate=predicate)

    def replace_where_batches(self, frames: Iterable[pl.DataFrame], predicate: str) -> None:
        """Like :meth:`replace_where`, but streams ``frames`` into the one commit.

        Each frame is validated and handed to the writer as it is produced, so memory holds about one
        frame at a time however large the whole is. If producing a frame raises, nothing is committed
        and that exception propagates unchanged (the writer would otherwise flatten it to a DeltaError).
        """
        if not self.exists():
            self.create()
        schema = empty_frame(self.spec).to_arrow().schema
        raised: list[BaseException] = []

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for frame in frames:
                    yield from conform(self.spec, frame).to_arrow().cast(schema).to_batches()
            except BaseException as exc:
                raised.append(exc)
                raise

        try:
            write_deltalake(
                str(self.path),
                pa.RecordBatchReader.from_batches(schema, batches()),
                mode="overwrite",
                partition_by=list(self.spec.partition_by) or None,
                predicate=predicate,
                writer_properties=writer_properties(self.spec),
            )
        except Exception:
            if raised:
                raise raised[0] from None
            raise

    def overwrite(self, frame: pl.DataFrame) -> None:
        """Replace the whole table (small dimension tables only)."""
        self._write(frame, overwrite=True)

    def merge(
        self,
        frame: pl.DataFrame,
        *,
        scope: Mapping[str, ScopeValue],
        on: Sequence[str] | None = None,
        update: bool = True,
    ) -> dict[str, Any]:
        """Upsert ``frame`` on the key ``on`` (default: the lineage key) in one commit.

        ``scope`` gives literal terms (``{"exchange": "binance", "date": [d1, d2], "file_id": [7]}``) that
        every target row the merge may touch satisfies; they are written into the MERGE predicate so
        delta-rs prunes files by partition and statistics instead of scanning the whole table. Every
        row of ``frame`` must lie inside the scope (else it could duplicate a row outside it), and an
        empty scope is refused. Matched rows are updated (``update=True``) or kept; unmatched rows are
        inserted. Returns delta-rs's merge metrics.
        """
        if not scope:
            raise MergeScopeError(
                f"merge into {self.spec.name!r} needs literal scope terms (partition and file_id values): "
                "a MERGE without them scans the whole table"
            )
        key = list(on or self.spec.lineage_key)
        unknown = [c for c in [*key, *scope] if c not in self.spec.column_names]
        if not key or unknown:
            raise MergeScopeError(
                f"merge into {self.spec.name!r}: key {key} / scope {list(scope)} name unknown columns {unknown}"
            )
        data = conform(self.spec, frame)
        inside = pl.all_horizontal(
            [
                pl.col(c).is_in(pl.Series(list(v), dtype=data.schema[c])) if _is_many(v) else pl.col(c) == v
                for c, v in scope.items()
            ]
        )
        outside = data.filter(~inside.fill_null(False)).height
        if outside:
            raise MergeScopeError(f"merge into {self.spec.name!r}: {outside} rows lie outside the scope {dict(scope)}")
        if not self.exists():
            self.create()
        predicate = all_of(*(f"t.{c} = s.{c}" for c in key), scope_predicate(scope, alias="t"))
        merger = self.delta_table().merge(
            data.to_arrow(),
            predicate=predicate,
            source_alias="s",
            target_alias="t",
            writer_properties=writer_properties(self.spec),
        )
        if update:
            merger = merger.when_matched_update_all()
        return merger.when_not_matched_insert_all().execute()

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
        """The current snapshot, collected."""
        return self.scan().collect()
