"""Builders for research tests: small lakes written through core's public storage API.

Frames conform to the registered specs (TableStore validates them), dim_symbol goes through
``dim_symbol.upsert``, and partition dates come from ``ts_local_us`` in the exchange's timezone, as
ingestion computes them. A test plugin registers the exchanges and a path-only vendor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.storage.delta import TableStore
from pointline.tables.canonical import INGEST_MANIFEST, QUARANTINE, VALIDATION_LOG
from pointline.tables.spec import TableSpec
from pointline.timeutil import MAX_TS, local_date, to_us
from pointline.vendor import BronzeFile, Vendor

UTC_EX = "binance-futures"
NY_EX = "nyse-test"
TIMEZONES = {UTC_EX: "UTC", NY_EX: "America/New_York"}
DAY = 86_400_000_000
HOUR = 3_600_000_000
T0 = to_us("2024-05-01")
"""2024-05-01T00:00:00Z in µs."""


class PathVendor(Vendor):
    """A vendor that only reads metadata from Hive paths: ``pathvendor/exchange=X/type=T/date=D/symbol=S/f``."""

    name = "pathvendor"

    def table_mapping(self) -> Mapping[str, str]:
        return {"trades": "trades", "quotes": "quotes"}

    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        rel = PurePosixPath(path.relative_to(bronze_root).as_posix())
        parts = dict(p.split("=", 1) for p in rel.parts if "=" in p)
        if "type" not in parts:
            return None
        return BronzeFile(
            vendor=self.name,
            path=path,
            relative_path=str(rel),
            data_type=parts["type"],
            exchange=parts.get("exchange"),
            symbol=parts.get("symbol"),
            date=dt.date.fromisoformat(parts["date"]) if "date" in parts else None,
        )

    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame:
        raise NotImplementedError("research tests never ingest")


class ResearchTestPlugin:
    """Registers the test exchanges and the path-only vendor."""

    @hookimpl
    def pointline_register_exchanges(self, register: Any) -> None:
        register(ExchangeSpec(UTC_EX, "crypto_derivative", "UTC", description="test venue (UTC)"))
        register(ExchangeSpec(NY_EX, "equity", "America/New_York", description="test venue (New York)"))

    @hookimpl
    def pointline_register_vendors(self, register: Any) -> None:
        register(PathVendor())


def version(
    symbol: str,
    valid_from: int,
    valid_until: int = MAX_TS,
    *,
    exchange: str = UTC_EX,
    price_increment: str = "0.1",
    amount_increment: str = "0.001",
    **extra: object,
) -> dict[str, object]:
    """One dim_symbol version in the shape ``finalize_versions`` expects."""
    row: dict[str, object] = {
        "exchange": exchange,
        "exchange_symbol": symbol,
        "valid_from_ts": valid_from,
        "valid_until_ts": valid_until,
        "asset_class": "crypto_derivative",
        "instrument_type": "perpetual",
        "base_asset": symbol[:3],
        "quote_asset": "USDT",
        "settle_asset": None,
        "price_increment": Decimal(price_increment),
        "amount_increment": Decimal(amount_increment),
        "tick_size": None,
        "lot_size": None,
        "contract_multiplier": None,
        "is_inverse": None,
        "expiry_ts_us": None,
        "underlying": None,
        "strike": None,
        "put_call": None,
        "contract_month": None,
        "settlement_type": None,
        "isin": None,
        "listing_exchange": None,
        "source": "test",
        "is_inferred": False,
    }
    row.update(extra)
    return row


def write_dim(lake: Lake, versions: Sequence[dict[str, object]]) -> pl.DataFrame:
    """Write versions to dim_symbol and return them with their ids (sorted by key and validity)."""
    from pointline.tables.canonical import DIM_SYMBOL

    schema = {c: t for c, t in DIM_SYMBOL.schema.items() if c not in ("symbol_id", "is_current", "updated_at_us")}
    frame = pl.DataFrame(list(versions), schema=schema)
    final = dim_symbol.finalize_versions(frame, now_us=T0)
    dim_symbol.upsert(lake, final)
    return final.sort("exchange", "exchange_symbol", "valid_from_ts")


def ids_of(dim: pl.DataFrame, symbol: str) -> list[int]:
    """symbol_ids of one symbol's versions, oldest first."""
    return dim.filter(pl.col("exchange_symbol") == symbol).sort("valid_from_ts").get_column("symbol_id").to_list()


