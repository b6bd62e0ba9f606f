"""`pointline bronze|ingest|manifest|validation|dq|quarantine ...`: ingestion and its bookkeeping."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pointline.cli.common import OutputFormat, console, current_lake, print_frame, rich_table
from pointline.errors import PointlineError
from pointline.ingest import dq, validation_log
from pointline.ingest.manifest import STATUSES, Manifest
from pointline.ingest.outcome import FileResult
from pointline.ingest.service import IngestService, RunOptions, RunReport
from pointline.plugins.host import get_host
from pointline.storage.delta import TableStore
from pointline.tables.canonical import QUARANTINE


def register(app: typer.Typer) -> None:
    """Attach the ingestion commands to the root app."""
    bronze_app = typer.Typer(help="Inspect bronze (vendor files under LAKE/bronze).", no_args_is_help=True)
    bronze_app.command(
        "discover", help="List the bronze files installed vendors recognise and what `ingest run` would do."
    )(discover)
    app.add_typer(bronze_app, name="bronze")

    ingest_app = typer.Typer(help="Turn bronze files into exact silver rows.", no_args_is_help=True)
    ingest_app.command("run", help="Ingest every new (or pending, or failed) bronze file.")(run)
    ingest_app.command("backfill", help="Rebuild a table's partitions of one exchange and date range from bronze.")(
        backfill
    )
    app.add_typer(ingest_app, name="ingest")

    manifest_app = typer.Typer(help="The ingest manifest: one row per bronze file identity.", no_args_is_help=True)
    manifest_app.command("list", help="List manifest rows (newest file ids first).")(manifest_list)
    manifest_app.command("show", help="Show one file's manifest row by file id or bronze path.")(manifest_show)
    manifest_app.command("summary", help="Count files, rows and bytes by vendor, data type and status.")(
        manifest_summary
    )
    app.add_typer(manifest_app, name="manifest")

    validation_app = typer.Typer(help="The validation log: one record per file per run.", no_args_is_help=True)
    validation_app.command("show", help="One line per file and run, newest first, with the failure reason.")(
        validation_show
    )
    app.add_typer(validation_app, name="validation")

    dq_app = typer.Typer(help="Data-quality summaries per table, exchange and local date.", no_args_is_help=True)
    dq_app.command("summary", help="Rows, nulls, lineage duplicates, time range and quarantined rows per partition.")(
        dq_summary
    )
    app.add_typer(dq_app, name="dq")

    quarantine_app = typer.Typer(
        help="Rows that failed a rule, with their file, line, rule and raw value.", no_args_is_help=True
    )
    quarantine_app.command("show", help="List quarantined rows (and counts per rule).")(quarantine_show)
    app.add_typer(quarantine_app, name="quarantine")


# -- options shared by commands --------------------------------------------------------------------
VENDOR = typer.Option(None, "--vendor", help="Only this vendor.")
DATA_TYPE = typer.Option(None, "--data-type", help="Only this vendor data type (e.g. trades).")
GLOB = typer.Option(None, "--glob", help="Only paths (relative to LAKE/bronze) matching this pattern; * crosses /.")
FORMAT = typer.Option(OutputFormat.table, "--format", help="table, json or csv.")
LIMIT = typer.Option(50, "--limit", help="At most this many rows.")


class _RichProgress:
    """A rich progress bar over bronze bytes, with files done / total."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("ingest", total=None)
        self.files = 0
        self.total_files = 0

    def start(self, files: int, total_bytes: int) -> None:
        self.total_files = files
        self.progress.update(self.task, total=max(total_bytes, 1), description=f"ingesting 0/{files} files")

    def advance(self, result: FileResult) -> None:
        self.files += 1
        style = "red" if result.status == "failed" else "green"
        self.progress.update(
            self.task,
            advance=result.job.size_bytes,
            description=f"ingesting {self.files}/{self.total_files} files [{style}]{escape(result.job.file.relative_path)}[/]",
        )


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _service(progress: _RichProgress | None = None) -> IngestService:
    return IngestService(current_lake(), get_host(), progress=progress)


