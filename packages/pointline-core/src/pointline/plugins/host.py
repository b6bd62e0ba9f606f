"""The single owner of the plugin manager, with a typed facade over what plugins registered.

``get_host()`` loads core's built-in plugin and every ``pointline`` entry point once per process.
Operators steer loading with environment variables:

* ``POINTLINE_PLUGINS=tardis,quant360`` — load only these entry points (allowlist; set but empty loads
  none, which leaves core alone);
* ``POINTLINE_DISABLE_PLUGINS=coingecko`` — never load these (blocklist);
* ``POINTLINE_TRACE_PLUGINS=1`` — print every plugin load, skip and hook call to stderr.

Nothing outside this module calls ``pm.hook.*``: the facade (``tables``, ``vendors``, ``exchanges``,
``table_for``, ``register_commands``, ...) is the typed surface.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pluggy

from pointline.errors import (
    PluginError,
    RegistrationConflict,
    UnknownExchangeError,
    UnknownTableError,
    UnknownVendorError,
)
from pointline.exchanges import ExchangeSpec
from pointline.plugins import hookspecs
from pointline.tables.canonical import TABLE_FAMILIES
from pointline.tables.spec import TableSpec
from pointline.vendor import Vendor, resolve_table_name

if TYPE_CHECKING:
    import typer

ENTRY_POINT_GROUP = "pointline"
BUILTIN_NAME = "pointline-core"
ALLOW_ENV = "POINTLINE_PLUGINS"
BLOCK_ENV = "POINTLINE_DISABLE_PLUGINS"
TRACE_ENV = "POINTLINE_TRACE_PLUGINS"


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
    """Name -> (item, plugin that registered it), rejecting conflicting duplicates.

    ``identity`` maps an item to what must agree between two registrations of one name (by default
    the item itself); agreeing registrations are accepted and the first one is kept.
    """

    kind: str
    identity: Callable[[T], object] = lambda item: item
    items: dict[str, tuple[T, str]] = field(default_factory=dict)

    def add(self, name: str, item: T, plugin: str) -> None:
        if name in self.items:
            existing, owner = self.items[name]
            if self.identity(existing) == self.identity(item):
                return  # the same definition twice (one plugin or two) is not a conflict
            who = f"twice by {owner!r}" if owner == plugin else f"by both {owner!r} and {plugin!r}"
            raise RegistrationConflict(f"{self.kind} {name!r} is registered {who} with different definitions")
        self.items[name] = (item, plugin)

    def owner(self, name: str) -> str:
        return self.items[name][1]


def _exchange_identity(spec: ExchangeSpec) -> tuple[str, str, str, str | None, str | None]:
    # The description is prose: two vendors may word it differently without disagreeing.
    return (spec.name, spec.asset_class, spec.timezone, spec.mic, spec.calendar)


def _family_spec(name: str) -> TableSpec | None:
    """The spec core's table families build for ``name`` (``kline_1m``), or None if no family matches."""
    for pattern, factory in TABLE_FAMILIES.items():
        prefix = pattern.split("{")[0]
        parameter = name[len(prefix) :]
        if name.startswith(prefix) and parameter.isalnum():
            try:
                return factory(parameter)
            except ValueError:
                return None
    return None


