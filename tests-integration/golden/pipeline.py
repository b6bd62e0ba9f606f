"""The golden pipeline: fixed bronze in, the ``pointline`` CLI run exactly as a user runs it, silver out.

``test_golden_pipeline.py`` compares what this produces with the checked-in CSV files in ``expected/``;
``make_golden.py`` regenerates those files. Both build the lake with :func:`build`, so what is compared is
what is regenerated.

Bronze, all under ``<lake>/bronze/tardis/`` with Tardis's own download names:

* every real sample of ``shared/samples/tardis/derived_gz`` (book snapshots 25 and 5, trades, quotes,
  two derivative tickers, incremental L2), copied byte for byte;
* ``shared/samples/tardis/options_chain.csv`` gzipped as the grouped file
  ``deribit_options_chain_2020-06-08_OPTIONS.csv.gz`` (six options of two underlyings in one file);
* ``tools/generate_bronze.py`` output (2 days from 2024-05-01, 100 rows per full symbol-day, fixed seed):
  trades and quotes of BTCUSDT (tick 0.01 -> 0.1 at noon of day 1), ETHUSDT, SOLUSDT (listed 13:00 on
  day 1) and BTCUSDT_240628 (a future whose name starts with BTCUSDT), plus one grouped ``PERPETUALS``
  derivative_ticker file per day, and its instruments-API JSON.

Then, as a user with files on disk would: ``pointline tardis symbols infer`` (provisional dim_symbol
versions from the files themselves: the real samples come with no instrument metadata), ``pointline
tardis symbols sync --exchange binance-futures --from-file <lake>/instruments/binance-futures.json``
(replaces the generated instruments' inferred versions with their real tick-size history; infer never
touches synced keys, so the reverse order ends the same), and ``pointline ingest run``.

What is compared (:data:`GOLDEN`): every silver table the bronze feeds, sorted by its ordering key, plus
dim_symbol and the ingest manifest, with only the volatile columns dropped (:data:`VOLATILE`). ``file_id``
is kept: ids are minted in bronze-path order on a fresh lake, so they are deterministic; ``symbol_id`` is a
hash of ``exchange|exchange_symbol|valid_from_ts``, deterministic by design.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import polars as pl
from pointline.config import Lake
from pointline.storage.delta import TableStore
from pointline.tables.canonical import (
    DERIVATIVE_TICKER,
    DIM_SYMBOL,
    INCREMENTAL_BOOK_L2,
    INGEST_MANIFEST,
    OPTIONS_CHAIN,
    QUOTES,
    TRADES,
    book_snapshot,
)
from pointline.tables.spec import TableSpec

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "tardis"
"""Real vendor samples, read-only, next to the checkout (CI has the same sibling layout)."""
EXPECTED = Path(__file__).resolve().parent / "expected"

GENERATED = {"start": dt.date(2024, 5, 1), "days": 2, "rows_per_file": 100, "seed": 20240501}
"""Arguments of ``generate_bronze.generate``: small enough for CSV files a person can read."""
OPTIONS_NAME = "deribit_options_chain_2020-06-08_OPTIONS.csv.gz"
SYNCED_EXCHANGE = "binance-futures"

SPECS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TRADES,
        QUOTES,
        book_snapshot(25),
        book_snapshot(5),
        DERIVATIVE_TICKER,
        OPTIONS_CHAIN,
        INCREMENTAL_BOOK_L2,
        DIM_SYMBOL,
        INGEST_MANIFEST,
    )
}
GOLDEN = tuple(SPECS)
"""Tables compared with ``expected/<name>.csv``."""
SILVER = tuple(name for name in GOLDEN if SPECS[name].is_event_table)

VOLATILE: dict[str, dict[str, str]] = {
    "dim_symbol": {"updated_at_us": "wall-clock time of the write"},
    "ingest_manifest": {
        "created_at_us": "wall-clock time of the write",
        "updated_at_us": "wall-clock time of the write",
        "sha256": "the generated and re-gzipped files' bytes depend on the zlib build",
        "size_bytes": "the generated and re-gzipped files' bytes depend on the zlib build",
    },
}
"""Columns left out of the comparison, and why. Silver tables lose none."""
LIST_SEPARATOR = "|"
"""``ingest_manifest.dates`` (a list of dates) is written as ``2024-05-01|2024-05-02``."""


class PipelineError(RuntimeError):
    """The golden pipeline could not run (a ``pointline`` command failed) or write its files."""


# -- bronze ----------------------------------------------------------------------------------------
def _generator() -> ModuleType:
    """``tools/generate_bronze.py`` (tools/ is not a package), loaded from its path."""
    if "generate_bronze" in sys.modules:
        return sys.modules["generate_bronze"]
    path = REPO / "tools" / "generate_bronze.py"
    spec = importlib.util.spec_from_file_location("generate_bronze", path)
    if spec is None or spec.loader is None:
        raise PipelineError(f"cannot load the bronze generator {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_bronze"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def stage_bronze(lake_root: Path) -> list[Path]:
    """Put the golden bronze (real samples, the grouped options file, generated files) into the lake."""
    bronze = lake_root / "bronze" / "tardis"
    bronze.mkdir(parents=True, exist_ok=True)
    real = sorted((SAMPLES / "derived_gz").glob("*.csv.gz"))
    if not real:
        raise PipelineError(f"no real Tardis samples under {SAMPLES / 'derived_gz'}")
    for sample in real:
        shutil.copyfile(sample, bronze / sample.name)  # copyfile: not the read-only mode bits
    with (bronze / OPTIONS_NAME).open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write((SAMPLES / "options_chain.csv").read_bytes())
    _generator().generate(lake_root, **GENERATED)
    return sorted(p for p in bronze.iterdir() if p.is_file())


def instruments_file(lake_root: Path) -> Path:
    """The instruments-API JSON the generator wrote next to bronze."""
    return lake_root / "instruments" / f"{SYNCED_EXCHANGE}.json"


# -- the CLI ---------------------------------------------------------------------------------------
def pointline(lake_root: Path, *args: str) -> str:
    """Run the installed ``pointline`` script on ``lake_root`` as a user would; its stdout, or PipelineError."""
    exe = Path(sys.executable).parent / "pointline"
    if not exe.exists():
        raise PipelineError(f"the pointline script is not installed next to {sys.executable}")
    # Without the caller's POINTLINE_* variables every installed plugin loads, as for a fresh user.
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTLINE_")}
    env |= {"POINTLINE_LAKE": str(lake_root), "COLUMNS": "200"}
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise PipelineError(f"pointline {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def infer_symbols(lake_root: Path) -> str:
    return pointline(lake_root, "tardis", "symbols", "infer")


def sync_symbols(lake_root: Path) -> str:
    return pointline(
        lake_root,
        "tardis",
        "symbols",
        "sync",
        "--exchange",
        SYNCED_EXCHANGE,
        "--from-file",
        str(instruments_file(lake_root)),
    )


def build(lake_root: Path) -> None:
    """Stage the bronze, then infer, sync and ingest through the CLI, as a user would."""
    stage_bronze(lake_root)
    infer_symbols(lake_root)
    sync_symbols(lake_root)
    pointline(lake_root, "ingest", "run")


# -- what is compared ------------------------------------------------------------------------------
def golden_schema(name: str) -> dict[str, pl.DataType]:
    """Columns and types of ``expected/<name>.csv``: the table's, minus volatile columns."""
    volatile = VOLATILE.get(name, {})
    schema = {c: t for c, t in SPECS[name].schema.items() if c not in volatile}
    return {c: (pl.String() if isinstance(t, pl.List) else t) for c, t in schema.items()}


