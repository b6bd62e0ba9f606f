"""The manifest: identity decisions, 64-bit file ids that are never reused, and keyed look-ups."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ingest_kit import manifest, set_symbols, trade_rows, version, write_trades
from pointline.config import Lake
from pointline.ingest.discovery import Candidate
from pointline.ingest.manifest import Manifest, decide, frame
from pointline.ingest.service import IngestService
from pointline.plugins.host import PluginHost
from pointline.vendor import BronzeFile

PATH = "kit/exchange=xa/type=trades/date=2024-05-01/BTC.csv.gz"


def candidate(sha: str = "new") -> Candidate:
    file = BronzeFile(vendor="kit", path=Path("/x"), relative_path=PATH, data_type="trades")
    return Candidate(file=file, table="trades", size_bytes=10, sha256=sha, exchange="xa")


def row(file_id: int, sha: str, status: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "file_id": file_id,
        "vendor": "kit",
        "data_type": "trades",
        "bronze_path": PATH,
        "sha256": sha,
        "size_bytes": 10,
        "table_name": "trades",
        "exchange": "xa",
        "status": status,
        "rows_quarantined": 0,
        "created_at_us": 0,
        "updated_at_us": 0,
    }
    return {**base, **extra}


def rows(*items: dict[str, Any]) -> pl.DataFrame:
    return frame([{c: r.get(c) for c in frame([]).columns} for r in items])


@pytest.mark.parametrize(
    ("existing", "flags", "want"),
    [
        ([], {}, ("mint", "new", None, ())),
        ([row(1, "new", "success")], {}, ("skip", "already_ingested", 1, ())),
        ([row(1, "new", "quarantined")], {}, ("skip", "already_ingested", 1, ())),
        ([row(1, "new", "success")], {"force": True}, ("process", "forced", 1, ())),
        (
            [row(1, "new", "success", rows_quarantined=3)],
            {"retry_quarantined": True},
            ("process", "retry_quarantined", 1, ()),
        ),
        ([row(1, "new", "success")], {"retry_quarantined": True}, ("skip", "already_ingested", 1, ())),
        ([row(1, "new", "pending")], {}, ("process", "pending", 1, ())),
        ([row(1, "new", "failed")], {}, ("process", "failed", 1, ())),
        ([row(1, "old", "success")], {}, ("mint", "reissued", None, (1,))),
        ([row(1, "old", "success"), row(2, "older", "failed")], {}, ("mint", "reissued", None, (1, 2))),
        (
            [row(1, "old", "superseded", superseded_by=2), row(2, "new", "success")],
            {},
            ("skip", "already_ingested", 2, ()),
        ),
        ([row(1, "old", "success"), row(2, "new", "pending")], {}, ("process", "pending", 2, (1,))),
        ([row(1, "old", "success"), row(2, "new", "failed")], {}, ("process", "failed", 2, (1,))),
        ([row(1, "old", "success"), row(2, "new", "success")], {}, ("process", "unfinished_supersede", 2, (1,))),
        ([row(1, "new", "success")], {"rebuild": True}, ("mint", "rebuild", None, (1,))),
        ([row(1, "new", "success", data_type="quotes")], {}, ("mint", "new", None, ())),
    ],
    ids=[
        "new",
        "landed-skip",
        "quarantined-skip",
        "force",
        "retry-quarantined",
        "retry-quarantined-nothing-to-retry",
        "pending-crashed",
        "failed-retried",
        "reissue",
        "reissue-supersedes-every-live-version",
        "superseded-rows-are-history",
        "reissue-interrupted-before-landing",
        "failed-reissue-keeps-old-live",
        "landed-but-old-version-still-live",
        "backfill-rebuild",
        "other-data-type-is-another-identity",
    ],
)
def test_decide(existing: list[dict[str, Any]], flags: dict[str, bool], want: tuple[Any, ...]) -> None:
    d = decide(candidate(), rows(*existing), **flags)
    assert (d.action, d.reason, d.file_id, d.replaces) == want


def test_file_ids_are_64_bit_and_survive_a_lost_counter(lake: Lake, host: PluginHost) -> None:
    m = Manifest(lake)
    with m.locked():
        assert m.allocate(3) == [1, 2, 3]
        assert m.allocate(2) == [4, 5]
    raw = (lake.state / "file_id.counter").read_bytes()
    assert raw == struct.pack("<q", 6)
    # A counter beyond 32 bits is kept as is.
    m.counter.write(2**40)
    with m.locked():
        assert m.allocate(1) == [2**40]
    # Rows in the manifest, then the counter is lost: ids resume after the manifest's maximum.
    set_symbols(lake, [version("xa", "BTC")])
    write_trades(lake, "xa", "BTC", trade_rows("xa", "BTC", 3))
    IngestService(lake, host).run()
    assert manifest(lake, host)["file_id"].to_list() == [2**40 + 1]
    (lake.state / "file_id.counter").unlink()
    with m.locked():
        assert m.allocate(1) == [2**40 + 2]
    # A torn counter file is ignored in favour of the manifest.
    (lake.state / "file_id.counter").write_bytes(b"\x01\x02")
    with m.locked():
        assert m.allocate(1) == [2**40 + 2]


def test_a_counter_behind_the_manifest_never_reuses_an_id(lake: Lake, host: PluginHost) -> None:
    set_symbols(lake, [version("xa", s) for s in ("A", "B", "C")])
    for s in ("A", "B"):
        write_trades(lake, "xa", s, trade_rows("xa", s, 2))
    IngestService(lake, host).run()
    Manifest(lake).counter.write(1)  # restored from an old backup
    write_trades(lake, "xa", "C", trade_rows("xa", "C", 2))
    IngestService(lake, host).run()
    ids = manifest(lake, host)["file_id"].to_list()
    assert ids == [1, 2, 3]


def test_lookups_are_keyed_and_once_per_run_not_per_file(
    lake: Lake, host: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    symbols = [f"S{i:02d}" for i in range(25)]
    set_symbols(lake, [version("xa", s) for s in symbols])
    for s in symbols:
        write_trades(lake, "xa", s, trade_rows("xa", s, 2))
    calls: list[int] = []
    original = Manifest.for_paths

    def spy(self: Manifest, keys: Any) -> pl.DataFrame:
        keys = list(keys)
        calls.append(len(keys))
        return original(self, keys)

    monkeypatch.setattr(Manifest, "for_paths", spy)
    IngestService(lake, host).run()
    assert calls == [25, 25]  # the plan, then the re-check under the lock before minting
    calls.clear()
    IngestService(lake, host).run()
    assert calls == [25]
    # The keyed read returns only the asked pairs, even with other vendors' rows around.
    m = Manifest(lake)
    one = m.for_paths([("kit", f"kit/exchange=xa/type=trades/date=2024-05-01/{symbols[3]}.csv.gz"), ("other", "x")])
    assert one["bronze_path"].to_list() == [f"kit/exchange=xa/type=trades/date=2024-05-01/{symbols[3]}.csv.gz"]
