"""The ingestion service: bronze discovery -> manifest identity -> parse -> PIT resolve -> exact encode ->
validate -> quarantine -> idempotent write -> manifest status -> validation log -> dq_summary.

``IngestService(lake, host).run(RunOptions(...))`` is the entry point of ``pointline ingest run``, of the
demo and of tests. It talks to vendors only through the :class:`~pointline.vendor.Vendor` contract.

Crash safety in one paragraph: ids are minted (with ``pending`` rows) before anything is written;
every data write replaces the rows of named file ids in one commit; a file's manifest status turns
final only after its rows are committed. So after a crash anywhere, the manifest still shows the
interrupted files as ``pending``, the next run processes exactly those ids again, and its predicate
overwrites make the lake equal to one clean ingest.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl
from filelock import FileLock

from pointline.config import Lake
from pointline.ingest import dq, validation_log
from pointline.ingest import faults as fp
from pointline.ingest.discovery import Candidate, describe, fingerprint
from pointline.ingest.manifest import LANDED, SUPERSEDED, Decision, Manifest, decide, now_us, pending_row
from pointline.ingest.outcome import MISSING_BRONZE, UNKNOWN_TABLE, FileJob, FileResult
from pointline.ingest.units import (
    BATCH_ROWS,
    UNIT_BYTES,
    HostFactory,
    UnitContext,
    WorkUnit,
    init_worker,
    plan_units,
    run_unit,
    run_unit_in_worker,
)
from pointline.plugins.host import PluginHost, get_host
from pointline.vendor import BronzeFile


@dataclass(frozen=True)
class RunOptions:
    """What ``pointline ingest run`` was asked to do."""

    vendor: str | None = None
    data_type: str | None = None
    glob: str | None = None
    """fnmatch pattern over the path relative to the bronze root (``*`` crosses ``/``)."""
    dry_run: bool = False
    force: bool = False
    """Re-ingest files that already landed (same file ids; silver ends identical)."""
    workers: int = 1
    retry_quarantined: bool = False
    """Also re-process landed files that have quarantined rows (e.g. after fixing dim_symbol)."""
    batch_rows: int = BATCH_ROWS
    unit_bytes: int = UNIT_BYTES


@dataclass(frozen=True)
class Problem:
    """A file that never became a job: unroutable, or (backfill) missing from bronze."""

    vendor: str
    data_type: str
    bronze_path: str
    failure_reason: str
    error: str
    file_id: int | None = None


@dataclass
class RunReport:
    """What a run did (or, for a dry run, would do)."""

    run_id: str
    dry_run: bool
    discovered: int = 0
    skipped: int = 0
    results: list[FileResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    superseded: dict[int, int] = field(default_factory=dict)
    """Old file id -> the id that replaced it."""
    dq_rows: int = 0
    duration_s: float = 0.0

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def files_failed(self) -> int:
        return len(self.failed) + len(self.problems)

    @property
    def ok(self) -> bool:
        return self.files_failed == 0

    @property
    def rows_read(self) -> int:
        return sum(r.rows_read for r in self.results)

    @property
    def rows_written(self) -> int:
        return sum(r.rows_written for r in self.results)

    @property
    def rows_quarantined(self) -> int:
        return sum(r.rows_quarantined for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


class Progress(Protocol):
    """Receives progress from a run (the CLI draws a rich progress bar from it)."""

    def start(self, files: int, total_bytes: int) -> None: ...

    def advance(self, result: FileResult) -> None: ...


class _NoProgress:
    def start(self, files: int, total_bytes: int) -> None:
        pass

    def advance(self, result: FileResult) -> None:
        pass


def new_run_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class PlannedFile:
    candidate: Candidate
    decision: Decision


class IngestService:
    """Runs ingestion for one lake with the vendors, tables and exchanges of one plugin host."""

    def __init__(
        self,
        lake: Lake,
        host: PluginHost | None = None,
        *,
        faults: fp.FaultHook | None = None,
        host_factory: HostFactory | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.lake = lake
        self.host = host if host is not None else get_host()
        self.faults = fp.combine(faults, fp.from_environment())
        self._fault_hook = faults
        # Worker processes rebuild the host; the default loads installed plugins like the CLI does.
        self.host_factory: HostFactory = host_factory if host_factory is not None else get_host
        self.progress: Progress = progress if progress is not None else _NoProgress()
        self.manifest = Manifest(lake)

    # -- planning ---------------------------------------------------------------------------------
    def plan(self, options: RunOptions) -> tuple[list[PlannedFile], list[Problem]]:
        """Discover bronze files and decide what a run would do with each (reads only)."""
        files = describe(self.lake, self.host, vendor=options.vendor, data_type=options.data_type, glob=options.glob)
        return self._decide(fingerprint(files, self.host), options, rebuild=False)

    def _decide(
        self, candidates: Sequence[Candidate], options: RunOptions, *, rebuild: bool
    ) -> tuple[list[PlannedFile], list[Problem]]:
        problems = [
            Problem(c.vendor, c.data_type, c.path, UNKNOWN_TABLE, f"{c.path}: {c.routing_error}")
            for c in candidates
            if c.table is None
        ]
        routable = [c for c in candidates if c.table is not None]
        rows = self.manifest.for_paths((c.vendor, c.path) for c in routable)
        planned = [PlannedFile(c, self._decide_one(c, rows, options, rebuild)) for c in routable]
        return planned, problems

    @staticmethod
    def _decide_one(candidate: Candidate, rows: pl.DataFrame, options: RunOptions, rebuild: bool) -> Decision:
        mine = rows.filter((pl.col("vendor") == candidate.vendor) & (pl.col("bronze_path") == candidate.path))
        return decide(
            candidate, mine, force=options.force, retry_quarantined=options.retry_quarantined, rebuild=rebuild
        )

    # -- the run ----------------------------------------------------------------------------------
    def run(self, options: RunOptions | None = None) -> RunReport:
        """Ingest every selected bronze file that has not landed yet (see :class:`RunOptions`)."""
        options = options or RunOptions()
        started = time.perf_counter()
        report = RunReport(new_run_id(), options.dry_run)
        files = describe(self.lake, self.host, vendor=options.vendor, data_type=options.data_type, glob=options.glob)
        candidates = fingerprint(files, self.host)
        report.discovered = len(candidates)
        self.faults(fp.AFTER_DISCOVER)
        planned, report.problems = self._decide(candidates, options, rebuild=False)
        self._execute(report, planned, options, rebuild=False)
        report.duration_s = time.perf_counter() - started
        return report

    def backfill(
        self, table: str, exchange: str, start: dt.date, end: dt.date, options: RunOptions | None = None
    ) -> RunReport:
        """Rebuild ``table`` rows of ``exchange`` on local dates ``start..end`` (inclusive) from bronze.

        Every landed file with rows on those dates is ingested again under a new file id; when it lands,
        its old rows are replaced in the same commit and its old manifest row becomes ``superseded``.
        A file missing from bronze is reported and left as it was.
        """
        options = options or RunOptions()
        started = time.perf_counter()
        report = RunReport(new_run_id(), options.dry_run)
        spec = self.host.table(table)
        affected = self._backfill_rows(spec.name, exchange, start, end)
        files: list[BronzeFile] = []
        for row in affected.iter_rows(named=True):
            bronze = self.lake.bronze / row["bronze_path"]
            described = (
                self.host.vendor(row["vendor"]).describe_file(bronze, self.lake.bronze) if bronze.is_file() else None
            )
            if described is None:
                report.problems.append(
                    Problem(
                        row["vendor"],
                        row["data_type"],
                        row["bronze_path"],
                        MISSING_BRONZE,
                        f"{row['bronze_path']}: not in bronze any more; its rows were left as they were",
                        row["file_id"],
                    )
                )
                continue
            files.append(described)
        candidates = fingerprint(files, self.host)
        report.discovered = len(candidates)
        self.faults(fp.AFTER_DISCOVER)
        planned, problems = self._decide(candidates, options, rebuild=True)
        report.problems += problems
        if options.dry_run:
            self._execute(report, planned, options, rebuild=True)
        else:
            # Two backfills racing on one range would each supersede the other's fresh ids.
            self.lake.state.mkdir(parents=True, exist_ok=True)
            with FileLock(self.lake.state / "backfill.lock"):
                self._execute(report, planned, options, rebuild=True)
        report.duration_s = time.perf_counter() - started
        return report

    def _backfill_rows(self, table: str, exchange: str, start: dt.date, end: dt.date) -> pl.DataFrame:
        in_range = pl.col("dates").list.eval(pl.element().is_between(start, end)).list.any().fill_null(False)
        return (
            self.manifest.store.scan()
            .filter(
                (pl.col("table_name") == table)
                & pl.col("status").is_in(sorted(LANDED))
                # A file whose rows span several exchanges records none; rebuilding it too is harmless.
                & ((pl.col("exchange") == exchange) | pl.col("exchange").is_null())
                & in_range
            )
            .sort("bronze_path")
            .collect()
        )

    # -- execution --------------------------------------------------------------------------------
    def _execute(self, report: RunReport, planned: list[PlannedFile], options: RunOptions, *, rebuild: bool) -> None:
        report.skipped = sum(1 for p in planned if p.decision.action == "skip")
        jobs = self._mint(planned, options, rebuild=rebuild)
        self.faults(fp.AFTER_MINT)
        started_us = now_us()
        units = plan_units(jobs, unit_bytes=options.unit_bytes, workers=options.workers)
        self.progress.start(len(jobs), sum(j.size_bytes for j in jobs))
        for results in self._run_units(units, options, started_us):
            self._finish_unit(report, results)
        self._log_problems(report)
        self.faults(fp.BEFORE_DQ)
        if not options.dry_run:
            # Also catches partitions a crashed earlier run journalled but never summarised.
            report.dq_rows = dq.flush(self.lake, self.host)
        report.results.sort(key=lambda r: (r.job.file.vendor, r.job.file.relative_path))

    def _mint(self, planned: list[PlannedFile], options: RunOptions, *, rebuild: bool) -> list[FileJob]:
        """Jobs for every file to process, minting ids (and ``pending`` rows) for new identities."""
        jobs = [_job(p.candidate, p.decision) for p in planned if p.decision.action == "process"]
        to_mint = [p for p in planned if p.decision.action == "mint"]
        if not to_mint:
            return jobs
        if options.dry_run:
            # Provisional negative ids: never written, and never equal to a real id.
            return jobs + [_job(p.candidate, p.decision, -(i + 1)) for i, p in enumerate(to_mint)]
        with self.manifest.locked():
            # Decide again under the lock: another process may have minted one of these meanwhile.
            fresh = self.manifest.for_paths((p.candidate.vendor, p.candidate.path) for p in to_mint)
            minting: list[tuple[Candidate, Decision]] = []
            for p in to_mint:
                d = self._decide_one(p.candidate, fresh, options, rebuild)
                if d.action == "process":
                    jobs.append(_job(p.candidate, d))
                elif d.action == "mint":
                    minting.append((p.candidate, d))
            ids = self.manifest.allocate(len(minting))
            at = now_us()
            self.manifest.append([pending_row(c, i, at) for (c, _), i in zip(minting, ids, strict=True)])
        return jobs + [_job(c, d, i, minted_now=True) for (c, d), i in zip(minting, ids, strict=True)]

    def _run_units(self, units: list[WorkUnit], options: RunOptions, started_us: int) -> Iterable[list[FileResult]]:
        if not units:
            return
        if options.workers <= 1 or len(units) == 1:
            ctx = UnitContext.build(
                self.lake,
                self.host,
                run_started_us=started_us,
                dry_run=options.dry_run,
                batch_rows=options.batch_rows,
                faults=self._fault_hook,
            )
            for unit in units:
                yield run_unit(ctx, unit)
            return
        # spawn, not fork: forking a process whose Polars thread pool is running can deadlock.
        mp = multiprocessing.get_context("spawn")
        initargs = (str(self.lake.root), self.host_factory, started_us, options.dry_run, options.batch_rows)
        with (
            _worker_threads(options.workers),
            ProcessPoolExecutor(
                max_workers=options.workers, mp_context=mp, initializer=init_worker, initargs=initargs
            ) as pool,
        ):
            futures = [pool.submit(run_unit_in_worker, u) for u in units]
            for future in as_completed(futures):
                yield future.result()

    def _finish_unit(self, report: RunReport, results: list[FileResult]) -> None:
        """Journal dq partitions, then manifest statuses, then validation-log records of one finished unit.

        The dq journal goes first: until the manifest turns final, the unit's files are ``pending`` and a
        re-run redoes them, so no crash can leave a landed file whose summary is never recomputed.
        """
        superseded = {old: r.job.file_id for r in results if r.landed for old in r.job.replaces}
        if not report.dry_run:
            ids = [r.job.file_id for r in results] + list(superseded)
            previous = {row["file_id"]: row for row in self.manifest.by_ids(ids).iter_rows(named=True)}
            dq.mark(self.lake, _touched(results, previous))
        self.faults(fp.BEFORE_MANIFEST_UPDATE)
        records = [validation_log.from_result(report.run_id, r) for r in results]
        if not report.dry_run:
            self._update_manifest(results, superseded)
            records += [
                validation_log.record(
                    report.run_id,
                    file_id=old,
                    vendor=previous[old]["vendor"],
                    data_type=previous[old]["data_type"],
                    bronze_path=previous[old]["bronze_path"],
                    table_name=previous[old]["table_name"],
                    status=SUPERSEDED,
                    error=f"superseded by file_id {new} ({_reason_of(results, new)})",
                )
                for old, new in sorted(superseded.items())
                if old in previous
            ]
        self.faults(fp.AFTER_MANIFEST_UPDATE)
        if not report.dry_run:
            validation_log.append(self.lake, records)
        self.faults(fp.AFTER_VALIDATION_LOG)
        report.superseded.update(superseded)
        report.results += results
        for r in results:
            self.progress.advance(r)

    def _update_manifest(self, results: list[FileResult], superseded: dict[int, int]) -> None:
        """Write the final statuses of a unit's files and of the files they supersede (one commit)."""
        at = now_us()
        with self.manifest.locked():
            ids = [r.job.file_id for r in results] + list(superseded)
            current = {row["file_id"]: row for row in self.manifest.by_ids(ids).iter_rows(named=True)}
            updated = [{**current[r.job.file_id], **_status_fields(r), "updated_at_us": at} for r in results]
            updated += [
                {**current[old], "status": SUPERSEDED, "superseded_by": new, "updated_at_us": at}
                for old, new in superseded.items()
            ]
            self.manifest.replace(pl.DataFrame(updated, schema=self.manifest.store.spec.schema, orient="row"))

    def _log_problems(self, report: RunReport) -> None:
        if report.dry_run or not report.problems:
            return
        validation_log.append(
            self.lake,
            [
                validation_log.record(
                    report.run_id,
                    file_id=p.file_id,
                    vendor=p.vendor,
                    data_type=p.data_type,
                    bronze_path=p.bronze_path,
                    status="failed",
                    failure_reason=p.failure_reason,
                    error=p.error,
                )
                for p in report.problems
            ],
        )


