"""DuckDB over the lake: one view per table, pinned to the Delta snapshot read at connect time.

DuckDB's ``delta`` extension cannot be installed offline and no wheel carries it for DuckDB 2.x, so
each view is ``read_parquet`` over the exact data files of the table's current Delta snapshot
(``DeltaTable.file_uris()``, never a directory glob: files removed by later commits stay on disk until
vacuum), with Hive partition columns typed from the table spec. A table whose protocol needs deletion
vectors or column mapping (which plain Parquet readers would get wrong) is served through its Arrow
dataset instead. The table ``pointline_snapshot`` records each view's Delta version and file count.

As-of joins belong in Polars (:mod:`pointline_research.joins`): DuckDB's ASOF JOIN is not
deterministic when timestamps tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl
from deltalake import DeltaTable
from pointline.storage.delta import TableStore
from pointline.tables.spec import TableSpec
from pointline.tables.validate import empty_frame

from pointline_research.context import LakeLike, resolve_lake
from pointline_research.errors import ResearchInputError
from pointline_research.tables import lake_tables

UNSAFE_READER_FEATURES = frozenset({"deletionVectors", "columnMapping"})
_DUCK_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Date: "DATE",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Int16: "SMALLINT",
    pl.Int8: "TINYINT",
    pl.Boolean: "BOOLEAN",
}


def connect(
    lake: LakeLike = None,
    *,
    tables: Sequence[str] | None = None,
    database: str = ":memory:",
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per table of the lake (or per name in ``tables``).

    ``SELECT date, count(*) FROM trades GROUP BY 1`` then reads the same files as the Polars API.
    """
    root = resolve_lake(lake)
    specs = lake_tables(root)
    if tables is not None:
        by_name = {s.name: s for s in specs}
        unknown = [t for t in tables if t not in by_name]
        if unknown:
            raise ResearchInputError(
                f"no table {', '.join(unknown)} in lake {root.root} (present: {', '.join(by_name) or 'none'})"
            )
        specs = [by_name[t] for t in tables]
    con = duckdb.connect(database)
    snapshot: list[tuple[str, str, int, int]] = []
    for spec in specs:
        store = TableStore(root, spec)
        table = store.delta_table()
        files = table.file_uris()
        _create_view(con, spec, table, files)
        snapshot.append((spec.name, spec.tier.value, table.version(), len(files)))
    frame = pl.DataFrame(
        snapshot,
        schema={"table_name": pl.String, "tier": pl.String, "version": pl.Int64, "files": pl.Int64},
        orient="row",
    )
    con.register("__pointline_snapshot", frame.to_arrow())
    con.execute("CREATE TABLE pointline_snapshot AS SELECT * FROM __pointline_snapshot")
    con.unregister("__pointline_snapshot")
    return con


def _create_view(con: duckdb.DuckDBPyConnection, spec: TableSpec, table: DeltaTable, files: list[str]) -> None:
    name = _ident(spec.name)
    columns = ", ".join(_ident(c) for c in spec.column_names)
    features = set(table.protocol().reader_features or [])
    if not files:
        con.register(f"__empty_{spec.name}", empty_frame(spec).to_arrow())
        con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {_ident('__empty_' + spec.name)}")
        return
    if features & UNSAFE_READER_FEATURES:
        con.register(f"__dataset_{spec.name}", table.to_pyarrow_dataset())
        con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {_ident('__dataset_' + spec.name)}")
        return
    file_list = "[" + ", ".join(_string(f) for f in files) + "]"
    options = ["union_by_name = true"]
    if spec.partition_by:
        types = ", ".join(f"{_string(c)}: {_string(_duck_type(spec, c))}" for c in spec.partition_by)
        options += ["hive_partitioning = true", f"hive_types = {{{types}}}"]
    con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM read_parquet({file_list}, {', '.join(options)})")


def _duck_type(spec: TableSpec, column: str) -> str:
    dtype = spec.schema[column]
    return _DUCK_TYPES.get(type(dtype), "VARCHAR")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
