"""Ingestion: bronze files become exact, point-in-time-correct silver rows, traceable to their source
line, never duplicated and never lost.

Entry point: :class:`pointline.ingest.service.IngestService` (``IngestService(lake, host).run(options)``).
Modules, one job each: :mod:`~pointline.ingest.discovery` (find and fingerprint bronze files),
:mod:`~pointline.ingest.manifest` (identities, file ids, statuses), :mod:`~pointline.ingest.resolve`
(PIT symbol resolution), :mod:`~pointline.ingest.rules` (row validation rules),
:mod:`~pointline.ingest.transform` (chunk -> silver rows + quarantine records),
:mod:`~pointline.ingest.writer` (idempotent commits), :mod:`~pointline.ingest.units` (work units and
worker processes), :mod:`~pointline.ingest.validation_log`, :mod:`~pointline.ingest.dq` and
:mod:`~pointline.ingest.faults` (crash-injection checkpoints).
"""

from pointline.ingest.outcome import FileJob, FileResult
from pointline.ingest.service import IngestService, RunOptions, RunReport

__all__ = ["FileJob", "FileResult", "IngestService", "RunOptions", "RunReport"]
