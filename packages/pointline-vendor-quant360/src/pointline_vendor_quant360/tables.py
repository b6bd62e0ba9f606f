"""The China-market tables Quant360 produces: SZSE and SSE L3 streams, and CN stock reference data.

They belong to one market, so this plugin registers them rather than core (DESIGN §4). Field meanings
follow ``vendor-formats.md`` §3 (SZSE binary spec, Quant360's MDS header, DolphinDB's field history):

* **Replay order is the exchange's sequence, not the clock.** SZSE numbers orders and trades of one
  channel together (``ApplSeqNum``, contiguous from 1 per channel and day); SSE does the same with
  ``BizIndex``. Timestamps have millisecond precision and tie constantly, so the ordering key is
  ``(symbol_id, date, channel_no, <sequence>)``; the sequence restarts every trading day.
* **No arrival time.** Quant360 files carry only the exchange's ``TransactTime``/``TradeTime`` (CST
  wall clock, ms). ``ts_local_us`` holds that time converted to µs UTC, equal to ``ts_exch_us``.
* **Shares, never lots.** Quantities count shares (``qty_int`` with an amount increment of 1 share): an
  odd lot of 50 shares stays 50, 1,234 stays 1,234.
* **Raw codes are kept** where a mapping would lose information: SZSE order type ``U`` (own-side best)
  and the borrow/lend sides ``G``/``F`` survive as text next to the numeric side.

Every table is ``planned`` until the Quant360 parsers land.
"""

from __future__ import annotations

import dataclasses

import polars as pl
from pointline.tables.canonical import LINEAGE, PARTITIONS, event_prefix, px, qty
from pointline.tables.spec import Column, Status, TableSpec, Tier

I8, I32, I64, F64, STR, BOOL, DATE = (
    pl.Int8(),
    pl.Int32(),
    pl.Int64(),
    pl.Float64(),
    pl.String(),
    pl.Boolean(),
    pl.Date(),
)
DEC = pl.Decimal(38, 18)

NO_ARRIVAL_TIME = (
    "Quant360 has no arrival time: ts_local_us is the exchange's TransactTime (CST wall clock, ms) "
    "converted to µs UTC, the same instant as ts_exch_us."
)
SHARES = "Quantities are in shares (amount increment 1 share), never in lots of 100."
PHASE = Column(
    "trading_phase",
    STR,
    nullable=True,
    description=(
        "Trading phase of the event: O opening call auction, T continuous, B break, C closing call "
        "auction, E closed, H halted, A after-hours (SZSE TradingPhaseCode letters); derived from the "
        "event time and the session schedule where the file carries no phase."
    ),
)


def _l3_prefix() -> tuple[Column, ...]:
    """Core's event prefix with the clock columns described for a vendor without arrival time."""
    described = {
        "ts_local_us": "Exchange time (TransactTime, CST, ms) in µs UTC: the replay clock; no arrival time exists.",
        "ts_exch_us": "Exchange time (TransactTime, CST, ms) in µs UTC.",
    }
    return tuple(
        dataclasses.replace(c, description=described[c.name], nullable=False) if c.name in described else c
        for c in event_prefix()
    )


def _l3_table(
    name: str, description: str, sequence: str, body: tuple[Column, ...], notes: tuple[str, ...]
) -> TableSpec:
    return TableSpec(
        name=name,
        tier=Tier.SILVER,
        columns=_l3_prefix() + body,
        description=description,
        partition_by=PARTITIONS,
        lineage_key=LINEAGE,
        ordering_key=("symbol_id", "date", "channel_no", sequence),
        time_column="ts_local_us",
        status=Status.PLANNED,
        notes=(NO_ARRIVAL_TIME, SHARES, *notes),
    )


CHANNEL = Column("channel_no", I32, description="Exchange channel (ChannelNo); sequence numbers count per channel.")

SZSE_L3_ORDERS = _l3_table(
    "szse_l3_orders",
    "SZSE tick-by-tick orders (逐笔委托, binary MsgType 300192): every new order; cancels are in szse_l3_ticks.",
    "appl_seq_num",
    (
        CHANNEL,
        Column(
            "appl_seq_num",
            I64,
            description="ApplSeqNum: per-channel sequence shared with szse_l3_ticks, from 1 each day; the order's id.",
            delta_encoded=True,
        ),
        Column("side", I8, description="1 buy, -1 sell, 0 other (securities lending: see side_code)."),
        Column("side_code", STR, description="Raw side: '1' buy, '2' sell, 'G' borrow, 'F' lend."),
        Column(
            "order_type",
            STR,
            description="Raw OrdType: '1' market, '2' limit, 'U' own-side best (本方最优); 'U' is kept, never dropped.",
        ),
        px("px_int", "Order price in price increments (0 for market and own-side-best orders)."),
        qty("qty_int", "Original order quantity in shares."),
        PHASE,
    ),
    ("Replay SZSE events of a channel in appl_seq_num order, merged with szse_l3_ticks.",),
)

