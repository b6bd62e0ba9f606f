"""The vendor conformance suite: the contract tests every vendor package runs against its own vendor.

A vendor package subclasses :class:`VendorConformance` in its tests, naming its vendor instance and a
few real sample bronze files::

    from pathlib import Path
    from pointline.testing.conformance import VendorConformance
    from pointline_vendor_foo.vendor import FooVendor

    SAMPLES = Path(__file__).parent / "data"

    class TestFooConformance(VendorConformance):
        vendor = FooVendor()
        sample_files = sorted(SAMPLES.glob("*.csv"))

pytest then runs every ``test_*`` method below, once per sample file where the test takes ``sample``.
The checks are the guarantees core relies on: the vendor is registered through its entry point, its
table mapping lands in registered tables, it recognises its own files and ignores junk, its parser
returns exactly the table's pre-encoding schema with physical line numbers, batching changes nothing,
an empty file is a clean error, and every exchange its rows name is registered.

Override the hooks (:meth:`bronze_relative_path`, :meth:`first_data_line`, :meth:`junk_relative_path`)
where a vendor's layout needs it; set :attr:`plugin` to the hooks module to test without installing
the package (by default the installed ``pointline`` entry points are loaded, which is the real path).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pointline.errors import BronzeFormatError
from pointline.plugins.host import PluginHost
from pointline.tables.spec import TableSpec
from pointline.vendor import BronzeFile, Vendor, bronze_relative

_VENDOR_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PLAIN_TEXT = {".csv", ".txt", ".tsv", ".json", ".jsonl"}
_NO_SAMPLES = "no-sample-files"


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _schema_diff(want: pl.Schema, got: pl.Schema) -> str:
    missing = [n for n in want if n not in got]
    unexpected = [n for n in got if n not in want]
    mistyped = [f"{n} (expected {want[n]}, got {got[n]})" for n in want if n in got and got[n] != want[n]]
    parts = [
        f"{label} {', '.join(items)}"
        for label, items in (("missing", missing), ("unexpected", unexpected), ("mistyped", mistyped))
        if items
    ]
    return "; ".join(parts)


class VendorConformance:
    """Contract tests for one vendor; subclass it as ``Test<Vendor>Conformance`` in the vendor's tests."""

    vendor: ClassVar[Vendor]
    """The vendor instance under test (required)."""
    sample_files: ClassVar[Sequence[Path]] = ()
    """Real bronze files of this vendor (required, at least one); they are copied, never modified."""
    plugin: ClassVar[object | None] = None
    """The vendor's hooks module. None (default): load the installed ``pointline`` entry points."""
    batch_rows: ClassVar[int] = 3
    """Batch size for the :meth:`Vendor.iter_batches` check: small, so samples span several batches."""

    # -- hooks a subclass may override -----------------------------------------------------------
    def bronze_relative_path(self, sample: Path) -> str:
        """Where ``sample`` goes under ``bronze/<vendor>/`` (default: its own file name)."""
        return sample.name

    def first_data_line(self, sample: Path) -> int:
        """The physical line of the first data row of ``sample`` (default 2: one header line)."""
        return 2

    def junk_relative_path(self) -> str:
        """A path under ``bronze/<vendor>/`` that is not a file of this vendor."""
        return "notes/not-a-vendor-file.junk"

    # -- parametrisation and fixtures ------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run every test that takes ``sample`` once per sample file (a clear failure if there are none)."""
        if "sample" in metafunc.fixturenames:
            samples = list(self.sample_files)
            if samples:
                metafunc.parametrize("sample", samples, ids=[p.name for p in samples])
            else:
                metafunc.parametrize("sample", [None], ids=[_NO_SAMPLES])

    @pytest.fixture
    def conformance_host(self) -> PluginHost:
        """A fresh host with core and the vendor's plugin (its hooks module, or the installed entry points)."""
        if self.plugin is not None:
            return PluginHost(entry_points_enabled=False, extra_plugins=[(self.vendor.name, self.plugin)])
        return PluginHost()

    @pytest.fixture
    def bronze_root(self, tmp_path: Path) -> Path:
        """An empty bronze root in ``tmp_path``."""
        root = tmp_path / "bronze"
        (root / self.vendor.name).mkdir(parents=True)
        return root

    # -- helpers ---------------------------------------------------------------------------------
    def _require(self, sample: Path | None) -> Path:
        if sample is None:
            pytest.fail(f"{type(self).__name__}.sample_files is empty: list at least one real bronze file")
        if not sample.is_file():
            pytest.fail(f"sample file {sample} does not exist")
        return sample

    def _place(self, sample: Path, bronze_root: Path) -> Path:
        target = bronze_root / self.vendor.name / self.bronze_relative_path(sample)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, target)
        return target

    def _describe(self, sample: Path, bronze_root: Path) -> BronzeFile:
        path = self._place(sample, bronze_root)
        described = self.vendor.describe_file(path, bronze_root)
        assert described is not None, f"{self.vendor.name}: describe_file did not recognise {path}"
        return described

    def _parse(self, sample: Path, bronze_root: Path) -> tuple[BronzeFile, pl.DataFrame]:
        described = self._describe(sample, bronze_root)
        return described, _collect(self.vendor.read_and_parse(described))

    def _table(self, host: PluginHost, described: BronzeFile) -> TableSpec:
        return host.table_for(self.vendor, described.data_type)

    # -- the contract ----------------------------------------------------------------------------
    def test_vendor_has_a_name(self) -> None:
        assert isinstance(self.vendor, Vendor), f"{self.vendor!r} is not a pointline.vendor.Vendor"
        assert _VENDOR_NAME.match(self.vendor.name), (
            f"vendor name {self.vendor.name!r} must be lowercase letters, digits, '-' or '_' "
            "(it names the bronze directory and the CLI command group)"
        )

    def test_vendor_is_registered_by_its_plugin(self, conformance_host: PluginHost) -> None:
        registered = conformance_host.vendor(self.vendor.name)
        assert type(registered) is type(self.vendor), (
            f"the plugin registers {type(registered).__name__} as {self.vendor.name!r}, "
            f"not {type(self.vendor).__name__}"
        )

    def test_table_mapping_resolves_to_registered_tables(self, conformance_host: PluginHost) -> None:
        mapping = self.vendor.table_mapping()
        assert mapping, f"{self.vendor.name}: table_mapping() is empty"
        for data_type, table in mapping.items():
            key_params = set(_PLACEHOLDER.findall(data_type))
            table_params = set(_PLACEHOLDER.findall(table))
            assert table_params <= key_params, (
                f"{self.vendor.name}: {data_type!r} -> {table!r} uses placeholders the data type does not bind: "
                f"{sorted(table_params - key_params)}"
            )
            if not table_params:
                conformance_host.table(table)  # raises UnknownTableError naming the table

    def test_describe_file_recognises_sample(
        self, sample: Path | None, bronze_root: Path, conformance_host: PluginHost
    ) -> None:
        source = self._require(sample)
        path = bronze_root / self.vendor.name / self.bronze_relative_path(source)
        described = self._describe(source, bronze_root)
        assert described.vendor == self.vendor.name
        assert described.path.resolve() == path.resolve()
        assert described.relative_path == bronze_relative(path, bronze_root)
        self._table(conformance_host, described)  # the data type maps to a registered table
        if described.exchange is not None:
            conformance_host.exchange(described.exchange)

    def test_describe_file_ignores_junk(self, bronze_root: Path) -> None:
        junk = bronze_root / self.vendor.name / self.junk_relative_path()
        junk.parent.mkdir(parents=True, exist_ok=True)
        junk.write_bytes(b"this is not market data\n\x00\x01\x02\n")
        assert self.vendor.describe_file(junk, bronze_root) is None, f"{self.vendor.name} claimed junk file {junk}"

    def test_read_and_parse_returns_the_parse_schema(
        self, sample: Path | None, bronze_root: Path, conformance_host: PluginHost
    ) -> None:
        described, frame = self._parse(self._require(sample), bronze_root)
        want = self._table(conformance_host, described).parse_schema()
        diff = _schema_diff(want, frame.schema)
        assert not diff, f"{self.vendor.name}: {described.relative_path} parses to the wrong shape: {diff}"
        assert frame.height > 0, f"{self.vendor.name}: {described.relative_path} parsed to no rows"

    def test_file_line_numbers_are_physical(self, sample: Path | None, bronze_root: Path) -> None:
        source = self._require(sample)
        _, frame = self._parse(source, bronze_root)
        lines = frame.get_column("file_line_number")
        assert lines.dtype == pl.Int64, f"file_line_number is {lines.dtype}, not Int64"
        assert lines.null_count() == 0, "file_line_number has nulls"
        first, last = frame.select(low=pl.col("file_line_number").min(), high=pl.col("file_line_number").max()).row(0)
        expected = self.first_data_line(source)
        assert first == expected, f"the first row is on line {first}, expected physical line {expected}"
        assert bool((lines.diff().drop_nulls() > 0).all()), "file_line_number is not strictly increasing"
        if source.suffix.lower() in _PLAIN_TEXT:
            physical = len(source.read_bytes().splitlines())
            assert last <= physical, f"line {last} does not exist: {source.name} has {physical} lines"

    def test_iter_batches_concatenate_to_read_and_parse(self, sample: Path | None, bronze_root: Path) -> None:
        described, whole = self._parse(self._require(sample), bronze_root)
        batches: Iterator[pl.DataFrame] = self.vendor.iter_batches(described, self.batch_rows)
        parts = [_collect(b) for b in batches]
        assert parts, "iter_batches yielded nothing"
        assert_frame_equal(pl.concat(parts, how="vertical"), whole)

    def test_empty_file_is_a_clean_error(
        self, sample: Path | None, bronze_root: Path, conformance_host: PluginHost
    ) -> None:
        """An empty file is either ignored, a :class:`BronzeFormatError`, or zero rows of the right shape."""
        source = self._require(sample)
        path = bronze_root / self.vendor.name / self.bronze_relative_path(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        described = self.vendor.describe_file(path, bronze_root)
        if described is None:
            return  # declining to describe an empty file is fine: discovery then ignores it
        outcome: pl.DataFrame | BronzeFormatError
        try:
            outcome = _collect(self.vendor.read_and_parse(described))
        except BronzeFormatError as exc:
            outcome = exc
        if isinstance(outcome, BronzeFormatError):
            assert str(outcome), "BronzeFormatError without a message"
        else:
            assert outcome.height == 0, f"an empty file parsed to {outcome.height} rows"
            diff = _schema_diff(self._table(conformance_host, described).parse_schema(), outcome.schema)
            assert not diff, f"an empty file parsed to the wrong shape: {diff}"

    def test_row_exchanges_are_registered(
        self, sample: Path | None, bronze_root: Path, conformance_host: PluginHost
    ) -> None:
        described, frame = self._parse(self._require(sample), bronze_root)
        names = frame.get_column("exchange").unique().to_list() if "exchange" in frame.columns else []
        if described.exchange is not None:
            names.append(described.exchange)
        assert names, f"{described.relative_path}: no exchange in the rows or the path"
        for name in names:
            spec = conformance_host.exchange(name)
            ZoneInfo(spec.timezone)  # raises for a timezone the IANA database does not know
