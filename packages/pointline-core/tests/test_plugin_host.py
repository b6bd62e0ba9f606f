"""The plugin host: loading, registration rules, conflicts naming both plugins, operator controls."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import toy_plugin
from pointline.errors import (
    PluginError,
    RegistrationConflict,
    UnknownExchangeError,
    UnknownTableError,
    UnknownVendorError,
)
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.plugins.host import BUILTIN_NAME, PluginHost, get_host, reset_host
from pointline.tables.canonical import TRADES, kline
from pointline.tables.spec import Column, TableSpec, Tier
from pointline.testing.fixtures import PluginHostFactory, host_factory

CANONICAL = {
    "trades",
    "quotes",
    "book_snapshot_25",
    "book_snapshot_5",
    "derivative_ticker",
    "liquidations",
    "options_chain",
    "incremental_book_l2",
    "kline_1h",
    "kline_1d",
    "fundamentals",
    "dim_symbol",
    "dim_asset_stats",
    "dim_exchange",
    "dim_trading_calendar",
    "ingest_manifest",
    "validation_log",
    "dq_summary",
    "quarantine",
}


class Tables:
    """A test plugin registering the given table specs."""

    def __init__(self, *specs: TableSpec) -> None:
        self.specs = specs

    @hookimpl
    def pointline_register_tables(self, register: Callable[[TableSpec], None]) -> None:
        for spec in self.specs:
            register(spec)


class Exchanges:
    """A test plugin registering the given exchanges."""

    def __init__(self, *specs: ExchangeSpec) -> None:
        self.specs = specs

    @hookimpl
    def pointline_register_exchanges(self, register: Callable[[ExchangeSpec], None]) -> None:
        for spec in self.specs:
            register(spec)


def small_table(name: str, dtype: pl.DataType = pl.Int64()) -> TableSpec:
    return TableSpec(name=name, tier=Tier.DIM, columns=(Column("k", dtype),), description="test table")


BINANCE = ExchangeSpec("binance", "crypto_spot", "UTC", description="Binance spot")


# -- core alone ------------------------------------------------------------------------------------
def test_core_registers_the_canonical_tables_through_its_own_hooks() -> None:
    host = PluginHost(entry_points_enabled=False)
    assert set(host.tables) == CANONICAL
    assert host.tables["fundamentals"].status.value == "planned"
    core = host.plugin_infos()[0]
    assert core.name == BUILTIN_NAME
    assert core.distribution == "pointline-core"
    assert set(core.hooks) == {"pointline_register_tables", "pointline_register_commands"}
    assert set(core.tables) == CANONICAL
    assert core.exchanges == ()  # core hard-codes no exchange


def test_table_families_resolve_on_demand() -> None:
    host = PluginHost(entry_points_enabled=False)
    assert host.table("kline_1m") == kline("1m")
    assert host.table("book_snapshot_10").column_names[-1] == "bid9_qty_int"
    assert host.table_owner("kline_1m") == BUILTIN_NAME
    for bad in ("book_snapshot_x", "kline_", "klines_1m", "nope"):
        with pytest.raises(UnknownTableError, match="pointline schema list"):
            host.table(bad)


def test_toy_plugin_registers_vendor_and_exchange(plugin_host: PluginHostFactory) -> None:
    host = plugin_host(toy_plugin)
    vendor = host.vendor("toy")
    assert isinstance(vendor, toy_plugin.ToyVendor)
    assert host.exchange("bitmex").timezone == "UTC"
    assert host.exchange_owner("bitmex") == "toy_plugin"
    assert host.table_for(vendor, "trades") is host.table("trades")
    assert host.table_for(vendor, "klines_4h") == kline("4h")
    assert host.timezones() == {"bitmex": "UTC"}
    info = next(i for i in host.plugin_infos() if i.name == "toy_plugin")
    assert info.vendors == ("toy",)
    assert info.exchanges == ("bitmex",)
    assert info.hooks == ("pointline_register_exchanges", "pointline_register_vendors")
    assert get_host() is host  # the fixture installs it process-wide


def test_unknown_names_are_typed_errors_that_say_what_exists(plugin_host: PluginHostFactory) -> None:
    host = plugin_host(toy_plugin)
    with pytest.raises(UnknownVendorError, match=r"unknown vendor 'nope' \(installed: toy\)"):
        host.vendor("nope")
    with pytest.raises(UnknownExchangeError, match="'nyse'"):
        host.exchange("nyse")
    with pytest.raises(UnknownTableError, match="no table for data type 'bookTicker'"):
        host.table_for(host.vendor("toy"), "bookTicker")


# -- registration rules ----------------------------------------------------------------------------
def test_conflicting_tables_from_two_plugins_name_both() -> None:
    with pytest.raises(RegistrationConflict, match=r"table 'extra' is registered by both 'alpha' and 'beta'"):
        PluginHost(
            entry_points_enabled=False,
            extra_plugins=[
                ("alpha", Tables(small_table("extra"))),
                ("beta", Tables(small_table("extra", pl.String()))),
            ],
        )


def test_a_plugin_cannot_redefine_a_core_table() -> None:
    changed = dataclasses.replace(TRADES, description="my trades")
    with pytest.raises(RegistrationConflict, match=r"'trades' is registered by both 'pointline-core' and 'rogue'"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("rogue", Tables(changed))])


def test_a_plugin_cannot_redefine_a_member_of_a_core_family() -> None:
    other = dataclasses.replace(kline("1m"), description="different")
    with pytest.raises(RegistrationConflict, match=r"'kline_1m' registered by 'rogue' differs .* 'pointline-core'"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("rogue", Tables(other))])
    same = PluginHost(entry_points_enabled=False, extra_plugins=[("fine", Tables(kline("1m")))])
    assert same.table_owner("kline_1m") == "fine"


def test_identical_registrations_are_not_conflicts() -> None:
    host = PluginHost(
        entry_points_enabled=False,
        extra_plugins=[
            ("alpha", Tables(small_table("extra"), small_table("extra"))),
            ("beta", Tables(small_table("extra"), TRADES)),
        ],
    )
    assert host.table_owner("extra") == "alpha"
    assert host.table_owner("trades") == BUILTIN_NAME


def test_one_plugin_registering_a_name_twice_differently_is_named() -> None:
    with pytest.raises(RegistrationConflict, match=r"table 'extra' is registered twice by 'alpha'"):
        PluginHost(
            entry_points_enabled=False,
            extra_plugins=[("alpha", Tables(small_table("extra"), small_table("extra", pl.String())))],
        )


def test_exchanges_conflict_only_when_their_facts_differ() -> None:
    reworded = dataclasses.replace(BINANCE, description="Binance, the spot market")
    host = PluginHost(
        entry_points_enabled=False, extra_plugins=[("alpha", Exchanges(BINANCE)), ("beta", Exchanges(reworded))]
    )
    assert host.exchange("binance").description == "Binance spot"
    assert host.exchange_owner("binance") == "alpha"
    shifted = dataclasses.replace(BINANCE, timezone="Asia/Tokyo")
    with pytest.raises(RegistrationConflict, match=r"exchange 'binance' is registered by both 'alpha' and 'beta'"):
        PluginHost(
            entry_points_enabled=False, extra_plugins=[("alpha", Exchanges(BINANCE)), ("beta", Exchanges(shifted))]
        )


def test_two_plugins_registering_the_same_vendor_name_conflict() -> None:
    with pytest.raises(RegistrationConflict, match=r"vendor 'toy' is registered by both 'one' and 'two'"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("one", toy_plugin), ("two", ToyAgain())])


class ToyAgain:
    @hookimpl
    def pointline_register_vendors(self, register: Callable[[object], None]) -> None:
        register(toy_plugin.ToyVendor())


class WrongThings:
    @hookimpl
    def pointline_register_tables(self, register: Callable[[object], None]) -> None:
        register({"name": "trades"})


class Unnamed:
    @hookimpl
    def pointline_register_vendors(self, register: Callable[[object], None]) -> None:
        register(object())


def test_registering_the_wrong_kind_of_object_names_the_plugin() -> None:
    with pytest.raises(PluginError, match=r"plugin 'wrong' registered a dict as a table"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("wrong", WrongThings())])
    with pytest.raises(PluginError, match=r"plugin 'unnamed' registered .* not a named pointline.vendor.Vendor"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("unnamed", Unnamed())])


class Misspelled:
    @hookimpl
    def pointline_register_vendor(self, register: Callable[[object], None]) -> None:  # singular: no such hook
        raise AssertionError("never called")


class BadArguments:
    @hookimpl
    def pointline_register_tables(self, registrar: Callable[[object], None]) -> None:  # wrong argument name
        raise AssertionError("never called")


def test_a_misspelled_hook_fails_loudly_through_check_pending() -> None:
    with pytest.raises(PluginError, match=r"plugin hook error: .*pointline_register_vendor"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("typo", Misspelled())])


def test_a_hook_with_unknown_arguments_is_rejected_at_registration() -> None:
    with pytest.raises(PluginError, match=r"plugin 'bad' has an invalid hook implementation.*registrar"):
        PluginHost(entry_points_enabled=False, extra_plugins=[("bad", BadArguments())])


def test_two_plugins_with_one_name_are_rejected() -> None:
    with pytest.raises(PluginError, match=r"two plugins are named 'pointline-core'"):
        PluginHost(entry_points_enabled=False, extra_plugins=[(BUILTIN_NAME, Tables())])


def test_get_host_is_cached_and_reset_host_replaces_it(plugin_host: PluginHostFactory) -> None:
    mine = plugin_host()
    assert get_host() is mine is get_host()
    other = PluginHost(entry_points_enabled=False)
    reset_host(other)
    assert get_host() is other


def test_the_plugin_host_factory_restores_the_previous_host() -> None:
    before = PluginHost(entry_points_enabled=False)
    reset_host(before)
    try:
        with host_factory() as make:
            inside = make(toy_plugin)
            assert get_host() is inside
        assert get_host() is before
    finally:
        reset_host(None)


# -- entry points and the operator environment variables ---------------------------------------------
def fake_distribution(root: Path, dist: str, version: str, plugins: dict[str, str]) -> None:
    """A minimal installed distribution on ``root``: dist-info with entry points plus plugin modules.

    ``plugins`` maps an entry-point name to the source of its hooks module (named ``<dist>_<name>``).
    """
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = ["[pointline]"]
    for name, source in plugins.items():
        module = f"{dist.replace('-', '_')}_{name.replace('-', '_')}"
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        lines.append(f"{name} = {module}")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


EXCHANGE_HOOKS = """
    from pointline.exchanges import ExchangeSpec
    from pointline.plugins.hookspecs import hookimpl

    @hookimpl
    def pointline_register_exchanges(register):
        register(ExchangeSpec("{name}", "crypto_spot", "UTC"))
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path holding two fake plugin distributions (``alpha`` and ``beta``)."""
    root = tmp_path / "site"
    fake_distribution(root, "pointline-vendor-alpha", "1.2.3", {"alpha": EXCHANGE_HOOKS.format(name="alpha-x")})
    fake_distribution(root, "pointline-vendor-beta", "0.4.0", {"beta": EXCHANGE_HOOKS.format(name="beta-x")})
    monkeypatch.syspath_prepend(str(root))
    for var in ("POINTLINE_PLUGINS", "POINTLINE_DISABLE_PLUGINS", "POINTLINE_TRACE_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    return root


def loaded(host: PluginHost) -> set[str]:
    return {i.name for i in host.plugin_infos()} & {"alpha", "beta"}


def test_entry_points_are_discovered_with_distribution_and_version(site: Path) -> None:
    host = PluginHost()
    assert loaded(host) == {"alpha", "beta"}
    alpha = next(i for i in host.plugin_infos() if i.name == "alpha")
    assert (alpha.distribution, alpha.version) == ("pointline-vendor-alpha", "1.2.3")
    assert alpha.exchanges == ("alpha-x",)


def test_allowlist_blocklist_and_empty_allowlist(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTLINE_PLUGINS", "beta")
    assert loaded(PluginHost()) == {"beta"}
    monkeypatch.setenv("POINTLINE_PLUGINS", "")
    assert [i.name for i in PluginHost().plugin_infos()] == [BUILTIN_NAME]
    monkeypatch.delenv("POINTLINE_PLUGINS")
    monkeypatch.setenv("POINTLINE_DISABLE_PLUGINS", "alpha, gamma")
    assert loaded(PluginHost()) == {"beta"}


def test_trace_prints_loads_skips_and_hook_calls(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POINTLINE_TRACE_PLUGINS", "1")
    monkeypatch.setenv("POINTLINE_DISABLE_PLUGINS", "beta")
    PluginHost()
    err = capsys.readouterr().err
    assert "[pointline plugins] loaded alpha (pointline-vendor-alpha 1.2.3)" in err
    assert "[pointline plugins] skipped beta: listed in POINTLINE_DISABLE_PLUGINS" in err
    assert "[pointline plugins] call pointline_register_exchanges -> alpha" in err
    monkeypatch.delenv("POINTLINE_TRACE_PLUGINS")
    PluginHost()
    assert capsys.readouterr().err == ""


def test_a_plugin_that_fails_to_import_is_a_plugin_error(site: Path) -> None:
    fake_distribution(site / "broken", "pointline-vendor-broken", "0.1", {"broken": "raise ImportError('no module x')"})
    sys.path.insert(0, str(site / "broken"))
    try:
        with pytest.raises(PluginError, match=r"plugin 'broken' .* failed to import: no module x"):
            PluginHost()
    finally:
        sys.path.remove(str(site / "broken"))


def test_two_distributions_declaring_one_plugin_name_are_named(site: Path) -> None:
    fake_distribution(site / "dupe", "pointline-vendor-impostor", "9.9", {"alpha": EXCHANGE_HOOKS.format(name="z")})
    sys.path.insert(0, str(site / "dupe"))
    try:
        with pytest.raises(
            PluginError, match=r"'alpha'.*pointline-vendor-(alpha|impostor).*pointline-vendor-(alpha|impostor)"
        ):
            PluginHost()
    finally:
        sys.path.remove(str(site / "dupe"))