SZSE_L3_TICKS = _l3_table(
    "szse_l3_ticks",
    "SZSE tick-by-tick executions and cancels (逐笔成交, binary MsgType 300191).",
    "appl_seq_num",
    (
        CHANNEL,
        Column(
            "appl_seq_num",
            I64,
            description="ApplSeqNum: per-channel sequence shared with szse_l3_orders, from 1 each day.",
            delta_encoded=True,
        ),
        Column("bid_appl_seq_num", I64, nullable=True, description="Buy order's appl_seq_num; null when 0 (no order)."),
        Column(
            "offer_appl_seq_num", I64, nullable=True, description="Sell order's appl_seq_num; null when 0 (no order)."
        ),
        Column(
            "exec_type",
            STR,
            description="'F' fill or '4' cancel (files that write the ASCII codes 70/52 are normalised to F/4).",
        ),
        Column(
            "side",
            I8,
            description="Aggressor inferred from the later order: 1 buyer-initiated (bid seq > offer seq), "
            "-1 seller-initiated, 0 for cancels and call-auction fills.",
        ),
        px("px_int", "Execution price in price increments (0 on cancels)."),
        qty("qty_int", "Executed or cancelled quantity in shares."),
        PHASE,
    ),
    ("A cancel names the cancelled order in exactly one of bid_appl_seq_num / offer_appl_seq_num.",),
)

SSE_L3_ORDERS = _l3_table(
    "sse_l3_orders",
    "SSE tick-by-tick orders (逐笔委托, published since 2021-06-07): adds and deletes.",
    "biz_index",
    (
        CHANNEL,
        Column(
            "biz_index",
            I64,
            description="BizIndex: per-channel sequence over orders and trades together, from 1 each day.",
            delta_encoded=True,
        ),
        Column("order_no", I64, description="OrderNo: the original order number trades reference (BuyNo/SellNo)."),
        Column("order_index", I64, description="OrderIndex: the per-channel order counter (not the event order)."),
        Column("order_type", STR, description="OrdType: 'A' add or 'D' delete."),
        Column("side", I8, description="OrderBSFlag: 1 buy ('B'), -1 sell ('S')."),
        px("px_int", "Order price in price increments."),
        qty(
            "qty_int",
            "Balance in shares: the quantity left after immediate matching for 'A', the cancelled quantity for 'D'.",
        ),
        PHASE,
    ),
    (
        "Replay SSE events of a channel in biz_index order, merged with sse_l3_ticks (never by order_no).",
        "An order that fills completely on arrival has no 'A' row: its size is the sum of its fills.",
        "From 2023-12-04 SSE publishes one merged stream; whether Quant360 still splits it is unverified.",
    ),
)

SSE_L3_TICKS = _l3_table(
    "sse_l3_ticks",
    "SSE tick-by-tick trades (逐笔成交); SSE trades have no cancels (those are 'D' rows of sse_l3_orders).",
    "biz_index",
    (
        CHANNEL,
        Column(
            "biz_index",
            I64,
            description="BizIndex: per-channel sequence over orders and trades together, from 1 each day.",
            delta_encoded=True,
        ),
        Column("trade_index", I64, description="TradeIndex: the per-channel trade counter."),
        Column("buy_order_no", I64, description="BuyNo: order_no of the buy order."),
        Column("sell_order_no", I64, description="SellNo: order_no of the sell order."),
        Column(
            "side", I8, description="TradeBSFlag: 1 buyer-initiated ('B'), -1 seller-initiated ('S'), 0 unknown ('N')."
        ),
        px("px_int", "Trade price in price increments."),
        qty("qty_int", "Trade quantity in shares."),
        PHASE,
    ),
    ("Call-auction trades carry TradeBSFlag 'N' (side 0).",),
)

STOCK_BASIC_CN = TableSpec(
    name="stock_basic_cn",
    tier=Tier.DIM,
    status=Status.PLANNED,
    description="Chinese A-share reference data per stock, stamped with when it was known (point in time).",
    columns=(
        Column("exchange", STR, description="szse or sse."),
        Column("exchange_symbol", STR, description="Six-digit security code, as in Quant360 member file names."),
        Column("known_at_us", I64, description="When this record was observed, µs UTC (the PIT key)."),
        Column("name", STR, nullable=True, description="Short name (证券简称) as published then."),
        Column("board", STR, nullable=True, description="main, chinext (创业板), star (科创板), ..."),
        Column("list_date", DATE, nullable=True),
        Column("delist_date", DATE, nullable=True),
        Column("isin", STR, nullable=True),
        Column("lot_size", I64, nullable=True, description="Shares per board lot for buy orders (100)."),
        Column("min_order_qty", I64, nullable=True, description="Smallest order in shares (STAR: 200)."),
        Column("price_tick", DEC, nullable=True, description="Price tick in CNY (0.01 stocks, 0.001 funds)."),
        Column("is_st", BOOL, nullable=True, description="Special treatment (ST/*ST): tighter price limits."),
        Column("total_shares", F64, nullable=True),
        Column("float_shares", F64, nullable=True),
        Column("source", STR, description="Who produced the record (e.g. quant360)."),
        Column("file_id", I64, nullable=True, description="Manifest id of the bronze file, when it came from one."),
    ),
    partition_by=("exchange",),
    lineage_key=("exchange", "exchange_symbol", "known_at_us"),
    ordering_key=("exchange", "exchange_symbol", "known_at_us"),
    notes=(SHARES, "Never stamp today's values on past dates: each row is valid from known_at_us."),
)

TABLES = (SZSE_L3_ORDERS, SZSE_L3_TICKS, SSE_L3_ORDERS, SSE_L3_TICKS, STOCK_BASIC_CN)
"""Every table this plugin registers."""
