"""The read path's fast paths give exactly what the slow, obvious computation gives.

* the order check (descents, then ties on earlier keys) agrees with "equals its own stable sort";
* ``total_order`` equals the stable multi-key sort and flags the first key as sorted;
* the Int128 decode equals ``count * increment`` in Python decimals, for one, a few and many versions,
  and for increments too large for it (which take the Decimal-multiply path);
* cached Delta snapshots see every new commit, are never served for a table rewritten at the same
  path, and a plan keeps reading the snapshot it was built on.
"""

from __future__ import annotations

import shutil
from decimal import Decimal, localcontext

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.tables.canonical import TRADES
from pointline_research import snapshots
from pointline_research.decoding import _MAX_FACTOR, decode_count, output_scale
from pointline_research.ordering import in_order, total_order
from research_kit import T0, events

KEYS = ["a", "b", "c"]


@st.composite
def keyed_frames(draw: st.DrawFn, *, nulls: bool) -> pl.DataFrame:
    """Frames with few distinct key values (many ties), optionally nulls, often nearly sorted."""
    n = draw(st.integers(0, 40))
    value = st.one_of(st.none(), st.integers(0, 3)) if nulls else st.integers(0, 3)
    rows = [(draw(value), draw(value), draw(st.sampled_from(["x", "y", "xy"]))) for _ in range(n)]
    frame = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.Int64, "c": pl.String}, orient="row")
    frame = frame.with_columns(payload=pl.int_range(pl.len(), dtype=pl.Int64))
    if draw(st.booleans()):
        frame = frame.sort(KEYS, nulls_last=False, maintain_order=True)
        if frame.height > 1 and draw(st.booleans()):  # one adjacent swap: out of order by one step, or not
            i = draw(st.integers(0, frame.height - 2))
            order = list(range(frame.height))
            order[i], order[i + 1] = order[i + 1], order[i]
            frame = frame[order]
    return frame


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=False, maintain_order=True)


@settings(max_examples=150, deadline=None)
@given(frame=st.one_of(keyed_frames(nulls=False), keyed_frames(nulls=True)), width=st.integers(1, 3))
def test_order_check_agrees_with_the_stable_sort(frame: pl.DataFrame, width: int) -> None:
    keys = KEYS[:width]
    assert in_order(frame, keys) == frame.equals(_sorted(frame, keys))


@settings(max_examples=100, deadline=None)
@given(frame=st.one_of(keyed_frames(nulls=False), keyed_frames(nulls=True)), time_key=st.sampled_from([None, "b"]))
def test_total_order_is_the_stable_sort_and_flags_the_first_key(frame: pl.DataFrame, time_key: str | None) -> None:
    result = total_order(frame, KEYS, time_key=time_key)
    assert result.equals(_sorted(frame, KEYS))
    first = result.get_column("a")
    if result.height and first.null_count() == 0:
        assert first.flags["SORTED_ASC"]


def test_out_of_order_rows_behind_a_later_key_are_caught() -> None:
    # ts ties; the second key steps back only inside the tie: the cheap first-key pass cannot see it.
    frame = pl.DataFrame({"ts": [1, 2, 2, 3], "exch": [5, 7, 6, 1], "line": [1, 2, 3, 4]})
    assert not in_order(frame, ["ts", "exch", "line"])
    assert in_order(frame, ["ts"])
    # the second key steps back where the first key rises: in order
    assert in_order(frame.with_columns(exch=pl.Series([5, 9, 9, 1])), ["ts", "exch", "line"])


increments = st.decimals(min_value=Decimal("1e-18"), max_value=Decimal("1e6"), places=18).map(lambda d: d.normalize())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    incs=st.lists(increments, min_size=1, max_size=12),
    rows=st.lists(
        st.tuples(st.integers(0, 13), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))), min_size=1, max_size=30
    ),
)
def test_decoding_is_exact_for_any_number_of_versions(incs: list[Decimal], rows: list[tuple[int, int | None]]) -> None:
    by_id = {1000 + i: inc for i, inc in enumerate(incs)}
    ids = [1000 + i for i, _ in rows]  # ids beyond the versions have no increment: null
    counts = [c for _, c in rows]
    frame = pl.DataFrame({"symbol_id": ids, "n": counts}, schema={"symbol_id": pl.Int64, "n": pl.Int64})
    scale = output_scale(by_id)
    with localcontext(prec=80):  # exact products (the default 28 digits would round them)
        expected = [None if c is None or i not in by_id else c * by_id[i] for i, c in zip(ids, counts, strict=True)]
    if any(e is not None and abs(e) >= Decimal(10) ** (38 - scale) for e in expected):
        return  # beyond Decimal(38, scale): covered by the overflow test
    out = frame.select(decode_count(pl.col("n"), by_id).alias("v")).get_column("v")
    assert out.dtype == pl.Decimal(38, scale)
    assert out.to_list() == expected


def test_increments_too_large_for_int128_take_the_decimal_path() -> None:
    big = Decimal(_MAX_FACTOR) * 10  # scale 0: the factor is the increment itself, above the Int128 bound
    frame = pl.DataFrame({"symbol_id": [1, 1], "n": [3, -2]})
    out = frame.select(decode_count(pl.col("n"), {1: big}).alias("v")).get_column("v")
    assert out.to_list() == [3 * big, -2 * big]


def test_a_decoded_value_beyond_38_digits_raises_instead_of_wrapping() -> None:
    # The Int128 path cannot leave 38 digits (|count| < 2**63, factor <= 10**19); the Decimal path checks.
    frame = pl.DataFrame({"symbol_id": [1], "n": [2**62]})
    assert frame.select(decode_count(pl.col("n"), {1: Decimal(_MAX_FACTOR)})).item() == 2**62 * _MAX_FACTOR
    with pytest.raises(pl.exceptions.ComputeError, match="overflow"):
        frame.select(decode_count(pl.col("n"), {1: Decimal(_MAX_FACTOR) * 10}))


def test_rows_of_ids_without_a_version_decode_to_null_even_with_one_shared_increment() -> None:
    frame = pl.DataFrame({"symbol_id": [1, 2, 3], "n": [5, 5, 5]})
    shared = {1: Decimal("0.5"), 2: Decimal("0.5")}
    out = frame.select(decode_count(pl.col("n"), shared)).to_series().to_list()
    assert out == [Decimal("2.5"), Decimal("2.5"), None]


def _append(lake: Lake, ts: list[int]) -> None:
    TableStore(lake, TRADES).append(
        events(TRADES, [{"symbol_id": 1, "ts_local_us": t, "px_int": 1, "qty_int": 1} for t in ts])
    )


def test_cached_snapshots_follow_commits_and_rewrites(lake: Lake) -> None:
    path = TableStore(lake, TRADES).path
    assert snapshots.snapshot(path) is None
    assert snapshots.scan(lake, TRADES).collect().height == 0
    _append(lake, [T0, T0 + 1])
    planned = snapshots.scan(lake, TRADES)
    assert planned.collect().height == 2
    _append(lake, [T0 + 2])
    assert snapshots.scan(lake, TRADES).collect().height == 3  # the new commit is seen
    assert planned.collect().height == 2  # a plan keeps the snapshot it was built on
    # Deleted and rewritten at the same path, at the same version numbers: never the stale snapshot.
    shutil.rmtree(path)
    _append(lake, [T0 + 5])
    _append(lake, [T0 + 6])
    rows = snapshots.scan(lake, TRADES).collect().get_column("ts_local_us").to_list()
    assert sorted(rows) == [T0 + 5, T0 + 6]
