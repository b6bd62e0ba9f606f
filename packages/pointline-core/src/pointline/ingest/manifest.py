"""The ingest manifest: file identities, file-id minting and per-file status.

One row per bronze file identity ``(vendor, data_type, bronze_path, sha256)`` and ``file_id``. Statuses:

* ``pending`` — the id is minted; the file has not landed (or a run died while ingesting it);
* ``success`` — rows landed (some may be quarantined);
* ``quarantined`` — the file was read, but no row passed (all are in the quarantine table);
* ``failed`` — the file could not be ingested (``error`` says why); it has no silver rows;
* ``superseded`` — a newer version of the same path (a vendor re-issue, or a backfill rebuild) landed
  and replaced its rows; ``superseded_by`` names it.

Ids are minted under a cross-process file lock from a 64-bit counter file that resyncs from the
manifest (``max(counter, max(file_id) + 1)``), so a lost or stale counter never reuses an id. The
identity check for new files is repeated under that lock, so two processes racing on one file agree
on one id. Look-ups read only matching rows (vendor partition + path or id terms), once per run.
Status changes are written as predicate overwrites of the touched ``file_id`` rows: one commit each.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl
from filelock import FileLock, Timeout

from pointline.config import Lake
from pointline.errors import PointlineError
from pointline.ingest.discovery import Candidate
from pointline.storage.delta import TableStore
from pointline.storage.predicates import all_of, is_in
from pointline.tables.canonical import INGEST_MANIFEST

PENDING: Final = "pending"
SUCCESS: Final = "success"
FAILED: Final = "failed"
QUARANTINED: Final = "quarantined"
SUPERSEDED: Final = "superseded"
STATUSES: Final = (PENDING, SUCCESS, FAILED, QUARANTINED, SUPERSEDED)
LANDED: Final = frozenset({SUCCESS, QUARANTINED})
"""Statuses whose rows are in silver/quarantine: the file was read and its outcome committed."""

LOCK_TIMEOUT_S = 600.0
COUNTER_FORMAT = "<q"


class ManifestLockTimeout(PointlineError):
    """Another process held the manifest lock for longer than :data:`LOCK_TIMEOUT_S`."""


def now_us() -> int:
    return time.time_ns() // 1000


class FileIdCounter:
    """The next free file id, a signed 64-bit little-endian integer in ``<lake>/_state/file_id.counter``.

    Only used while holding the manifest lock. Writes go through a temporary file and ``os.replace``
    so a crash leaves either the old or the new value, never a torn one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> int:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return 1
        if len(raw) != struct.calcsize(COUNTER_FORMAT):
            return 1  # a torn or foreign file: the manifest resync below restores a safe value
        (value,) = struct.unpack(COUNTER_FORMAT, raw)
        return max(1, int(value))

    def write(self, value: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(struct.pack(COUNTER_FORMAT, value))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


@dataclass(frozen=True)
class Decision:
    """What a run does with one candidate file."""

    action: Literal["skip", "process", "mint"]
    reason: str
    """new, reissued, rebuild, pending, failed, unfinished_supersede, forced, retry_quarantined or already_ingested."""
    file_id: int | None = None
    """The id to ingest under (``process``), or the landed id (``skip``); None until minted."""
    replaces: tuple[int, ...] = ()
    """Older live ids of the same path that this file supersedes once it lands."""


def decide(
    candidate: Candidate,
    rows: pl.DataFrame,
    *,
    force: bool = False,
    retry_quarantined: bool = False,
    rebuild: bool = False,
) -> Decision:
    """Decide from the manifest rows of the candidate's ``(vendor, bronze_path)``.

    The newest live (not superseded) row is the path's current version. If it has the candidate's
    sha256 it is the same file: skip it once landed, otherwise ingest it again under the same id. A
    different sha256 is a vendor re-issue: a new id is minted and every older live row is superseded
    when the new one lands. ``rebuild`` (backfill) mints a new id even for the same bytes.
    """
    live = rows.filter((pl.col("data_type") == candidate.data_type) & (pl.col("status") != SUPERSEDED)).sort("file_id")
    ids = tuple(int(i) for i in live["file_id"])
    if live.height == 0:
        return Decision("mint", "new")
    newest = live.row(live.height - 1, named=True)
    if rebuild:
        return Decision("mint", "rebuild", replaces=ids)
    if newest["sha256"] != candidate.sha256:
        return Decision("mint", "reissued", replaces=ids)
    older = ids[:-1]
    status = newest["status"]
    if status in LANDED and not older:
        if force:
            return Decision("process", "forced", newest["file_id"])
        if retry_quarantined and (newest["rows_quarantined"] or 0) > 0:
            return Decision("process", "retry_quarantined", newest["file_id"])
        return Decision("skip", "already_ingested", newest["file_id"])
    # Pending (a run died, or is running), failed (retried every run), or landed while older versions
    # are still live (a manifest commit lost between two runs): ingest again under the same id.
    reason = "unfinished_supersede" if status in LANDED else status
    return Decision("process", reason, newest["file_id"], older)


def pending_row(candidate: Candidate, file_id: int, at_us: int) -> dict[str, Any]:
    """The manifest row written when an id is minted."""
    return {
        "file_id": file_id,
        "vendor": candidate.vendor,
        "data_type": candidate.data_type,
        "bronze_path": candidate.path,
        "sha256": candidate.sha256,
        "size_bytes": candidate.size_bytes,
        "table_name": candidate.table,
        "exchange": candidate.exchange,
        "status": PENDING,
        "rows_read": None,
        "rows_written": None,
        "rows_quarantined": None,
        "min_ts_us": None,
        "max_ts_us": None,
        "dates": None,
        "error": None,
        "superseded_by": None,
        "created_at_us": at_us,
        "updated_at_us": at_us,
    }


def frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Manifest rows as a frame of the table's schema."""
    return pl.DataFrame(list(rows), schema=INGEST_MANIFEST.schema, orient="row")


class Manifest:
    """Keyed reads and locked, batched writes of ``ingest_manifest``."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.store = TableStore(lake, INGEST_MANIFEST)
        self.counter = FileIdCounter(lake.state / "file_id.counter")

    # -- reads ----------------------------------------------------------------------------------
    def for_paths(self, keys: Iterable[tuple[str, str]]) -> pl.DataFrame:
        """Every row of the given ``(vendor, bronze_path)`` pairs, in one filtered scan."""
        pairs = sorted(set(keys))
        if not pairs:
            return frame([])
        vendors = sorted({v for v, _ in pairs})
        paths = sorted({p for _, p in pairs})
        found = self.store.scan().filter(pl.col("vendor").is_in(vendors) & pl.col("bronze_path").is_in(paths)).collect()
        # vendor x path may over-match when several vendors are read at once; keep exact pairs only.
        wanted = pl.DataFrame({"vendor": [v for v, _ in pairs], "bronze_path": [p for _, p in pairs]})
        return found.join(wanted, on=["vendor", "bronze_path"], how="semi")

    def by_ids(self, file_ids: Iterable[int]) -> pl.DataFrame:
        ids = sorted(set(file_ids))
        if not ids:
            return frame([])
        return self.store.scan().filter(pl.col("file_id").is_in(ids)).collect()

    def read(self) -> pl.DataFrame:
        """The whole manifest (for listings and summaries, never per file)."""
        return self.store.read()

    def max_file_id(self) -> int:
        value = self.store.scan().select(pl.col("file_id").max()).collect().item()
        return int(value) if value is not None else 0

    # -- writes (only while holding the lock) ---------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process manifest lock (``<lake>/_state/manifest.lock``)."""
        self.lake.state.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.lake.state / "manifest.lock", timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                yield
        except Timeout:
            raise ManifestLockTimeout(
                f"the manifest lock {lock.lock_file} was held for over {LOCK_TIMEOUT_S:.0f} s by another process"
            ) from None

    def allocate(self, n: int) -> list[int]:
        """Reserve ``n`` fresh ids. Call only while holding :meth:`locked`."""
        if n <= 0:
            return []
        start = max(self.counter.read(), self.max_file_id() + 1)
        self.counter.write(start + n)
        return list(range(start, start + n))

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.store.append(frame(rows))

    def replace(self, rows: pl.DataFrame) -> None:
        """Rewrite the given rows (matched by vendor and file_id) in one commit."""
        if rows.height == 0:
            return
        predicate = all_of(
            is_in("vendor", rows["vendor"].unique().to_list()), is_in("file_id", rows["file_id"].to_list())
        )
        self.store.replace_where(rows.select(INGEST_MANIFEST.column_names), predicate)
