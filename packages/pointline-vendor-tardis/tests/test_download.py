"""Downloads against a local HTTP server: layout, retries (429, 5xx, dropped connections), resume, errors."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from pointline.cli.app import build_app
from pointline.config import Lake
from pointline.errors import DownloadError
from pointline.plugins.host import PluginHost
from pointline.vendor import DownloadRequest
from tardis_helpers import GZ_DIR, flat
from tardis_server import Drop, Script, Serve, Status, serve
from typer.testing import CliRunner

from pointline_vendor_tardis.download import Downloader, days
from pointline_vendor_tardis.retry import RetryPolicy, retry_after_seconds
from pointline_vendor_tardis.settings import Settings
from pointline_vendor_tardis.vendor import TardisVendor

KEY = "sk-download-secret-42"
BODY = (GZ_DIR / "bitmex_trades_2020-03-01_XBTUSD.csv.gz").read_bytes()
BODY2 = (GZ_DIR / "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz").read_bytes()


def request(**over: object) -> DownloadRequest:
    base: dict[str, object] = {
        "exchange": "bitmex", "data_types": ["trades"], "symbols": ["XBTUSD"],
        "start": dt.date(2020, 3, 1), "end": dt.date(2020, 3, 1),
    }  # fmt: skip
    return DownloadRequest(**(base | over))  # type: ignore[arg-type]


def downloader(url: str, slept: list[float] | None = None, **options: object) -> Downloader:
    sink = slept if slept is not None else []
    policy = RetryPolicy(max_attempts=4, base_delay_s=0.01, sleep=sink.append)
    return Downloader(Settings(api_url=url, datasets_url=url, api_key=KEY), policy=policy, **options)  # type: ignore[arg-type]


PATH = "/v1/bitmex/trades/2020/03/01/XBTUSD.csv.gz"


def test_download_into_hive_layout_with_the_key(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Serve(BODY)]})
    root = tmp_path / "bronze" / "tardis"
    with serve(script) as url:
        report = downloader(url).download(request(), root)
    dest = root / "exchange=bitmex" / "type=trades" / "date=2020-03-01" / "XBTUSD.csv.gz"
    assert report.raise_for_failures() == [dest]
    assert dest.read_bytes() == BODY
    assert script.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not list((root / ".incoming").rglob("*.part"))
    described = TardisVendor().describe_file(dest, tmp_path / "bronze")
    assert described is not None
    assert (described.exchange, described.data_type, described.symbol) == ("bitmex", "trades", "XBTUSD")


def test_download_layout_uses_tardis_names_and_normalised_symbols(tmp_path: Path) -> None:
    path = "/v1/kraken/trades/2021/01/02/XBT-USD.csv.gz"
    script = Script(routes={path: [Serve(BODY)]})
    with serve(script) as url:
        report = downloader(url, layout="download").download(
            request(exchange="kraken", symbols=["xbt/usd"], start=dt.date(2021, 1, 2), end=dt.date(2021, 1, 2)),
            tmp_path,
        )
    assert [p.name for p in report.raise_for_failures()] == ["kraken_trades_2021-01-02_XBT-USD.csv.gz"]


def test_429_is_retried_honouring_retry_after(tmp_path: Path) -> None:
    slept: list[float] = []
    script = Script(routes={PATH: [Status(429, {"Retry-After": "3"}), Status(503), Serve(BODY)]})
    with serve(script) as url:
        report = downloader(url, slept).download(request(), tmp_path)
    (result,) = report.results
    assert (result.status, result.attempts) == ("downloaded", 3)
    assert slept[0] == 3.0  # the server's Retry-After wins over the backoff
    assert 0.01 <= slept[1] <= 0.03  # then exponential backoff with jitter (0.01 * 2**1 * [1, 1.5])
    assert result.job.dest.read_bytes() == BODY


def test_dropped_connection_resumes_with_a_range_request(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Drop(BODY, cut=100), Drop(BODY, cut=50), Serve(BODY)]})
    with serve(script) as url:
        report = downloader(url).download(request(), tmp_path)
    (result,) = report.results
    assert result.status == "downloaded"
    assert result.job.dest.read_bytes() == BODY
    ranges = [r.headers.get("range") for r in script.requests_for(PATH)]
    assert ranges == [None, "bytes=100-", "bytes=150-"]
    assert not result.job.part.exists()


def test_partial_file_is_never_where_ingestion_looks_and_a_rerun_resumes(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Drop(BODY, cut=120), Status(500)]})
    bronze = tmp_path / "bronze"
    root = bronze / "tardis"
    with serve(script) as url:
        report = downloader(url).download(request(), root)
    (result,) = report.results
    assert result.status == "failed"
    assert "run again to resume" in (result.error or "")
    assert result.job.part.stat().st_size == 120
    assert not result.job.dest.exists()
    vendor = TardisVendor()
    visible = [p for pattern in vendor.bronze_patterns for p in root.glob(pattern) if vendor.describe_file(p, bronze)]
    assert visible == []  # the .part lives in .incoming/ with a suffix discovery ignores
    script.routes[PATH] = [Serve(BODY)]
    with serve(script) as url:
        again = downloader(url).download(request(), root)
    assert again.results[0].status == "downloaded"
    assert result.job.dest.read_bytes() == BODY
    assert script.requests[-1].headers["range"] == "bytes=120-"


def test_server_without_range_support_restarts_cleanly(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Drop(BODY, cut=80), Serve(BODY, honour_range=False)]})
    with serve(script) as url:
        report = downloader(url).download(request(), tmp_path)
    assert report.results[0].job.dest.read_bytes() == BODY


def test_complete_part_left_by_a_crash_is_finished_without_refetching(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Serve(BODY)]})
    with serve(script) as url:
        d = downloader(url)
        (job,) = d.plan(request(), tmp_path)
        job.part.parent.mkdir(parents=True)
        job.part.write_bytes(BODY)  # fully downloaded, but the process died before the move
        report = d.run([job])
    assert report.results[0].status == "downloaded"
    assert job.dest.read_bytes() == BODY
    assert script.requests[0].headers["range"] == f"bytes={len(BODY)}-"  # answered 416 */len: nothing re-sent


def test_existing_files_are_skipped(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Serve(BODY)]})
    with serve(script) as url:
        first = downloader(url).download(request(), tmp_path)
        second = downloader(url).download(request(), tmp_path)
    assert first.results[0].status == "downloaded"
    assert second.results[0].status == "exists"
    assert len(script.requests) == 1


def test_404_and_401_fail_at_once_with_clear_messages(tmp_path: Path) -> None:
    script = Script(routes={"/v1/bitmex/trades/2020/03/02/XBTUSD.csv.gz": [Status(401)]})
    with serve(script) as url:
        report = downloader(url).download(request(end=dt.date(2020, 3, 2)), tmp_path)
    by_day = {r.job.day.day: r for r in report.results}
    assert by_day[1].status == "failed"
    assert "HTTP 404: no such dataset" in (by_day[1].error or "")
    assert by_day[2].status == "failed"
    assert "HTTP 401" in (by_day[2].error or "")
    assert "TARDIS_API_KEY" in (by_day[2].error or "")
    assert all(r.attempts == 1 for r in report.results)
    with pytest.raises(DownloadError, match="2 of 2 downloads failed"):
        report.raise_for_failures()


def test_non_gzip_body_is_rejected(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Serve(b"<html>maintenance</html>")]})
    with serve(script) as url:
        report = downloader(url).download(request(), tmp_path)
    assert report.results[0].status == "failed"
    assert "not a gzip file" in (report.results[0].error or "")
    assert not report.results[0].job.dest.exists()
    assert not report.results[0].job.part.exists()


def test_gives_up_after_bounded_attempts(tmp_path: Path) -> None:
    script = Script(routes={PATH: [Status(500)]})
    with serve(script) as url:
        report = downloader(url).download(request(), tmp_path)
    assert report.results[0].status == "failed"
    assert "gave up after 4 attempts (last: HTTP 500)" in (report.results[0].error or "")
    assert len(script.requests) == 4


def test_concurrent_download_of_many_files(tmp_path: Path) -> None:
    symbols = [f"S{i}" for i in range(6)]
    routes = {
        f"/v1/deribit/incremental_book_L2/2020/04/0{d}/{s}.csv.gz": [Serve(BODY2)] for s in symbols for d in (1, 2)
    }
    routes["/v1/deribit/incremental_book_L2/2020/04/01/S3.csv.gz"] = [Drop(BODY2, cut=10), Serve(BODY2)]
    script = Script(routes=routes)
    progress: list[tuple[int, int]] = []
    req = request(
        exchange="deribit",
        data_types=["incremental_book_L2"],
        symbols=symbols,
        start=dt.date(2020, 4, 1),
        end=dt.date(2020, 4, 2),
    )
    with serve(script) as url:
        report = downloader(url, concurrency=4).download(req, tmp_path, progress=lambda d, t: progress.append((d, t)))
    assert len(report.raise_for_failures()) == 12
    assert all(p.read_bytes() == BODY2 for p in report.paths())
    assert progress[-1] == (12, 12)


def test_days_are_inclusive_and_ordered() -> None:
    assert days(dt.date(2024, 2, 28), dt.date(2024, 3, 1)) == [
        dt.date(2024, 2, 28),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 1),
    ]
    with pytest.raises(DownloadError, match="before"):
        days(dt.date(2024, 3, 2), dt.date(2024, 3, 1))


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_cli_download_never_shows_the_key(
    tardis_host: PluginHost, tmp_lake: Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(
        routes={
            PATH: [Status(429, {"Retry-After": "0"}), Serve(BODY)],
            "/v1/bitmex/trades/2020/03/02/XBTUSD.csv.gz": [Status(403)],
        }
    )
    caplog.set_level(logging.DEBUG)
    with serve(script) as url:
        monkeypatch.setenv("TARDIS_DATASETS_URL", url)
        monkeypatch.setenv("TARDIS_API_KEY", KEY)
        args = [
            "tardis",
            "download",
            "-e",
            "bitmex",
            "-t",
            "trades",
            "-s",
            "XBTUSD",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-02",
        ]
        result = CliRunner().invoke(build_app(), args)
    assert result.exit_code != 0
    assert "1 downloaded, 0 already in bronze, 1 failed" in flat(result.output)
    assert isinstance(result.exception, DownloadError)
    assert KEY not in flat(result.output)
    assert KEY not in str(result.exception)
    assert KEY not in caplog.text
    assert (
        tmp_lake.bronze / "tardis" / "exchange=bitmex" / "type=trades" / "date=2020-03-01" / "XBTUSD.csv.gz"
    ).read_bytes() == BODY


def test_vendor_capabilities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Downloader and InstrumentSource capabilities core sees on the vendor object."""
    from pointline.dims.dim_symbol import version_schema
    from pointline.vendor import Downloader as DownloaderCapability
    from pointline.vendor import InstrumentSource

    vendor = TardisVendor()
    assert isinstance(vendor, DownloaderCapability)
    assert isinstance(vendor, InstrumentSource)
    script = Script(routes={PATH: [Serve(BODY)]})
    with serve(script) as url:
        monkeypatch.setenv("TARDIS_DATASETS_URL", url)
        paths = vendor.download(request(), tmp_path / "bronze")
    assert paths == [
        tmp_path / "bronze" / "tardis" / "exchange=bitmex" / "type=trades" / "date=2020-03-01" / "XBTUSD.csv.gz"
    ]
    saved = tmp_path / "instruments.json"
    saved.write_text(
        '[{"id": "XBTUSD", "exchange": "bitmex", "type": "perpetual", "availableSince": "2019-03-30T00:00:00.000Z", "priceIncrement": "0.5", "amountIncrement": 1}]'
    )
    versions = vendor.instrument_versions("bitmex", source_file=saved)
    assert versions.schema == version_schema()
    assert versions.height == 1
