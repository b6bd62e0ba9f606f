"""Downloading Tardis datasets into bronze: concurrent, retried, resumable, never half-visible.

One file per (exchange, data type, UTC day, symbol) from
``{TARDIS_DATASETS_URL}/v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz`` with
``Authorization: Bearer $TARDIS_API_KEY`` when a key is set (the first day of each month is free).

* Bytes stream into ``bronze/tardis/.incoming/<destination>.part``: a hidden directory and a suffix that
  discovery ignores, so ingestion never sees a partial file. When the body is complete (its length
  matches what the server announced and it starts with the gzip magic bytes) the file is moved into place
  with one atomic ``os.replace``.
* A failed attempt keeps its ``.part``; the next one (in this run or a later one) asks for the rest with
  ``Range: bytes=<size>-`` and appends on ``206``, or starts over when the server answers ``200``.
* 429 (honouring ``Retry-After``), 408/425, 5xx and transport errors (dropped connections, timeouts) are
  retried with exponential backoff and jitter, a bounded number of times; 404 and 401/403 fail at once
  with a message that says why.
* A destination that already exists is complete by construction and is skipped.
* The API key is never printed, logged or put in an error message.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
from pointline.errors import DownloadError
from pointline.vendor import DownloadRequest

from pointline_vendor_tardis import layout
from pointline_vendor_tardis.retry import RETRYABLE_STATUS, RetryPolicy, retry_after_seconds
from pointline_vendor_tardis.settings import Settings

INCOMING = ".incoming"
PART_SUFFIX = ".part"
DEFAULT_CONCURRENCY = 4

Status = Literal["downloaded", "exists", "failed"]


@dataclass(frozen=True)
class Job:
    """One dataset file to fetch."""

    exchange: str
    data_type: str
    day: dt.date
    symbol: str
    url: str
    dest: Path
    part: Path


@dataclass(frozen=True)
class FileResult:
    job: Job
    status: Status
    bytes: int = 0
    attempts: int = 0
    error: str | None = None


@dataclass
class DownloadReport:
    """Outcome of a download run, one result per planned file."""

    results: list[FileResult] = field(default_factory=list)

    def by_status(self, status: Status) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def failed(self) -> list[FileResult]:
        return self.by_status("failed")

    def paths(self) -> list[Path]:
        """Files now in bronze (downloaded in this run or already there)."""
        return [r.job.dest for r in self.results if r.status != "failed"]

    def raise_for_failures(self) -> list[Path]:
        """:meth:`paths`, or a :class:`DownloadError` naming the first failure and the count."""
        if self.failed:
            first = self.failed[0]
            more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
            raise DownloadError(f"{len(self.failed)} of {len(self.results)} downloads failed{more}: {first.error}")
        return self.paths()


class _Retry(Exception):
    """A failed attempt worth retrying."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _Fatal(Exception):
    """A failure no retry can fix (404, refused key, not a gzip file)."""


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every UTC day from ``start`` to ``end`` inclusive."""
    if end < start:
        raise DownloadError(f"--to {end} is before --from {start}")
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


class Downloader:
    """Fetches Tardis dataset files into a Tardis bronze directory (``<lake>/bronze/tardis``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        layout: str = "hive",
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if layout not in ("hive", "download"):
            raise DownloadError(f"unknown layout {layout!r}: use 'hive' or 'download'")
        if concurrency < 1:
            raise DownloadError("concurrency must be at least 1")
        self.settings = settings
        self.layout = layout
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0))
        self.transport = transport

    @classmethod
    def from_env(cls, *, layout: str = "hive", concurrency: int = DEFAULT_CONCURRENCY) -> Downloader:
        """A downloader configured from ``TARDIS_DATASETS_URL`` and ``TARDIS_API_KEY``."""
        return cls(Settings.from_env(), layout=layout, concurrency=concurrency)

    def plan(self, request: DownloadRequest, root: Path) -> list[Job]:
        """The files a request names, with their URLs and destinations under ``root`` (bronze/tardis)."""
        exchange = request.exchange.strip().lower()
        jobs: list[Job] = []
        for data_type in request.data_types:
            for symbol in request.symbols:
                remote = layout.normalize_symbol(symbol)
                for day in days(request.start, request.end):
                    relative = layout.relative_path(exchange, data_type, day, symbol, self.layout)
                    url = f"{self.settings.datasets_url}/v1/{exchange}/{data_type}/{day:%Y/%m/%d}/{remote}.csv.gz"
                    part = root / INCOMING / relative.parent / (relative.name + PART_SUFFIX)
                    jobs.append(Job(exchange, data_type, day, symbol, url, root / relative, part))
        return jobs

    def download(
        self, request: DownloadRequest, root: Path, *, progress: Callable[[int, int], None] | None = None
    ) -> DownloadReport:
        """Fetch every file of ``request`` into ``root`` (``<lake>/bronze/tardis``), ``concurrency`` at a time."""
        jobs = self.plan(request, root)
        return self.run(jobs, progress=progress)

    def run(self, jobs: Sequence[Job], *, progress: Callable[[int, int], None] | None = None) -> DownloadReport:
        report = DownloadReport()
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        client = httpx.Client(timeout=self.timeout, limits=limits, transport=self.transport, follow_redirects=True)
        with client, ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for done, result in enumerate(pool.map(lambda j: self._fetch(client, j), jobs), start=1):
                report.results.append(result)
                if progress is not None:
                    progress(done, len(jobs))
        return report

    # -- one file --------------------------------------------------------------------------------
    def _fetch(self, client: httpx.Client, job: Job) -> FileResult:
        if job.dest.exists():
            return FileResult(job, "exists", job.dest.stat().st_size)
        job.part.parent.mkdir(parents=True, exist_ok=True)
        attempt = 0
        while True:
            attempt += 1
            try:
                size = self._attempt(client, job)
            except _Fatal as exc:
                return FileResult(job, "failed", attempts=attempt, error=str(exc))
            except (_Retry, httpx.TransportError) as exc:
                reason = str(exc) if isinstance(exc, _Retry) else f"{type(exc).__name__} (connection lost)"
                if attempt >= self.policy.max_attempts:
                    error = f"{job.url}: gave up after {attempt} attempts (last: {reason}); run again to resume"
                    return FileResult(job, "failed", attempts=attempt, error=error)
                retry_after = exc.retry_after_s if isinstance(exc, _Retry) else None
                self.policy.sleep(self.policy.delay(attempt, retry_after))
                continue
            return FileResult(job, "downloaded", size, attempts=attempt)

    def _attempt(self, client: httpx.Client, job: Job) -> int:
        offset = job.part.stat().st_size if job.part.exists() else 0
        headers = self.settings.auth_headers()
        if offset:
            headers["Range"] = f"bytes={offset}-"
        with client.stream("GET", job.url, headers=headers) as response:
            status = response.status_code
            if status == 416 and offset:
                _, total = _content_range(response.headers.get("Content-Range"))
                if total != offset:
                    job.part.unlink()  # our partial file does not fit the remote one: start over
                    raise _Retry("HTTP 416: partial file does not match the server's; restarting")
                return self._finish(job, total)  # the .part was already complete (a run stopped just before the move)
            if status == 404:
                raise _Fatal(
                    f"{job.url}: HTTP 404: no such dataset (check exchange, data type, symbol and date; "
                    "day D is published on D+1)"
                )
            if status in (401, 403):
                raise _Fatal(
                    f"{job.url}: HTTP {status}: access refused (set TARDIS_API_KEY to a valid key; without "
                    "one only the first day of each month can be downloaded)"
                )
            if status in RETRYABLE_STATUS:
                raise _Retry(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
            if status == 206 and offset:
                start, total = _content_range(response.headers.get("Content-Range"))
                if start != offset:
                    job.part.unlink()
                    raise _Retry(f"HTTP 206 from byte {start}, expected {offset}; restarting")
                mode = "ab"
            elif status == 200:
                offset, mode = 0, "wb"  # the server sent the whole file (it ignored or lacks Range)
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            else:
                raise _Fatal(f"{job.url}: unexpected HTTP {status}")
            with job.part.open(mode) as fh:
                # iter_raw: the bytes exactly as served (a .csv.gz must not be transparently decoded). No
                # chunk size: a re-chunking buffer would lose what arrived before a dropped connection.
                for chunk in response.iter_raw():
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
        return self._finish(job, total)

    def _finish(self, job: Job, total: int | None) -> int:
        """Check the .part is whole and a gzip file, then move it into bronze in one atomic step."""
        size = job.part.stat().st_size
        if total is not None and size != total:
            raise _Retry(f"body ended at byte {size} of {total}")
        with job.part.open("rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                job.part.unlink()
                raise _Fatal(f"{job.url}: the response is not a gzip file")
        job.dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(job.part, job.dest)
        return size


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); unknown parts are None."""
    if not value or not value.startswith("bytes "):
        return None, None
    span, _, total = value[6:].partition("/")
    start = span.split("-", 1)[0]
    return (int(start) if start.isdigit() else None, int(total) if total.isdigit() else None)
