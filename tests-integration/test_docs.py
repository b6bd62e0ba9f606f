"""The generated reference docs are current: regenerating them from the installed code changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, clean_env

PAGES = ("schemas.md", "cli.md")


def test_reference_docs_match_the_code(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_docs.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    stale = [
        page
        for page in PAGES
        if (tmp_path / page).read_text(encoding="utf-8")
        != (REPO / "docs" / "reference" / page).read_text(encoding="utf-8")
    ]
    assert not stale, f"docs/reference/{', '.join(stale)} are out of date: run `python tools/gen_docs.py`"
