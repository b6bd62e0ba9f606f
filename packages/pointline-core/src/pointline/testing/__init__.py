"""Pointline's test kit for core and for vendor packages (install ``pointline-core[testing]``).

* :mod:`pointline.testing.fixtures` — pytest fixtures, loaded automatically through the ``pytest11``
  entry point: ``lake`` (a fresh lake in ``tmp_path`` with ``POINTLINE_LAKE`` pointing at it) and
  ``plugin_host`` (a factory of fresh plugin hosts, installed as the process-wide host for the test);
* :mod:`pointline.testing.conformance` — :class:`~pointline.testing.conformance.VendorConformance`, the
  contract tests every vendor package subclasses with its vendor and real sample files;
* :mod:`pointline.testing.installed` — :class:`~pointline.testing.installed.PluginInstalled`, the
  "entry point declared and loaded with its version" tests every plugin distribution subclasses.

A third-party vendor gets the same kit as the first-party ones; ``docs/writing-a-vendor.md`` shows how.
"""

from __future__ import annotations

__all__ = ["PluginInstalled", "VendorConformance"]


def __getattr__(name: str) -> object:
    # Lazy: importing pointline.testing must not import pytest machinery until a test asks for it.
    if name == "VendorConformance":
        from pointline.testing.conformance import VendorConformance

        return VendorConformance
    if name == "PluginInstalled":
        from pointline.testing.installed import PluginInstalled

        return PluginInstalled
    raise AttributeError(name)
