"""Point-in-time properties, checked with hypothesis over generated trades and quotes.

For a random cut ``t``: adding rows with ``ts > t``, or changing rows that have ``ts > t``, never
changes any output row at or before ``t`` — for as-of joins (time of the left row), every bar type
(time of ``bar_end``) and query windows. Joined right rows always satisfy ``right.ts <= left.ts``
(and ``>= left.ts - tolerance``), and each join and bar result equals a brute-force reference.
Symbol resolution decodes each row with the dim_symbol version valid at its own time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pointline.config import Lake
from pointline.tables.canonical import TRADES
from pointline_research import bars, discovery, joins, query
from research_kit import T0, UTC_EX, ids_of, version, write_dim, write_events

PIT = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Bars are cheap and a trailing partial bar needs a lucky draw to show a violation: search harder.
PIT_BARS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
LAKE = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
SPAN = 60  # µs offsets from T0: a small span makes equal timestamps (ties) frequent


def _rows(draw: st.DrawFn, n: int, first_line: int, low: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        ts = T0 + draw(st.integers(low, SPAN))
        rows.append(
            {
                "ts_local_us": ts,
                "ts_exch_us": ts - draw(st.integers(0, 2)),
                "file_id": draw(st.integers(1, 3)),
                "file_line_number": first_line + i,
                "symbol_id": draw(st.integers(1, 2)),
                "side": draw(st.sampled_from([1, -1, 0])),
                "px": Decimal(draw(st.integers(1, 500))) / 10,
                "qty": Decimal(draw(st.integers(1, 40))) / 1000,
            }
        )
    return rows


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "ts_local_us": pl.Int64,
        "ts_exch_us": pl.Int64,
        "file_id": pl.Int64,
        "file_line_number": pl.Int64,
        "symbol_id": pl.Int64,
        "side": pl.Int8,
        "px": pl.Decimal(38, 1),
        "qty": pl.Decimal(38, 3),
    }
    return pl.DataFrame(rows, schema=schema)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(original rows, rows after a future-only edit, cut t)."""
    rows = _rows(draw, draw(st.integers(1, 25)), first_line=2)
    cut = T0 + draw(st.integers(0, SPAN))
    edited = [dict(r) for r in rows]
    for r in edited:
        if r["ts_local_us"] > cut and draw(st.booleans()):
            r["px"] = Decimal(draw(st.integers(1, 500))) / 10
            r["qty"] = Decimal(draw(st.integers(1, 40))) / 1000
            r["side"] = draw(st.sampled_from([1, -1, 0]))
            r["ts_local_us"] = draw(st.integers(cut + 1, T0 + SPAN + 5))
    if cut < T0 + SPAN:
        edited += _rows(draw, draw(st.integers(0, 8)), first_line=1000, low=cut - T0 + 1)
    return _frame(rows), _frame(edited), cut


def _until(frame: pl.DataFrame, column: str, cut: int) -> pl.DataFrame:
    return frame.filter(pl.col(column) <= cut)


ORDER = ["ts_local_us", "ts_exch_us", "file_id", "file_line_number"]


def _reference_asof(left: pl.DataFrame, right: pl.DataFrame, tolerance: int | None, by: str | None) -> list[object]:
    """Brute force: the last right row in the total order with left.ts - tol <= right.ts <= left.ts."""
    ordered = right.sort(ORDER).rows(named=True)
    out = []
    for row in left.sort(ORDER).iter_rows(named=True):
        t = row["ts_local_us"]
        hits = [
            r
            for r in ordered
            if r["ts_local_us"] <= t
            and (tolerance is None or r["ts_local_us"] >= t - tolerance)
            and (by is None or r[by] == row[by])
        ]
        out.append(hits[-1]["px"] if hits else None)
    return out