_DEFAULTS: dict[str, object] = {"side": 0, "trade_id": None, "is_snapshot": False}


def events(spec: TableSpec, rows: Sequence[Mapping[str, object]], *, exchange: str = UTC_EX) -> pl.DataFrame:
    """A frame of ``spec`` from partial rows: missing columns get defaults, ``date`` comes from ts_local_us."""
    schema = spec.schema
    filled = []
    for i, row in enumerate(rows):
        full: dict[str, object] = {c: _DEFAULTS.get(c) for c in schema.names()}
        full.update(
            {"exchange": exchange, "ts_exch_us": row.get("ts_local_us"), "file_id": 1, "file_line_number": i + 2}
        )
        full.update(row)
        filled.append(full)
    frame = pl.DataFrame(filled, schema={**schema, "date": pl.Date})
    return frame.with_columns(date=local_date(pl.col("ts_local_us"), TIMEZONES[exchange]))


def write_events(
    lake: Lake, spec: TableSpec, rows: Sequence[Mapping[str, object]], *, exchange: str = UTC_EX
) -> pl.DataFrame:
    """Append event rows (one commit) and return the frame written."""
    frame = events(spec, rows, exchange=exchange)
    TableStore(lake, spec).append(frame)
    return frame


def manifest_row(
    file_id: int,
    path: str,
    *,
    table: str = "trades",
    status: str = "success",
    exchange: str | None = UTC_EX,
    **extra: object,
) -> dict[str, object]:
    row: dict[str, object] = {
        "file_id": file_id,
        "vendor": "pathvendor",
        "data_type": table,
        "bronze_path": path,
        "sha256": f"{file_id:064x}",
        "size_bytes": 100,
        "table_name": table,
        "exchange": exchange,
        "status": status,
        "rows_read": None,
        "rows_written": None,
        "rows_quarantined": None,
        "min_ts_us": None,
        "max_ts_us": None,
        "dates": None,
        "error": None,
        "superseded_by": None,
        "created_at_us": T0,
        "updated_at_us": T0,
    }
    row.update(extra)
    return row


def write_manifest(lake: Lake, rows: Sequence[dict[str, object]]) -> None:
    TableStore(lake, INGEST_MANIFEST).append(pl.DataFrame(list(rows), schema=INGEST_MANIFEST.schema))


def log_row(
    file_id: int, path: str, *, status: str, reason: str | None, error: str | None = None, table: str = "trades"
) -> dict[str, object]:
    return {
        "run_id": "run-1",
        "file_id": file_id,
        "vendor": "pathvendor",
        "data_type": table,
        "bronze_path": path,
        "table_name": table,
        "status": status,
        "failure_reason": reason,
        "error": error,
        "rows_read": 0,
        "rows_written": 0,
        "rows_quarantined": 0,
        "rule_counts": None,
        "duration_s": 0.1,
        "logged_at_us": T0,
    }


def write_log(lake: Lake, rows: Sequence[dict[str, object]]) -> None:
    TableStore(lake, VALIDATION_LOG).append(pl.DataFrame(list(rows), schema=VALIDATION_LOG.schema))


def quarantine_row(
    file_id: int,
    line: int,
    rule: str,
    *,
    symbol: str,
    ts: int | None,
    table: str = "trades",
    exchange: str = UTC_EX,
    column: str | None = "px",
    raw: str | None = "1.23",
) -> dict[str, object]:
    return {
        "table_name": table,
        "exchange": exchange,
        "exchange_symbol": symbol,
        "file_id": file_id,
        "file_line_number": line,
        "ts_local_us": ts,
        "rule": rule,
        "column_name": column,
        "raw_value": raw,
        "quarantined_at_us": T0,
    }


def write_quarantine(lake: Lake, rows: Sequence[dict[str, object]]) -> None:
    TableStore(lake, QUARANTINE).append(pl.DataFrame(list(rows), schema=QUARANTINE.schema))
