"""Schema validation at every write path."""

from __future__ import annotations

import polars as pl

from pointline.errors import SchemaMismatchError
from pointline.tables.spec import TableSpec


def check_frame(spec: TableSpec, frame: pl.DataFrame) -> None:
    """Raise :class:`SchemaMismatchError` unless ``frame`` has exactly the spec's columns and types.

    Non-nullable columns must hold no nulls. Column order does not matter (use :func:`conform`).
    """
    want = spec.schema
    got = frame.schema
    missing = [n for n in want if n not in got]
    unexpected = [n for n in got if n not in want]
    mistyped = [(n, str(want[n]), str(got[n])) for n in want if n in got and got[n] != want[n]]
    nulls: list[str] = []
    if not (missing or unexpected or mistyped):
        required = [c.name for c in spec.columns if not c.nullable]
        if required and frame.height:
            counts = frame.select(pl.col(required).null_count()).row(0)
            nulls = [n for n, k in zip(required, counts, strict=True) if k]
    if missing or unexpected or mistyped or nulls:
        raise SchemaMismatchError(spec.name, missing=missing, unexpected=unexpected, mistyped=mistyped, nulls=nulls)


def conform(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Validate ``frame`` against ``spec`` and return it with columns in the declared order."""
    check_frame(spec, frame)
    return frame.select(spec.column_names)


def empty_frame(spec: TableSpec) -> pl.DataFrame:
    """A zero-row frame with the spec's schema."""
    return pl.DataFrame(schema=spec.schema)