@contextmanager
def _worker_threads(workers: int) -> Iterator[None]:
    """Give each spawned worker an even share of the cores (``POLARS_MAX_THREADS``, read at import).

    Measured on 2 cores: two single-threaded workers ingest about 2.1 M rows/s, where two workers
    that each start a thread per core fight over the cores. A value the user set is kept.
    """
    if "POLARS_MAX_THREADS" in os.environ:
        yield
        return
    os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        yield
    finally:
        del os.environ["POLARS_MAX_THREADS"]


def _job(candidate: Candidate, decision: Decision, file_id: int | None = None, *, minted_now: bool = False) -> FileJob:
    fid = file_id if file_id is not None else decision.file_id
    assert fid is not None, "a job needs a minted file id"
    assert candidate.table is not None, "only routable candidates become jobs"
    return FileJob(
        file=candidate.file,
        table=candidate.table,
        file_id=fid,
        sha256=candidate.sha256,
        size_bytes=candidate.size_bytes,
        replaces=decision.replaces,
        minted_now=minted_now,
        reason=decision.reason,
    )


def _status_fields(result: FileResult) -> dict[str, Any]:
    landed = result.landed
    return {
        "status": result.status,
        "rows_read": result.rows_read,
        "rows_written": result.rows_written if landed else 0,
        "rows_quarantined": result.rows_quarantined if landed else 0,
        "min_ts_us": result.min_ts_us,
        "max_ts_us": result.max_ts_us,
        "dates": result.dates if landed else None,
        "error": result.error,
        "superseded_by": None,
        # A file's rows may span exchanges (grouped files); the manifest names one only when unique.
        **({"exchange": result.exchanges[0] if len(result.exchanges) == 1 else None} if result.exchanges else {}),
    }


def _touched(results: list[FileResult], previous: dict[int, dict[str, Any]]) -> dict[str, set[tuple[str, dt.date]]]:
    """(exchange, date) partitions per table whose dq_summary a unit changed: where its rows landed,
    and where rows it replaced (its own earlier landing, superseded versions) had been."""
    touched: dict[str, set[tuple[str, dt.date]]] = {}
    for r in results:
        pairs = touched.setdefault(r.job.table, set())
        pairs.update(r.partitions)
        for file_id in (r.job.file_id, *r.job.replaces):
            pairs.update(_old_partitions(previous.get(file_id), r.exchanges))
    return touched


def _old_partitions(row: dict[str, Any] | None, exchanges: list[str]) -> set[tuple[str, dt.date]]:
    """(exchange, date) pairs where a manifest row says the file had rows before this run."""
    if row is None or not row["dates"]:
        return set()
    names = [row["exchange"]] if row["exchange"] else exchanges
    return {(e, d) for e in names for d in row["dates"]}


def _reason_of(results: list[FileResult], file_id: int) -> str:
    for r in results:
        if r.job.file_id == file_id:
            return "backfill rebuild" if r.job.reason == "rebuild" else "vendor re-issue"
    return "replacement"
