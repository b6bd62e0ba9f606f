"""Helpers for the integration suite: it runs with every package of the repository installed together."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples"
"""Real vendor samples, read-only, next to the checkout (never copied into the repository)."""

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without Pointline's plugin and lake variables (so every installed plugin loads)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTLINE_")}
    env.update(extra)
    return env


def script(name: str, python: Path | str = sys.executable) -> Path:
    """A console script installed next to ``python`` (the venv's ``bin/``)."""
    path = Path(python).parent / name
    assert path.exists(), f"{name} is not installed next to {python}"
    return path


@pytest.fixture
def pointline(tmp_path: Path) -> CliRunner:
    """Run the installed ``pointline`` script in a subprocess against a fresh lake; fails on a non-zero exit."""
    lake = tmp_path / "lake"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(script("pointline")), *args],
            capture_output=True,
            text=True,
            env=clean_env(POINTLINE_LAKE=str(lake), COLUMNS="200"),
            timeout=300,
        )
        if check:
            assert done.returncode == 0, f"pointline {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done

    return run