@PIT
@given(
    left=scenario(),
    right=scenario(),
    tolerance=st.one_of(st.none(), st.integers(0, 20)),
    by=st.sampled_from([None, "symbol_id"]),
)
def test_asof_join_is_point_in_time(
    left: tuple[pl.DataFrame, pl.DataFrame, int],
    right: tuple[pl.DataFrame, pl.DataFrame, int],
    tolerance: int | None,
    by: str | None,
) -> None:
    trades, trades_edit, cut = left
    quotes, quotes_edit, _ = right
    # The cut of the left scenario applies to both sides: edit the quotes after it as well.
    quotes_edit = pl.concat(
        [quotes.filter(pl.col("ts_local_us") <= cut), quotes_edit.filter(pl.col("ts_local_us") > cut)]
    )
    q = quotes.select(*ORDER, "symbol_id", "px")
    before = joins.asof_join(trades, q, tolerance=tolerance, by=by, suffix="_q")
    after = joins.asof_join(
        trades_edit, quotes_edit.select(*ORDER, "symbol_id", "px"), tolerance=tolerance, by=by, suffix="_q"
    )
    assert _until(before, "ts_local_us", cut).equals(_until(after, "ts_local_us", cut))
    matched = before.filter(pl.col("ts_local_us_q").is_not_null())
    assert (matched["ts_local_us_q"] <= matched["ts_local_us"]).all()
    if tolerance is not None:
        assert (matched["ts_local_us_q"] >= matched["ts_local_us"] - tolerance).all()
    assert before.get_column("px_q").to_list() == _reference_asof(trades, q, tolerance, by)


BAR_MAKERS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "time": lambda t: bars.time_bars(t, every="7us"),
    "tick": lambda t: bars.tick_bars(t, 3),
    "volume": lambda t: bars.volume_bars(t, "0.05"),
    "dollar": lambda t: bars.dollar_bars(t, "1.5"),
}


@PIT_BARS
@given(case=scenario(), kind=st.sampled_from(sorted(BAR_MAKERS)))
def test_every_bar_type_is_point_in_time(case: tuple[pl.DataFrame, pl.DataFrame, int], kind: str) -> None:
    trades, edited, cut = case
    make = BAR_MAKERS[kind]
    before, after = make(trades), make(edited)
    assert _until(before, "bar_end", cut).equals(_until(after, "bar_end", cut))
    # every trade of a bar lies inside its half-open interval
    assert (before["bar_start"] < before["bar_end"]).all()


