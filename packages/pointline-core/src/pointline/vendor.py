"""The vendor contract: a :class:`Vendor` subclass plus optional capability interfaces.

A vendor package registers one instance through ``pointline_register_vendors``. Core calls only what is
defined here; a vendor never reaches into core's internals, and core never names a vendor.

Capabilities (download, instrument metadata, API snapshots, archive pre-hooks) are separate abstract
classes a vendor inherits or not, so ``isinstance(vendor, Downloader)`` is the whole capability check.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import polars as pl

from pointline.errors import UnknownTableError


@dataclass(frozen=True)
class BronzeFile:
    """One immutable vendor file in bronze, with the metadata its path tells.

    ``symbol`` and ``date`` from a path are hints for discovery and progress only: rows carry their own
    symbol, and the partition date is computed from each row's timestamp.
    """

    vendor: str
    path: Path
    """Absolute path."""
    relative_path: str
    """POSIX path relative to the bronze root: part of the manifest identity."""
    data_type: str
    """The vendor's data type (``trades``, ``book_snapshot_25``, ``klines_1m``, ...)."""
    exchange: str | None = None
    symbol: str | None = None
    date: dt.date | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


class Vendor(ABC):
    """Base class of every data vendor.

    Subclasses set :attr:`name` and implement :meth:`table_mapping`, :meth:`describe_file` and
    :meth:`read_and_parse`. Everything else has a sensible default.
    """

    name: str = ""
    """Short name (``tardis``); also the bronze sub-directory and the CLI command group."""
    description: str = ""

    @abstractmethod
    def table_mapping(self) -> Mapping[str, str]:
        """Vendor data type -> table name.

        Keys and values may share ``{placeholders}``: ``{"klines_{interval}": "kline_{interval}"}`` maps
        ``klines_1m`` to ``kline_1m``. Core resolves the placeholders (:func:`resolve_table_name`).
        """

    # -- bronze layout -------------------------------------------------------------------------
    bronze_patterns: Sequence[str] = ("**/*",)
    """Glob patterns (relative to this vendor's bronze directory) of candidate files."""

    @abstractmethod
    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        """Metadata of a candidate file, or None when it is not a file of this vendor (e.g. a checksum)."""

    # -- parsing ---------------------------------------------------------------------------------
    @abstractmethod
    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame | pl.LazyFrame:
        """Parse a whole file into the table's pre-encoding shape (:meth:`TableSpec.parse_schema`).

        ``file_line_number`` must be the physical line of each row in the file, assigned before any
        filtering. Prices and sizes of fixed-point columns stay decimal text; core encodes them exactly.
        Raise :class:`pointline.errors.BronzeFormatError` for an unreadable file.
        """

    def iter_batches(self, file: BronzeFile, batch_rows: int) -> Iterator[pl.DataFrame]:
        """Parse a file in batches of about ``batch_rows`` rows, so memory stays bounded for large files.

        The default collects :meth:`read_and_parse` and slices it; vendors with very large files override
        this with a streaming reader.
        """
        frame = self.read_and_parse(file)
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        if frame.height == 0:
            yield frame
            return
        for offset in range(0, frame.height, batch_rows):
            yield frame.slice(offset, batch_rows)

    # -- normalisation ---------------------------------------------------------------------------
    def normalize_exchange(self, name: str) -> str:
        """The registered exchange id for a vendor's exchange name (identity by default)."""
        return name

    def normalize_symbol(self, symbol: str) -> str:
        """The exchange symbol as stored in dim_symbol (identity by default)."""
        return symbol


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def resolve_table_name(mapping: Mapping[str, str], data_type: str) -> str:
    """Resolve a vendor data type through a table mapping that may hold ``{placeholders}``."""
    if data_type in mapping:
        return mapping[data_type]
    for pattern, table in mapping.items():
        parts = _PLACEHOLDER.split(pattern)
        if len(parts) == 1:
            continue
        # split() alternates literal text and placeholder names: escape the text, capture the names.
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[A-Za-z0-9]+)" for i, p in enumerate(parts))
        match = re.fullmatch(regex, data_type)
        if match:
            return table.format(**match.groupdict())
    raise UnknownTableError(f"no table for data type {data_type!r} (known: {', '.join(sorted(mapping))})")


# -- optional capabilities -------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadRequest:
    """What a user asked to download."""

    exchange: str
    data_types: Sequence[str]
    symbols: Sequence[str]
    start: dt.date
    end: dt.date
    """Inclusive last day."""


ProgressCallback = Callable[[int, int], None]
"""``(done, total)`` progress notifications from long capability calls."""


class Downloader(ABC):
    """A vendor that can fetch bronze files itself."""

    @abstractmethod
    def download(
        self, request: DownloadRequest, bronze_root: Path, progress: ProgressCallback | None = None
    ) -> list[Path]:
        """Download into the vendor's bronze layout; partial files are never left where discovery looks."""


class InstrumentSource(ABC):
    """A vendor that publishes instrument metadata (tick sizes, lots, expiries) for dim_symbol."""

    @abstractmethod
    def instrument_versions(self, exchange: str, *, source_file: Path | None = None) -> pl.DataFrame:
        """SCD2 versions in dim_symbol's shape minus ``symbol_id``, ``is_current`` and ``updated_at_us``.

        Core assigns ids and merges the versions into dim_symbol.
        """


class ApiSnapshotSource(ABC):
    """A vendor whose data comes from an API: it captures responses into bronze itself."""

    @abstractmethod
    def capture(self, bronze_root: Path, **options: str) -> list[Path]:
        """Write API snapshots as immutable bronze files and return their paths."""


class ArchivePreHook(ABC):
    """A vendor that ships archives (``.7z``, ``.zip``) which must be expanded before parsing."""

    @abstractmethod
    def expand(self, archive: Path, workdir: Path) -> list[Path]:
        """Expand ``archive`` into ``workdir`` and return the member files to parse."""


def bronze_relative(path: Path, bronze_root: Path) -> str:
    """POSIX path of ``path`` relative to the bronze root (the manifest's identity path)."""
    return str(PurePosixPath(path.resolve().relative_to(bronze_root.resolve()).as_posix()))
