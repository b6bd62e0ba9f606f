"""Exact fixed-point encoding of decimal prices and sizes.

A price or size is stored as an Int64 count of its instrument's increment (``price_increment`` or
``amount_increment`` from dim_symbol). Encoding is exact decimal arithmetic, never float division:

* the vendor's text is parsed as ``Decimal(38, 18)``, so ``"0.3"`` is exactly 3/10;
* both are taken as exact integer counts of 1e-18 (the Int128 behind the decimal), the count is their
  integer quotient, and the row is on the grid only if the remainder is zero, so ``0.3 @ 0.1 -> 3``
  and ``0.07 @ 0.01 -> 7``;
* a value off the grid, with more than 18 decimals, unparsable, or whose count does not fit Int64 is
  never moved: its count is null and :func:`encode` names the problem, so ingestion can quarantine it.

Decoding multiplies back in decimal arithmetic, so ``decode(encode(x)) == x`` for every on-grid ``x``.
Everything here is a Polars expression: vectorised, no per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

SCALE = 18
"""Decimal places kept while encoding; increments down to 1e-18 are representable."""

DECIMAL = pl.Decimal(38, SCALE)
"""The exact decimal type used for increments and decoded values."""


class Problem:
    """Rule names for values that cannot be encoded (also used as quarantine rules)."""

    UNPARSABLE = "unparsable_number"
    OFF_GRID = "off_grid"
    EXCESS_PRECISION = "excess_precision"
    OUT_OF_RANGE = "out_of_range"
    NO_INCREMENT = "no_increment"


@dataclass(frozen=True)
class Encoded:
    """The two expressions :func:`encode` returns for one column."""

    count: pl.Expr
    """Int64 count of increments; null where the input is null or has a problem."""
    problem: pl.Expr
    """String rule name (see :class:`Problem`) where a non-null input could not be encoded, else null."""


# Whitespace stripped around a value. Spelled out: Polars' common-subexpression elimination skips
# ``strip_chars()`` with its null default, and every rule below builds on the stripped text.
_BLANKS = " \t\r\n"
# A decimal number as vendors write it: optional sign, digits with an optional point, optional exponent.
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
# Plain notation with a non-zero digit beyond the SCALE-th decimal: parsing would round it silently.
_EXCESS_PLAIN = rf"\.\d{{{SCALE}}}0*[1-9]\d*$"
# Scientific notation: integer digits, fraction digits, exponent.
_EXPONENT = r"^[+-]?(\d*)\.?(\d*)[eE]([+-]?\d+)$"


def to_decimal(value: pl.Expr) -> pl.Expr:
    """Parse decimal text (or pass a number through) to ``Decimal(38, 18)``; unparsable text becomes null."""
    return value.cast(pl.String).str.strip_chars(_BLANKS).str.to_decimal(scale=SCALE)


def _excess_precision(text: pl.Expr) -> pl.Expr:
    """True where the decimal text carries non-zero digits below 1e-18 (which parsing would round).

    For scientific notation the number of decimals a value needs is ``len(fraction) - exponent`` minus
    the trailing zeros of its digits (``10e-19`` is ``1e-18``: 18 decimals, not 19).
    """
    # Only texts with an exponent reach the regex (the others become null, which string kernels skip):
    # vendors almost never write exponents, and this keeps the common case at one cheap scan.
    scientific_text = pl.when(text.str.contains_any(["e", "E"])).then(text)
    groups = scientific_text.str.extract_groups(_EXPONENT)
    fraction = groups.struct.field("2")
    digits = groups.struct.field("1") + fraction
    trailing_zeros = digits.str.len_chars() - digits.str.strip_chars_end("0").str.len_chars()
    exponent = groups.struct.field("3").cast(pl.Int64, strict=False)
    places = fraction.str.len_chars().cast(pl.Int64) - exponent - trailing_zeros.cast(pl.Int64)
    nonzero = digits.str.strip_chars("0").str.len_chars() > 0
    scientific = (places > SCALE) & nonzero
    return text.str.contains(_EXCESS_PLAIN) | scientific.fill_null(False)


def _units(decimal: pl.Expr) -> pl.Expr:
    """The Int128 count of 1e-18 units of a ``Decimal(38, 18)`` expression: its exact physical integer."""
    return decimal.to_physical()


def encode(value: pl.Expr, increment: pl.Expr) -> Encoded:
    """Encode decimal text ``value`` as an exact Int64 count of ``increment``.

    ``increment`` may be a ``Decimal`` column/literal, an integer, or decimal text. Nulls stay null with
    no problem (an empty vendor field is a missing value, not an error). The arithmetic is integer
    division of the Int128 counts of 1e-18 that back ``Decimal(38, 18)``, so it is exact for every
    value below 1e20 with at most 18 decimals; a text that is a number but does not fit that type is
    ``out_of_range``, anything else that does not parse is ``unparsable_number``.
    """
    text = value.cast(pl.String).str.strip_chars(_BLANKS)
    parsed = text.str.to_decimal(scale=SCALE)
    inc = increment.cast(DECIMAL, strict=False)
    units = _units(parsed)
    inc_units = _units(inc)
    safe_inc = pl.when(inc_units > 0).then(inc_units).otherwise(pl.lit(1, pl.Int128))
    quotient = (units // safe_inc).cast(pl.Int64, strict=False)
    # Whether an unparsed text is a number at all (too large to fit) or garbage; the regex only sees
    # the texts that failed to parse, the others are null here.
    is_number = pl.when(parsed.is_null()).then(text).str.contains(_NUMBER)
    problem = (
        pl.when(text.is_null())
        .then(pl.lit(None, pl.String))
        .when(parsed.is_null() & ~is_number)
        .then(pl.lit(Problem.UNPARSABLE))
        .when(inc.is_null() | (inc_units <= 0))
        .then(pl.lit(Problem.NO_INCREMENT))
        .when(_excess_precision(text))
        .then(pl.lit(Problem.EXCESS_PRECISION))
        .when(parsed.is_null())
        .then(pl.lit(Problem.OUT_OF_RANGE))
        .when(units % safe_inc != 0)
        .then(pl.lit(Problem.OFF_GRID))
        .when(quotient.is_null())
        .then(pl.lit(Problem.OUT_OF_RANGE))
        .otherwise(pl.lit(None, pl.String))
    )
    count = pl.when(problem.is_null()).then(quotient).otherwise(pl.lit(None, pl.Int64))
    return Encoded(count=count, problem=problem)


def decode(count: pl.Expr, increment: pl.Expr) -> pl.Expr:
    """Exact decimal value of ``count`` increments, as ``Decimal(38, 18)``.

    ``increment`` may be a ``Decimal`` column/literal, an integer, or decimal text. The product is exact
    (both factors have at most 18 decimals and the integer factor has none); a value of 1e20 or more
    does not fit ``Decimal(38, 18)`` and Polars raises rather than round.
    """
    return count.cast(DECIMAL) * increment.cast(DECIMAL, strict=False)


def decimal_places(value: Decimal) -> int:
    """Number of decimal places in ``value`` once trailing zeros are dropped (``0.50 -> 1``, ``100 -> 0``)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def increment_from_places(places: int) -> Decimal:
    """The increment ``10**-places`` as an exact Decimal (``2 -> Decimal('0.01')``)."""
    return Decimal(1).scaleb(-places)