def _print_report(report: RunReport, *, what: str) -> None:
    verb = "to write" if report.dry_run else "written"
    rows = [
        ("files discovered", report.discovered),
        ("files skipped (already ingested)", report.skipped),
        ("files ingested", report.count("success")),
        ("files fully quarantined", report.count("quarantined")),
        ("files failed", report.files_failed),
        ("files superseded", len(report.superseded)),
        ("rows read", f"{report.rows_read:,}"),
        (f"rows {verb}", f"{report.rows_written:,}"),
        ("rows quarantined", f"{report.rows_quarantined:,}"),
        ("seconds", f"{report.duration_s:.1f}"),
    ]
    title = f"{what}{' (dry run: nothing written)' if report.dry_run else ''} — run {report.run_id}"
    console.print(rich_table(title, ["", "count"], rows))
    by_table: dict[str, list[int]] = {}
    for r in report.results:
        acc = by_table.setdefault(r.job.table, [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += r.rows_written
        acc[2] += r.rows_quarantined
        acc[3] += r.status == "failed"
    if by_table:
        console.print(
            rich_table(
                None,
                ["table", "files", f"rows {verb}", "rows quarantined", "files failed"],
                [(t, n, f"{w:,}", f"{q:,}", f) for t, (n, w, q, f) in sorted(by_table.items())],
            )
        )
    for reason, error in [(r.failure_reason, r.error) for r in report.failed] + [
        (p.failure_reason, p.error) for p in report.problems
    ]:
        console.print(Text.assemble(("failed ", "red"), f"[{reason}] {error}"), soft_wrap=True)


# -- bronze -------------------------------------------------------------------------------------------
def discover(
    vendor: str | None = VENDOR,
    data_type: str | None = DATA_TYPE,
    glob: str | None = GLOB,
    pending_only: bool = typer.Option(False, "--pending-only", help="Only files `ingest run` would process."),
    fmt: OutputFormat = FORMAT,
) -> None:
    planned, problems = _service().plan(RunOptions(vendor=vendor, data_type=data_type, glob=glob))
    rows = [
        {
            "vendor": p.candidate.vendor,
            "bronze_path": p.candidate.path,
            "data_type": p.candidate.data_type,
            "table": p.candidate.table,
            "exchange": p.candidate.exchange,
            "date": p.candidate.file.date,
            "size_bytes": p.candidate.size_bytes,
            "action": f"{'skip' if p.decision.action == 'skip' else 'ingest'} ({p.decision.reason})",
            "file_id": p.decision.file_id,
        }
        for p in planned
        if not pending_only or p.decision.action != "skip"
    ]
    rows += [
        {
            "vendor": p.vendor,
            "bronze_path": p.bronze_path,
            "data_type": p.data_type,
            "action": f"fail ({p.failure_reason})",
        }
        for p in problems
    ]
    schema = {
        "vendor": pl.String,
        "bronze_path": pl.String,
        "data_type": pl.String,
        "table": pl.String,
        "exchange": pl.String,
        "date": pl.Date,
        "size_bytes": pl.Int64,
        "action": pl.String,
        "file_id": pl.Int64,
    }
    frame = pl.DataFrame(rows, schema=schema)
    if fmt is OutputFormat.table:
        if frame.height == 0:
            console.print(f"no {'pending ' if pending_only else ''}bronze files under {current_lake().bronze}")
            return
        frame = frame.select("action", "table", "exchange", "date", "size_bytes", "file_id", "bronze_path")
    print_frame(frame, title=f"Bronze files ({frame.height})", fmt=fmt, max_rows=200)


# -- ingest ---------------------------------------------------------------------------------------------
def run(
    vendor: str | None = VENDOR,
    data_type: str | None = DATA_TYPE,
    glob: str | None = GLOB,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Run the whole pipeline but write nothing; report what would be written."
    ),
    force: bool = typer.Option(False, "--force", help="Re-ingest files that already landed (same file ids)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel worker processes (one file or batch each)."),
    retry_quarantined: bool = typer.Option(
        False, "--retry-quarantined", help="Also re-process files with quarantined rows (after fixing dim_symbol)."
    ),
) -> None:
    options = RunOptions(
        vendor=vendor,
        data_type=data_type,
        glob=glob,
        dry_run=dry_run,
        force=force,
        workers=workers,
        retry_quarantined=retry_quarantined,
    )
    with _progress() as progress:
        report = _service(_RichProgress(progress)).run(options)
    _print_report(report, what="Ingest")
    raise typer.Exit(0 if report.ok else 1)


def _date_range(text: str) -> tuple[dt.date, dt.date]:
    try:
        start, _, end = text.partition(":")
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end or start)
    except ValueError:
        raise PointlineError(f"--date-range {text!r}: expected FIRST:LAST as YYYY-MM-DD:YYYY-MM-DD") from None
    if last < first:
        raise PointlineError(f"--date-range {text!r}: the last day is before the first")
    return first, last


