"""Work units: the files one process parses and commits together, and the code that runs them.

A large file is its own unit and streams chunk by chunk into ONE silver commit, so memory holds about
one chunk however big the file is. Small files of one table are grouped (up to :data:`UNIT_BYTES` of
bronze or :data:`UNIT_FILES` files) and parsed into memory first, so one bad file fails alone and the
rest share one commit whose predicate names all their file ids.

Within a unit the order is fixed: silver commit, then quarantine commit; the coordinating process then
recomputes dq_summary and writes manifest statuses. A crash between any two steps leaves rows for ids
whose manifest status is not yet final; the next run re-processes those ids and its predicate overwrite
replaces whatever the crashed run left, so the end state equals one clean ingest.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import polars as pl

from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.errors import BronzeFormatError, PointlineError
from pointline.ingest import faults as fp
from pointline.ingest.outcome import ALL_ROWS_QUARANTINED, EMPTY_FILE, FileJob, FileResult, classify, one_line
from pointline.ingest.resolve import SymbolResolver
from pointline.ingest.transform import FileStats, Transformer
from pointline.ingest.writer import QuarantineBuffer, commit_quarantine, commit_silver, with_commit_retry
from pointline.plugins.host import PluginHost

UNIT_BYTES = 16 * 1024 * 1024
"""Bronze bytes above which a file streams alone; also the size budget of a group of small files.

