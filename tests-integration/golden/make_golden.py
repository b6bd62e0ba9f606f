"""Regenerate the golden files (``expected/*.csv``) from the current code, and say what changed.

    python tests-integration/golden/make_golden.py            # rebuild, print a diff summary, write
    python tests-integration/golden/make_golden.py --check    # rebuild and compare only; exit 1 on a difference

It builds the golden lake exactly as ``test_golden_pipeline.py`` does (see ``pipeline.py``: real Tardis
samples plus small generated files, ``pointline tardis symbols infer``, ``symbols sync``, ``ingest run``)
in a temporary directory, builds it a second time to prove the output is deterministic, then writes one
CSV per table. Run it with the repository's environment active (every package installed). A change to
these files is a change to what Pointline writes: review the diff (``git diff tests-integration/golden``)
row by row before committing it, as the first version was reviewed by eye.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests-integration/, for `golden`

from golden import pipeline


def build_twice() -> dict[str, pl.DataFrame]:
    """The golden tables, after checking that two independent builds give identical ones."""
    snapshots = []
    for attempt in (1, 2):
        with tempfile.TemporaryDirectory(prefix=f"pointline-golden-{attempt}-") as tmp:
            lake = Path(tmp) / "lake"
            pipeline.build(lake)
            snapshots.append(pipeline.snapshot_all(lake))
    first, second = snapshots
    for name in pipeline.GOLDEN:
        diff = pipeline.difference(first[name], second[name])
        if diff is not None:
            raise pipeline.PipelineError(f"{name} differs between two builds of the same bronze:\n{diff}")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="Compare with the checked-in files; write nothing.")
    args = parser.parse_args(argv)
    tables = build_twice()
    changed = 0
    for name in pipeline.GOLDEN:
        frame = tables[name]
        path = pipeline.expected_path(name)
        if path.exists():
            diff = pipeline.difference(pipeline.read_expected(name), frame)
            status = "unchanged" if diff is None else f"CHANGED\n{diff}"
        else:
            diff, status = "new", "NEW"
        print(f"{name}: {frame.height} rows, {len(frame.columns)} columns: {status}")
        if diff is not None:
            changed += 1
            if not args.check:
                pipeline.write_expected(name, frame)
    rel = pipeline.EXPECTED.relative_to(pipeline.REPO)
    if not changed:
        print(f"all {len(pipeline.GOLDEN)} golden files in {rel} match the current code")
        return 0
    if args.check:
        print(f"{changed} golden file(s) differ; regenerate with python {Path(__file__).relative_to(pipeline.REPO)}")
        return 1
    print(f"wrote {changed} file(s) in {rel}: review `git diff {rel}` row by row before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
