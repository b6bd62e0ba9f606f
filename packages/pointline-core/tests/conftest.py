"""Shared paths and helpers for core's tests (fixtures ``lake`` and ``plugin_host`` come from pointline.testing)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO.parent / "shared" / "samples"
"""Real vendor samples, read-only, next to the checkout (never copied into the repository)."""


@pytest.fixture
def samples() -> Path:
    """The shared samples directory (fails loudly if the checkout lacks its sibling ``shared/``)."""
    assert SAMPLES.is_dir(), f"vendor samples not found at {SAMPLES}: the checkout needs ../shared/samples"
    return SAMPLES
