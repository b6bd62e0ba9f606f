"""The records that flow through a run: a file to ingest, what came of it, and why it failed.

These are plain, picklable dataclasses: worker processes receive :class:`FileJob` and return
:class:`FileResult`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from pointline.errors import BronzeFormatError, SchemaMismatchError, UnknownExchangeError, UnknownTableError
from pointline.vendor import BronzeFile

# Structured failure reasons (validation_log.failure_reason); never parsed out of messages.
PARSE_ERROR: Final = "parse_error"
"""The vendor could not read the file (truncated archive, malformed CSV, missing column)."""
EMPTY_FILE: Final = "empty_file"
"""The file has no bytes or no data rows."""
UNKNOWN_EXCHANGE: Final = "unknown_exchange"
"""A row names an exchange no installed plugin registers (so its local date is unknown)."""
UNKNOWN_TABLE: Final = "unknown_table"
"""The vendor maps the file's data type to no registered table."""
SCHEMA_MISMATCH: Final = "schema_mismatch"
"""The vendor's parser returned the wrong column types (a vendor bug)."""
ALL_ROWS_QUARANTINED: Final = "all_rows_quarantined"
"""The file was read but no row passed; status ``quarantined``."""
WRITE_CONFLICT: Final = "write_conflict"
"""Concurrent writers kept conflicting after every retry."""
INGEST_EXCEPTION: Final = "ingest_exception"
"""Anything else: a bug, reported in one line without stopping the batch."""
MISSING_BRONZE: Final = "missing_bronze"
"""A backfill found no bronze file at a manifest path; its rows were left as they were."""


@dataclass(frozen=True)
class FileJob:
    """One file to ingest under one file id."""

    file: BronzeFile
    table: str
    file_id: int
    sha256: str
    size_bytes: int
    replaces: tuple[int, ...] = ()
    """Older live ids of the same path whose rows this file's landing replaces."""
    minted_now: bool = False
    """The id was minted by this run, so no earlier commit can hold rows for it."""
    reason: str = "new"


@dataclass
class FileResult:
    """What came of one :class:`FileJob`."""

    job: FileJob
    status: str
    failure_reason: str | None = None
    error: str | None = None
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    rule_counts: Mapping[str, int] = field(default_factory=dict)
    min_ts_us: int | None = None
    max_ts_us: int | None = None
    dates: list[dt.date] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)
    partitions: list[tuple[str, dt.date]] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def landed(self) -> bool:
        return self.failure_reason in (None, ALL_ROWS_QUARANTINED)


def one_line(text: str) -> str:
    """The first non-empty line of a message, so every failure prints as one line."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip()


def classify(exc: BaseException, path: str) -> tuple[str, str]:
    """(failure_reason, one-line message naming the file) for an exception raised while ingesting it."""
    from deltalake.exceptions import CommitFailedError

    message = one_line(str(exc))
    if isinstance(exc, BronzeFormatError):
        return PARSE_ERROR, message if exc.path else f"{path}: {message}"
    if isinstance(exc, UnknownExchangeError):
        return UNKNOWN_EXCHANGE, message
    if isinstance(exc, UnknownTableError):
        return UNKNOWN_TABLE, f"{path}: {message}"
    if isinstance(exc, SchemaMismatchError):
        return SCHEMA_MISMATCH, f"{path}: {message}"
    if isinstance(exc, CommitFailedError):
        return WRITE_CONFLICT, f"{path}: concurrent commits kept conflicting: {message}"
    return INGEST_EXCEPTION, f"{path}: {type(exc).__name__}: {message}"
