"""Row-level validation rules, registered per table.

A rule is a vectorised boolean expression that is true where a row breaks it, plus the column and raw
value recorded in the quarantine table. ``parsed`` rules run on the vendor's frame (decimal text still
text); ``encoded`` rules run after symbol resolution and exact encoding, on the Int64 counts, and only
see rows that resolved. Core registers the generic rules; a plugin adding a table (or a stricter check)
calls :func:`register_rule` from its hooks module.

Rules core applies to every bronze-derived table, besides the ones registered here:

* ``bad_timestamp`` — ``ts_local_us`` null, ``<= 0`` or after 2200-01-01; same for a non-null ``ts_exch_us``;
* ``missing_value`` — a non-nullable column is empty;
* ``no_symbol_coverage`` — no dim_symbol version of (exchange, exchange_symbol) is valid at ``ts_local_us``;
* the codec's ``off_grid``, ``unparsable_number``, ``excess_precision``, ``out_of_range``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

from pointline.tables.spec import CORE_MANAGED, TableSpec
from pointline.timeutil import to_us

BAD_TIMESTAMP: Final = "bad_timestamp"
MISSING_VALUE: Final = "missing_value"
NO_SYMBOL_COVERAGE: Final = "no_symbol_coverage"
INVALID_ENUM: Final = "invalid_enum"
CROSSED_BOOK: Final = "crossed_book"

TS_LIMIT_US: Final = to_us("2200-01-01")
"""Timestamps at or after this are absurd (a unit mix-up: ns or ms read as µs)."""

Stage = Literal["parsed", "encoded"]


@dataclass(frozen=True)
class RowRule:
    """One row-level check."""

    name: str
    """Rule name recorded in quarantine (``invalid_enum``)."""
    column: str | None
    """Column recorded in quarantine (the parser's column name)."""
    fails: pl.Expr
    """Boolean: true where the row breaks the rule (null counts as passing)."""
    raw: pl.Expr | None = None
    """Raw value to record; defaults to ``column`` as text."""
    stage: Stage = "parsed"

    def raw_value(self) -> pl.Expr:
        if self.raw is not None:
            return self.raw.cast(pl.String)
        if self.column is None:
            return pl.lit(None, pl.String)
        return pl.col(self.column).cast(pl.String)


RuleFactory = Callable[[TableSpec], list[RowRule]]

_REGISTRY: dict[str, list[RuleFactory]] = defaultdict(list)


def register_rule(table: str, factory: RuleFactory) -> None:
    """Add rules for ``table``, a name or a family pattern such as ``kline_{interval}``.

    Rules come from a factory taking the table's spec, so one registration serves a whole family.
    """
    _REGISTRY[table].append(factory)


def timestamp_rules(spec: TableSpec) -> list[RowRule]:
    """``bad_timestamp`` on the primary clock (never null) and on ``ts_exch_us`` when present."""
    rules: list[RowRule] = []
    for col in ("ts_local_us", "ts_exch_us"):
        if col not in spec.column_names:
            continue
        c = pl.col(col)
        out_of_range = (c <= 0) | (c >= TS_LIMIT_US)
        fails = (c.is_null() | out_of_range) if col == spec.time_column else out_of_range
        rules.append(RowRule(BAD_TIMESTAMP, col, fails))
    return rules


def missing_value_rules(spec: TableSpec) -> list[RowRule]:
    """``missing_value`` for each non-nullable column the parser provides (checked on its source)."""
    skip = {*CORE_MANAGED, spec.time_column}
    return [
        RowRule(MISSING_VALUE, c.source_name, pl.col(c.source_name).is_null())
        for c in spec.columns
        if not c.nullable and c.name not in skip
    ] + (
        [RowRule(MISSING_VALUE, "exchange_symbol", pl.col("exchange_symbol").is_null())]
        if "symbol_id" in spec.column_names
        else []
    )


def enum_rule(column: str, allowed: list[int] | list[str]) -> RuleFactory:
    """``invalid_enum`` where ``column`` is null or not one of ``allowed``.

    Parsers map vendor codes to canonical ones and leave unknown codes null, so null means "a value
    the parser did not recognise" here (it replaces the generic ``missing_value`` for this column).
    """

    def factory(spec: TableSpec) -> list[RowRule]:
        return [RowRule(INVALID_ENUM, column, ~pl.col(column).is_in(allowed).fill_null(False))]

    return factory


def crossed_book(bid: str, ask: str) -> RuleFactory:
    """``crossed_book`` where both sides are present and bid >= ask (compared as exact counts)."""

    def factory(spec: TableSpec) -> list[RowRule]:
        b, a = pl.col(f"{bid}_int"), pl.col(f"{ask}_int")
        raw = pl.concat_str([pl.col(bid), pl.lit(" >= "), pl.col(ask)])
        return [RowRule(CROSSED_BOOK, bid, b.is_not_null() & a.is_not_null() & (b >= a), raw, "encoded")]

    return factory


def rules_for(spec: TableSpec) -> list[RowRule]:
    """Every rule that applies to ``spec``: the generic ones, then the table's registered ones."""
    specific: list[RowRule] = []
    for key, factories in _REGISTRY.items():
        if _matches(key, spec.name):
            for factory in factories:
                specific.extend(factory(spec))
    # A column with an enum rule reports its nulls as invalid_enum, not twice.
    enums = {r.column for r in specific if r.name == INVALID_ENUM}
    generic = [r for r in missing_value_rules(spec) if r.column not in enums]
    return timestamp_rules(spec) + generic + specific


def _matches(key: str, table: str) -> bool:
    """``key`` is a table name or a family pattern such as ``kline_{interval}``."""
    if "{" not in key:
        return key == table
    prefix = key.split("{", 1)[0]
    return table.startswith(prefix) and table[len(prefix) :].isalnum()


# -- core's table rules ---------------------------------------------------------------------------
# Vendor parsers emit canonical Int8 codes: aggressor/liquidation side 1 buy, -1 sell, 0 unknown;
# book side 1 bid, -1 ask. Anything else (or null, caught by missing_value) is quarantined.
register_rule("trades", enum_rule("side", [1, -1, 0]))
register_rule("liquidations", enum_rule("side", [1, -1, 0]))
register_rule("incremental_book_l2", enum_rule("side", [1, -1]))
register_rule("options_chain", enum_rule("option_type", ["put", "call"]))
register_rule("quotes", crossed_book("bid_px", "ask_px"))
