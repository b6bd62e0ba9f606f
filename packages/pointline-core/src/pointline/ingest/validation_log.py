"""validation_log: one record per file per run, at every exit point, with a structured failure reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from pointline.config import Lake
from pointline.ingest.manifest import now_us
from pointline.ingest.outcome import FileResult
from pointline.storage.delta import TableStore
from pointline.tables.canonical import VALIDATION_LOG


def store(lake: Lake) -> TableStore:
    return TableStore(lake, VALIDATION_LOG)


def record(
    run_id: str,
    *,
    vendor: str,
    data_type: str,
    bronze_path: str,
    status: str,
    file_id: int | None = None,
    table_name: str | None = None,
    failure_reason: str | None = None,
    error: str | None = None,
    rows_read: int = 0,
    rows_written: int = 0,
    rows_quarantined: int = 0,
    rule_counts: dict[str, int] | None = None,
    duration_s: float = 0.0,
) -> dict[str, Any]:
    """One validation_log row."""
    return {
        "run_id": run_id,
        "file_id": file_id,
        "vendor": vendor,
        "data_type": data_type,
        "bronze_path": bronze_path,
        "table_name": table_name,
        "status": status,
        "failure_reason": failure_reason,
        "error": error,
        "rows_read": rows_read,
        "rows_written": rows_written,
        "rows_quarantined": rows_quarantined,
        "rule_counts": json.dumps(rule_counts, sort_keys=True) if rule_counts else None,
        "duration_s": duration_s,
        "logged_at_us": now_us(),
    }


def from_result(run_id: str, result: FileResult) -> dict[str, Any]:
    job = result.job
    return record(
        run_id,
        file_id=job.file_id,
        vendor=job.file.vendor,
        data_type=job.file.data_type,
        bronze_path=job.file.relative_path,
        table_name=job.table,
        status=result.status,
        failure_reason=result.failure_reason,
        error=result.error,
        rows_read=result.rows_read,
        rows_written=result.rows_written,
        rows_quarantined=result.rows_quarantined,
        rule_counts=dict(result.rule_counts),
        duration_s=result.duration_s,
    )


def append(lake: Lake, records: Sequence[dict[str, Any]]) -> None:
    """Append records in one commit (appends never conflict, so concurrent runs need no lock)."""
    if records:
        store(lake).append(pl.DataFrame(list(records), schema=VALIDATION_LOG.schema, orient="row"))


def read(lake: Lake, *, run_id: str | None = None, failed_only: bool = False) -> pl.DataFrame:
    """Records, newest first; one run's only, or (``failed_only``) only those with a failure reason."""
    scan = store(lake).scan()
    if run_id is not None:
        scan = scan.filter(pl.col("run_id") == run_id)
    if failed_only:
        scan = scan.filter(pl.col("failure_reason").is_not_null())
    return scan.sort("logged_at_us", "bronze_path", descending=[True, False]).collect()
