"""The exact fixed-point codec: on-grid values encode to the exact count, everything else is flagged, never moved."""

from __future__ import annotations

import math
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.codec import DECIMAL, Problem, decimal_places, decode, encode, increment_from_places

INT64_MAX = 2**63 - 1
PRICE_LIMIT = Decimal(10) ** 12


def run(values: list[str | None], increments: list[str] | str) -> pl.DataFrame:
    """Encode ``values`` (text) at ``increments`` (one per row, or one for all) and decode back."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    if isinstance(increments, str):
        frame = frame.with_columns(inc=pl.lit(increments))
    else:
        frame = frame.with_columns(inc=pl.Series(increments, dtype=pl.String))
    encoded = encode(pl.col("v"), pl.col("inc").str.to_decimal(scale=18))
    out = frame.with_columns(count=encoded.count, problem=encoded.problem)
    return out.with_columns(decoded=decode(pl.col("count"), pl.col("inc").str.to_decimal(scale=18)))


def one(value: str | None, increment: str) -> tuple[int | None, str | None]:
    row = run([value], increment).row(0, named=True)
    return row["count"], row["problem"]


# -- hypothesis strategies -------------------------------------------------------------------------
increments = st.builds(
    lambda m, e: Decimal(m).scaleb(e),
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=-10, max_value=3),
)
"""Increments m * 10^e for e in [-10, 3]: 1e-10 ... 999000, including 0.5, 0.25, 0.001, 25, ..."""


def notations(value: Decimal) -> st.SearchStrategy[str]:
    """Ways a vendor may write ``value``: plain, padded with trailing zeros, signed, or scientific."""
    plain = format(value, "f")
    padded = plain + ("" if "." in plain else ".") + "000"
    forms = [plain, padded, format(value, "E"), format(value, "e")]
    if value >= 0:
        forms.append("+" + plain)
    return st.sampled_from(forms)


@st.composite
def on_grid_rows(draw: st.DrawFn) -> tuple[str, Decimal, int, Decimal]:
    """(text, increment, k, value) with value = k * increment, |value| <= 1e12 and |k| in Int64."""
    inc = draw(increments)
    limit = min(int(PRICE_LIMIT / inc), INT64_MAX)
    k = draw(st.integers(min_value=-limit, max_value=limit))
    value = inc * k
    return draw(notations(value)), inc, k, value


# -- properties ------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(on_grid_rows(), min_size=1, max_size=50))
def test_on_grid_values_encode_to_their_exact_count_and_decode_back(
    rows: list[tuple[str, Decimal, int, Decimal]],
) -> None:
    out = run([r[0] for r in rows], [format(r[1], "f") for r in rows])
    assert out["problem"].null_count() == out.height, out.filter(pl.col("problem").is_not_null())
    assert out["count"].to_list() == [r[2] for r in rows]
    assert out["decoded"].to_list() == [r[3] for r in rows]


@settings(max_examples=200, deadline=None)
@given(
    increments,
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=1, max_value=8),
    st.data(),
)
def test_off_grid_values_are_flagged_and_never_moved(inc: Decimal, k: int, finer: int, data: st.DataObject) -> None:
    # A value strictly between two grid points, on a finer decimal grid (so it is still exact text).
    step = inc.scaleb(-finer)
    j = data.draw(st.integers(min_value=1, max_value=10**finer - 1))
    value = inc * k + step * j
    if value.copy_abs() > PRICE_LIMIT or decimal_places(value) > 18:
        value = inc + step  # keep the example in range; still strictly off the grid
    count, problem = one(format(value, "f"), format(inc, "f"))
    assert (count, problem) == (None, Problem.OFF_GRID)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=19, max_value=30))
def test_digits_below_1e_minus_18_are_excess_precision(mantissa: int, places: int) -> None:
    value = Decimal(mantissa * 10 + 1).scaleb(-places)  # the last digit is non-zero and beyond 1e-18
    assert one(format(value, "f"), "1e-18") == (None, Problem.EXCESS_PRECISION)
    assert one(format(value, "E"), "1e-18") == (None, Problem.EXCESS_PRECISION)


@settings(max_examples=100, deadline=None)
@given(increments, st.integers(min_value=INT64_MAX + 1, max_value=INT64_MAX * 1000))
def test_counts_beyond_int64_are_out_of_range(inc: Decimal, k: int) -> None:
    value = inc * k
    if value >= Decimal(10) ** 20:  # does not even fit Decimal(38, 18): still a number, still out of range
        value = Decimal(10) ** 20 + 1
    assert one(format(value, "f"), format(inc, "f")) == (None, Problem.OUT_OF_RANGE)


# -- the cases the design names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "increment", "count"),
    [
        ("0.3", "0.1", 3),
        ("0.07", "0.01", 7),
        ("0.00000001", "0.00000001", 1),
        ("0.00012345", "1e-8", 12345),
        ("1e-8", "1e-8", 1),
        ("1E-8", "0.00000001", 1),
        ("0.0000000001", "1e-10", 1),
        ("1000000000000", "0.01", 100_000_000_000_000),
        ("999999999999.99", "0.01", 99_999_999_999_999),
        ("123456789012.5", "0.5", 246_913_578_025),
        ("-0.3", "0.1", -3),
        ("-8531.5", "0.5", -17063),
        ("1.5e3", "0.5", 3000),
        ("2.50E+2", "25", 10),
        ("0.30000", "0.1", 3),
        ("+0.07", "0.01", 7),
        (" 8531.5 ", "0.5", 17063),
        ("0", "0.01", 0),
        ("-0", "0.01", 0),
        ("10e-19", "1e-18", 1),
        ("9223372036854775807", "1", INT64_MAX),
    ],
)
def test_named_cases(value: str, increment: str, count: int) -> None:
    assert one(value, increment) == (count, None)


def test_float_division_gets_the_pitfall_cases_wrong_and_the_codec_does_not() -> None:
    # The earlier implementation's bug (DESIGN §8): ceil/floor of float division moves prices by a tick.
    assert math.ceil(0.07 / 0.01) == 8
    assert math.floor(0.3 / 0.1) == 2
    assert one("0.07", "0.01") == (7, None)
    assert one("0.3", "0.1") == (3, None)


@pytest.mark.parametrize(
    ("value", "increment", "problem"),
    [
        ("0.07", "0.1", Problem.OFF_GRID),
        ("0.30000000000000004", "0.1", Problem.OFF_GRID),
        ("8531.25", "0.5", Problem.OFF_GRID),
        ("abc", "0.1", Problem.UNPARSABLE),
        ("", "0.1", Problem.UNPARSABLE),
        ("nan", "0.1", Problem.UNPARSABLE),
        ("inf", "0.1", Problem.UNPARSABLE),
        ("1,5", "0.1", Problem.UNPARSABLE),
        ("1.2.3", "0.1", Problem.UNPARSABLE),
        ("e5", "0.1", Problem.UNPARSABLE),
        ("0.1234567890123456789", "1e-18", Problem.EXCESS_PRECISION),
        ("1e-19", "1e-18", Problem.EXCESS_PRECISION),
        ("9223372036854775808", "1", Problem.OUT_OF_RANGE),
        ("1e12", "1e-10", Problem.OUT_OF_RANGE),
        ("1e25", "1", Problem.OUT_OF_RANGE),
        ("123456789012345678901", "1", Problem.OUT_OF_RANGE),
        ("0.3", "0", Problem.NO_INCREMENT),
        ("0.3", "-0.1", Problem.NO_INCREMENT),
    ],
)
def test_problems_are_named_and_the_count_is_null(value: str, increment: str, problem: str) -> None:
    assert one(value, increment) == (None, problem)


def test_null_value_is_missing_not_a_problem() -> None:
    assert one(None, "0.1") == (None, None)


def test_null_increment_is_no_increment() -> None:
    frame = pl.DataFrame({"v": ["0.3"], "inc": [None]}, schema={"v": pl.String, "inc": DECIMAL})
    encoded = encode(pl.col("v"), pl.col("inc"))
    assert frame.select(encoded.count, encoded.problem).row(0) == (None, Problem.NO_INCREMENT)


def test_increment_may_be_a_decimal_literal_or_text() -> None:
    frame = pl.DataFrame({"v": ["0.07", "1.23"]})
    for inc in (pl.lit(Decimal("0.01"), DECIMAL), pl.lit("0.01"), pl.lit(Decimal("0.01"))):
        assert frame.select(encode(pl.col("v"), inc).count).to_series().to_list() == [7, 123]


def test_decode_is_exact_for_text_and_decimal_increments() -> None:
    frame = pl.DataFrame({"c": [3, 7, -17063, None]}, schema={"c": pl.Int64})
    got = frame.select(
        a=decode(pl.col("c"), pl.lit("0.1")),
        b=decode(pl.col("c"), pl.lit(Decimal("0.01"), DECIMAL)),
    )
    assert got["a"].to_list() == [Decimal("0.3"), Decimal("0.7"), Decimal("-1706.3"), None]
    assert got["b"].to_list() == [Decimal("0.03"), Decimal("0.07"), Decimal("-170.63"), None]
    assert got.schema == pl.Schema({"a": DECIMAL, "b": DECIMAL})


def test_helpers_for_increments_from_observed_decimals() -> None:
    assert decimal_places(Decimal("0.50")) == 1
    assert decimal_places(Decimal("100")) == 0
    assert decimal_places(Decimal("1E-8")) == 8
    assert increment_from_places(2) == Decimal("0.01")
    assert increment_from_places(0) == Decimal(1)