A group is held in memory until its commit (so that one bad file fails alone): 16 MiB of gzip CSV is
about 1.2 M trades, a few hundred MB of frames. Larger files stream with about one chunk in memory,
and their own commit keeps the per-file statistics tight."""
UNIT_FILES = 500
BATCH_ROWS = 1_000_000
"""Rows per parsed chunk (``Vendor.iter_batches``)."""


@dataclass(frozen=True)
class WorkUnit:
    table: str
    jobs: tuple[FileJob, ...]
    stream: bool


def plan_units(
    jobs: list[FileJob], *, unit_bytes: int = UNIT_BYTES, unit_files: int = UNIT_FILES, workers: int = 1
) -> list[WorkUnit]:
    """Group jobs into units: big files alone (streamed), small files of one table together.

    With several workers, groups of small files are capped at an even share of their bytes, so every
    worker gets some of them (fewer, larger commits matter less than idle workers).
    """
    units: list[WorkUnit] = []
    by_table: dict[str, list[FileJob]] = {}
    for job in sorted(jobs, key=lambda j: (j.table, j.file.relative_path)):
        if job.size_bytes > unit_bytes:
            units.append(WorkUnit(job.table, (job,), stream=True))
        else:
            by_table.setdefault(job.table, []).append(job)
    small_bytes = sum(j.size_bytes for js in by_table.values() for j in js)
    budget = min(unit_bytes, -(-small_bytes // workers)) if workers > 1 else unit_bytes
    for table, small in by_table.items():
        group: list[FileJob] = []
        size = 0
        for job in small:
            if group and (size + job.size_bytes > budget or len(group) >= unit_files):
                units.append(WorkUnit(table, tuple(group), stream=False))
                group, size = [], 0
            group.append(job)
            size += job.size_bytes
        if group:
            units.append(WorkUnit(table, tuple(group), stream=False))
    return units


@dataclass
class UnitContext:
    """What a process needs to run units: built once per run (or once per worker process)."""

    lake: Lake
    host: PluginHost
    resolver: SymbolResolver
    timezones: dict[str, str]
    run_started_us: int
    dry_run: bool = False
    batch_rows: int = BATCH_ROWS
    faults: fp.FaultHook = field(default=lambda name: None)

    @classmethod
    def build(
        cls,
        lake: Lake,
        host: PluginHost,
        *,
        run_started_us: int,
        dry_run: bool = False,
        batch_rows: int = BATCH_ROWS,
        faults: fp.FaultHook | None = None,
    ) -> UnitContext:
        return cls(
            lake=lake,
            host=host,
            resolver=SymbolResolver(dim_symbol.read(lake)),
            timezones=host.timezones(),
            run_started_us=run_started_us,
            dry_run=dry_run,
            batch_rows=batch_rows,
            faults=fp.combine(faults, fp.from_environment()),
        )

    def transformer(self, job: FileJob) -> Transformer:
        return Transformer(
            self.host.table(job.table),
            self.resolver,
            self.timezones,
            file_id=job.file_id,
            path=job.file.relative_path,
            quarantined_at_us=self.run_started_us,
        )


class _Empty(Exception):
    """The file holds no data rows."""


def _vendor_chunks(ctx: UnitContext, job: FileJob) -> Iterator[pl.DataFrame]:
    """The vendor's parsed chunks; any exception from the vendor's reader becomes a BronzeFormatError."""
    if job.size_bytes == 0:
        raise _Empty
    vendor = ctx.host.vendor(job.file.vendor)
    path = job.file.relative_path
    try:
        for chunk in vendor.iter_batches(job.file, ctx.batch_rows):
            if chunk.height:
                yield chunk
    except PointlineError:
        raise
    except Exception as exc:  # the vendor could not read its own file: truncated, malformed, vanished
        raise BronzeFormatError(f"{type(exc).__name__}: {one_line(str(exc))}", path=path) from exc


def _non_empty(chunks: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """``chunks`` after checking there is at least one, so an empty file never reaches a commit."""
    first = next(chunks, None)
    if first is None:
        raise _Empty
    return itertools.chain([first], chunks)


def _landed(job: FileJob, stats: FileStats, started: float) -> FileResult:
    return FileResult(
        job=job,
        status="success" if stats.rows_written else "quarantined",
        failure_reason=None if stats.rows_written else ALL_ROWS_QUARANTINED,
        error=None if stats.rows_written else f"{job.file.relative_path}: all {stats.rows_read} rows quarantined",
        rows_read=stats.rows_read,
        rows_written=stats.rows_written,
        rows_quarantined=stats.rows_quarantined,
        rule_counts=dict(sorted(stats.rule_counts.items())),
        min_ts_us=stats.min_ts_us,
        max_ts_us=stats.max_ts_us,
        dates=sorted(stats.dates),
        exchanges=sorted(stats.exchanges),
        partitions=sorted(stats.partitions),
        duration_s=time.perf_counter() - started,
    )


def _failed(job: FileJob, exc: Exception, stats: FileStats, started: float) -> FileResult:
    if isinstance(exc, _Empty):
        reason, message = EMPTY_FILE, f"{job.file.relative_path}: empty file (no data rows)"
    else:
        reason, message = classify(exc, job.file.relative_path)
    return FileResult(
        job=job,
        status="failed",
        failure_reason=reason,
        error=message,
        rows_read=stats.rows_read,
        duration_s=time.perf_counter() - started,
    )


def _fresh(job: FileJob) -> bool:
    """No commit before this run can hold rows of the job's ids: nothing to replace if it has none."""
    return job.minted_now and not job.replaces


def _fault_after_first(frames: Iterator[pl.DataFrame], faults: fp.FaultHook, checkpoint: str) -> Iterator[pl.DataFrame]:
    """Yield ``frames``, calling ``faults(checkpoint)`` once the first has been handed on."""
    for i, frame in enumerate(frames):
        yield frame
        if i == 0:
            faults(checkpoint)


def run_unit(ctx: UnitContext, unit: WorkUnit) -> list[FileResult]:
    """Parse, resolve, encode, validate and commit one unit; returns one result per file."""
    if unit.stream:
        return [_run_streamed(ctx, unit.jobs[0])]
    return _run_buffered(ctx, unit)