def backfill(
    table: str = typer.Option(..., "--table", help="Table to rebuild, e.g. trades."),
    exchange: str = typer.Option(..., "--exchange", help="Exchange whose partitions to rebuild."),
    date_range: str = typer.Option(
        ..., "--date-range", help="FIRST:LAST exchange-local dates, inclusive (YYYY-MM-DD:YYYY-MM-DD)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be rebuilt; write nothing."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel worker processes."),
) -> None:
    start, end = _date_range(date_range)
    with _progress() as progress:
        report = _service(_RichProgress(progress)).backfill(
            table, exchange, start, end, RunOptions(dry_run=dry_run, workers=workers)
        )
    _print_report(report, what=f"Backfill {table} {exchange} {start}..{end}")
    if report.superseded:
        pairs = ", ".join(f"{old}->{new}" for old, new in sorted(report.superseded.items()))
        console.print(f"superseded file ids (old->new): {pairs}", soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


# -- manifest -------------------------------------------------------------------------------------------
_LIST_COLUMNS = ["file_id", "status", "table_name", "exchange", "rows_written", "rows_quarantined", "bronze_path"]


def manifest_list(
    vendor: str | None = VENDOR,
    status: str | None = typer.Option(None, "--status", help=f"Only this status ({', '.join(STATUSES)})."),
    table: str | None = typer.Option(None, "--table", help="Only files of this table."),
    limit: int = LIMIT,
    fmt: OutputFormat = FORMAT,
) -> None:
    if status is not None and status not in STATUSES:
        raise PointlineError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    scan = Manifest(current_lake()).store.scan()
    for column, value in (("vendor", vendor), ("status", status), ("table_name", table)):
        if value is not None:
            scan = scan.filter(pl.col(column) == value)
    frame = scan.sort("file_id", descending=True).head(limit).collect()
    print_frame(
        frame.select(_LIST_COLUMNS) if fmt is OutputFormat.table else frame,
        title="ingest_manifest",
        fmt=fmt,
        max_rows=limit,
    )


def manifest_show(file: str = typer.Argument(..., help="A file id, or a bronze path relative to LAKE/bronze.")) -> None:
    manifest = Manifest(current_lake())
    if file.lstrip("-").isdigit():
        rows = manifest.by_ids([int(file)])
    else:
        rows = manifest.store.scan().filter(pl.col("bronze_path") == file).collect()
    if rows.height == 0:
        raise PointlineError(f"no manifest row for {file!r} (`pointline manifest list` shows them)")
    for row in rows.sort("file_id").iter_rows(named=True):
        console.print(
            rich_table(f"file_id {row['file_id']}", ["field", "value"], [(k, _show(v)) for k, v in row.items()])
        )


def _show(value: object) -> object:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def manifest_summary(fmt: OutputFormat = FORMAT) -> None:
    frame = (
        Manifest(current_lake())
        .store.scan()
        .group_by("vendor", "data_type", "status")
        .agg(
            files=pl.len(),
            rows_written=pl.col("rows_written").sum(),
            rows_quarantined=pl.col("rows_quarantined").sum(),
            bronze_bytes=pl.col("size_bytes").sum(),
        )
        .sort("vendor", "data_type", "status")
        .collect()
    )
    if fmt is OutputFormat.table and frame.height == 0:
        console.print("the manifest is empty (run `pointline ingest run`)")
        return
    print_frame(frame, title="Manifest summary", fmt=fmt)


# -- validation log, dq, quarantine -------------------------------------------------------------------
def validation_show(
    failed: bool = typer.Option(False, "--failed", help="Only records with a failure reason."),
    run_id: str | None = typer.Option(None, "--run", help="Only this run id."),
    last: bool = typer.Option(False, "--last", help="Only the latest run."),
    limit: int = LIMIT,
    fmt: OutputFormat = FORMAT,
) -> None:
    lake = current_lake()
    log = validation_log.read(lake, run_id=run_id, failed_only=failed)
    if last and log.height:
        log = log.filter(pl.col("run_id") == log.sort("logged_at_us")["run_id"][-1])
    log = log.head(limit)
    if fmt is not OutputFormat.table:
        print_frame(log, fmt=fmt)
        return
    if log.height == 0:
        console.print("no validation records" + (" with a failure" if failed else ""))
        return
    for r in log.iter_rows(named=True):
        counts = ", ".join(f"{k} {v}" for k, v in json.loads(r["rule_counts"]).items()) if r["rule_counts"] else ""
        colour = {"failed": "red", "quarantined": "yellow", "superseded": "dim"}.get(r["status"], "green")
        # Errors name their file already; otherwise say where and how much.
        detail = (
            r["error"]
            or f"{r['bronze_path']}: {r['rows_written']:,} rows written, {r['rows_quarantined']:,} quarantined"
        )
        console.print(
            Text.assemble(
                f"{r['run_id']} ",
                (f"{r['status']:<11}", colour),
                f" {r['failure_reason'] or '-':<20} file_id={r['file_id']} {detail}",
                f" ({counts})" if counts else "",
            ),
            soft_wrap=True,
        )


def dq_summary(
    table: str | None = typer.Option(None, "--table", help="Only this table."),
    exchange: str | None = typer.Option(None, "--exchange", help="Only this exchange."),
    start: str | None = typer.Option(None, "--from", help="First local date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--to", help="Last local date (inclusive), YYYY-MM-DD."),
    fmt: OutputFormat = FORMAT,
) -> None:
    frame = dq.read(current_lake(), table=table, exchange=exchange)
    if start:
        frame = frame.filter(pl.col("date") >= dt.date.fromisoformat(start))
    if end:
        frame = frame.filter(pl.col("date") <= dt.date.fromisoformat(end))
    if fmt is OutputFormat.table and frame.height == 0:
        console.print("no dq_summary rows (they are written by `pointline ingest run`)")
        return
    print_frame(
        frame.drop("computed_at_us") if fmt is OutputFormat.table else frame, title="dq_summary", fmt=fmt, max_rows=500
    )


def quarantine_show(
    table: str | None = typer.Option(None, "--table", help="Only rows of this table."),
    file_id: int | None = typer.Option(None, "--file-id", help="Only rows of this file."),
    rule: str | None = typer.Option(None, "--rule", help="Only this rule (e.g. no_symbol_coverage)."),
    limit: int = LIMIT,
    fmt: OutputFormat = FORMAT,
) -> None:
    scan = TableStore(current_lake(), QUARANTINE).scan()
    for column, value in (("table_name", table), ("file_id", file_id), ("rule", rule)):
        if value is not None:
            scan = scan.filter(pl.col(column) == value)
    rows = scan.sort("file_id", "file_line_number").collect()
    if fmt is OutputFormat.table:
        if rows.height == 0:
            console.print("no quarantined rows")
            return
        counts = rows.group_by("table_name", "rule").agg(rows=pl.len()).sort("table_name", "rule")
        print_frame(counts, title=f"Quarantined rows by rule ({rows.height:,} in all)")
        rows = rows.select(
            "file_id", "file_line_number", "rule", "column_name", "raw_value", "exchange_symbol", "ts_local_us"
        )
    print_frame(rows.head(limit), title="Quarantined rows", fmt=fmt, max_rows=limit)
