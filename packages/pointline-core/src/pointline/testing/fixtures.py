"""pytest fixtures shipped with core, registered as the ``pointline`` ``pytest11`` plugin.

Any test session that has ``pointline-core`` installed gets them without a ``conftest.py``:

``lake``
    A fresh :class:`~pointline.config.Lake` under ``tmp_path``; ``POINTLINE_LAKE`` points at it for the
    duration of the test, so the CLI and library defaults use it too.
``plugin_host``
    A factory: ``plugin_host(my_hooks, ("other", obj), entry_points=False)`` builds a fresh
    :class:`~pointline.plugins.host.PluginHost` with core, the given plugins and (optionally) the
    installed entry points, installs it as the process-wide host (what ``get_host()`` and the CLI
    see), and restores the previous host after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from pointline.config import Lake
from pointline.plugins import host as host_module
from pointline.plugins.host import PluginHost, reset_host

PluginHostFactory = Callable[..., PluginHost]
"""``(*plugins, entry_points=False) -> PluginHost``; a plugin is a module, an object, or ``(name, obj)``."""


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A fresh, empty lake in ``tmp_path``, also exported as ``POINTLINE_LAKE``."""
    root = tmp_path / "lake"
    root.mkdir()
    monkeypatch.setenv("POINTLINE_LAKE", str(root))
    return Lake(root)


def _named(plugin: object) -> tuple[str, object]:
    if isinstance(plugin, tuple):
        name, obj = plugin
        return str(name), obj
    if isinstance(plugin, ModuleType):
        return plugin.__name__, plugin
    return type(plugin).__name__, plugin


@contextmanager
def host_factory() -> Iterator[PluginHostFactory]:
    """What the ``plugin_host`` fixture does, usable outside pytest: restores the previous host on exit."""
    previous = host_module._HOST

    def make(*plugins: object, entry_points: bool = False) -> PluginHost:
        host = PluginHost(entry_points_enabled=entry_points, extra_plugins=[_named(p) for p in plugins])
        reset_host(host)
        return host

    try:
        yield make
    finally:
        reset_host(previous)


@pytest.fixture
def plugin_host() -> Iterator[PluginHostFactory]:
    """A factory of fresh plugin hosts; the one built last is the process-wide host until teardown."""
    with host_factory() as make:
        yield make