def snapshot(lake_root: Path, name: str) -> pl.DataFrame:
    """Table ``name`` of the lake as it is compared: volatile columns dropped, lists joined, rows ordered."""
    spec = SPECS[name]
    frame = TableStore(Lake(lake_root), spec).read()
    lists = [c for c, t in spec.schema.items() if isinstance(t, pl.List)]
    frame = frame.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR) for c in lists)
    return frame.select(list(golden_schema(name))).sort(spec.ordering_key)


def snapshot_all(lake_root: Path) -> dict[str, pl.DataFrame]:
    return {name: snapshot(lake_root, name) for name in GOLDEN}


def expected_path(name: str) -> Path:
    return EXPECTED / f"{name}.csv"


def read_expected(name: str) -> pl.DataFrame:
    """The checked-in expected rows of ``name``, read with the exact column types."""
    return pl.read_csv(expected_path(name), schema=golden_schema(name))


def write_expected(name: str, frame: pl.DataFrame) -> None:
    """Write ``frame`` as ``expected/<name>.csv``, checking first that it reads back unchanged."""
    text = frame.write_csv()
    back = pl.read_csv(text.encode(), schema=golden_schema(name))
    if not back.equals(frame):
        raise PipelineError(f"{name}: the CSV form does not read back to the same rows; refusing to write it")
    EXPECTED.mkdir(parents=True, exist_ok=True)
    expected_path(name).write_text(text, encoding="utf-8")


def _row_texts(frame: pl.DataFrame) -> list[str]:
    cells = [pl.col(c).cast(pl.String).fill_null("<null>") for c in frame.columns]
    return frame.select(pl.concat_str(cells, separator=",").alias("row")).get_column("row").to_list()


def difference(expected: pl.DataFrame, actual: pl.DataFrame, *, show: int = 5) -> str | None:
    """None when the frames are equal (same columns, types, rows and order); else a short, readable summary."""
    if expected.schema != actual.schema:
        return f"columns differ:\n  expected {dict(expected.schema)}\n  actual   {dict(actual.schema)}"
    if expected.equals(actual):
        return None
    want, got = Counter(_row_texts(expected)), Counter(_row_texts(actual))
    missing, extra = list((want - got).elements()), list((got - want).elements())
    lines = [
        f"{expected.height} rows expected, {actual.height} found: {len(missing)} expected rows missing, "
        f"{len(extra)} unexpected rows",
        "columns: " + ",".join(expected.columns),
    ]
    for mark, rows in (("-", missing), ("+", extra)):
        lines += [f"  {mark} {row}" for row in rows[:show]]
        if len(rows) > show:
            lines.append(f"  {mark} ... and {len(rows) - show} more")
    if not missing and not extra:
        lines.append("the same rows in a different order")
    return "\n".join(lines)
