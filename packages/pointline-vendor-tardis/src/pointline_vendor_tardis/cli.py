"""``pointline tardis ...``: instrument metadata, inferred symbols and downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import typer
from pointline.cli.common import console, current_lake, rich_table
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.dims import infer as inference
from pointline.errors import DownloadError, TimeInputError
from pointline.plugins.host import get_host
from pointline.vendor import DownloadRequest
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pointline_vendor_tardis import instruments
from pointline_vendor_tardis.download import DEFAULT_CONCURRENCY, Downloader
from pointline_vendor_tardis.vendor import NAME

tardis_app = typer.Typer(
    help="Tardis.dev: instrument metadata to dim_symbol, inferred symbols, and dataset downloads.",
    no_args_is_help=True,
)
symbols_app = typer.Typer(help="Fill dim_symbol for Tardis exchanges.", no_args_is_help=True)
tardis_app.add_typer(symbols_app, name="symbols")

BACKFILL_NOTE = (
    "Rows of these symbols ingested before were encoded with the previous increments: re-encode them with "
    "`pointline ingest backfill --table T --exchange X --date-range A:B`."
)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@symbols_app.command("sync")
def symbols_sync(
    exchange: str = typer.Option(..., "--exchange", "-e", help="Tardis exchange id, e.g. binance-futures."),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        help="A saved instruments JSON (the API response) instead of calling the API.",
        exists=True,
        dir_okay=False,
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
) -> None:
    """Write dim_symbol versions (with tick-size history) from Tardis instrument metadata.

    Without --from-file this calls https://api.tardis.dev/v1/instruments/EXCHANGE with $TARDIS_API_KEY.
    Instrument types Pointline does not model (combo, ...) are skipped and counted.
    """
    host = get_host()
    exchange = host.exchange(exchange.strip().lower()).name
    lake = current_lake()
    result = instruments.load(exchange, source_file=from_file)
    replaced = _replaced_inferred(lake, result.versions)
    if not dry_run and result.versions.height:
        dim_symbol.upsert(lake, result.versions)
    verb = "would write" if dry_run else "wrote"
    console.print(
        f"dim_symbol: {verb} {result.symbols} {exchange} symbols ({result.versions.height} versions) "
        f"from {result.instruments} instruments"
    )
    if result.skipped:
        rows = sorted(result.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        console.print(rich_table("Skipped instruments", ["reason", "count"], rows))
    if replaced:
        console.print(
            f"[yellow]{len(replaced)} symbol(s) had inferred versions, now replaced by Tardis metadata: "
            f"{', '.join(replaced[:10])}{' ...' if len(replaced) > 10 else ''}[/]"
        )
        console.print(f"[yellow]{BACKFILL_NOTE}[/]")


def _replaced_inferred(lake: Lake, versions: pl.DataFrame) -> list[str]:
    """Symbols whose dim_symbol versions were inferred and that the sync replaces."""
    existing = dim_symbol.read(lake)
    if not existing.height or not versions.height:
        return []
    inferred = existing.filter(pl.col("is_inferred")).select(dim_symbol.KEY).unique()
    hit = versions.select(dim_symbol.KEY).unique().join(inferred, on=list(dim_symbol.KEY))
    return sorted(hit.get_column("exchange_symbol").to_list())


@symbols_app.command("infer")
def symbols_infer(
    exchange: str | None = typer.Option(None, "--exchange", "-e", help="Only symbols of this exchange."),
    data_type: str | None = typer.Option(None, "--data-type", help="Only bronze files of this Tardis data type."),
    glob: str | None = typer.Option(
        None, "--glob", help="Only bronze paths matching this glob (relative to the bronze root)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
) -> None:
    """Build provisional dim_symbol rows from the bronze files themselves (no API key needed).

    Each symbol's price and size increments are the finest decimal grid its rows use. Rows are marked
    inferred; `symbols sync` replaces them with Tardis metadata later, and infer never touches synced ones.
    """
    host = get_host()
    vendor = host.vendor(NAME)
    lake = current_lake()
    with _progress("reading bronze") as progress:
        report = inference.infer(
            lake, host, vendor, exchange=exchange, data_type=data_type, glob=glob, dry_run=dry_run, progress=progress
        )
    keys = report.keys
    columns = ["exchange", "exchange_symbol", "price_increment", "amount_increment", "status"]
    headers = ["exchange", "symbol", "price increment", "amount increment", "status"]
    if report.needs_backfill.height:
        columns[4:4] = ["previous_price_increment", "previous_amount_increment"]
        headers[4:4] = ["was (price)", "was (amount)"]
    if keys.height:
        title = f"Symbols seen in {report.files} Tardis bronze files"
        console.print(rich_table(title, headers, keys.select(columns).iter_rows()))
    verb = "would write" if dry_run else "wrote"
    counts = keys.group_by("status").len().sort("status").iter_rows()
    summary = ", ".join(f"{n} {status}" for status, n in counts) or "no symbols found"
    written = keys.filter(pl.col("status").is_in([inference.NEW, inference.REFINED])).height
    console.print(f"dim_symbol: {verb} {written} inferred symbols ({summary})")
    for failure in report.failures:
        console.print(f"[red]skipped unreadable file[/] {failure.error}")
    if report.needs_backfill.height:
        console.print(
            f"[yellow]{report.needs_backfill.height} symbol(s) got a finer grid than before.[/] {BACKFILL_NOTE}"
        )
    unknown = report.with_status(inference.UNKNOWN_EXCHANGE)
    if unknown.height:
        names = ", ".join(sorted(set(unknown.get_column("exchange").to_list())))
        console.print(f"[red]exchange(s) registered by no installed plugin: {names}[/]")


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise TimeInputError(f"{option} {value!r}: expected a day as YYYY-MM-DD") from None


@tardis_app.command("download")
def download(
    exchange: str = typer.Option(..., "--exchange", "-e", help="Tardis exchange id, e.g. deribit."),
    data_types: list[str] = typer.Option(
        ..., "--data-types", "-t", help="Comma-separated or repeated: trades,quotes,..."
    ),
    symbols: list[str] = typer.Option(
        ..., "--symbols", "-s", help="Comma-separated or repeated symbols (or PERPETUALS, OPTIONS, ...)."
    ),
    start: str = typer.Option(..., "--from", help="First UTC day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last UTC day, inclusive, YYYY-MM-DD."),
    file_layout: str = typer.Option(
        "hive", "--layout", help="hive (exchange=/type=/date=/SYMBOL.csv.gz) or download (Tardis file names)."
    ),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", "-j", help="Files downloaded at once."),
) -> None:
    """Download Tardis CSV datasets into bronze (LAKE/bronze/tardis), resuming partial files.

    The API key comes from $TARDIS_API_KEY (never printed); without one, only the first day of each
    month is available. Files already in bronze are skipped.
    """
    host = get_host()
    request = DownloadRequest(
        exchange=host.exchange(exchange.strip().lower()).name,
        data_types=_split(data_types),
        symbols=_split(symbols),
        start=_day(start, "--from"),
        end=_day(end, "--to"),
    )
    root = current_lake().vendor_bronze(NAME)
    downloader = Downloader.from_env(layout=file_layout, concurrency=concurrency)
    with _progress("downloading") as progress:
        report = downloader.download(request, root, progress=progress)
    rows = [
        (r.job.data_type, r.job.symbol, r.job.day.isoformat(), r.status, f"{r.bytes:,}", r.error or "")
        for r in report.results
        if r.status != "exists"
    ]
    if rows:
        console.print(rich_table("Tardis downloads", ["data type", "symbol", "day", "status", "bytes", "error"], rows))
    done, present, failed = (len(report.by_status("downloaded")), len(report.by_status("exists")), len(report.failed))
    console.print(f"{done} downloaded, {present} already in bronze, {failed} failed, under {root}")
    if failed:
        raise DownloadError(f"{failed} of {len(report.results)} files failed; run the same command again to resume")
