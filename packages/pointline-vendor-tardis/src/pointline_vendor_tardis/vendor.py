"""The Tardis.dev vendor: layout, parsing, downloads and instrument metadata behind core's contract."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

import polars as pl
from pointline.vendor import (
    BronzeFile,
    Downloader,
    DownloadRequest,
    InstrumentSource,
    ProgressCallback,
    Vendor,
    bronze_relative,
)

from pointline_vendor_tardis import layout, parsers

NAME = "tardis"

TABLE_MAPPING: dict[str, str] = {
    "trades": "trades",
    "quotes": "quotes",
    "book_snapshot_25": "book_snapshot_25",
    "book_snapshot_5": "book_snapshot_5",
    "derivative_ticker": "derivative_ticker",
    "liquidations": "liquidations",
    "options_chain": "options_chain",
    "incremental_book_L2": "incremental_book_l2",
}


class TardisVendor(Vendor, Downloader, InstrumentSource):
    """Tardis.dev downloadable CSV datasets (crypto spot, derivatives and options on ~60 venues)."""

    name = NAME
    description = "Tardis.dev downloadable CSV datasets: tick-level crypto market data."
    bronze_patterns = ("**/*.csv.gz", "**/*.csv")

    def table_mapping(self) -> Mapping[str, str]:
        return dict(TABLE_MAPPING)

    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        """Metadata of a Tardis download name or a Hive path; None for anything else.

        ``bronze_root`` is the lake's bronze directory (the file then lies under ``tardis/``); the Tardis
        directory itself is accepted too.
        """
        try:
            relative = PurePosixPath(bronze_relative(path, bronze_root))
        except ValueError:
            return None
        inner = PurePosixPath(*relative.parts[1:]) if relative.parts[:1] == (NAME,) else relative
        info = layout.parse_relative(inner)
        if info is None or not path.is_file():
            return None
        return BronzeFile(
            vendor=NAME,
            path=path.resolve(),
            relative_path=str(relative),
            data_type=info.data_type,
            exchange=self.normalize_exchange(info.exchange),
            symbol=info.symbol,
            date=info.date,
            extra={"layout": info.layout, "grouped": str(info.grouped).lower()},
        )

    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame:
        return parsers.parse(file.path, file.data_type)

    def iter_batches(self, file: BronzeFile, batch_rows: int) -> Iterator[pl.DataFrame]:
        """Stream the file in blocks of about ``batch_rows`` rows (memory bounded for multi-GB days)."""
        return parsers.iter_parse(file.path, file.data_type, batch_rows=batch_rows)

    def normalize_exchange(self, name: str) -> str:
        """Tardis exchange ids are the registered exchange names (``binance-futures``); case is folded."""
        return name.strip().lower()

    # -- capabilities ------------------------------------------------------------------------------
    def download(
        self, request: DownloadRequest, bronze_root: Path, progress: ProgressCallback | None = None
    ) -> list[Path]:
        """Download a request into the Tardis bronze directory (Hive layout); see :mod:`.download`.

        ``bronze_root`` is the lake's bronze directory (files go under ``tardis/``) or that ``tardis``
        directory itself.
        """
        from pointline_vendor_tardis.download import Downloader as TardisDownloader

        root = bronze_root if bronze_root.name == NAME else bronze_root / NAME
        return TardisDownloader.from_env().download(request, root, progress=progress).raise_for_failures()

    def instrument_versions(self, exchange: str, *, source_file: Path | None = None) -> pl.DataFrame:
        """dim_symbol versions of every supported instrument of ``exchange`` (API, or a saved JSON file)."""
        from pointline_vendor_tardis import instruments

        return instruments.load(exchange, source_file=source_file).versions
