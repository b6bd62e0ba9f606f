"""The single owner of the plugin manager, with a typed facade over what plugins registered.

``get_host()`` loads core's built-in plugin and every ``pointline`` entry point once per process.
Operators steer loading with environment variables:

* ``POINTLINE_PLUGINS=tardis,quant360`` — load only these entry points (allowlist);
* ``POINTLINE_DISABLE_PLUGINS=coingecko`` — never load these (blocklist);
* ``POINTLINE_TRACE_PLUGINS=1`` — print every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

import pluggy

from pointline.errors import PluginError, RegistrationConflict, UnknownExchangeError, UnknownTableError, UnknownVendorError
from pointline.exchanges import ExchangeSpec
from pointline.plugins import hookspecs
from pointline.tables.canonical import TABLE_FAMILIES
from pointline.tables.spec import TableSpec
from pointline.vendor import Vendor, resolve_table_name

ENTRY_POINT_GROUP = "pointline"
BUILTIN_NAME = "pointline-core"


@dataclass(frozen=True)
class PluginInfo:
    """What ``pointline plugins`` shows about one loaded plugin."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    vendors: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    exchanges: tuple[str, ...] = ()


T = TypeVar("T")


@dataclass
class _Registry(Generic[T]):
    """Name -> (item, plugin that registered it), rejecting conflicting duplicates."""

    kind: str
    items: dict[str, tuple[T, str]] = field(default_factory=dict)

    def add(self, name: str, item: T, plugin: str) -> None:
        if name in self.items:
            existing, owner = self.items[name]
            if existing == item and owner != plugin:
                return  # two plugins agreeing on identical data is not a conflict
            raise RegistrationConflict(
                f"{self.kind} {name!r} is registered by both {owner!r} and {plugin!r}"
                + ("" if existing == item else " with different definitions")
            )
        self.items[name] = (item, plugin)

    def owner(self, name: str) -> str:
        return self.items[name][1]


