"""Tardis instruments metadata -> dim_symbol: SCD2 windows from changes[], exact increments, skips, sync."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pointline.cli.app import build_app
from pointline.config import Lake
from pointline.dims import dim_symbol
from pointline.errors import ConfigError, DownloadError, PointlineError
from pointline.plugins.host import PluginHost
from pointline.timeutil import MAX_TS, from_us, to_us
from tardis_helpers import flat
from tardis_server import Script, Serve, Status, serve
from typer.testing import CliRunner

from pointline_vendor_tardis import instruments
from pointline_vendor_tardis.retry import RetryPolicy
from pointline_vendor_tardis.settings import Settings

# Shape and values of a real instruments response (nautilus_trader test_data/instrument_perpetual.json).
XBTUSD = """{
  "id": "XBTUSD", "datasetId": "XBTUSD", "exchange": "bitmex", "baseCurrency": "BTC", "quoteCurrency": "USD",
  "settlementCurrency": "BTC", "type": "perpetual", "active": true, "availableSince": "2019-03-30T00:00:00.000Z",
  "priceIncrement": 0.1, "amountIncrement": 100, "minTradeAmount": 100, "makerFee": 0.0005, "takerFee": 0.0005,
  "inverse": true, "contractType": "inverse_perpetual", "contractMultiplier": 1, "underlyingIndex": ".BXBT",
  "changes": [
    {"until": "2021-06-08T04:30:00.000Z", "amountIncrement": 1, "minTradeAmount": 1},
    {"until": "2024-07-31T04:00:00.000Z", "priceIncrement": 0.5},
    {"until": "2024-10-22T00:00:00.000Z", "makerFee": 0.0002, "takerFee": 0.00075}
  ]
}"""
OPTION = {
    "id": "BTC-9JUN20-9875-P", "datasetId": "BTC-9JUN20-9875-P", "exchange": "deribit", "baseCurrency": "BTC",
    "quoteCurrency": "BTC", "type": "option", "active": False, "availableSince": "2020-06-01T00:00:00.000Z",
    "listing": "2020-06-01T08:00:03.000Z", "expiry": "2020-06-09T08:00:00.000Z", "priceIncrement": "0.0005",
    "amountIncrement": "0.1", "strikePrice": 9875, "optionType": "put", "inverse": True, "contractMultiplier": 1,
}  # fmt: skip
FUTURE = {
    "id": "btc-14feb25", "exchange": "deribit", "baseCurrency": "BTC", "quoteCurrency": "USD", "type": "future",
    "active": True, "availableSince": "2025-01-31T00:00:00.000Z", "listing": "2025-01-30T08:00:21.000Z",
    "expiry": "2025-02-14T08:00:00.000Z", "priceIncrement": 2.5, "amountIncrement": 10, "contractMultiplier": 1,
}  # fmt: skip


def versions(payload: str | list[dict[str, Any]], exchange: str) -> instruments.SyncResult:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return instruments.versions_from_instruments(instruments.parse_json(text, where="test"), exchange)


def test_changes_become_scd2_windows_with_exact_increments() -> None:
    result = versions(f"[{XBTUSD}]", "bitmex")
    rows = result.versions.sort("valid_from_ts").to_dicts()
    assert [(r["valid_from_ts"], r["valid_until_ts"]) for r in rows] == [
        (to_us("2019-03-30T00:00:00Z"), to_us("2021-06-08T04:30:00Z")),
        (to_us("2021-06-08T04:30:00Z"), to_us("2024-07-31T04:00:00Z")),
        (to_us("2024-07-31T04:00:00Z"), MAX_TS),  # the fee-only change at 2024-10-22 is not a new version
    ]
    # Before 2021-06-08 the lot was 1 and the tick 0.5 (carried back from the next entry that names it).
    assert [(r["price_increment"], r["amount_increment"]) for r in rows] == [
        (Decimal("0.5"), Decimal("1")),
        (Decimal("0.5"), Decimal("100")),
        (Decimal("0.1"), Decimal("100")),
    ]
    assert str(rows[2]["price_increment"].normalize()) == "0.1"  # exact, not 0.1000000000000000055...
    first = rows[0]
    assert (first["exchange"], first["exchange_symbol"], first["instrument_type"], first["asset_class"]) == (
        "bitmex",
        "XBTUSD",
        "perpetual",
        "crypto_derivative",
    )
    assert (first["base_asset"], first["quote_asset"], first["settle_asset"], first["is_inverse"]) == (
        "BTC",
        "USD",
        "BTC",
        True,
    )
    assert first["contract_multiplier"] == Decimal(1)
    assert first["underlying"] == ".BXBT"
    assert (first["source"], first["is_inferred"]) == ("tardis", False)


def test_numbers_as_strings_options_and_futures() -> None:
    result = versions([OPTION, FUTURE], "deribit")
    by_symbol = {r["exchange_symbol"]: r for r in result.versions.to_dicts()}
    option = by_symbol["BTC-9JUN20-9875-P"]
    assert (option["price_increment"], option["amount_increment"]) == (Decimal("0.0005"), Decimal("0.1"))
    assert (option["strike"], option["put_call"], option["asset_class"]) == (Decimal(9875), "put", "crypto_option")
    assert option["expiry_ts_us"] == to_us("2020-06-09T08:00:00Z")
    assert option["valid_from_ts"] == to_us("2020-06-01T00:00:00Z")  # availableSince before listing
    future = by_symbol["BTC-14FEB25"]  # ids are upper-cased like the CSV symbol column
    assert future["valid_from_ts"] == to_us("2025-01-30T08:00:21Z")  # listing before availableSince
    assert (future["contract_month"], future["price_increment"]) == ("2025-02", Decimal("2.5"))
    assert future["underlying"] == "BTC"


def test_unsupported_and_invalid_instruments_are_counted_not_fatal() -> None:
    bad = [
        {**FUTURE, "id": "BTC-COMBO-1", "type": "combo"},
        {**FUTURE, "id": "X-1", "type": "combo"},
        {**FUTURE, "id": "ZERO", "priceIncrement": 0},
        {**FUTURE, "id": "NOTICK", "priceIncrement": None},
        {**FUTURE, "id": "TINY", "priceIncrement": "1e-19"},
        {**FUTURE, "id": "OTHER", "exchange": "bitmex"},
        {**FUTURE, "id": "BADDATE", "availableSince": "yesterday", "listing": None},
        {**FUTURE, "id": "btc-14FEB25", "active": False},  # same id in another case: the active one is kept
    ]
    result = versions([FUTURE, *bad], "deribit")
    assert result.versions.get_column("exchange_symbol").to_list() == ["BTC-14FEB25"]
    assert result.instruments == 9
    assert result.skipped == {
        "unsupported type combo": 2,
        "missing or non-positive priceIncrement": 2,
        "priceIncrement outside the exact range (1e-18 .. 1e20)": 1,
        "other exchange (bitmex)": 1,
        "invalid availableSince": 1,
        "duplicate id": 1,
    }


def test_versions_satisfy_dim_symbol_invariants_and_resync_keeps_ids(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    result = versions([json.loads(XBTUSD)], "bitmex")
    dim_symbol.upsert(lake, result.versions)
    first = dim_symbol.read(lake).sort("valid_from_ts")
    dim_symbol.check_invariants(first)
    assert first.get_column("is_current").to_list() == [False, False, True]
    dim_symbol.upsert(lake, result.versions)
    again = dim_symbol.read(lake).sort("valid_from_ts")
    assert again.get_column("symbol_id").to_list() == first.get_column("symbol_id").to_list()


# -- property: windows agree with a brute-force reading of changes[] ------------------------------

START = to_us("2020-01-01T00:00:00Z")
INCREMENTS = st.sampled_from(["0.5", "0.1", "0.01", "1", "2.5", "100", "0.00000001"])


def _iso(us: int) -> str:
    return from_us(us).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@st.composite
def instrument_with_changes(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=0, max_value=6))
    # Millisecond untils from a year before the start to three years after (some fall before it).
    untils = draw(
        st.lists(
            st.integers(min_value=-365, max_value=3 * 365).map(lambda d: START + d * 86_400_000_000 + 3_600_000),
            min_size=n,
            max_size=n,
        )
    )
    changes = []
    for until in untils:
        entry: dict[str, Any] = {"until": _iso(until)}
        if draw(st.booleans()):
            entry["priceIncrement"] = draw(INCREMENTS)
        if draw(st.booleans()):
            entry["amountIncrement"] = draw(INCREMENTS)
        if draw(st.booleans()):
            entry["makerFee"] = "0.0001"
        changes.append(entry)
    return {
        "id": "SYM", "exchange": "bitmex", "type": "perpetual", "availableSince": _iso(START),
        "priceIncrement": draw(INCREMENTS), "amountIncrement": draw(INCREMENTS), "changes": changes,
    }  # fmt: skip


def _expected(inst: dict[str, Any], field: str, t: int) -> Decimal:
    """The value in force at ``t``: the earliest change after ``t`` that names the field, else the top level."""
    later = sorted(
        (to_us(c["until"]), i) for i, c in enumerate(inst["changes"]) if field in c and to_us(c["until"]) > t
    )
    if later:
        # Several entries with one `until`: the last one listed wins, as in the implementation's merge.
        first_until = later[0][0]
        index = max(i for u, i in later if u == first_until)
        return Decimal(inst["changes"][index][field])
    return Decimal(inst[field])


@settings(max_examples=150, deadline=None)
@given(inst=instrument_with_changes())
def test_windows_match_a_brute_force_reading_of_changes(inst: dict[str, Any]) -> None:
    frame = versions([inst], "bitmex").versions.sort("valid_from_ts")
    rows = frame.to_dicts()
    assert rows[0]["valid_from_ts"] == START
    assert rows[-1]["valid_until_ts"] == MAX_TS
    for a, b in itertools.pairwise(rows):
        assert a["valid_until_ts"] == b["valid_from_ts"]  # contiguous, no overlap
        assert (a["price_increment"], a["amount_increment"]) != (b["price_increment"], b["amount_increment"])  # merged
    probes = {START} | {to_us(c["until"]) + d for c in inst["changes"] for d in (-1, 0)} | {MAX_TS - 1}
    for t in sorted(p for p in probes if p >= START):
        row = next(r for r in rows if r["valid_from_ts"] <= t < r["valid_until_ts"])
        assert row["price_increment"] == _expected(inst, "priceIncrement", t), t
        assert row["amount_increment"] == _expected(inst, "amountIncrement", t), t


# -- fetching from the API (local server) ---------------------------------------------------------

KEY = "sk-test-0123456789abcdef"


def _settings(url: str, key: str | None = KEY) -> Settings:
    return Settings(api_url=url, datasets_url=url, api_key=key)


def test_api_fetch_sends_the_key_and_retries_429() -> None:
    slept: list[float] = []
    script = Script(
        routes={"/v1/instruments/bitmex": [Status(429, {"Retry-After": "2"}), Serve(f"[{XBTUSD}]".encode())]}
    )
    with serve(script) as url:
        result = instruments.load("bitmex", settings=_settings(url), policy=RetryPolicy(sleep=slept.append))
    assert result.versions.height == 3
    assert slept == [2.0]  # Retry-After honoured
    assert [r.headers["authorization"] for r in script.requests] == [f"Bearer {KEY}"] * 2


def test_api_without_key_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="TARDIS_API_KEY is not set") as err:
        instruments.load("bitmex", settings=_settings("http://127.0.0.1:9", key=None))
    assert "--from-file" in str(err.value)
    assert "symbols infer" in str(err.value)


def test_api_refused_key_is_a_clear_error_without_the_key() -> None:
    script = Script(routes={"/v1/instruments/bitmex": [Status(401, body=b'{"message":"invalid key"}')]})
    with serve(script) as url, pytest.raises(DownloadError, match="HTTP 401") as err:
        instruments.load("bitmex", settings=_settings(url), policy=RetryPolicy(sleep=lambda s: None))
    assert KEY not in str(err.value)
    assert len(script.requests) == 1  # not retried


def test_api_gives_up_after_bounded_attempts() -> None:
    script = Script(routes={"/v1/instruments/bitmex": [Status(503)]})
    with serve(script) as url, pytest.raises(DownloadError, match="gave up after 3 attempts"):
        instruments.load("bitmex", settings=_settings(url), policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    assert len(script.requests) == 3


def test_settings_repr_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARDIS_API_KEY", KEY)
    monkeypatch.setenv("TARDIS_API_URL", "http://example.invalid/")
    settings = Settings.from_env()
    assert settings.api_key == KEY
    assert settings.api_url == "http://example.invalid"
    assert KEY not in repr(settings)


# -- the CLI ----------------------------------------------------------------------------------------


def test_sync_cli_from_file(tardis_host: PluginHost, tmp_lake: Lake, tmp_path: Path) -> None:
    saved = tmp_path / "bitmex.json"
    saved.write_text(json.dumps([json.loads(XBTUSD), {**FUTURE, "id": "X", "exchange": "bitmex", "type": "combo"}]))
    result = CliRunner().invoke(
        build_app(), ["tardis", "symbols", "sync", "--exchange", "bitmex", "--from-file", str(saved)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1 bitmex symbols (3 versions) from 2 instruments" in flat(result.output)
    assert "unsupported type combo" in flat(result.output)
    dim = dim_symbol.read(tmp_lake)
    assert dim.height == 3
    assert not dim.get_column("is_inferred").any()


def test_sync_cli_replacing_inferred_symbols_says_to_backfill(
    tardis_host: PluginHost, tmp_lake: Lake, tmp_path: Path
) -> None:
    inferred = dim_symbol.versions_frame(
        [
            {
                "exchange": "bitmex", "exchange_symbol": "XBTUSD", "valid_from_ts": 0, "valid_until_ts": MAX_TS,
                "asset_class": "crypto_derivative", "instrument_type": "unknown", "price_increment": Decimal("0.5"),
                "amount_increment": Decimal(1), "source": "inferred", "is_inferred": True,
            }
        ]
    )  # fmt: skip
    dim_symbol.upsert(tmp_lake, inferred)
    saved = tmp_path / "bitmex.json"
    saved.write_text(f"[{XBTUSD}]")
    result = CliRunner().invoke(build_app(), ["tardis", "symbols", "sync", "-e", "bitmex", "--from-file", str(saved)])
    assert result.exit_code == 0, result.output
    assert "had inferred versions" in flat(result.output)
    assert "backfill" in flat(result.output)
    dim = dim_symbol.read(tmp_lake)
    assert dim.height == 3
    assert not dim.get_column("is_inferred").any()


def test_sync_cli_dry_run_writes_nothing(tardis_host: PluginHost, tmp_lake: Lake, tmp_path: Path) -> None:
    saved = tmp_path / "bitmex.json"
    saved.write_text(f"[{XBTUSD}]")
    result = CliRunner().invoke(
        build_app(), ["tardis", "symbols", "sync", "-e", "bitmex", "--from-file", str(saved), "--dry-run"]
    )
    assert result.exit_code == 0
    assert "would write 1 bitmex symbols" in flat(result.output)
    assert dim_symbol.read(tmp_lake).height == 0


def test_sync_cli_unknown_exchange_is_one_line(tardis_host: PluginHost, tmp_lake: Lake, tmp_path: Path) -> None:
    from pointline.cli.app import main

    saved = tmp_path / "x.json"
    saved.write_text("[]")
    with pytest.raises(SystemExit) as exit_:
        main(["tardis", "symbols", "sync", "-e", "nowhere", "--from-file", str(saved)])
    assert exit_.value.code == 2


def test_sync_without_key_or_file_fails_in_one_line(
    tardis_host: PluginHost, tmp_lake: Lake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pointline.cli.app import main

    monkeypatch.delenv("TARDIS_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["tardis", "symbols", "sync", "-e", "bitmex"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "TARDIS_API_KEY is not set" in err
    assert "Traceback" not in err


def test_malformed_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PointlineError, match="not valid JSON") as err:
        instruments.load("bitmex", source_file=bad)
    assert str(bad) in str(err.value)
    bad.write_text("[1, 2]")
    with pytest.raises(PointlineError, match="expected a JSON list of instrument objects"):
        instruments.load("bitmex", source_file=bad)
