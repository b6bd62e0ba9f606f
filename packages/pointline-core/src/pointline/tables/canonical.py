"""The asset-class-neutral tables core registers (through its own ``pointline_register_tables`` hook).

Market- or vendor-specific tables (SZSE/SSE L3 streams, CN stock reference data) are registered by the
vendor package that produces them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

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

EVENT_ORDER = ("symbol_id", "ts_local_us", "ts_exch_us", "file_id", "file_line_number")
"""Deterministic total order of event rows; also the as-of join tie order (minus symbol_id)."""
LINEAGE = ("file_id", "file_line_number")
PARTITIONS = ("exchange", "date")


def event_prefix(*, exch_time_note: str = "Exchange timestamp, µs UTC.") -> tuple[Column, ...]:
    """Partition, identity, clock and lineage columns shared by every bronze-derived event table."""
    return (
        Column("exchange", STR, description="Exchange id (partition)."),
        Column("date", DATE, description="Exchange-local calendar date of ts_local_us (partition)."),
        Column("symbol_id", I64, description="dim_symbol version in force at ts_local_us."),
        Column("ts_local_us", I64, description="Arrival time, µs UTC: the primary replay clock.", delta_encoded=True),
        Column("ts_exch_us", I64, nullable=True, description=exch_time_note, delta_encoded=True),
        Column("file_id", I64, description="Manifest id of the bronze file this row came from."),
        Column("file_line_number", I64, description="Physical line of the row in its bronze file.", delta_encoded=True),
    )


def event_table(name: str, description: str, body: tuple[Column, ...], *, status: Status = Status.ACTIVE) -> TableSpec:
    return TableSpec(
        name=name,
        tier=Tier.SILVER,
        columns=event_prefix() + body,
        description=description,
        partition_by=PARTITIONS,
        lineage_key=LINEAGE,
        ordering_key=EVENT_ORDER,
        time_column="ts_local_us",
        status=status,
    )


def px(name: str, description: str, nullable: bool = False) -> Column:
    # Prices move a few ticks between consecutive rows, so delta encoding beats a dictionary: measured on
    # random-walk trades 1.09 vs 1.77 B/row for px_int (sizes stay dictionary-encoded: 0.53 vs 0.94).
    return Column(name, I64, nullable=nullable, description=description, fixed_point="price", delta_encoded=True)


def qty(name: str, description: str, nullable: bool = False) -> Column:
    return Column(name, I64, nullable=nullable, description=description, fixed_point="amount")


SIDE_NOTE = "Aggressor side: 1 buy, -1 sell, 0 unknown."

TRADES = event_table(
    "trades",
    "Every trade print.",
    (
        Column("trade_id", STR, nullable=True, description="Exchange trade id (text; may be empty)."),
        Column("side", I8, description=SIDE_NOTE),
        px("px_int", "Trade price in price increments."),
        qty("qty_int", "Trade size in amount increments."),
    ),
)

QUOTES = event_table(
    "quotes",
    "Top of book; either side may be absent.",
    (
        px("bid_px_int", "Best bid price in price increments.", nullable=True),
        qty("bid_qty_int", "Best bid size in amount increments.", nullable=True),
        px("ask_px_int", "Best ask price in price increments.", nullable=True),
        qty("ask_qty_int", "Best ask size in amount increments.", nullable=True),
    ),
)

LIQUIDATIONS = event_table(
    "liquidations",
    "Forced liquidations. side 1 (buy) = a short was liquidated, -1 (sell) = a long was liquidated.",
    (
        Column("liquidation_id", STR, nullable=True, description="Exchange id of the liquidation, often empty."),
        Column("side", I8, description="1 buy (short liquidated), -1 sell (long liquidated), 0 unknown."),
        px("px_int", "Liquidation price in price increments."),
        qty("qty_int", "Liquidated size in amount increments."),
    ),
)

DERIVATIVE_TICKER = event_table(
    "derivative_ticker",
    "Funding, open interest and reference prices of derivatives. Index and mark prices are computed by "
    "the venue, not on the tick grid, so they are Float64 (the shortest repr of each value round-trips "
    "the vendor's text for up to 15 significant digits).",
    (
        Column("funding_ts_us", I64, nullable=True, description="Time of the next funding event, µs UTC."),
        Column("funding_rate", F64, nullable=True, description="Rate applied at the next funding."),
        Column("predicted_funding_rate", F64, nullable=True, description="Rate predicted for the funding after."),
        Column("open_interest", F64, nullable=True, description="Open interest (contracts)."),
        Column("last_px", F64, nullable=True, description="Last traded price."),
        Column("index_px", F64, nullable=True, description="Index price."),
        Column("mark_px", F64, nullable=True, description="Mark price."),
    ),
)

OPTIONS_CHAIN = event_table(
    "options_chain",
    "Option chain snapshots: quotes, implied volatilities (percent) and greeks per option.",
    (
        Column("option_type", STR, description="'put' or 'call'."),
        Column("strike", F64, description="Strike price."),
        Column("expiry_ts_us", I64, description="Expiration, µs UTC."),
        Column("open_interest", F64, nullable=True, description="Open interest."),
        px("last_px_int", "Last traded price in price increments.", nullable=True),
        px("bid_px_int", "Best bid price in price increments.", nullable=True),
        qty("bid_qty_int", "Best bid size in amount increments.", nullable=True),
        Column("bid_iv", F64, nullable=True, description="Bid implied volatility, percent."),
        px("ask_px_int", "Best ask price in price increments.", nullable=True),
        qty("ask_qty_int", "Best ask size in amount increments.", nullable=True),
        Column("ask_iv", F64, nullable=True, description="Ask implied volatility, percent."),
        Column("mark_px", F64, nullable=True, description="Mark price (computed, off the tick grid)."),
        Column("mark_iv", F64, nullable=True, description="Mark implied volatility, percent."),
        Column("underlying_index", STR, nullable=True, description="Underlying the greeks refer to."),
        Column("underlying_px", F64, nullable=True, description="Underlying price."),
        Column("delta", F64, nullable=True),
        Column("gamma", F64, nullable=True),
        Column("vega", F64, nullable=True),
        Column("theta", F64, nullable=True),
        Column("rho", F64, nullable=True),
    ),
)

INCREMENTAL_BOOK_L2 = event_table(
    "incremental_book_l2",
    "Level-2 book updates: the new absolute size of a price level (0 deletes it); snapshot rows restart the book.",
    (
        Column("is_snapshot", BOOL, description="True for rows of a full book snapshot."),
        Column("side", I8, description="1 bid, -1 ask."),
        px("px_int", "Level price in price increments."),
        qty("qty_int", "New absolute level size in amount increments (0 = delete)."),
    ),
)


def book_snapshot(depth: int) -> TableSpec:
    """Top-``depth`` book snapshots as wide Int64 columns (measured faster than list columns), level 0 best."""
    body: list[Column] = []
    for i in range(depth):
        body += [
            px(f"ask{i}_px_int", f"Ask level {i} price.", nullable=True),
            qty(f"ask{i}_qty_int", f"Ask level {i} size.", nullable=True),
            px(f"bid{i}_px_int", f"Bid level {i} price.", nullable=True),
            qty(f"bid{i}_qty_int", f"Bid level {i} size.", nullable=True),
        ]
    return event_table(
        f"book_snapshot_{depth}",
        f"Top {depth} levels of the book, asks ascending and bids descending; thin books leave deep levels null.",
        tuple(body),
    )


def kline(interval: str, *, status: Status = Status.ACTIVE) -> TableSpec:
    """OHLCV bars of one interval. A bar is known only at its end, so ``ts_local_us`` is the bar's end."""
    return event_table(
        f"kline_{interval}",
        f"{interval} OHLCV bars; ts_local_us is the bar end (exclusive), when the bar becomes known.",
        (
            Column("open_ts_us", I64, description="Bar start (inclusive), µs UTC."),
            px("open_px_int", "Open price."),
            px("high_px_int", "High price."),
            px("low_px_int", "Low price."),
            px("close_px_int", "Close price."),
            qty("volume_qty_int", "Base-asset volume in amount increments."),
            Column("quote_volume", F64, nullable=True, description="Quote-asset volume."),
            Column("trade_count", I64, nullable=True, description="Number of trades."),
            qty("taker_buy_qty_int", "Taker-buy base volume in amount increments.", nullable=True),
            Column("taker_buy_quote_volume", F64, nullable=True, description="Taker-buy quote volume."),
        ),
        status=status,
    )


