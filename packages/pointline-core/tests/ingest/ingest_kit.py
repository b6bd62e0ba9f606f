"""A tiny in-test vendor ("kit") and helpers for the ingestion tests.

Bronze layout: ``bronze/kit/exchange=<x>/type=<trades|quotes>/date=<YYYY-MM-DD>/<SYMBOL>.csv[.gz]``.
Trades CSV header: ``exchange,symbol,local_ts,exch_ts,id,side,price,amount`` (side buy/sell/unknown);
quotes CSV header: ``exchange,symbol,local_ts,exch_ts,bid_price,bid_amount,ask_price,ask_amount``.
The parser is lenient on purpose (it keeps whichever columns the file has), so core's own checks are
what the tests exercise. Module-level names only: worker processes import this module by name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.timeutil import MAX_TS, to_us
from pointline.vendor import BronzeFile, Vendor, bronze_relative

NAME = "kit"
_PATH = re.compile(
    r"exchange=(?P<exchange>[^/]+)/type=(?P<type>[^/]+)/date=(?P<date>[0-9-]+)/(?P<symbol>[^/.]+)\.csv(\.gz)?$"
)
_SIDES = {"buy": 1, "sell": -1, "unknown": 0}
TRADES_HEADER = ["exchange", "symbol", "local_ts", "exch_ts", "id", "side", "price", "amount"]
QUOTES_HEADER = ["exchange", "symbol", "local_ts", "exch_ts", "bid_price", "bid_amount", "ask_price", "ask_amount"]
_TARGET = {
    "exchange": "exchange",
    "symbol": "exchange_symbol",
    "local_ts": "ts_local_us",
    "exch_ts": "ts_exch_us",
    "id": "trade_id",
    "side": "side",
    "price": "px",
    "amount": "qty",
    "bid_price": "bid_px",
    "bid_amount": "bid_qty",
    "ask_price": "ask_px",
    "ask_amount": "ask_qty",
}


class KitVendor(Vendor):
    name = NAME
    description = "In-test vendor for the ingestion pipeline."
    bronze_patterns = ("**/*.csv", "**/*.csv.gz")

    def table_mapping(self) -> Mapping[str, str]:
        return {"trades": "trades", "quotes": "quotes"}

    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        relative = bronze_relative(path, bronze_root)
        match = _PATH.search(relative)
        if match is None:
            return None
        return BronzeFile(
            vendor=NAME,
            path=path.resolve(),
            relative_path=relative,
            data_type=match["type"],
            exchange=match["exchange"],
            symbol=match["symbol"],
            date=dt.date.fromisoformat(match["date"]),
        )

    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame:
        raw = pl.read_csv(file.path, infer_schema=False)
        exprs: list[pl.Expr] = [pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("file_line_number")]
        for source, target in _TARGET.items():
            if source not in raw.columns:
                continue  # lenient: core must notice the missing column
            col = pl.col(source)
            if target in ("ts_local_us", "ts_exch_us"):
                col = col.cast(pl.Int64, strict=False)
            elif target == "side":
                col = col.replace_strict(_SIDES, default=None, return_dtype=pl.Int8)
            exprs.append(col.alias(target))
        return raw.select(exprs)


EXCHANGES = [
    ExchangeSpec("xa", "crypto_spot", "UTC", description="kit exchange A (UTC)"),
    ExchangeSpec("xb", "equity", "America/New_York", description="kit exchange B (New York)"),
]


class KitPlugin:
    @hookimpl
    def pointline_register_vendors(self, register: Callable[[Vendor], None]) -> None:
        register(KitVendor())

    @hookimpl
    def pointline_register_exchanges(self, register: Callable[[ExchangeSpec], None]) -> None:
        for spec in EXCHANGES:
            register(spec)


def make_host() -> PluginHost:
    """A host with core and the kit vendor only (module-level: worker processes call it)."""
    return PluginHost(entry_points_enabled=False, extra_plugins=[(NAME, KitPlugin())])


# -- bronze files ---------------------------------------------------------------------------------
DAY = dt.date(2024, 5, 1)
DAY_US = to_us(DAY)
HOUR_US = 3_600_000_000


def bronze_path(
    lake: Lake, exchange: str, data_type: str, symbol: str, date: dt.date = DAY, *, gz: bool = True
) -> Path:
    suffix = ".csv.gz" if gz else ".csv"
    return (
        lake.bronze
        / NAME
        / f"exchange={exchange}"
        / f"type={data_type}"
        / f"date={date.isoformat()}"
        / f"{symbol}{suffix}"
    )


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    text = ",".join(header) + "\n" + "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def trade_rows(
    exchange: str, symbol: str, n: int, *, start_us: int = DAY_US, step_us: int = 60_000_000
) -> list[list[Any]]:
    """``n`` valid trades on a 0.1 price grid and 0.001 size grid, one every ``step_us``."""
    rows = []
    for i in range(n):
        ts = start_us + i * step_us
        price = Decimal(60000) + Decimal(i % 97) / 10
        amount = Decimal(1 + i % 13) / 1000
        rows.append([exchange, symbol, ts, ts - 1000, f"t{i}", ("buy", "sell")[i % 2], price, amount])
    return rows


def quote_rows(
    exchange: str, symbol: str, n: int, *, start_us: int = DAY_US, step_us: int = 60_000_000
) -> list[list[Any]]:
    rows = []
    for i in range(n):
        ts = start_us + i * step_us
        bid = Decimal(60000) + Decimal(i % 50) / 10
        rows.append([exchange, symbol, ts, ts - 500, bid, "0.5", bid + Decimal("0.1"), "0.25"])
    return rows


def write_trades(
    lake: Lake, exchange: str, symbol: str, rows: Sequence[Sequence[Any]], date: dt.date = DAY, **kw: Any
) -> Path:
    return write_csv(bronze_path(lake, exchange, "trades", symbol, date, **kw), TRADES_HEADER, rows)


def write_quotes(
    lake: Lake, exchange: str, symbol: str, rows: Sequence[Sequence[Any]], date: dt.date = DAY, **kw: Any
) -> Path:
    return write_csv(bronze_path(lake, exchange, "quotes", symbol, date, **kw), QUOTES_HEADER, rows)


# -- dim_symbol -----------------------------------------------------------------------------------
def version(
    exchange: str,
    symbol: str,
    *,
    valid_from: int = 0,
    valid_until: int = MAX_TS,
    price_increment: str = "0.1",
    amount_increment: str = "0.001",
) -> dict[str, object]:
    return {
        "exchange": exchange,
        "exchange_symbol": symbol,
        "valid_from_ts": valid_from,
        "valid_until_ts": valid_until,
        "asset_class": "crypto_spot",
        "instrument_type": "spot",
        "price_increment": price_increment,
        "amount_increment": amount_increment,
        "source": "test",
        "is_inferred": False,
    }


def set_symbols(lake: Lake, versions: Sequence[dict[str, object]]) -> None:
    dim_symbol.upsert(lake, dim_symbol.versions_frame(list(versions)))


# -- reading the lake back ------------------------------------------------------------------------
def table(lake: Lake, host: PluginHost, name: str) -> pl.DataFrame:
    return TableStore(lake, host.table(name)).read()


def silver(lake: Lake, host: PluginHost, name: str = "trades") -> pl.DataFrame:
    """Silver rows in a canonical order (the lineage key)."""
    return table(lake, host, name).sort("file_id", "file_line_number")


def quarantine(lake: Lake, host: PluginHost) -> pl.DataFrame:
    """Quarantine records without their wall-clock stamp, in a canonical order."""
    return (
        table(lake, host, "quarantine")
        .drop("quarantined_at_us")
        .sort("file_id", "file_line_number", "rule", "column_name")
    )


def manifest(lake: Lake, host: PluginHost) -> pl.DataFrame:
    return table(lake, host, "ingest_manifest").sort("file_id")


def manifest_state(lake: Lake, host: PluginHost) -> pl.DataFrame:
    """The manifest without wall-clock columns: what must match a clean ingest exactly."""
    return manifest(lake, host).drop("created_at_us", "updated_at_us")


def lake_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` by relative path (a byte-level picture of the lake)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- the real CLI in a separate process -----------------------------------------------------------
_CLI_SCRIPT = """
import sys
sys.path.insert(0, {kit_dir!r})
import ingest_kit
from pointline.plugins.host import reset_host

# At top level on purpose: spawned worker processes re-import this script and get the same host.
reset_host(ingest_kit.make_host())

if __name__ == "__main__":
    from pointline.cli.app import main

    main(sys.argv[1:])
"""


def cli_command(workdir: Path) -> list[str]:
    """``[python, script]``: the ``pointline`` CLI with the kit vendor installed, for subprocesses."""
    script = workdir / "pointline_kit_cli.py"
    if not script.exists():
        script.write_text(_CLI_SCRIPT.format(kit_dir=str(Path(__file__).resolve().parent)))
    return [sys.executable, str(script)]


def cli_env(lake: Lake, **extra: str) -> dict[str, str]:
    return {**os.environ, "POINTLINE_LAKE": str(lake.root), **extra}
