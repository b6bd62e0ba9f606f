"""``PluginInstalled``: the "my plugin is installed" tests every plugin distribution needs.

Subclass it in a plugin package's tests and set the class attributes::

    class TestInstalled(PluginInstalled):
        plugin_name = "foo"                      # the entry-point name in group "pointline"
        distribution = "pointline-vendor-foo"
        hooks_module = pointline_vendor_foo.hooks
        package_version = pointline_vendor_foo.__version__   # optional

The tests prove the entry point is declared by that distribution and loads the hooks module, and that
a real :class:`~pointline.plugins.host.PluginHost` loads the plugin with the distribution's version.
:func:`only_plugin` builds such a host for a package's own further assertions.
"""

from __future__ import annotations

from importlib.metadata import entry_points, version
from types import ModuleType
from typing import ClassVar

import pytest

from pointline.plugins.host import ENTRY_POINT_GROUP, PluginHost, PluginInfo


def only_plugin(name: str, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """A real host loading installed entry points, restricted to plugin ``name`` (others may be installed)."""
    monkeypatch.setenv("POINTLINE_PLUGINS", name)
    monkeypatch.delenv("POINTLINE_DISABLE_PLUGINS", raising=False)
    return PluginHost()


def plugin_info(host: PluginHost, name: str) -> PluginInfo:
    """The one :class:`PluginInfo` of plugin ``name`` in ``host``."""
    (info,) = [i for i in host.plugin_infos() if i.name == name]
    return info


class PluginInstalled:
    """Installed-plugin tests; a subclass sets the class attributes below."""

    plugin_name: ClassVar[str] = ""
    distribution: ClassVar[str] = ""
    hooks_module: ClassVar[ModuleType | None] = None
    package_version: ClassVar[str | None] = None
    """The package's own ``__version__``, checked against the distribution's metadata when given."""

    def test_entry_point_is_declared_by_the_distribution(self) -> None:
        assert self.plugin_name, "set plugin_name"
        assert self.distribution, "set distribution"
        assert self.hooks_module is not None, "set hooks_module"
        (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == self.plugin_name]
        assert ep.value == self.hooks_module.__name__
        assert ep.dist is not None
        assert ep.dist.name == self.distribution
        assert ep.load() is self.hooks_module

    def test_plugin_host_loads_it_with_its_version(self, monkeypatch: pytest.MonkeyPatch) -> None:
        info = plugin_info(only_plugin(self.plugin_name, monkeypatch), self.plugin_name)
        assert info.distribution == self.distribution
        assert info.version == version(self.distribution)
        if self.package_version is not None:
            assert info.version == self.package_version