def _reference_volume_bars(trades: pl.DataFrame, threshold: Decimal) -> list[tuple[Decimal, int]]:
    """Brute force of the grid rule: bar k holds trades whose cumulative size before them is in [kT, (k+1)T)."""
    out: dict[int, list[Decimal]] = {}
    cumulative = Decimal(0)
    for row in trades.sort(ORDER).iter_rows(named=True):
        out.setdefault(int(cumulative // threshold), []).append(row["qty"])
        cumulative += row["qty"]
    complete = []
    reached = Decimal(0)
    for k in sorted(out):
        reached += sum(out[k], Decimal(0))
        if reached >= (k + 1) * threshold:
            complete.append((sum(out[k], Decimal(0)), len(out[k])))
    return complete


@PIT
@given(case=scenario(), threshold=st.sampled_from(["0.001", "0.013", "0.05", "0.2"]))
def test_volume_bars_match_the_reference_rule(case: tuple[pl.DataFrame, pl.DataFrame, int], threshold: str) -> None:
    trades, _, _ = case
    out = bars.volume_bars(trades, threshold)
    assert list(zip(out["volume"].to_list(), out["trade_count"].to_list(), strict=True)) == _reference_volume_bars(
        trades, Decimal(threshold)
    )


@PIT
@given(case=scenario())
def test_time_bars_match_a_reference_bucketing(case: tuple[pl.DataFrame, pl.DataFrame, int]) -> None:
    trades, _, _ = case
    out = bars.time_bars(trades, every="7us")
    expected: dict[int, list[dict[str, Any]]] = {}
    for row in trades.sort(ORDER).iter_rows(named=True):
        expected.setdefault(row["ts_local_us"] // 7 * 7 + 7, []).append(row)
    assert out["bar_end"].to_list() == sorted(expected)
    assert out["close"].to_list() == [expected[k][-1]["px"] for k in sorted(expected)]
    assert out["dollar_volume"].to_list() == [
        sum((r["px"] * r["qty"] for r in expected[k]), Decimal(0)) for k in sorted(expected)
    ]


# -- against a lake ------------------------------------------------------------------------------------


@st.composite
def versioned_market(draw: st.DrawFn) -> dict[str, Any]:
    """Versions of BTCUSDT with random change points and increments; trades priced on each version's grid."""
    n_changes = draw(st.integers(0, 3))
    changes = sorted(set(draw(st.lists(st.integers(1, SPAN - 1), min_size=n_changes, max_size=n_changes))))
    bounds = [T0 - 1000, *(T0 + c for c in changes), None]
    increments = [draw(st.sampled_from(["0.1", "0.01", "0.5", "1", "0.001"])) for _ in range(len(bounds) - 1)]
    trades = []
    for i in range(draw(st.integers(1, 20))):
        ts = T0 + draw(st.integers(0, SPAN))
        k = max(j for j in range(len(bounds) - 1) if bounds[j] <= ts)  # the version valid at ts
        count = draw(st.integers(1, 10**7))
        trades.append(
            {"ts_local_us": ts, "version": k, "count": count, "px": count * Decimal(increments[k]), "line": i + 2}
        )
    cut = T0 + draw(st.integers(0, SPAN))
    late = [
        {"ts_local_us": draw(st.integers(cut + 1, T0 + SPAN + 10)), "count": draw(st.integers(1, 99)), "line": 500 + i}
        for i in range(draw(st.integers(1, 5)))
    ]
    return {"bounds": bounds, "increments": increments, "trades": trades, "cut": cut, "late": late}


@LAKE
@given(market=versioned_market())
def test_query_decodes_each_row_with_the_version_valid_at_its_time_and_is_point_in_time(market: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp))
        bounds, incs = market["bounds"], market["increments"]
        versions = [
            version(
                "BTCUSDT", bounds[k], bounds[k + 1] if bounds[k + 1] is not None else 2**63 - 1, price_increment=incs[k]
            )
            for k in range(len(incs))
        ]
        dim = write_dim(lake, [*versions, version("BTCUSDT_PERP", T0 - 1000, price_increment="0.3")])
        ids = ids_of(dim, "BTCUSDT")
        decoy = ids_of(dim, "BTCUSDT_PERP")[0]
        rows = [
            {
                "symbol_id": ids[t["version"]],
                "ts_local_us": t["ts_local_us"],
                "px_int": t["count"],
                "qty_int": 1,
                "file_line_number": t["line"],
            }
            for t in market["trades"]
        ]
        write_events(
            lake, TRADES, [*rows, {"symbol_id": decoy, "ts_local_us": T0, "px_int": 1, "qty_int": 1, "file_id": 5}]
        )
        start, end = T0, T0 + SPAN + 20

        def read() -> pl.DataFrame:
            return query.trades(UTC_EX, "BTCUSDT", start, end, decoded=True, lake=lake).collect()

        before = read()
        expected = sorted((t["ts_local_us"], t["line"], t["px"]) for t in market["trades"])
        assert list(zip(before["ts_local_us"], before["file_line_number"], before["px"], strict=True)) == expected
        # as-of symbol resolution from the dimension agrees with the versions' windows
        for t in market["trades"]:
            at = discovery.list_symbols(UTC_EX, asof=t["ts_local_us"], search="BTCUSDT", lake=lake).filter(
                pl.col("exchange_symbol") == "BTCUSDT"
            )
            assert at.get_column("symbol_id").to_list() == [ids[t["version"]]]
        cut = market["cut"]
        late_rows = []
        for r in market["late"]:
            k = max(j for j in range(len(bounds) - 1) if bounds[j] <= r["ts_local_us"])
            late_rows.append(
                {
                    "symbol_id": ids[k],
                    "ts_local_us": r["ts_local_us"],
                    "px_int": r["count"],
                    "qty_int": 1,
                    "file_id": 7,
                    "file_line_number": r["line"],
                }
            )
        write_events(lake, TRADES, late_rows)
        after = read()
        assert _until(before, "ts_local_us", cut).equals(_until(after, "ts_local_us", cut))
        assert after.height == before.height + sum(1 for r in market["late"] if r["ts_local_us"] < end)


@st.composite
def quoted_market(draw: st.DrawFn) -> dict[str, Any]:
    """BTCUSDT with a tick change inside the span, trades and quotes on each version's grid, late rows."""
    change = T0 + draw(st.integers(1, SPAN - 1))
    incs = [draw(st.sampled_from(["0.1", "0.5", "1"])), draw(st.sampled_from(["0.01", "0.05", "0.1"]))]

    def rows(n: int, low: int, high: int, first_line: int, file_id: int) -> list[dict[str, Any]]:
        out = []
        for i in range(n):
            ts = draw(st.integers(low, high))
            out.append(
                {
                    "ts_local_us": ts,
                    "version": int(ts >= change),
                    "count": draw(st.integers(1, 10**6)),
                    "file_id": file_id,
                    "line": first_line + i,
                }
            )
        return out

    cut = T0 + draw(st.integers(0, SPAN))
    return {
        "change": change,
        "increments": incs,
        "cut": cut,
        "trades": rows(draw(st.integers(1, 15)), T0, T0 + SPAN, 2, 1),
        "quotes": rows(draw(st.integers(1, 15)), T0 - 10, T0 + SPAN, 2, draw(st.integers(1, 3))),
        "late_trades": rows(draw(st.integers(0, 4)), cut + 1, T0 + SPAN + 5, 900, 8),
        "late_quotes": rows(draw(st.integers(0, 4)), cut + 1, T0 + SPAN + 5, 900, 9),
    }


@LAKE
@given(market=quoted_market())
def test_trades_with_quotes_is_point_in_time_on_a_lake(market: dict[str, Any]) -> None:
    from pointline.tables.canonical import QUOTES

    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp))
        incs = market["increments"]
        dim = write_dim(
            lake,
            [
                version("BTCUSDT", T0 - 1000, market["change"], price_increment=incs[0]),
                version("BTCUSDT", market["change"], price_increment=incs[1]),
            ],
        )
        ids = ids_of(dim, "BTCUSDT")

        def trade_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    "symbol_id": ids[r["version"]],
                    "ts_local_us": r["ts_local_us"],
                    "px_int": r["count"],
                    "qty_int": 1,
                    "file_id": r["file_id"],
                    "file_line_number": r["line"],
                }
                for r in rows
            ]

        def quote_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    "symbol_id": ids[r["version"]],
                    "ts_local_us": r["ts_local_us"],
                    "bid_px_int": r["count"],
                    "file_id": r["file_id"],
                    "file_line_number": r["line"],
                }
                for r in rows
            ]

        write_events(lake, TRADES, trade_rows(market["trades"]))
        write_events(lake, QUOTES, quote_rows(market["quotes"]))
        start, end = T0, T0 + SPAN + 20

        def joined() -> pl.DataFrame:
            return joins.trades_with_quotes(UTC_EX, "BTCUSDT", start, end, lake=lake).collect()

        before = joined()
        # brute force: the last quote in (ts, ts_exch = ts, file_id, line) order with quote.ts <= trade.ts
        quotes = sorted(market["quotes"], key=lambda q: (q["ts_local_us"], q["ts_local_us"], q["file_id"], q["line"]))
        expected = []
        for t in sorted(market["trades"], key=lambda r: (r["ts_local_us"], r["line"])):
            seen = [q for q in quotes if q["ts_local_us"] <= t["ts_local_us"]]
            expected.append(seen[-1]["count"] * Decimal(incs[seen[-1]["version"]]) if seen else None)
        assert before.get_column("bid_px").to_list() == expected
        matched = before.filter(pl.col("quote_ts_local_us").is_not_null())
        assert (matched["quote_ts_local_us"] <= matched["ts_local_us"]).all()
        write_events(lake, TRADES, trade_rows(market["late_trades"]))
        write_events(lake, QUOTES, quote_rows(market["late_quotes"]))
        cut = market["cut"]
        assert _until(before, "ts_local_us", cut).equals(_until(joined(), "ts_local_us", cut))
