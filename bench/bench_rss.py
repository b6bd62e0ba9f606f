"""Peak memory of ``pointline ingest run`` on one ~2 GB (uncompressed) trades CSV, against ``pl.read_csv``.

    python bench/bench_rss.py [--rows 23600000] [--cache bench/out] [--results PATH]

The file is one Tardis-format day of BTCUSDT trades (``tools/generate_bronze.py``'s building blocks:
random walk on the tick grid with the noon tick-size change, clustered timestamps), about 85 bytes a
row uncompressed, so the default 23.6 M rows are 2.0 GB of CSV; it is gzipped, as Tardis ships it.
Generating it takes a few minutes, so it is cached under ``bench/out/`` (gitignored) and reused.

Each measured command runs in a fresh process, started by a small wrapper process that does nothing
else and reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the peak RSS of its largest descendant):

* ``pointline ingest run`` (the installed CLI, one worker) on a fresh lake holding only that file, after
  ``pointline tardis symbols sync --from-file`` (not measured);
* the baseline: ``pl.read_csv(file)`` in a fresh Python (the whole frame in memory, as a naive
  loader would hold it).

The issue's target: ingest peak RSS < 3 GB for a 2 GB file. Not a test: nothing asserts a size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import generator, write_symbol_day
from harness import Result, machine, print_results, write_results
from pointline.config import Lake

OUT = Path(__file__).resolve().parent / "out"
GB = 1e9
TARGET_GB = 3.0
SEED = 11

# Runs the command given as its arguments and prints, as its last stdout line, the command's wall
# time and the peak RSS of the largest process it waited for (Linux reports KiB). The wrapper has no
# other children, so nothing else can raise the figure.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=sys.stderr)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - start, "peak_bytes": peak}))
"""

READ_CSV = "import sys, polars as pl; print(pl.read_csv(sys.argv[1]).height, file=sys.stderr)"


def measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time and peak RSS of ``cmd`` in a fresh process; raises with its output if it fails."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"{' '.join(cmd)}: the measuring wrapper failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {result['rc']}:\n{done.stderr[-3000:]}")
    return result


def cached_file(rows: int, cache: Path) -> tuple[Path, Path, dict[str, Any]]:
    """(gz file, instruments JSON, metadata) of the cached trades day, generated once per size and seed."""
    home = cache / f"rss-trades-{rows}-seed{SEED}"
    meta_path = home / "meta.json"
    if not meta_path.exists():
        building = home.with_name(home.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        started = time.perf_counter()
        print(f"generating {rows:,} trades into {home} (once; cached afterwards) ...", flush=True)
        day = write_symbol_day(Lake(building), rows, data_types=("trades",), seed=SEED)
        meta = {
            "rows": rows,
            "csv_bytes": day.csv_bytes["trades"],
            "gz_bytes": day.files["trades"].stat().st_size,
            "file": str(day.files["trades"].relative_to(building)),
            "instruments": str(day.instruments.relative_to(building)),
            "seconds": round(time.perf_counter() - started, 1),
        }
        (building / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(home, ignore_errors=True)
        building.rename(home)  # only a complete file becomes the cache
    meta = json.loads(meta_path.read_text())
    return home / meta["file"], home / meta["instruments"], meta


def pointline_env(lake: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTLINE_")}
    return env | {"POINTLINE_LAKE": str(lake), "COLUMNS": "160"}


def run(rows: int, cache: Path) -> list[Result]:
    source, instruments, meta = cached_file(rows, cache)
    print(
        f"trades file: {rows:,} rows, {meta['csv_bytes'] / GB:.2f} GB CSV, {meta['gz_bytes'] / GB:.3f} GB gz ({source})"
    )
    cli = str(Path(sys.executable).parent / "pointline")
    lake = cache / "rss-lake"
    shutil.rmtree(lake, ignore_errors=True)
    bronze = Lake(lake).vendor_bronze("tardis") / source.name
    bronze.parent.mkdir(parents=True)
    try:
        os.link(source, bronze)  # same file system: no copy of the cached file
    except OSError:
        shutil.copyfile(source, bronze)
    try:
        env = pointline_env(lake)
        exchange = generator().EXCHANGE
        sync = [cli, "tardis", "symbols", "sync", "--exchange", exchange, "--from-file", str(instruments)]
        subprocess.run(sync, check=True, capture_output=True, env=env)
        ingest = measured([cli, "ingest", "run"], env)
    finally:
        shutil.rmtree(lake, ignore_errors=True)
    raw = measured([sys.executable, "-c", READ_CSV, str(source)])
    size = f"{meta['csv_bytes'] / GB:.2f} GB CSV"
    ingest_gb, raw_gb = ingest["peak_bytes"] / GB, raw["peak_bytes"] / GB
    return [
        Result(
            f"ingest run peak RSS, {size}",
            ingest_gb,
            "GB",
            baseline=raw_gb,
            higher_is_better=False,
            target=f"< {TARGET_GB:g} GB",
            meets_target=ingest_gb < TARGET_GB,
            note=f"{ingest['seconds']:.0f} s, {rows / ingest['seconds'] / 1e6:.2f} M rows/s",
        ),
        Result(
            "raw pl.read_csv peak RSS (baseline)",
            raw_gb,
            "GB",
            note=f"{raw['seconds']:.0f} s, {rows / raw['seconds'] / 1e6:.2f} M rows/s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=23_600_000, help="trades in the file (23.6 M are 2.0 GB of CSV)")
    parser.add_argument("--cache", type=Path, default=OUT, help="where the generated file is cached")
    parser.add_argument("--results", type=Path, help="also write the table as Markdown to this file")
    args = parser.parse_args()
    print(machine())
    results = run(args.rows, args.cache)
    print_results("Ingest memory", results)
    if args.results is not None:
        write_results({"Ingest memory": results}, "python bench/bench_rss.py " + " ".join(sys.argv[1:]), args.results)


if __name__ == "__main__":
    main()
