"""The docs cannot drift: join-semantics examples run here, and research.md names only real functions."""

from __future__ import annotations

import re
from pathlib import Path

import pointline_research
import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_join_semantics_example_runs_and_checks_something() -> None:
    text = (DOCS / "join-semantics.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 7
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        if i > 0:
            assert "assert" in block, f"example {i} of join-semantics.md checks nothing"
        exec(compile(block, f"join-semantics.md example {i}", "exec"), namespace)


@pytest.mark.parametrize("page", ["join-semantics.md", "research.md"])
def test_docs_name_only_functions_that_exist(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    named = set(re.findall(r"\b(query|core|joins|bars|discovery|duck)\.([a-z_][a-z0-9_]*)\(", text))
    assert named, f"{page} names no research function"
    missing = sorted(f"{m}.{f}" for m, f in named if not hasattr(getattr(pointline_research, m), f))
    assert not missing, f"{page} names functions that do not exist: {missing}"