class PluginHost:
    """Loads plugins and exposes the vendors, tables and exchanges they registered.

    ``entry_points_enabled=False`` loads only core (tests); ``extra_plugins`` registers more plugin
    objects (modules or instances with ``@hookimpl`` functions) under the given names, after the
    entry points.
    """

    def __init__(self, *, entry_points_enabled: bool = True, extra_plugins: Iterable[tuple[str, object]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str, str]] = {}
        self._vendors: _Registry[Vendor] = _Registry("vendor")
        self._tables: _Registry[TableSpec] = _Registry("table")
        self._exchanges: _Registry[ExchangeSpec] = _Registry("exchange", identity=_exchange_identity)
        self._trace = bool(os.environ.get(TRACE_ENV))
        if self._trace:
            self.pm.add_hookcall_monitoring(self._trace_before, self._trace_after)
        from pointline.plugins import builtin

        self._register(BUILTIN_NAME, builtin, dist=("pointline-core", _core_version()))
        if entry_points_enabled:
            for ep in self._selected_entry_points():
                try:
                    module = ep.load()
                except Exception as exc:  # a broken plugin must not take the CLI down silently
                    raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
                dist = (ep.dist.name, ep.dist.version) if ep.dist is not None else (ep.name, "?")
                self._register(ep.name, module, dist=dist)
                self._log(f"loaded {ep.name} ({dist[0]} {dist[1]}) from {ep.value}")
        for name, plugin in extra_plugins:
            self._register(name, plugin, dist=(name, "0"))
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin hook error: {_one_line(exc)}") from None
        self._collect()

    # -- loading ---------------------------------------------------------------------------------
    def _log(self, message: str) -> None:
        if self._trace:
            sys.stderr.write(f"[pointline plugins] {message}\n")

    def _trace_before(self, hook_name: str, methods: Sequence[Any], kwargs: Mapping[str, object]) -> None:
        self._log(f"call {hook_name} -> {', '.join(m.plugin_name for m in methods) or '(no implementations)'}")

    def _trace_after(self, outcome: Any, hook_name: str, methods: Sequence[Any], kwargs: Mapping[str, object]) -> None:
        if outcome.exception is not None:
            self._log(f"{hook_name} raised {outcome.exception!r}")

    def _selected_entry_points(self) -> list[EntryPoint]:
        allow = _split_env(ALLOW_ENV)
        block = _split_env(BLOCK_ENV) or set()
        selected: list[EntryPoint] = []
        seen: dict[str, EntryPoint] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in seen:
                first = seen[ep.name]
                if first.value == ep.value and _dist_name(first) == _dist_name(ep):
                    continue  # the same distribution seen twice on sys.path
                raise PluginError(
                    f"two distributions declare the pointline plugin {ep.name!r}: "
                    f"{_dist_name(first)} ({first.value}) and {_dist_name(ep)} ({ep.value})"
                )
            seen[ep.name] = ep
            if allow is not None and ep.name not in allow:
                self._log(f"skipped {ep.name}: not in {ALLOW_ENV}")
                continue
            if ep.name in block:
                self._log(f"skipped {ep.name}: listed in {BLOCK_ENV}")
                continue
            selected.append(ep)
        return selected

    def _register(self, name: str, plugin: object, *, dist: tuple[str, str]) -> None:
        if self.pm.has_plugin(name):
            raise PluginError(f"two plugins are named {name!r}")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} has an invalid hook implementation: {_one_line(exc)}") from None
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
                family = _family_spec(spec.name) if plugin != BUILTIN_NAME else None
                if family is not None and family != spec:
                    raise RegistrationConflict(
                        f"table {spec.name!r} registered by {plugin!r} differs from the one {BUILTIN_NAME!r} "
                        "builds for that name (a member of a core table family)"
                    )
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
        """Every registered table by name (family members appear once resolved)."""
        return {n: t for n, (t, _) in sorted(self._tables.items.items())}

    @property
    def exchanges(self) -> dict[str, ExchangeSpec]:
        """Every registered exchange by name."""
        return {n: e for n, (e, _) in sorted(self._exchanges.items.items())}

    @property
    def vendors(self) -> dict[str, Vendor]:
        """Every registered vendor by name."""
        return {n: v for n, (v, _) in sorted(self._vendors.items.items())}

    def table(self, name: str) -> TableSpec:
        """A registered table, or a member of a parameterised family such as ``kline_1m``."""
        if name in self._tables.items:
            return self._tables.items[name][0]
        spec = _family_spec(name)
        if spec is not None:
            self._tables.add(spec.name, spec, BUILTIN_NAME)
            return spec
        raise UnknownTableError(f"unknown table {name!r}; `pointline schema list` shows the registered tables")

    def table_owner(self, name: str) -> str:
        """The plugin that registered table ``name`` (resolving family members first)."""
        self.table(name)
        return self._tables.owner(name)

    def vendor(self, name: str) -> Vendor:
        """A registered vendor, or :class:`UnknownVendorError` listing the installed ones."""
        try:
            return self._vendors.items[name][0]
        except KeyError:
            known = ", ".join(sorted(self._vendors.items)) or "none installed"
            raise UnknownVendorError(f"unknown vendor {name!r} (installed: {known})") from None

    def exchange(self, name: str) -> ExchangeSpec:
        """A registered exchange, or :class:`UnknownExchangeError`."""
        try:
            return self._exchanges.items[name][0]
        except KeyError:
            raise UnknownExchangeError(
                f"unknown exchange {name!r}: no installed plugin registers it (`pointline plugins` lists them)"
            ) from None

    def exchange_owner(self, name: str) -> str:
        """The plugin that first registered exchange ``name``."""
        self.exchange(name)
        return self._exchanges.owner(name)

    def table_for(self, vendor: Vendor, data_type: str) -> TableSpec:
        """The table a vendor's data type lands in."""
        return self.table(resolve_table_name(vendor.table_mapping(), data_type))

    def timezones(self) -> dict[str, str]:
        """Exchange name -> IANA timezone, for exchange-local dates."""
        return {n: e.timezone for n, e in self.exchanges.items()}

    def register_commands(self, app: typer.Typer) -> None:
        """Let core and every plugin add their commands to ``app``, core first, then plugins by name."""
        self._call_per_plugin("pointline_register_commands", app=lambda _plugin: app)

    def plugin_infos(self) -> list[PluginInfo]:
        """One :class:`PluginInfo` per loaded plugin, core first."""
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


def _one_line(exc: BaseException) -> str:
    """pluggy's messages span lines; user errors are printed as one."""
    return " ".join(str(exc).split())


def _dist_name(ep: EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def _split_env(name: str) -> set[str] | None:
    """Comma-separated names from an environment variable; None when unset, empty when set but empty."""
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


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
