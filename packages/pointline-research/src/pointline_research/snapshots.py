"""Delta snapshots opened once per commit, so small queries do not pay for log replay every time.

Opening a :class:`deltalake.DeltaTable` replays its log (a few ms even for a small table), and
``pl.scan_delta(path)`` opens the table again when the plan is collected. A research session runs many
small queries against tables that rarely change, so each table's snapshot is opened once per commit
and reused:

* the cache key is the newest commit file of ``_delta_log`` — its version *and* its file identity
  (inode, size, mtime), read with one directory listing and one ``stat``. A new commit changes the
  version; a table deleted and rewritten at the same path changes the file identity, so a stale
  snapshot is never served;
* each cached :class:`~deltalake.DeltaTable` is opened *at* that version and never updated in place,
  so a LazyFrame built on it keeps reading exactly the snapshot it was planned on, like a plan over
  ``pl.scan_delta(path, version=v)``;
* anything unusual (no readable log, no commit file) falls back to an uncached open.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from pointline.config import Lake
from pointline.storage.delta import table_path
from pointline.tables.spec import TableSpec
from pointline.tables.validate import empty_frame

_COMMIT_DIGITS = 20
"""Delta commit files are ``<20-digit version>.json``."""
_CACHED_SNAPSHOTS = 32


@dataclass(frozen=True)
class Commit:
    """The identity of a table's newest commit: what a cached snapshot is keyed by."""

    path: str
    version: int
    inode: int
    size: int
    mtime_ns: int


def latest_commit(path: Path) -> Commit | None:
    """The newest commit of the Delta table at ``path``, or None if there is no readable log."""
    log = path / "_delta_log"
    try:
        names = os.listdir(log)
    except (FileNotFoundError, NotADirectoryError):
        return None
    versions = [
        int(name[:_COMMIT_DIGITS])
        for name in names
        if len(name) == _COMMIT_DIGITS + 5 and name.endswith(".json") and name[:_COMMIT_DIGITS].isdigit()
    ]
    if not versions:
        return None
    version = max(versions)
    try:
        info = os.stat(log / f"{version:0{_COMMIT_DIGITS}d}.json")
    except FileNotFoundError:  # removed between the listing and the stat (log cleanup): do not cache
        return None
    return Commit(str(path), version, info.st_ino, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=_CACHED_SNAPSHOTS)
def _open(commit: Commit) -> DeltaTable:
    return DeltaTable(commit.path, version=commit.version)


def snapshot_of(commit: Commit) -> DeltaTable:
    """The table opened at ``commit`` (cached)."""
    return _open(commit)


def snapshot(path: Path) -> tuple[DeltaTable, Commit | None] | None:
    """The current snapshot of the table at ``path`` (cached per commit), or None if it does not exist.

    The :class:`Commit` is None when the snapshot could not be keyed (it is then opened uncached).
    """
    commit = latest_commit(path)
    if commit is not None:
        return _open(commit), commit
    if not (path / "_delta_log").is_dir():
        return None
    try:
        return DeltaTable(str(path)), None
    except TableNotFoundError:
        return None


def scan(lake: Lake, spec: TableSpec) -> pl.LazyFrame:
    """Lazy scan of ``spec``'s current snapshot; an empty frame of its schema if it was never written.

    ``pl.scan_delta`` over the cached table keeps everything the path-based scan does (partition
    pruning and file skipping from the add-action statistics, deletion vectors, the protocol check).
    """
    found = snapshot(table_path(lake, spec))
    if found is None:
        return empty_frame(spec).lazy()
    return pl.scan_delta(found[0])
