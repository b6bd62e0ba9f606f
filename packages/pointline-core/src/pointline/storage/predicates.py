"""Building Delta predicates (delta-rs SQL expressions) safely from Python values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def literal(value: object) -> str:
    """A SQL literal for a predicate: strings quoted with quotes doubled, dates ISO-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use {type(value).__name__} in a predicate")


def is_in(column: str, values: Iterable[object]) -> str:
    """``column IN (...)`` over sorted distinct values (deterministic predicate text)."""
    # Group by type first so values of different types are never compared with each other.
    items = sorted(set(values), key=lambda v: (type(v).__name__, v))
    if not items:
        return "false"
    return f"{column} IN ({', '.join(literal(v) for v in items)})"


def equals(column: str, value: object) -> str:
    return f"{column} = {literal(value)}"


def all_of(*terms: str) -> str:
    return " AND ".join(f"({t})" for t in terms if t)
