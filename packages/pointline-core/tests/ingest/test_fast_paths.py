"""The ingest fast paths answer exactly what the slow computations they replace answer.

Each shortcut (no hashing where one value or ordered data is the normal case) is checked against the
plain Polars computation on arbitrary frames, including the orders and repeats that defeat it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.codec import DECIMAL
from pointline.ingest.dq import _no_repeats
from pointline.ingest.transform import _single_version, distinct

D0 = dt.date(2024, 5, 1)

lineage_rows = st.lists(
    st.tuples(
        st.sampled_from(["xa", "xb"]),
        st.sampled_from([D0, D0 + dt.timedelta(days=1)]),
        st.integers(1, 3),
        st.integers(2, 12),
    ),
    max_size=40,
)


def _lineage(rows: list[tuple[str, dt.date, int, int]]) -> pl.DataFrame:
    schema = {"exchange": pl.String, "date": pl.Date, "file_id": pl.Int64, "file_line_number": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _repeats(frame: pl.DataFrame) -> int:
    return frame.height - frame.unique().height


@settings(max_examples=300, deadline=None)
@given(lineage_rows, st.booleans())
def test_no_repeats_is_never_wrong_and_proves_sorted_unique_data(
    rows: list[tuple[str, dt.date, int, int]], in_order: bool
) -> None:
    frame = _lineage(rows)
    if in_order:  # how silver is written: lines ascending within each file's rows
        frame = frame.unique().sort("file_line_number")
    present = _no_repeats(frame)
    if present is None:
        assert not in_order, "ordered data without repeats must be proven"
        return
    assert _repeats(frame) == 0
    assert sorted(present.rows()) == sorted(frame.select("exchange", "date").unique().rows())


def test_no_repeats_refuses_overlapping_runs_and_null_lines() -> None:
    # Two runs of one key ([2, 5] then [4, 6]): 4 and 5 might repeat (here 5 does).
    rows = [("xa", D0, 1, line) for line in (2, 3, 5, 4, 5, 6)]
    assert _no_repeats(_lineage(rows)) is None
    # Disjoint runs of one key ([7, 9] after [2, 4]) are proven free of repeats.
    disjoint = [("xa", D0, 1, line) for line in (7, 8, 9, 2, 3, 4)]
    assert _no_repeats(_lineage(disjoint)) is not None
    nulls = pl.DataFrame(
        {"exchange": ["xa", "xa"], "date": [D0, D0], "file_id": [1, 1], "file_line_number": [None, None]},
        schema={"exchange": pl.String, "date": pl.Date, "file_id": pl.Int64, "file_line_number": pl.Int64},
    )
    assert _no_repeats(nulls) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([None, 1, 2]), st.sampled_from([None, "0.1", "0.01", "0.5"])),
        max_size=12,
    )
)
def test_single_version_matches_the_unique_it_replaces(rows: list[tuple[int | None, str | None]]) -> None:
    frame = pl.DataFrame(
        {"symbol_id": [s for s, _ in rows], "price_increment": [None if i is None else Decimal(i) for _, i in rows]},
        schema={"symbol_id": pl.Int64, "price_increment": DECIMAL},
    )
    versions = frame.select("symbol_id", "price_increment").drop_nulls().unique()
    single, constant = _single_version(frame, "price_increment")
    assert single == (versions.height <= 1)
    if single:
        assert constant == (versions["price_increment"][0] if versions.height else None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "xa", "xb"]), st.sampled_from([None, D0])), max_size=12))
def test_distinct_matches_unique(rows: list[tuple[str | None, dt.date | None]]) -> None:
    frame = pl.DataFrame(rows, schema={"exchange": pl.String, "date": pl.Date}, orient="row")
    for columns in (["exchange"], ["exchange", "date"]):
        got = distinct(frame, columns)
        assert got.schema == frame.select(columns).schema
        assert sorted(got.rows(), key=repr) == sorted(frame.select(columns).unique().rows(), key=repr)
