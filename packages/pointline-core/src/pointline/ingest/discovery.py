"""Bronze discovery: walk each vendor's bronze directory with its layout spec and fingerprint the files.

Metadata comes from paths (through :meth:`Vendor.describe_file`); the identity that decides whether a
file was ingested already is ``(vendor, data_type, path relative to the bronze root, sha256)``, so every
candidate is hashed. Hashing runs in a thread pool (``hashlib`` releases the GIL on large reads).
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pointline.config import Lake
from pointline.errors import UnknownTableError
from pointline.plugins.host import PluginHost
from pointline.vendor import BronzeFile, Vendor

HASH_THREADS = 4


@dataclass(frozen=True)
class Candidate:
    """A bronze file that ingestion may process, with its identity and routing."""

    file: BronzeFile
    table: str | None
    """The table its data type lands in; None when the vendor maps the data type to no table."""
    size_bytes: int
    sha256: str
    exchange: str | None
    """The exchange named by the path, normalised by the vendor (a hint: rows carry their own)."""
    routing_error: str | None = None
    """Why ``table`` is None."""

    @property
    def vendor(self) -> str:
        return self.file.vendor

    @property
    def path(self) -> str:
        return self.file.relative_path

    @property
    def data_type(self) -> str:
        return self.file.data_type


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _vendor_files(vendor: Vendor, lake: Lake) -> Iterator[Path]:
    root = lake.vendor_bronze(vendor.name)
    if not root.is_dir():
        return
    seen: set[Path] = set()
    for pattern in vendor.bronze_patterns:
        for path in sorted(root.glob(pattern)):
            # Dot-files are editor, OS or partial-download artefacts, never vendor data.
            if path in seen or not path.is_file() or any(p.startswith(".") for p in path.relative_to(root).parts):
                continue
            seen.add(path)
            yield path


def describe(
    lake: Lake,
    host: PluginHost,
    *,
    vendor: str | None = None,
    data_type: str | None = None,
    glob: str | None = None,
) -> list[BronzeFile]:
    """Every bronze file the selected vendors recognise, filtered by data type and a path glob.

    ``glob`` is matched (``fnmatch``, ``*`` crosses ``/``) against the path relative to the bronze
    root, e.g. ``tardis/*2024-05-0[1-7]*``.
    """
    vendors = [host.vendor(vendor)] if vendor else list(host.vendors.values())
    out: list[BronzeFile] = []
    for v in vendors:
        for path in _vendor_files(v, lake):
            described = v.describe_file(path, lake.bronze)
            if described is None:
                continue
            if data_type is not None and described.data_type != data_type:
                continue
            if glob is not None and not fnmatch.fnmatchcase(described.relative_path, glob):
                continue
            out.append(described)
    return sorted(out, key=lambda f: (f.vendor, f.relative_path))


def fingerprint(files: Iterable[BronzeFile], host: PluginHost) -> list[Candidate]:
    """Size, SHA-256, table and exchange hint of each file (hashes computed in parallel)."""
    files = list(files)
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        digests = list(pool.map(lambda f: sha256_of(f.path), files))
    out: list[Candidate] = []
    for f, digest in zip(files, digests, strict=True):
        v = host.vendor(f.vendor)
        table: str | None
        error: str | None = None
        try:
            spec = host.table_for(v, f.data_type)
            table = spec.name
            if not (spec.is_event_table and "file_line_number" in spec.column_names):
                table, error = (
                    None,
                    f"table {spec.name!r} has no lineage columns; `ingest run` writes event tables only",
                )
        except UnknownTableError as exc:
            table, error = None, str(exc)
        exchange = v.normalize_exchange(f.exchange) if f.exchange else None
        out.append(Candidate(f, table, f.path.stat().st_size, digest, exchange, error))
    return out


def discover(
    lake: Lake,
    host: PluginHost,
    *,
    vendor: str | None = None,
    data_type: str | None = None,
    glob: str | None = None,
) -> list[Candidate]:
    """:func:`describe` then :func:`fingerprint`: the run's candidate files with their identities."""
    return fingerprint(describe(lake, host, vendor=vendor, data_type=data_type, glob=glob), host)