FUNDAMENTALS = TableSpec(
    name="fundamentals",
    tier=Tier.SILVER,
    status=Status.PLANNED,
    description="Point-in-time fundamentals: each value stamped with when it became known.",
    columns=(
        Column("exchange", STR),
        Column("date", DATE),
        Column("symbol_id", I64),
        Column("ts_local_us", I64, description="When the value became known, µs UTC."),
        Column("field", STR),
        Column("value", F64, nullable=True),
        Column("file_id", I64),
        Column("file_line_number", I64),
    ),
    partition_by=PARTITIONS,
    lineage_key=LINEAGE,
    ordering_key=("symbol_id", "ts_local_us", "field", "file_id", "file_line_number"),
    time_column="ts_local_us",
)

DIM_SYMBOL = TableSpec(
    name="dim_symbol",
    tier=Tier.DIM,
    description="SCD2 instrument metadata; one row per version, valid on [valid_from_ts, valid_until_ts).",
    columns=(
        Column("symbol_id", I64, description="BLAKE2b-8 of exchange|exchange_symbol|valid_from_ts, signed."),
        Column("exchange", STR),
        Column("exchange_symbol", STR, description="The venue's symbol, exactly as in vendor files."),
        Column("valid_from_ts", I64, description="Start of validity, µs UTC (inclusive)."),
        Column("valid_until_ts", I64, description="End of validity, µs UTC (exclusive); max Int64 when open."),
        Column("is_current", BOOL),
        Column("asset_class", STR, description="e.g. crypto_spot, crypto_derivative, equity."),
        Column("instrument_type", STR, description="spot, perpetual, future, option, stock, ..."),
        Column("base_asset", STR, nullable=True),
        Column("quote_asset", STR, nullable=True),
        Column("settle_asset", STR, nullable=True),
        Column("price_increment", DEC, description="Price grid of px_int columns (exact decimal)."),
        Column("amount_increment", DEC, description="Size grid of qty_int columns (exact decimal)."),
        Column("tick_size", DEC, nullable=True, description="Exchange tick rule, when it differs from the grid."),
        Column("lot_size", DEC, nullable=True, description="Exchange lot rule (shares per lot for equities)."),
        Column("contract_multiplier", DEC, nullable=True),
        Column("is_inverse", BOOL, nullable=True),
        Column("expiry_ts_us", I64, nullable=True, description="Options and futures expiry, µs UTC."),
        Column("underlying", STR, nullable=True),
        Column("strike", DEC, nullable=True),
        Column("put_call", STR, nullable=True, description="'put' or 'call' for options."),
        Column("contract_month", STR, nullable=True, description="Futures contract month, YYYY-MM."),
        Column("settlement_type", STR, nullable=True, description="cash or physical."),
        Column("isin", STR, nullable=True),
        Column("listing_exchange", STR, nullable=True),
        Column("source", STR, description="Who produced the version: a vendor sync, or 'inferred' from bronze."),
        Column("is_inferred", BOOL, description="True when the increments were inferred from observed decimals."),
        Column("updated_at_us", I64, description="When this row was written, µs UTC."),
    ),
    lineage_key=("symbol_id",),
    ordering_key=("exchange", "exchange_symbol", "valid_from_ts"),
)

