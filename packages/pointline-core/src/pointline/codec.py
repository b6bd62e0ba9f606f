"""Exact fixed-point encoding of decimal prices and sizes.

A price or size is stored as an Int64 count of its instrument's increment (``price_increment`` or
``amount_increment`` from dim_symbol). Encoding is exact decimal arithmetic, never float division:

* the vendor's text is parsed as ``Decimal(38, 18)``, so ``"0.3"`` is exactly 3/10;
* ``count = trunc(value / increment)`` and the row is on the grid only if ``count * increment == value``
  holds exactly, so ``0.3 @ 0.1 -> 3`` and ``0.07 @ 0.01 -> 7``;
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


# Fractional digits beyond SCALE that are not all zeros: Polars would round them silently.
_EXCESS_PLAIN = rf"\.\d{{{SCALE}}}0*[1-9]"
# Scientific notation: parsed by Polars, but its effective scale must be checked separately.
_EXPONENT = r"^[+-]?(\d*)\.?(\d*)[eE]([+-]?\d+)$"


def to_decimal(value: pl.Expr) -> pl.Expr:
    """Parse decimal text (or pass a number through) to ``Decimal(38, 18)``; unparsable text becomes null."""
    return value.cast(pl.String).str.strip_chars().str.to_decimal(scale=SCALE)


def _excess_precision(text: pl.Expr) -> pl.Expr:
    """True where the decimal text carries non-zero digits below 1e-18 (which parsing would round)."""
    groups = text.str.extract_groups(_EXPONENT)
    frac = groups.struct.field("2").str.strip_chars_end("0").str.len_chars()
    exponent = groups.struct.field("3").cast(pl.Int64, strict=False)
    scientific = (frac - exponent) > SCALE
    return text.str.contains(_EXCESS_PLAIN) | scientific.fill_null(False)


_UNIT = 10**SCALE


def _unscaled(decimal: pl.Expr) -> pl.Expr:
    """The Int128 count of 1e-18 units in a ``Decimal(38, 18)`` expression (exact integer arithmetic)."""
    whole = decimal.cast(pl.Int128)
    fraction = (decimal - whole.cast(DECIMAL)) * pl.lit(_UNIT, pl.Int128).cast(pl.Decimal(38, 0))
    return whole * pl.lit(_UNIT, pl.Int128) + fraction.cast(pl.Int128)


def encode(value: pl.Expr, increment: pl.Expr) -> Encoded:
    """Encode decimal text ``value`` as an exact Int64 count of ``increment``.

    ``increment`` may be decimal text or a ``Decimal`` column/literal. Nulls stay null with no problem
    (an empty vendor field is a missing value, not an error). The arithmetic is integer division of
    Int128 counts of 1e-18, so it is exact for every value below 1e20 with at most 18 decimals.
    """
    text = value.cast(pl.String).str.strip_chars()
    parsed = text.str.to_decimal(scale=SCALE)
    inc = to_decimal(increment)
    units = _unscaled(parsed)
    inc_units = _unscaled(inc)
    safe_inc = pl.when(inc_units > 0).then(inc_units).otherwise(pl.lit(1, pl.Int128))
    quotient = (units // safe_inc).cast(pl.Int64, strict=False)
    problem = (
        pl.when(text.is_null())
        .then(pl.lit(None, pl.String))
        .when(parsed.is_null())
        .then(pl.lit(Problem.UNPARSABLE))
        .when(inc.is_null() | (inc_units <= 0))
        .then(pl.lit(Problem.NO_INCREMENT))
        .when(_excess_precision(text))
        .then(pl.lit(Problem.EXCESS_PRECISION))
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

    ``increment`` may be decimal text or a ``Decimal`` column/literal.
    """
    return count.cast(pl.Decimal(38, 0)).cast(DECIMAL) * to_decimal(increment)


def decimal_places(value: Decimal) -> int:
    """Number of decimal places in ``value`` once trailing zeros are dropped (``0.50 -> 1``, ``100 -> 0``)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def increment_from_places(places: int) -> Decimal:
    """The increment ``10**-places`` as an exact Decimal (``2 -> Decimal('0.01')``)."""
    return Decimal(1).scaleb(-places)
