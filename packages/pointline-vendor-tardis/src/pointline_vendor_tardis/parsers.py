"""Tardis CSV data types -> the pre-encoding frames of Pointline's tables (``TableSpec.parse_schema()``).

Columns are taken from the real headers *by name* (vendor-formats.md section 1.3), never by position:

* ``exchange`` -> ``exchange`` (lower case), ``symbol`` -> ``exchange_symbol`` (per row: grouped files
  such as ``PERPETUALS`` hold many instruments), ``local_timestamp`` -> ``ts_local_us`` (arrival, the
  replay clock), ``timestamp`` -> ``ts_exch_us`` (the exchange's clock);
* prices and sizes of fixed-point columns stay decimal text, read as text, so core encodes them exactly;
* everything else is read with its type; an empty field is null (one-sided quotes, thin books, Deribit's
  empty funding fields, options without greeks are all valid rows);
* enums become Pointline's codes (trade side 1 buy / -1 sell / 0 unknown; book side 1 bid / -1 ask;
  liquidation side buy = a short was liquidated); unknown text becomes null, which core quarantines
  (``missing_value``) with the row's line number rather than a guess. Option types stay lower-case text
  so core's ``invalid_enum`` rule records the offending value.

A file whose timestamps are not microseconds (nanosecond-scaled derived files exist in the wild) fails
as a whole with a :class:`~pointline.errors.BronzeFormatError`: no row of it could be placed in time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from pointline.errors import BronzeFormatError, UnknownTableError
from pointline.tables.canonical import (
    DERIVATIVE_TICKER,
    INCREMENTAL_BOOK_L2,
    LIQUIDATIONS,
    OPTIONS_CHAIN,
    QUOTES,
    TRADES,
    book_snapshot,
)
from pointline.tables.spec import TableSpec

from pointline_vendor_tardis.csvread import LINE, CsvFile

Kind = Literal["text", "string", "int", "float", "trade_side", "book_side", "bool", "option_type"]

NS_THRESHOLD = 10**17
"""A µs timestamp of 1e17 is the year 5138: values this large are nanoseconds (guard from vendor-formats §1.2)."""
MIN_LOCAL_US = 10**14
"""1973 in µs: a smaller arrival time means the file is in milliseconds or seconds."""

_TRADE_SIDE = {"buy": 1, "sell": -1, "unknown": 0}
_BOOK_SIDE = {"bid": 1, "ask": -1}
_BOOL = {"true": True, "false": False}


@dataclass(frozen=True)
class Field:
    """One CSV column and the parse-schema column it becomes."""

    source: str
    target: str
    kind: Kind


_PREFIX = (
    Field("exchange", "exchange", "string"),
    Field("symbol", "exchange_symbol", "string"),
    Field("local_timestamp", "ts_local_us", "int"),
    Field("timestamp", "ts_exch_us", "int"),
)


@dataclass(frozen=True)
class DataType:
    """How one Tardis data type maps onto one table."""

    name: str
    table: TableSpec
    fields: tuple[Field, ...]

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return _PREFIX + self.fields

    @property
    def typed(self) -> dict[str, pl.DataType]:
        """CSV columns read with a type (all others are read as text)."""
        out: dict[str, pl.DataType] = {}
        for f in self.all_fields:
            if f.kind == "int":
                out[f.source] = pl.Int64()
            elif f.kind == "float":
                out[f.source] = pl.Float64()
        return out


def _book_fields(depth: int) -> tuple[Field, ...]:
    # Tardis interleaves levels: asks[i].price, asks[i].amount, bids[i].price, bids[i].amount, i = 0..N-1.
    out: list[Field] = []
    for i in range(depth):
        for side, prefix in (("asks", "ask"), ("bids", "bid")):
            out.append(Field(f"{side}[{i}].price", f"{prefix}{i}_px", "text"))
            out.append(Field(f"{side}[{i}].amount", f"{prefix}{i}_qty", "text"))
    return tuple(out)


DATA_TYPES: dict[str, DataType] = {
    "trades": DataType(
        "trades",
        TRADES,
        (
            Field("id", "trade_id", "string"),
            Field("side", "side", "trade_side"),
            Field("price", "px", "text"),
            Field("amount", "qty", "text"),
        ),
    ),
    "liquidations": DataType(
        "liquidations",
        LIQUIDATIONS,
        (
            Field("id", "liquidation_id", "string"),
            # buy = a short position was liquidated, sell = a long one (tardis-node types.ts): same codes.
            Field("side", "side", "trade_side"),
            Field("price", "px", "text"),
            Field("amount", "qty", "text"),
        ),
    ),
    "quotes": DataType(
        "quotes",
        QUOTES,
        (
            # The header order is ask_amount, ask_price, bid_price, bid_amount: names, not positions, matter.
            Field("bid_price", "bid_px", "text"),
            Field("bid_amount", "bid_qty", "text"),
            Field("ask_price", "ask_px", "text"),
            Field("ask_amount", "ask_qty", "text"),
        ),
    ),
    "book_snapshot_25": DataType("book_snapshot_25", book_snapshot(25), _book_fields(25)),
    "book_snapshot_5": DataType("book_snapshot_5", book_snapshot(5), _book_fields(5)),
    "derivative_ticker": DataType(
        "derivative_ticker",
        DERIVATIVE_TICKER,
        (
            Field("funding_timestamp", "funding_ts_us", "int"),
            Field("funding_rate", "funding_rate", "float"),
            Field("predicted_funding_rate", "predicted_funding_rate", "float"),
            Field("open_interest", "open_interest", "float"),
            Field("last_price", "last_px", "float"),
            Field("index_price", "index_px", "float"),
            Field("mark_price", "mark_px", "float"),
        ),
    ),
    "options_chain": DataType(
        "options_chain",
        OPTIONS_CHAIN,
        (
            Field("type", "option_type", "option_type"),
            Field("strike_price", "strike", "float"),
            Field("expiration", "expiry_ts_us", "int"),
            Field("open_interest", "open_interest", "float"),
            Field("last_price", "last_px", "text"),
            Field("bid_price", "bid_px", "text"),
            Field("bid_amount", "bid_qty", "text"),
            Field("bid_iv", "bid_iv", "float"),
            Field("ask_price", "ask_px", "text"),
            Field("ask_amount", "ask_qty", "text"),
            Field("ask_iv", "ask_iv", "float"),
            Field("mark_price", "mark_px", "float"),
            Field("mark_iv", "mark_iv", "float"),
            Field("underlying_index", "underlying_index", "string"),
            Field("underlying_price", "underlying_px", "float"),
            Field("delta", "delta", "float"),
            Field("gamma", "gamma", "float"),
            Field("vega", "vega", "float"),
            Field("theta", "theta", "float"),
            Field("rho", "rho", "float"),
        ),
    ),
    "incremental_book_L2": DataType(
        "incremental_book_L2",
        INCREMENTAL_BOOK_L2,
        (
            Field("is_snapshot", "is_snapshot", "bool"),
            Field("side", "side", "book_side"),
            Field("price", "px", "text"),
            Field("amount", "qty", "text"),
        ),
    ),
}
"""Every Tardis data type this package parses, by its Tardis name."""


def data_type(name: str) -> DataType:
    try:
        return DATA_TYPES[name]
    except KeyError:
        raise UnknownTableError(
            f"Tardis data type {name!r} is not supported (supported: {', '.join(sorted(DATA_TYPES))})"
        ) from None


_SMALL = 32
"""Up to this many distinct values, a text column is mapped with a when/then chain built from them."""


def _recode(raw: pl.DataFrame, column: str, fn: Callable[[str], object], dtype: pl.DataType) -> pl.Expr:
    """Map a low-cardinality text column through ``fn`` (None -> null), vectorised.

    ``fn`` runs once per *distinct* value (exchange ids, sides, ...), never per row: string functions
    over every row of a multi-million-row file measured 10-30x slower than comparing against the few
    distinct values. Columns with many distinct values fall back to a hash-based replace.
    """
    values = raw.get_column(column).unique().drop_nulls().to_list()
    mapping = {v: fn(v) for v in values}
    if all(k == v for k, v in mapping.items()) and dtype == pl.String:
        return pl.col(column)
    if len(mapping) > _SMALL:
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=dtype)
    out: pl.Expr = pl.lit(None, dtype)
    for value, code in mapping.items():
        if code is not None:
            out = pl.when(pl.col(column) == value).then(pl.lit(code, dtype)).otherwise(out)
    return out


def _normal(text: str) -> str:
    return text.strip().lower()


def _expr(raw: pl.DataFrame, f: Field) -> pl.Expr:
    if f.kind in ("text", "string", "int", "float"):
        return pl.col(f.source)  # kept exactly as the vendor wrote it
    if f.kind == "trade_side":
        return _recode(raw, f.source, lambda v: _TRADE_SIDE.get(_normal(v)), pl.Int8())
    if f.kind == "book_side":
        return _recode(raw, f.source, lambda v: _BOOK_SIDE.get(_normal(v)), pl.Int8())
    if f.kind == "bool":
        return _recode(raw, f.source, lambda v: _BOOL.get(_normal(v)), pl.Boolean())
    if f.kind == "option_type":
        # Kept as lower-case text: core's invalid_enum rule quarantines anything but put/call with its value.
        return _recode(raw, f.source, _normal, pl.String())
    raise AssertionError(f"unhandled field kind {f.kind}")


def _check_units(raw: pl.DataFrame, csv: CsvFile) -> None:
    """Fail the file when its first row's timestamps are not microseconds.

    A unit mix-up affects every row of a file (nautilus ships nanosecond-scaled derived CSVs), so the
    first row decides; a stray absurd value further down is a row problem core quarantines as
    ``bad_timestamp``.
    """
    if not raw.height:
        return
    line = int(raw.get_column(LINE)[0])
    for column in ("local_timestamp", "timestamp"):
        value = raw.get_column(column)[0]
        if value is None:
            continue
        if value >= NS_THRESHOLD:
            unit = "nanoseconds?"
        elif column == "local_timestamp" and value < MIN_LOCAL_US:
            unit = "milliseconds or seconds?"
        else:
            continue
        raise BronzeFormatError(
            f"timestamp {value} is not in microseconds ({unit}); Tardis files are µs since the epoch",
            path=str(csv.path),
            line=line,
            column=column,
        )


def _shape(raw: pl.DataFrame, spec: DataType) -> pl.DataFrame:
    exprs = {f.target: _expr(raw, f) for f in spec.all_fields}
    exprs["exchange"] = _recode(raw, "exchange", _normal, pl.String())
    exprs["file_line_number"] = pl.col(LINE)
    schema = spec.table.parse_schema()
    return raw.select([exprs[name].cast(dtype).alias(name) for name, dtype in schema.items()])


def iter_parse(path: Path, data_type_name: str, batch_rows: int | None = None) -> Iterator[pl.DataFrame]:
    """Parse a Tardis CSV (gzip or plain) into frames of the data type's table parse schema."""
    spec = data_type(data_type_name)
    csv = CsvFile(path)
    required = [f.source for f in spec.all_fields]
    first = True
    for raw in csv.frames(typed=spec.typed, required=required, batch_rows=batch_rows):
        if first and raw.height:
            _check_units(raw, csv)
            first = False
        shaped = _shape(raw, spec)
        del raw  # only the shaped frame is alive while the caller holds it
        yield shaped


def parse(path: Path, data_type_name: str) -> pl.DataFrame:
    """Parse a whole file at once (see :func:`iter_parse`)."""
    frames = list(iter_parse(path, data_type_name))
    return frames[0] if len(frames) == 1 else pl.concat(frames)
