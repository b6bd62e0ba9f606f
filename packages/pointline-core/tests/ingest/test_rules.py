"""The rule registry: per-table and per-family rules, registered by name, applied by the pipeline."""

from __future__ import annotations

from collections import defaultdict

import polars as pl
import pytest
from ingest_kit import quarantine, set_symbols, silver, trade_rows, version, write_trades
from pointline.config import Lake
from pointline.ingest import rules
from pointline.ingest.rules import INVALID_ENUM, MISSING_VALUE, RowRule, register_rule, rules_for
from pointline.ingest.service import IngestService
from pointline.plugins.host import PluginHost
from pointline.tables.canonical import QUOTES, TRADES, kline


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules registered by a test vanish after it."""
    monkeypatch.setattr(rules, "_REGISTRY", defaultdict(list, {k: list(v) for k, v in rules._REGISTRY.items()}))


def names(spec_rules: list[RowRule]) -> set[tuple[str, str | None, str]]:
    return {(r.name, r.column, r.stage) for r in spec_rules}


def test_core_rules_per_table() -> None:
    trades = names(rules_for(TRADES))
    assert ("bad_timestamp", "ts_local_us", "parsed") in trades
    assert ("bad_timestamp", "ts_exch_us", "parsed") in trades
    assert (INVALID_ENUM, "side", "parsed") in trades
    assert (MISSING_VALUE, "side", "parsed") not in trades  # the enum rule reports null sides
    assert (MISSING_VALUE, "px", "parsed") in trades
    assert (MISSING_VALUE, "exchange_symbol", "parsed") in trades
    assert (MISSING_VALUE, "trade_id", "parsed") not in trades  # nullable
    quotes = names(rules_for(QUOTES))
    assert ("crossed_book", "bid_px", "encoded") in quotes
    assert not any(n == MISSING_VALUE and c and c.endswith("_px") for n, c, _ in quotes)  # both sides nullable


def test_a_family_rule_applies_to_every_member(clean_registry: None) -> None:
    register_rule(
        "kline_{interval}",
        lambda spec: [
            RowRule("high_below_low", "high_px", pl.col("high_px_int") < pl.col("low_px_int"), stage="encoded")
        ],
    )
    assert ("high_below_low", "high_px", "encoded") in names(rules_for(kline("1m")))
    assert ("high_below_low", "high_px", "encoded") in names(rules_for(kline("1h")))
    assert ("high_below_low", "high_px", "encoded") not in names(rules_for(TRADES))


def test_a_registered_rule_quarantines_rows_with_its_name_and_raw_value(
    lake: Lake, host: PluginHost, clean_registry: None
) -> None:
    register_rule("trades", lambda spec: [RowRule("fat_finger", "qty", pl.col("qty_int") > 10, stage="encoded")])
    set_symbols(lake, [version("xa", "BTC")])
    rows = trade_rows("xa", "BTC", 5)
    rows[2][7] = "0.011"  # 11 lots of 0.001
    write_trades(lake, "xa", "BTC", rows)
    IngestService(lake, host).run()
    assert quarantine(lake, host).select("file_line_number", "rule", "column_name", "raw_value").rows() == [
        (4, "fat_finger", "qty", "0.011")
    ]
    assert silver(lake, host).height == 4
