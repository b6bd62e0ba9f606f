"""A tiny but real vendor plugin used by core's tests: it reads trade CSVs in Tardis's column layout.

Core knows no vendor; this one exists only so core's tests can drive the plugin host, the CLI and the
conformance kit end to end with a real sample file (``../shared/samples/tardis/bitmex_trades_XBTUSD.csv``).
Files are recognised by the name ``<exchange>_trades_<SYMBOL>.csv`` anywhere under ``bronze/toy/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl
from pointline.errors import BronzeFormatError
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.vendor import BronzeFile, Vendor, bronze_relative

NAME = "toy"
_FILE = re.compile(r"^(?P<exchange>[a-z0-9-]+)_trades_(?P<symbol>[A-Za-z0-9_-]+)\.csv$")
_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]
_SIDES = {"buy": 1, "sell": -1, "unknown": 0}


class ToyVendor(Vendor):
    """Trades CSV files with the header ``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``."""

    name = NAME
    description = "Test vendor reading Tardis-layout trade CSVs."

    def table_mapping(self) -> Mapping[str, str]:
        return {"trades": "trades", "klines_{interval}": "kline_{interval}"}

    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        match = _FILE.match(path.name)
        if match is None or not path.is_file():
            return None
        return BronzeFile(
            vendor=NAME,
            path=path.resolve(),
            relative_path=bronze_relative(path, bronze_root),
            data_type="trades",
            exchange=match["exchange"],
            symbol=match["symbol"],
        )

    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame:
        try:
            raw = pl.read_csv(file.path, infer_schema=False)
        except pl.exceptions.NoDataError:
            raise BronzeFormatError("empty file", path=file.relative_path) from None
        if raw.columns != _HEADER:
            raise BronzeFormatError(f"header is {raw.columns}, expected {_HEADER}", path=file.relative_path, line=1)
        return raw.select(
            pl.col("exchange"),
            pl.col("symbol").alias("exchange_symbol"),
            pl.col("local_timestamp").cast(pl.Int64).alias("ts_local_us"),
            pl.col("timestamp").cast(pl.Int64).alias("ts_exch_us"),
            # The header is line 1, so row i (0-based) is physical line i + 2.
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("file_line_number"),
            pl.col("id").alias("trade_id"),
            pl.col("side").replace_strict(_SIDES, return_dtype=pl.Int8).alias("side"),
            pl.col("price").alias("px"),
            pl.col("amount").alias("qty"),
        )


EXCHANGES = [ExchangeSpec("bitmex", "crypto_derivative", "UTC", description="BitMEX")]


@hookimpl
def pointline_register_vendors(register: Callable[[Vendor], None]) -> None:
    register(ToyVendor())


@hookimpl
def pointline_register_exchanges(register: Callable[[ExchangeSpec], None]) -> None:
    for spec in EXCHANGES:
        register(spec)
