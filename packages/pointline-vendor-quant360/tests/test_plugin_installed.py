"""The Quant360 plugin is installed: its entry point loads, and it registers SZSE/SSE and the China L3 tables."""

from __future__ import annotations

import datetime as dt

import pointline_vendor_quant360
import polars as pl
import pytest
from pointline.config import Lake
from pointline.dims import calendar
from pointline.plugins.host import PluginHost
from pointline.storage.delta import TableStore
from pointline.tables.spec import Status, TableSpec, Tier
from pointline.testing.installed import PluginInstalled, only_plugin, plugin_info
from pointline_vendor_quant360 import hooks
from pointline_vendor_quant360.tables import TABLES

NAME = "quant360"
TABLE_NAMES = {"szse_l3_orders", "szse_l3_ticks", "sse_l3_orders", "sse_l3_ticks", "stock_basic_cn"}


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    return only_plugin(NAME, monkeypatch)


class TestInstalled(PluginInstalled):
    plugin_name = NAME
    distribution = "pointline-vendor-quant360"
    hooks_module = hooks
    package_version = pointline_vendor_quant360.__version__


def test_it_registers_its_hooks_exchanges_and_tables(host: PluginHost) -> None:
    info = plugin_info(host, NAME)
    assert info.hooks == ("pointline_register_exchanges", "pointline_register_tables")
    assert info.vendors == ()  # no parser yet: the package says so rather than registering a stub
    assert set(info.exchanges) == {"szse", "sse"}
    assert set(info.tables) == TABLE_NAMES
    assert host.table_owner("szse_l3_orders") == NAME


def test_exchanges_are_china_time_with_the_shanghai_calendar(host: PluginHost) -> None:
    szse, sse = host.exchange("szse"), host.exchange("sse")
    assert (szse.mic, sse.mic) == ("XSHE", "XSHG")
    for spec in (szse, sse):
        assert spec.asset_class == "equity"
        assert spec.timezone == "Asia/Shanghai"
        assert spec.calendar == "XSHG"  # exchange_calendars has no XSHE


def test_the_calendar_code_works_offline_for_both_exchanges(host: PluginHost) -> None:
    for name in ("szse", "sse"):
        days = calendar.sessions(host.exchange(name), dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        assert days["is_session"].sum() == 242


def test_l3_tables_are_planned_exchange_partitioned_and_sequence_ordered(host: PluginHost) -> None:
    for name, sequence in (
        ("szse_l3_orders", "appl_seq_num"),
        ("szse_l3_ticks", "appl_seq_num"),
        ("sse_l3_orders", "biz_index"),
        ("sse_l3_ticks", "biz_index"),
    ):
        spec = host.table(name)
        assert spec.tier is Tier.SILVER
        assert spec.status is Status.PLANNED
        assert spec.partition_by == ("exchange", "date")
        assert spec.lineage_key == ("file_id", "file_line_number")
        assert spec.ordering_key == ("symbol_id", "date", "channel_no", sequence)
        assert spec.column(sequence).dtype == pl.Int64
        assert spec.column(sequence).delta_encoded
        assert spec.column("channel_no").dtype == pl.Int32
        assert spec.column("qty_int").fixed_point == "amount"
        assert "shares" in spec.column("qty_int").description
        assert spec.column("trading_phase").nullable
        assert any("no arrival time" in note for note in spec.notes)
        assert spec.is_event_table
        assert "px" in spec.parse_schema()  # the parser hands over decimal text


def test_szse_orders_keep_order_type_u_and_raw_side_codes(host: PluginHost) -> None:
    orders = host.table("szse_l3_orders")
    assert "'U' own-side best" in orders.column("order_type").description
    assert "'G' borrow, 'F' lend" in orders.column("side_code").description
    ticks = host.table("szse_l3_ticks")
    assert ticks.column("bid_appl_seq_num").nullable
    assert ticks.column("offer_appl_seq_num").nullable


def test_stock_basic_cn_is_point_in_time_reference_data(host: PluginHost) -> None:
    spec = host.table("stock_basic_cn")
    assert spec.tier is Tier.DIM
    assert spec.lineage_key == ("exchange", "exchange_symbol", "known_at_us")
    assert not spec.column("known_at_us").nullable


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_every_table_can_be_created_in_a_lake(spec: TableSpec, lake: Lake) -> None:
    store = TableStore(lake, spec)
    store.create()
    assert store.read().schema == store.spec.schema
