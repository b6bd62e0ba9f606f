"""Idempotent commits of silver and quarantine rows, and the bounded buffer for quarantine records.

Every write is ONE predicate-overwrite commit ("replace the rows of these file ids with these rows"):
re-running it after a crash, a retry or a forced re-ingest yields the same table, and two writers that
collide get a retryable conflict instead of duplicates. It is never delete-then-append (two commits,
measured to duplicate rows under concurrency).

The silver predicate is ``file_id IN (...)`` alone. Partition terms would only narrow which files the
writer opens, which per-file ``file_id`` statistics already do (ids are minted in increasing order, so a
file's rows sit in few parquet files); leaving them out means a row can never escape replacement
because its exchange or date differs from what was expected (a re-issued file whose rows moved day).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import polars as pl
from deltalake.exceptions import CommitFailedError

from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.storage.predicates import all_of, equals, is_in
from pointline.tables.canonical import QUARANTINE
from pointline.tables.spec import TableSpec

COMMIT_ATTEMPTS = 8
QUARANTINE_SPILL_ROWS = 1_000_000

T = TypeVar("T")


def with_commit_retry(action: Callable[[], T], *, attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run ``action``, retrying with jittered exponential backoff when a concurrent commit conflicts."""
    for attempt in range(attempts):
        try:
            return action()
        except CommitFailedError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def silver_predicate(file_ids: Iterable[int]) -> str:
    return is_in("file_id", file_ids)


def quarantine_predicate(table: str, file_ids: Iterable[int]) -> str:
    return all_of(equals("table_name", table), is_in("file_id", file_ids))


def commit_silver(lake: Lake, spec: TableSpec, frames: Iterable[pl.DataFrame], file_ids: Sequence[int]) -> None:
    """Replace every silver row of ``file_ids`` with ``frames`` in one commit (streamed)."""
    TableStore(lake, spec).replace_where_batches(frames, silver_predicate(file_ids))


def commit_quarantine(lake: Lake, table: str, frames: Iterable[pl.DataFrame], file_ids: Sequence[int]) -> None:
    """Replace every quarantine record of ``table``'s ``file_ids`` with ``frames`` in one commit."""
    TableStore(lake, QUARANTINE).replace_where_batches(frames, quarantine_predicate(table, file_ids))


class QuarantineBuffer:
    """Collects quarantine records; past :data:`QUARANTINE_SPILL_ROWS` rows it spills to temporary parquet.

    A 2 GB file whose every row fails (an unlisted symbol) must not need its quarantine in memory. The
    spill directory is outside the lake (a dry run writes nothing there) and removed by :meth:`close`.
    """

    def __init__(self, spill_rows: int = QUARANTINE_SPILL_ROWS) -> None:
        self.spill_rows = spill_rows
        self._frames: list[pl.DataFrame] = []
        self._held = 0
        self._spilled: list[Path] = []
        self._dir: Path | None = None
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self._frames.append(frame)
        self._held += frame.height
        self.rows += frame.height
        if self._held >= self.spill_rows:
            self._spill()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="pointline-quarantine-"))
        path = self._dir / f"{len(self._spilled):06d}.parquet"
        pl.concat(self._frames).write_parquet(path, compression="lz4")
        self._spilled.append(path)
        self._frames, self._held = [], 0

    def frames(self) -> Iterator[pl.DataFrame]:
        """Every buffered record, one bounded frame at a time (spilled files first, in order)."""
        for path in self._spilled:
            yield pl.read_parquet(path)
        yield from self._frames

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._frames, self._spilled, self._dir, self._held, self.rows = [], [], None, 0, 0
