"""Large files stream: chunks go to the writer as they are parsed, into ONE commit, and a failure half-way
through commits nothing. Quarantine records spill to disk instead of piling up in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from ingest_kit import (
    EXCHANGES,
    NAME,
    KitVendor,
    manifest,
    quarantine,
    set_symbols,
    silver,
    trade_rows,
    version,
    write_trades,
)
from pointline.config import Lake
from pointline.exchanges import ExchangeSpec
from pointline.ingest import faults
from pointline.ingest.service import IngestService, RunOptions
from pointline.ingest.writer import QuarantineBuffer
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.testing.fixtures import PluginHostFactory
from pointline.vendor import BronzeFile, Vendor

STREAM = RunOptions(unit_bytes=1, batch_rows=100)


class CountingVendor(KitVendor):
    """Parses in chunks lazily and counts them; optionally fails after ``fail_after`` chunks."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.produced = 0
        self.fail_after = fail_after

    def iter_batches(self, file: BronzeFile, batch_rows: int) -> Iterator[pl.DataFrame]:
        whole = self.read_and_parse(file)
        for offset in range(0, whole.height, batch_rows):
            if self.fail_after is not None and self.produced == self.fail_after:
                raise OSError("connection to the disk lost half-way")
            self.produced += 1
            yield whole.slice(offset, batch_rows)


class Plugin:
    def __init__(self, vendor: Vendor) -> None:
        self.vendor = vendor

    @hookimpl
    def pointline_register_vendors(self, register: Callable[[Vendor], None]) -> None:
        register(self.vendor)

    @hookimpl
    def pointline_register_exchanges(self, register: Callable[[ExchangeSpec], None]) -> None:
        for spec in EXCHANGES:
            register(spec)


@pytest.fixture
def counting(plugin_host: PluginHostFactory) -> tuple[PluginHost, CountingVendor]:
    vendor = CountingVendor()
    return plugin_host((NAME, Plugin(vendor))), vendor


def silver_commits(lake: Lake, host: PluginHost) -> int:
    history = TableStore(lake, host.table("trades")).delta_table().history()
    return sum(1 for h in history if h.get("operation") == "WRITE" and "predicate" in h.get("operationParameters", {}))


def test_a_large_file_streams_chunk_by_chunk_into_one_commit(
    lake: Lake, counting: tuple[PluginHost, CountingVendor]
) -> None:
    host, vendor = counting
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 1_000)
    rows[555][6] = "0.05"
    write_trades(lake, "xa", "BTC", rows)
    seen_at_first_write: list[int] = []

    def probe(checkpoint: str) -> None:
        if checkpoint == faults.MID_SILVER_WRITE:
            seen_at_first_write.append(vendor.produced)

    IngestService(lake, host, faults=probe).run(STREAM)

    assert vendor.produced == 10
    # When the writer had the first chunk, the parser had produced at most the next one: the file was
    # never materialised whole.
    assert seen_at_first_write == [1]
    assert silver_commits(lake, host) == 1
    assert silver(lake, host).height == 999
    assert quarantine(lake, host)["file_line_number"].to_list() == [557]


def test_streamed_and_buffered_ingests_write_the_same_rows(
    tmp_path: Path, counting: tuple[PluginHost, CountingVendor]
) -> None:
    host, _ = counting
    out = []
    for name, options in (("streamed", STREAM), ("buffered", RunOptions())):
        lake = Lake(tmp_path / name)
        lake.root.mkdir()
        set_symbols(lake, [version("xa", "BTC", valid_from=1_714_550_400_000_000)])
        write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 700))
        IngestService(lake, host).run(options)
        out.append((silver(lake, host), quarantine(lake, host)))
    assert out[0][0].equals(out[1][0])
    assert out[0][1].equals(out[1][1])


def test_a_failure_half_way_through_a_stream_commits_nothing(lake: Lake, plugin_host: PluginHostFactory) -> None:
    vendor = CountingVendor(fail_after=4)
    host = plugin_host((NAME, Plugin(vendor)))
    set_symbols(lake, [version("xa", "BTC"), version("xa", "ETH")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 1_000))
    report = IngestService(lake, host).run(STREAM)
    (result,) = report.results
    assert result.failure_reason == "parse_error"
    assert "connection to the disk lost half-way" in (result.error or "")
    assert silver(lake, host).height == 0
    assert manifest(lake, host)["status"].to_list() == ["failed"]


def test_the_quarantine_buffer_spills_to_disk_and_gives_everything_back(tmp_path: Path) -> None:
    buffer = QuarantineBuffer(spill_rows=10)
    frames = [pl.DataFrame({"file_line_number": list(range(i * 7, i * 7 + 7))}) for i in range(5)]
    for f in frames:
        buffer.add(f)
    assert buffer._spilled, "past spill_rows the buffer must write to disk"
    spill_dir = buffer._dir
    assert spill_dir is not None
    assert spill_dir.is_dir()
    assert not spill_dir.is_relative_to(tmp_path)  # outside any lake
    assert pl.concat(list(buffer.frames()))["file_line_number"].to_list() == list(range(35))
    assert buffer.rows == 35
    buffer.close()
    assert not spill_dir.exists()
