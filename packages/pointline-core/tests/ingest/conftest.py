"""Fixtures of the ingestion tests: a lake (from pointline.testing) and a host with the in-test vendor."""

from __future__ import annotations

import pytest
from ingest_kit import NAME, KitPlugin
from pointline.plugins.host import PluginHost
from pointline.testing.fixtures import PluginHostFactory


@pytest.fixture
def host(plugin_host: PluginHostFactory) -> PluginHost:
    """Core plus the kit vendor and its exchanges, installed as the process-wide host."""
    return plugin_host((NAME, KitPlugin()))