DIM_EXCHANGE = TableSpec(
    name="dim_exchange",
    tier=Tier.DIM,
    description="Exchanges registered by installed plugins (written by `pointline dim populate-exchange`).",
    columns=(
        Column("exchange", STR),
        Column("asset_class", STR),
        Column("timezone", STR, description="IANA timezone that defines the exchange-local date."),
        Column("mic", STR, nullable=True, description="ISO 10383 MIC, when one exists."),
        Column("calendar", STR, nullable=True, description="exchange_calendars code; null for 24/7 venues."),
        Column("description", STR, nullable=True),
        Column("registered_by", STR, description="Plugin that registered the exchange."),
    ),
    lineage_key=("exchange",),
    ordering_key=("exchange",),
)

DIM_TRADING_CALENDAR = TableSpec(
    name="dim_trading_calendar",
    tier=Tier.DIM,
    description="One row per exchange and session date: open/close in µs UTC (24/7 venues: every day).",
    columns=(
        Column("exchange", STR),
        Column("date", DATE),
        Column("is_session", BOOL),
        Column("open_ts_us", I64, nullable=True),
        Column("close_ts_us", I64, nullable=True),
        Column("break_start_ts_us", I64, nullable=True),
        Column("break_end_ts_us", I64, nullable=True),
    ),
    partition_by=("exchange",),
    lineage_key=("exchange", "date"),
    ordering_key=("exchange", "date"),
)

