"""Fixtures of the Tardis vendor tests: a vendor, an isolated plugin host, an empty lake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pointline.config import Lake
from pointline.plugins.host import PluginHost, reset_host

from pointline_vendor_tardis import hooks
from pointline_vendor_tardis.vendor import TardisVendor


@pytest.fixture
def vendor() -> TardisVendor:
    return TardisVendor()


@pytest.fixture
def tardis_host() -> Iterator[PluginHost]:
    """A plugin host with core and this plugin only, installed as the process host for CLI calls.

    Other installed plugins are left out so these tests depend on this package and core alone.
    """
    host = PluginHost(entry_points_enabled=False, extra_plugins=[("tardis", hooks)])
    reset_host(host)
    try:
        yield host
    finally:
        reset_host(None)  # the next get_host() loads a fresh one


@pytest.fixture
def tmp_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """An empty lake in tmp_path, selected through POINTLINE_LAKE."""
    root = tmp_path / "lake"
    (root / "bronze" / "tardis").mkdir(parents=True)
    monkeypatch.setenv("POINTLINE_LAKE", str(root))
    return Lake(root)
