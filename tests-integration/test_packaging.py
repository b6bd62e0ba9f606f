"""Packaging acceptance: real installs into an empty environment, exactly as a user or a third party does them.

1. ``pointline-core`` + ``pointline-vendor-tardis`` from the tree into an empty venv: ``pointline plugins``
   lists tardis; uninstalling the distribution removes it.
2. A throwaway ``pointline-vendor-foo`` written here (not in the tree) with its own hatchling
   pyproject, hooks and a conformance test: installing it makes it appear with its version and hooks,
   with zero changes to core, and its conformance tests pass through ``pointline-core[testing]``.

uv does the installs (it is in the integration environment); its cache makes them fast after the first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, clean_env

pytestmark = pytest.mark.slow

TARDIS = REPO / "packages" / "pointline-vendor-tardis"
CORE = REPO / "packages" / "pointline-core"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=clean_env(), cwd=cwd, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty virtual environment (no pip, no packages) on this interpreter."""
    uv = shutil.which("uv")
    assert uv is not None, "uv must be installed (the integration session installs it)"
    path = tmp_path_factory.mktemp("packaging") / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, path)
    return path


def uv_pip(venv: Path, *args: str | Path) -> None:
    run(shutil.which("uv") or "uv", "pip", *args, "--quiet", "--python", venv / "bin" / "python")


def plugins(venv: Path) -> dict[str, dict[str, object]]:
    return {i["name"]: i for i in json.loads(run(venv / "bin" / "pointline", "plugins", "--json").stdout)}


def version_of(package: Path) -> str:
    return str(tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def test_installing_and_uninstalling_a_vendor_adds_and_removes_its_plugin(venv: Path) -> None:
    uv_pip(venv, "install", CORE, TARDIS)
    listed = plugins(venv)
    assert set(listed) == {"pointline-core", "tardis"}
    assert listed["tardis"]["distribution"] == "pointline-vendor-tardis"
    assert listed["tardis"]["version"] == version_of(TARDIS)
    assert "pointline_register_vendors" in listed["tardis"]["hooks"]  # type: ignore[operator]

    uv_pip(venv, "uninstall", "pointline-vendor-tardis")
    assert set(plugins(venv)) == {"pointline-core"}


FOO_PYPROJECT = """
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "pointline-vendor-foo"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = ["pointline-core>=0.1,<0.2"]

[project.entry-points.pointline]
foo = "pointline_vendor_foo.hooks"

[tool.hatch.build.targets.wheel]
packages = ["src/pointline_vendor_foo"]
"""

FOO_VENDOR = '''
"""Foo: one CSV of trades per exchange and day, ``<exchange>/<YYYY-MM-DD>.csv``, header ``ts,symbol,side,price,size``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from pointline.errors import BronzeFormatError
from pointline.vendor import BronzeFile, Vendor, bronze_relative

SIDES = {"B": 1, "S": -1}


class FooVendor(Vendor):
    name = "foo"

    def table_mapping(self):
        return {"trades": "trades"}

    def describe_file(self, path: Path, bronze_root: Path) -> BronzeFile | None:
        try:
            day = dt.date.fromisoformat(path.stem)
        except ValueError:
            return None
        if path.suffix != ".csv" or not path.is_file():
            return None
        return BronzeFile("foo", path.resolve(), bronze_relative(path, bronze_root), "trades", path.parent.name, None, day)

    def read_and_parse(self, file: BronzeFile) -> pl.DataFrame:
        try:
            raw = pl.read_csv(file.path, infer_schema=False)
        except pl.exceptions.NoDataError:
            raise BronzeFormatError("empty file", path=file.relative_path) from None
        return raw.select(
            exchange=pl.lit(file.exchange, pl.String),
            exchange_symbol=pl.col("symbol"),
            ts_local_us=pl.col("ts").cast(pl.Int64),
            ts_exch_us=pl.lit(None, pl.Int64),
            file_line_number=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
            trade_id=pl.lit(None, pl.String),
            side=pl.col("side").replace_strict(SIDES, return_dtype=pl.Int8),
            px=pl.col("price"),
            qty=pl.col("size"),
        )
'''

FOO_HOOKS = """
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl

from pointline_vendor_foo.vendor import FooVendor


@hookimpl
def pointline_register_vendors(register):
    register(FooVendor())


@hookimpl
def pointline_register_exchanges(register):
    register(ExchangeSpec("foo-exchange", "crypto_spot", "UTC", description="Foo's only venue"))
"""

FOO_CONFORMANCE = """
from pathlib import Path

from pointline.testing.conformance import VendorConformance
from pointline.testing.installed import PluginInstalled
from pointline_vendor_foo import hooks
from pointline_vendor_foo.vendor import FooVendor

DATA = Path(__file__).parent / "data"


class TestFooConformance(VendorConformance):
    vendor = FooVendor()
    sample_files = sorted(DATA.glob("*.csv"))

    def bronze_relative_path(self, sample):
        return f"foo-exchange/{sample.name}"


class TestFooInstalled(PluginInstalled):
    plugin_name = "foo"
    distribution = "pointline-vendor-foo"
    hooks_module = hooks


def test_lake_fixture_comes_from_pointline_testing(lake):
    assert lake.root.is_dir()
"""


def write_foo(root: Path) -> Path:
    """The third party's package, exactly as USER-STORIES §6 describes it."""
    package = root / "pointline-vendor-foo"
    files = {
        "pyproject.toml": FOO_PYPROJECT,
        "src/pointline_vendor_foo/__init__.py": "",
        "src/pointline_vendor_foo/vendor.py": FOO_VENDOR,
        "src/pointline_vendor_foo/hooks.py": FOO_HOOKS,
        "tests/test_foo_conformance.py": FOO_CONFORMANCE,
        "tests/data/2024-05-01.csv": "ts,symbol,side,price,size\n1714521600000000,BTCUSD,B,64000.5,0.01\n"
        "1714521600100000,BTCUSD,S,64000.0,0.25\n1714521601000000,BTCUSD,B,64001.0,1\n",
        "pytest.ini": "[pytest]\nfilterwarnings = error\n",
    }
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return package


def test_a_third_party_vendor_appears_with_zero_changes_to_core(venv: Path, tmp_path: Path) -> None:
    assert SAMPLES.is_dir()  # the sibling layout the rest of the suite relies on
    foo = write_foo(tmp_path)
    uv_pip(venv, "install", f"{CORE}[testing]", foo)
    listed = plugins(venv)
    assert listed["foo"]["distribution"] == "pointline-vendor-foo"
    assert listed["foo"]["version"] == "0.3.0"
    assert listed["foo"]["hooks"] == ["pointline_register_exchanges", "pointline_register_vendors"]
    assert listed["foo"]["vendors"] == ["foo"]
    assert listed["foo"]["exchanges"] == ["foo-exchange"]

    # The third party's own test run: core's conformance suite and fixtures, nothing else.
    tests = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=foo)
    assert "13 passed" in tests.stdout, tests.stdout