class PluginHost:
    """Loads plugins and exposes the vendors, tables and exchanges they registered."""

    def __init__(self, *, entry_points_enabled: bool = True, extra_plugins: Iterable[tuple[str, object]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str, str]] = {}
        self._vendors: _Registry[Vendor] = _Registry("vendor")
        self._tables: _Registry[TableSpec] = _Registry("table")
        self._exchanges: _Registry[ExchangeSpec] = _Registry("exchange")
        if os.environ.get("POINTLINE_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"[pointline plugins] {msg}"))
            self.pm.enable_tracing()
        from pointline.plugins import builtin

        self._register(BUILTIN_NAME, builtin, dist=("pointline-core", _core_version()))
        if entry_points_enabled:
            for ep in _selected_entry_points():
                try:
                    module = ep.load()
                except Exception as exc:  # a broken plugin must not take the CLI down silently
                    raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
                dist = (ep.dist.name, ep.dist.version) if ep.dist is not None else (ep.name, "?")
                self._register(ep.name, module, dist=dist)
        for name, plugin in extra_plugins:
            self._register(name, plugin, dist=(name, "0"))
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin hook error: {exc}") from None
        self._collect()

    def _register(self, name: str, plugin: object, *, dist: tuple[str, str]) -> None:
        if self.pm.has_plugin(name):
            raise PluginError(f"two plugins are named {name!r}")
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin {name!r} could not register: {exc}") from None
        self._dists[name] = dist

    def _call_per_plugin(self, hook: str, **kwargs_for: Callable[[str], Any]) -> None:
        """Call ``hook`` once per plugin, binding arguments that know which plugin is calling."""
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            others = [p for p in self.pm.get_plugins() if p is not impl.plugin]
            sub = self.pm.subset_hook_caller(hook, remove_plugins=others)
            sub(**{k: f(impl.plugin_name) for k, f in kwargs_for.items()})

    def _collect(self) -> None:
        def table(plugin: str) -> Callable[[TableSpec], None]:
            def register(spec: TableSpec) -> None:
                if not isinstance(spec, TableSpec):
                    raise PluginError(f"plugin {plugin!r} registered a {type(spec).__name__} as a table")
                self._tables.add(spec.name, spec, plugin)

            return register

        def exchange(plugin: str) -> Callable[[ExchangeSpec], None]:
            def register(spec: ExchangeSpec) -> None:
                if not isinstance(spec, ExchangeSpec):
                    raise PluginError(f"plugin {plugin!r} registered a {type(spec).__name__} as an exchange")
                self._exchanges.add(spec.name, spec, plugin)

            return register

        def vendor(plugin: str) -> Callable[[Vendor], None]:
            def register(v: Vendor) -> None:
                if not isinstance(v, Vendor) or not v.name:
                    raise PluginError(f"plugin {plugin!r} registered {v!r}, not a named pointline.vendor.Vendor")
                self._vendors.add(v.name, v, plugin)

            return register

        self._call_per_plugin("pointline_register_tables", register=table)
        self._call_per_plugin("pointline_register_exchanges", register=exchange)
        self._call_per_plugin("pointline_register_vendors", register=vendor)

    # -- facade ----------------------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, TableSpec]:
        return {n: t for n, (t, _) in sorted(self._tables.items.items())}

    @property
    def exchanges(self) -> dict[str, ExchangeSpec]:
        return {n: e for n, (e, _) in sorted(self._exchanges.items.items())}

    @property
    def vendors(self) -> dict[str, Vendor]:
        return {n: v for n, (v, _) in sorted(self._vendors.items.items())}

    def table(self, name: str) -> TableSpec:
        """A registered table, or a member of a parameterised family such as ``kline_1m``."""
        if name in self._tables.items:
            return self._tables.items[name][0]
        for pattern, factory in TABLE_FAMILIES.items():
            prefix = pattern.split("{")[0]
            if name.startswith(prefix) and name[len(prefix) :].isalnum():
                spec = factory(name[len(prefix) :])
                self._tables.add(spec.name, spec, BUILTIN_NAME)
                return spec
        raise UnknownTableError(f"unknown table {name!r}; `pointline schema list` shows the registered tables")

    def vendor(self, name: str) -> Vendor:
        try:
            return self._vendors.items[name][0]
        except KeyError:
            known = ", ".join(sorted(self._vendors.items)) or "none installed"
            raise UnknownVendorError(f"unknown vendor {name!r} (installed: {known})") from None

    def exchange(self, name: str) -> ExchangeSpec:
        try:
            return self._exchanges.items[name][0]
        except KeyError:
            raise UnknownExchangeError(
                f"unknown exchange {name!r}: no installed plugin registers it (`pointline plugins` lists them)"
            ) from None

    def table_for(self, vendor: Vendor, data_type: str) -> TableSpec:
        """The table a vendor's data type lands in."""
        return self.table(resolve_table_name(vendor.table_mapping(), data_type))

    def timezones(self) -> dict[str, str]:
        return {n: e.timezone for n, e in self.exchanges.items()}

    def register_commands(self, app: Any) -> None:
        self.pm.hook.pointline_register_commands(app=app)

    def plugin_infos(self) -> list[PluginInfo]:
        out: list[PluginInfo] = []
        for name, plugin in self.pm.list_name_plugin():
            dist, version = self._dists.get(name, (name, "?"))
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            out.append(
                PluginInfo(
                    name=name,
                    distribution=dist,
                    version=version,
                    hooks=hooks,
                    vendors=tuple(n for n, (_, p) in sorted(self._vendors.items.items()) if p == name),
                    tables=tuple(n for n, (_, p) in sorted(self._tables.items.items()) if p == name),
                    exchanges=tuple(n for n, (_, p) in sorted(self._exchanges.items.items()) if p == name),
                )
            )
        return sorted(out, key=lambda i: (i.name != BUILTIN_NAME, i.name))


def _split_env(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


def _selected_entry_points() -> list[EntryPoint]:
    allow = _split_env("POINTLINE_PLUGINS")
    block = _split_env("POINTLINE_DISABLE_PLUGINS") or set()
    selected = []
    seen: set[str] = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in seen:
            continue  # the same distribution seen twice on sys.path
        seen.add(ep.name)
        if allow is not None and ep.name not in allow:
            continue
        if ep.name in block:
            continue
        selected.append(ep)
    return selected


def _core_version() -> str:
    from pointline import __version__

    return __version__


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host(host: PluginHost | None = None) -> None:
    """Replace (or drop) the process-wide host; tests use this to install a fresh one."""
    global _HOST
    _HOST = host


__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "PluginInfo", "get_host", "reset_host"]
