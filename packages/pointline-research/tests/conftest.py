"""Fixtures of the research tests: a plugin host with the test exchanges, and a temporary lake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pointline.config import Lake
from pointline.plugins.host import PluginHost, reset_host

sys.path.insert(0, str(Path(__file__).parent))

from research_kit import ResearchTestPlugin


@pytest.fixture(autouse=True)
def host() -> Iterator[PluginHost]:
    """A fresh host with core, the research commands and the test exchanges; no installed entry points."""
    import pointline_research.hooks

    fresh = PluginHost(
        entry_points_enabled=False,
        extra_plugins=[("research", pointline_research.hooks), ("research-test", ResearchTestPlugin())],
    )
    reset_host(fresh)
    yield fresh
    reset_host(None)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """An empty lake under tmp_path, also made the configured lake (POINTLINE_LAKE)."""
    root = tmp_path / "lake"
    root.mkdir()
    monkeypatch.setenv("POINTLINE_LAKE", str(root))
    return Lake(root)