DIM_ASSET_STATS = TableSpec(
    name="dim_asset_stats",
    tier=Tier.DIM,
    description="Daily asset-level statistics (supply, market cap) stamped with when they were known.",
    columns=(
        Column("asset", STR),
        Column("date", DATE),
        Column("known_at_us", I64, description="When the value was observed, µs UTC (PIT key)."),
        Column("circulating_supply", F64, nullable=True),
        Column("total_supply", F64, nullable=True),
        Column("max_supply", F64, nullable=True),
        Column("market_cap_usd", F64, nullable=True),
        Column("source", STR),
        Column("file_id", I64, nullable=True),
    ),
    partition_by=("date",),
    lineage_key=("asset", "date", "known_at_us"),
    ordering_key=("asset", "date", "known_at_us"),
)

INGEST_MANIFEST = TableSpec(
    name="ingest_manifest",
    tier=Tier.CONTROL,
    description="One row per bronze file identity (vendor, data_type, path, sha256) and its ingestion status.",
    columns=(
        Column("file_id", I64),
        Column("vendor", STR),
        Column("data_type", STR),
        Column("bronze_path", STR, description="Path relative to the bronze root."),
        Column("sha256", STR),
        Column("size_bytes", I64),
        Column("table_name", STR),
        Column("exchange", STR, nullable=True),
        Column("status", STR, description="pending, success, failed, quarantined or superseded."),
        Column("rows_read", I64, nullable=True),
        Column("rows_written", I64, nullable=True),
        Column("rows_quarantined", I64, nullable=True),
        Column("min_ts_us", I64, nullable=True),
        Column("max_ts_us", I64, nullable=True),
        Column("dates", pl.List(DATE), nullable=True, description="Exchange-local dates the file's rows landed in."),
        Column("error", STR, nullable=True),
        Column("superseded_by", I64, nullable=True),
        Column("created_at_us", I64),
        Column("updated_at_us", I64),
    ),
    partition_by=("vendor",),
    lineage_key=("file_id",),
    ordering_key=("file_id",),
)