def _run_buffered(ctx: UnitContext, unit: WorkUnit) -> list[FileResult]:
    spec = ctx.host.table(unit.table)
    results: list[FileResult] = []
    good: list[pl.DataFrame] = []
    quarantine: list[pl.DataFrame] = []
    for job in unit.jobs:
        started = time.perf_counter()
        stats = FileStats()
        transform = ctx.transformer(job)
        frames: list[pl.DataFrame] = []
        records: list[pl.DataFrame] = []
        try:
            for chunk in _non_empty(_vendor_chunks(ctx, job)):
                part = transform(chunk)
                stats.add(part, spec, ctx.timezones)
                frames.append(part.good)
                records.append(part.quarantine)
        except Exception as exc:
            results.append(_failed(job, exc, stats, started))
            continue
        good += frames
        quarantine += records
        results.append(_landed(job, stats, started))
    ctx.faults(fp.AFTER_PARSE)
    if ctx.dry_run:
        return results
    # Failed files' own ids are in the predicate too: rows a previous landing left for them go away,
    # so "silver holds rows of a file only if the manifest says it landed" stays true.
    ids = sorted({r.job.file_id for r in results} | {i for r in results if r.landed for i in r.job.replaces})
    try:
        with_commit_retry(
            lambda: commit_silver(ctx.lake, spec, _fault_after_first(iter(good), ctx.faults, fp.MID_SILVER_WRITE), ids)
        )
        ctx.faults(fp.AFTER_SILVER_COMMIT)
        if any(q.height for q in quarantine) or not all(_fresh(r.job) for r in results):
            with_commit_retry(lambda: commit_quarantine(ctx.lake, unit.table, quarantine, ids))
        ctx.faults(fp.AFTER_QUARANTINE_COMMIT)
    except Exception as exc:  # the lake refused the write (disk full, conflicts past every retry)
        # Every file of the unit is reported failed; failed files are retried by the next run, whose
        # predicate overwrite replaces whatever part of this unit did land.
        return [_failed(r.job, exc, FileStats(), time.perf_counter() - r.duration_s) for r in results]
    return results


def _run_streamed(ctx: UnitContext, job: FileJob) -> FileResult:
    spec = ctx.host.table(job.table)
    started = time.perf_counter()
    stats = FileStats()
    buffer = QuarantineBuffer()

    def frames() -> Iterator[pl.DataFrame]:
        transform = ctx.transformer(job)
        for i, chunk in enumerate(_non_empty(_vendor_chunks(ctx, job))):
            part = transform(chunk)
            stats.add(part, spec, ctx.timezones)
            buffer.add(part.quarantine)
            if i == 0:
                ctx.faults(fp.AFTER_PARSE)
            yield part.good
            if i == 0:
                ctx.faults(fp.MID_SILVER_WRITE)

    def attempt() -> None:
        nonlocal stats
        stats = FileStats()
        buffer.close()
        if ctx.dry_run:
            for _ in frames():
                pass
        else:
            commit_silver(ctx.lake, spec, frames(), [job.file_id, *job.replaces])

    try:
        try:
            with_commit_retry(attempt)
        except Exception as exc:
            result = _failed(job, exc, stats, started)
            if not ctx.dry_run and not job.minted_now:
                # The aborted commit changed nothing; drop rows an earlier landing of this id left.
                with_commit_retry(lambda: commit_silver(ctx.lake, spec, [], [job.file_id]))
                with_commit_retry(lambda: commit_quarantine(ctx.lake, job.table, [], [job.file_id]))
            return result
        if not ctx.dry_run:
            ctx.faults(fp.AFTER_SILVER_COMMIT)
            ids = [job.file_id, *job.replaces]
            try:
                if buffer.rows or not _fresh(job):
                    with_commit_retry(lambda: commit_quarantine(ctx.lake, job.table, buffer.frames(), ids))
            except Exception as exc:  # silver landed, quarantine did not: report failed, the next run redoes both
                return _failed(job, exc, stats, started)
            ctx.faults(fp.AFTER_QUARANTINE_COMMIT)
        return _landed(job, stats, started)
    finally:
        buffer.close()


# -- worker processes -------------------------------------------------------------------------------
HostFactory = Callable[[], PluginHost]
_WORKER: UnitContext | None = None


def init_worker(lake_root: str, host_factory: HostFactory, run_started_us: int, dry_run: bool, batch_rows: int) -> None:
    """Process-pool initializer: load plugins and dim_symbol once per worker."""
    global _WORKER
    from pathlib import Path

    _WORKER = UnitContext.build(
        Lake(Path(lake_root)), host_factory(), run_started_us=run_started_us, dry_run=dry_run, batch_rows=batch_rows
    )


def run_unit_in_worker(unit: WorkUnit) -> list[FileResult]:
    assert _WORKER is not None, "init_worker did not run"
    return run_unit(_WORKER, unit)
