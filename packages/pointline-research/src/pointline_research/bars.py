"""Bars from trades: time, tick, volume and dollar bars, labelled by their end.

Every bar is half-open ``[bar_start, bar_end)`` and is *known* only at ``bar_end``; join bars on
``bar_end`` (see docs/join-semantics.md). Output columns, in order::

    [by...], bar_start, bar_end, open, high, low, close, volume, dollar_volume, vwap,
    trade_count, buy_volume, sell_volume

* **Input**: a trades frame (Lazy or eager) with ``ts_local_us``, a price and a size column and,
  for buy/sell volume, ``side`` (1 buy, -1 sell). The defaults ``px``/``qty`` are what
  ``query.trades(..., decoded=True)`` returns; raw counts (``px_int``/``qty_int``) are only comparable
  within one dim_symbol version, so they must be named explicitly. Rows are put in the documented
  total order ``(ts_local_us, ts_exch_us, file_id, file_line_number)`` first (whichever exist).
* **Exactness**: with decimal prices and sizes, OHLC, ``volume``, ``buy_volume``, ``sell_volume`` and
  ``dollar_volume`` (sum of ``px * qty`` at the scale of the product) are exact; ``vwap`` is the Float64
  ratio ``dollar_volume / volume``.
* **Time bars** (``every="1m"``): windows aligned to multiples of ``every`` (in ``timezone``, so daily
  bars can follow an exchange's local midnight), labelled by their end; windows without trades are
  not emitted. The last bar is partial when the data stops inside it.
* **Threshold bars** (tick, volume, dollar): trades accumulate in order; bar ``k`` holds the trades whose
  cumulative measure *before* them lies in ``[k*T, (k+1)*T)``, so the trade that reaches or crosses a
  multiple of ``T`` is the last trade of the bar it completes, and bar boundaries sit on a fixed grid
  of the cumulative measure (an overshoot is not carried: the next bar completes at the next
  multiple). ``bar_start`` is the first trade's time and ``bar_end`` the completing trade's time + 1 µs.
  The trailing bar that has not reached its threshold is dropped (``include_partial=True`` keeps it),
  because it would change as trades arrive. Trades sharing the completing trade's microsecond but
  later in the total order open the next bar, so consecutive threshold bars may share that µs.

All of it is vectorised Polars (``group_by_dynamic``, cumulative sums, ``group_by``): no per-row Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import polars as pl
from pointline.codec import decimal_places

from pointline_research.errors import ResearchInputError
from pointline_research.ordering import TIME_ORDER, ordered

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
ORDER = TIME_ORDER
MAX_NOTIONAL_SCALE = 24
"""Largest exact ``px * qty`` scale accepted (leaves 14 integer digits for sums in Decimal(38, s))."""
BAR_COLUMNS = (
    "bar_start",
    "bar_end",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "dollar_volume",
    "vwap",
    "trade_count",
    "buy_volume",
    "sell_volume",
)


@dataclass(frozen=True)
class _Inputs:
    """Resolved column roles and the exact notional expression of one trades frame."""

    frame: pl.LazyFrame
    time: str
    price: str
    size: str
    side: str | None
    by: list[str]
    notional: pl.Expr
    price_dtype: pl.DataType
    size_dtype: pl.DataType
    notional_scale: int | None
    """Decimal scale of the notional; None for integer or float inputs."""


def time_bars(
    trades: Frame,
    every: str | dt.timedelta = "1m",
    *,
    price: str = "px",
    size: str = "qty",
    side: str | None = "side",
    time_column: str = "ts_local_us",
    by: str | Sequence[str] | None = None,
    timezone: str = "UTC",
    offset: str | dt.timedelta | None = None,
) -> Frame:
    """Time bars of length ``every`` (Polars duration: ``"1s"``, ``"5m"``, ``"1h"``, ``"1d"``, ...).

    A trade at exactly a boundary belongs to the bar that starts there (``[start, end)``).
    """
    inputs = _prepare(trades, price=price, size=size, side=side, time_column=time_column, by=by)
    # Naive datetimes are UTC wall time: identical windows and epochs for UTC, without a timezone pass.
    stamp = pl.from_epoch(pl.col(inputs.time), time_unit="us")
    if timezone != "UTC":
        stamp = stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)
    grouped = (
        inputs.frame.with_columns(stamp.alias("__bar_time"))
        .group_by_dynamic(
            "__bar_time",
            every=every,
            offset=offset,
            closed="left",
            label="left",
            include_boundaries=True,
            group_by=inputs.by or None,
            start_by="window",
        )
        .agg(_aggregations(inputs))
        .with_columns(
            bar_start=pl.col("_lower_boundary").dt.epoch("us"),
            bar_end=pl.col("_upper_boundary").dt.epoch("us"),
        )
    )
    return _finish(trades, grouped, inputs)


def tick_bars(
    trades: Frame,
    ticks: int,
    *,
    include_partial: bool = False,
    price: str = "px",
    size: str = "qty",
    side: str | None = "side",
    time_column: str = "ts_local_us",
    by: str | Sequence[str] | None = None,
) -> Frame:
    """Bars of ``ticks`` trades each (the ``ticks``-th trade closes a bar)."""
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks <= 0:
        raise ResearchInputError(f"ticks must be a positive integer, got {ticks!r}")
    inputs = _prepare(trades, price=price, size=size, side=side, time_column=time_column, by=by)
    return _threshold_bars(trades, inputs, pl.ones(pl.len(), dtype=pl.Int128), ticks, include_partial)


def volume_bars(
    trades: Frame,
    threshold: Decimal | int | float | str,
    *,
    include_partial: bool = False,
    price: str = "px",
    size: str = "qty",
    side: str | None = "side",
    time_column: str = "ts_local_us",
    by: str | Sequence[str] | None = None,
) -> Frame:
    """Bars closing each time cumulative ``size`` reaches a multiple of ``threshold``."""
    inputs = _prepare(trades, price=price, size=size, side=side, time_column=time_column, by=by)
    measure, units = _measure(pl.col(inputs.size), inputs.size_dtype, _decimal_scale(inputs.size_dtype), threshold)
    return _threshold_bars(trades, inputs, measure, units, include_partial)


def dollar_bars(
    trades: Frame,
    threshold: Decimal | int | float | str,
    *,
    include_partial: bool = False,
    price: str = "px",
    size: str = "qty",
    side: str | None = "side",
    time_column: str = "ts_local_us",
    by: str | Sequence[str] | None = None,
) -> Frame:
    """Bars closing each time cumulative notional ``price * size`` reaches a multiple of ``threshold``."""
    inputs = _prepare(trades, price=price, size=size, side=side, time_column=time_column, by=by)
    if inputs.notional_scale is not None:
        notional_dtype: pl.DataType = pl.Decimal(38, inputs.notional_scale)
    elif inputs.price_dtype.is_float() or inputs.size_dtype.is_float():
        notional_dtype = pl.Float64()
    else:
        notional_dtype = pl.Int128()
    measure, units = _measure(inputs.notional, notional_dtype, inputs.notional_scale, threshold)
    return _threshold_bars(trades, inputs, measure, units, include_partial)


# -- shared machinery ------------------------------------------------------------------------------


def _prepare(
    trades: pl.DataFrame | pl.LazyFrame,
    *,
    price: str,
    size: str,
    side: str | None,
    time_column: str,
    by: str | Sequence[str] | None,
) -> _Inputs:
    frame = trades.lazy()
    schema = frame.collect_schema()
    keys: list[str] = [by] if isinstance(by, str) else list(by or [])
    for role, name in (("time", time_column), ("price", price), ("size", size), *(("by", k) for k in keys)):
        if name not in schema:
            hint = ""
            if role in ("price", "size") and f"{name}_int" in schema:
                hint = (
                    f" (the frame has raw {name}_int counts: decode with query.trades(..., decoded=True), or pass "
                    f"{role}='{name}_int' for rows of a single dim_symbol version)"
                )
            raise ResearchInputError(
                f"bars need a {role} column {name!r}{hint}; the frame has {', '.join(schema.names())}"
            )
    side_col = side if side is not None and side in schema else None
    price_dtype, size_dtype = schema[price], schema[size]
    for name, dtype in ((price, price_dtype), (size, size_dtype)):
        if not (dtype.is_numeric() or isinstance(dtype, pl.Decimal)):
            raise ResearchInputError(f"bars: column {name!r} is {dtype}, not a number")
    notional, scale = _notional(pl.col(price), price_dtype, pl.col(size), size_dtype)
    # Global time order: within each `by` group the rows are then in the total order too.
    time_order = [c for c in ORDER if c in schema] if time_column == ORDER[0] else [time_column]
    frame = ordered(frame, time_order, time_key=time_column)
    return _Inputs(frame, time_column, price, size, side_col, keys, notional, price_dtype, size_dtype, scale)


def _decimal_scale(dtype: pl.DataType) -> int | None:
    return dtype.scale if isinstance(dtype, pl.Decimal) else None


def _notional(price: pl.Expr, pdt: pl.DataType, size: pl.Expr, sdt: pl.DataType) -> tuple[pl.Expr, int | None]:
    """``price * size`` exactly for decimals (at scale ``sp + sq``) and integers (Int128)."""
    ps, ss = _decimal_scale(pdt), _decimal_scale(sdt)
    if ps is not None and ss is not None:
        scale = ps + ss
        if scale > MAX_NOTIONAL_SCALE:
            raise ResearchInputError(
                f"price Decimal(38, {ps}) x size Decimal(38, {ss}) needs scale {scale} for an exact notional "
                f"(max {MAX_NOTIONAL_SCALE}); query.*(decoded=True) returns the smallest exact scales"
            )
        # Polars keeps the larger operand scale and rounds; widening the price first keeps it exact.
        return price.cast(pl.Decimal(38, scale)) * size, scale
    if pdt.is_integer() and sdt.is_integer():
        return price.cast(pl.Int128) * size.cast(pl.Int128), None
    return price.cast(pl.Float64) * size.cast(pl.Float64), None


def _aggregations(inputs: _Inputs) -> list[pl.Expr]:
    price, size = pl.col(inputs.price), pl.col(inputs.size)
    out = [
        price.first().alias("open"),
        price.max().alias("high"),
        price.min().alias("low"),
        price.last().alias("close"),
        size.sum().alias("volume"),
        inputs.notional.sum().alias("dollar_volume"),
        pl.len().cast(pl.Int64).alias("trade_count"),
    ]
    if inputs.side is not None:
        side = pl.col(inputs.side)
        out += [size.filter(side == 1).sum().alias("buy_volume"), size.filter(side == -1).sum().alias("sell_volume")]
    return out


def _finish(trades: Frame, bars: pl.LazyFrame, inputs: _Inputs) -> Frame:
    volume = pl.col("volume").cast(pl.Float64)
    bars = bars.with_columns(
        vwap=pl.when(volume != 0).then(pl.col("dollar_volume").cast(pl.Float64) / volume).otherwise(None),
    )
    if inputs.side is None:
        bars = bars.with_columns(
            buy_volume=pl.lit(None, inputs.size_dtype), sell_volume=pl.lit(None, inputs.size_dtype)
        )
    bars = bars.select([*inputs.by, *BAR_COLUMNS]).sort(["bar_end", *inputs.by], maintain_order=True)
    if isinstance(trades, pl.DataFrame):
        return bars.collect()
    return bars


def _threshold(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, bool):
        raise ResearchInputError(f"threshold {value!r} is not a number")
    try:
        threshold = Decimal(str(value))
    except InvalidOperation:
        raise ResearchInputError(f"threshold {value!r} is not a number") from None
    if not threshold.is_finite() or threshold <= 0:
        raise ResearchInputError(f"threshold must be a positive number, got {value!r}")
    return threshold


def _measure(
    expr: pl.Expr, dtype: pl.DataType, scale: int | None, threshold: Decimal | int | float | str
) -> tuple[pl.Expr, int | float]:
    """The per-trade measure and the threshold in the same exact units.

    Decimals become Int128 counts of ``10**-u`` where ``u`` covers both the column's scale and the
    threshold's decimals; integers stay integers (the threshold must be whole); floats stay floats.
    """
    t = _threshold(threshold)
    if scale is not None:
        units = max(scale, decimal_places(t))
        physical = expr.cast(pl.Decimal(38, units)).to_physical().cast(pl.Int128)
        return physical, int(t.scaleb(units))
    if dtype.is_integer():
        if t != t.to_integral_value():
            raise ResearchInputError(f"threshold {threshold!r} must be whole for integer columns")
        return expr.cast(pl.Int128), int(t)
    return expr.cast(pl.Float64), float(t)


def _threshold_bars(
    trades: Frame, inputs: _Inputs, measure: pl.Expr, threshold: int | float, include_partial: bool
) -> Frame:
    over = inputs.by or None
    cumulative = measure.cum_sum() if over is None else measure.cum_sum().over(over)
    before = cumulative - measure
    if isinstance(threshold, int):
        bar_id = before // pl.lit(threshold, pl.Int128)
    else:
        bar_id = (before / threshold).floor()
    ts = pl.col(inputs.time)
    bars = (
        inputs.frame.with_columns(__cum=cumulative, __bar=bar_id)
        .group_by([*inputs.by, "__bar"], maintain_order=True)
        .agg(
            *_aggregations(inputs),
            bar_start=ts.first(),
            bar_end=ts.last() + 1,
            __reached=pl.col("__cum").last(),
        )
    )
    if not include_partial:
        bars = bars.filter(pl.col("__reached") >= (pl.col("__bar") + 1) * threshold)
    return _finish(trades, bars, inputs)