VALIDATION_LOG = TableSpec(
    name="validation_log",
    tier=Tier.CONTROL,
    description="One record per file per ingest run, at every exit point, with a structured failure reason.",
    columns=(
        Column("run_id", STR),
        Column("file_id", I64, nullable=True),
        Column("vendor", STR),
        Column("data_type", STR),
        Column("bronze_path", STR),
        Column("table_name", STR, nullable=True),
        Column("status", STR),
        Column("failure_reason", STR, nullable=True, description="e.g. parse_error, empty_file, unknown_exchange."),
        Column("error", STR, nullable=True),
        Column("rows_read", I64),
        Column("rows_written", I64),
        Column("rows_quarantined", I64),
        Column("rule_counts", STR, nullable=True, description="JSON object: quarantine rule -> row count."),
        Column("duration_s", F64),
        Column("logged_at_us", I64),
    ),
    lineage_key=("run_id", "bronze_path"),
    ordering_key=("logged_at_us", "bronze_path"),
)

DQ_SUMMARY = TableSpec(
    name="dq_summary",
    tier=Tier.CONTROL,
    description="Per table and exchange-local date: rows, nulls, lineage duplicates, time range, quarantine counts.",
    columns=(
        Column("table_name", STR),
        Column("exchange", STR),
        Column("date", DATE),
        Column("rows", I64),
        Column("null_cells", I64),
        Column("duplicate_lineage_rows", I64),
        Column("min_ts_us", I64, nullable=True),
        Column("max_ts_us", I64, nullable=True),
        Column("quarantined_rows", I64),
        Column("computed_at_us", I64),
    ),
    partition_by=("table_name",),
    lineage_key=("table_name", "exchange", "date"),
    ordering_key=("table_name", "exchange", "date"),
)

QUARANTINE = TableSpec(
    name="quarantine",
    tier=Tier.CONTROL,
    description="Rows that failed a rule, kept with their origin, rule, column and raw value: nothing is lost.",
    columns=(
        Column("table_name", STR),
        Column("exchange", STR, nullable=True),
        Column("exchange_symbol", STR, nullable=True),
        Column("file_id", I64),
        Column("file_line_number", I64),
        Column("ts_local_us", I64, nullable=True),
        Column("rule", STR, description="e.g. no_symbol_coverage, off_grid, invalid_enum, crossed_book."),
        Column("column_name", STR, nullable=True),
        Column("raw_value", STR, nullable=True),
        Column("quarantined_at_us", I64),
    ),
    partition_by=("table_name",),
    lineage_key=("file_id", "file_line_number", "rule", "column_name"),
    ordering_key=("file_id", "file_line_number"),
)


def canonical_tables() -> list[TableSpec]:
    """Every table core registers."""
    return [
        TRADES,
        QUOTES,
        book_snapshot(25),
        book_snapshot(5),
        DERIVATIVE_TICKER,
        LIQUIDATIONS,
        OPTIONS_CHAIN,
        INCREMENTAL_BOOK_L2,
        kline("1h"),
        kline("1d"),
        FUNDAMENTALS,
        DIM_SYMBOL,
        DIM_EXCHANGE,
        DIM_TRADING_CALENDAR,
        DIM_ASSET_STATS,
        INGEST_MANIFEST,
        VALIDATION_LOG,
        DQ_SUMMARY,
        QUARANTINE,
    ]


def _kline_family(interval: str) -> TableSpec:
    return kline(interval)


def _book_snapshot_family(depth: str) -> TableSpec:
    if not depth.isdigit() or int(depth) < 1:
        raise ValueError(f"book snapshot depth must be a positive integer, not {depth!r}")
    return book_snapshot(int(depth))


TABLE_FAMILIES: dict[str, Callable[[str], TableSpec]] = {
    "kline_{interval}": _kline_family,
    "book_snapshot_{depth}": _book_snapshot_family,
}
"""Parameterised table names core can resolve on demand (e.g. ``kline_1m`` for a vendor's 1m klines).

A factory raises ``ValueError`` for a parameter it cannot build (``book_snapshot_x``)."""
