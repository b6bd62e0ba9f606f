"""The vendor conformance kit: a correct vendor passes it, and each kind of broken vendor fails the right test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import toy_plugin
from pointline.testing.conformance import VendorConformance

TESTS = Path(__file__).resolve().parent
TRADES_SAMPLE = TESTS.parents[2].parent / "shared" / "samples" / "tardis" / "bitmex_trades_XBTUSD.csv"


class TestToyConformance(VendorConformance):
    """The toy vendor, with the real Tardis trades sample placed in a Hive-style sub-directory."""

    vendor = toy_plugin.ToyVendor()
    sample_files = (TRADES_SAMPLE,)
    plugin = toy_plugin

    def bronze_relative_path(self, sample: Path) -> str:
        return f"exchange=bitmex/{sample.name}"


BROKEN = """
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, {tests!r})
import toy_plugin
from pointline.exchanges import ExchangeSpec
from pointline.plugins.hookspecs import hookimpl
from pointline.testing.conformance import VendorConformance
from pointline.vendor import BronzeFile

SAMPLES = (Path({sample!r}),)


class OffByOne(toy_plugin.ToyVendor):
    def read_and_parse(self, file):
        return super().read_and_parse(file).with_columns(pl.col("file_line_number") - 1)


class Greedy(toy_plugin.ToyVendor):
    def describe_file(self, path, bronze_root):
        return super().describe_file(path, bronze_root) or BronzeFile("toy", path, path.name, "trades")


class WrongShape(toy_plugin.ToyVendor):
    def read_and_parse(self, file):
        return super().read_and_parse(file).with_columns(pl.col("px").cast(pl.Float64)).drop("trade_id")


class Elsewhere(toy_plugin.ToyVendor):
    def read_and_parse(self, file):
        return super().read_and_parse(file).with_columns(exchange=pl.lit("nowhere"))


def plugin_for(vendor_type):
    class Hooks:
        @hookimpl
        def pointline_register_vendors(self, register):
            register(vendor_type())

        @hookimpl
        def pointline_register_exchanges(self, register):
            register(ExchangeSpec("bitmex", "crypto_derivative", "UTC"))

    return Hooks()


class TestOffByOne(VendorConformance):
    vendor, sample_files, plugin = OffByOne(), SAMPLES, plugin_for(OffByOne)


class TestGreedy(VendorConformance):
    vendor, sample_files, plugin = Greedy(), SAMPLES, plugin_for(Greedy)


class TestWrongShape(VendorConformance):
    vendor, sample_files, plugin = WrongShape(), SAMPLES, plugin_for(WrongShape)


class TestElsewhere(VendorConformance):
    vendor, sample_files, plugin = Elsewhere(), SAMPLES, plugin_for(Elsewhere)


class TestNoSamples(VendorConformance):
    vendor, plugin = toy_plugin.ToyVendor(), toy_plugin


class TestNotRegistered(VendorConformance):
    vendor, sample_files, plugin = OffByOne(), SAMPLES, toy_plugin
"""


def run_pytest(tmp_path: Path, source: str) -> dict[str, str]:
    """Run pytest in a subprocess on ``source``; returns ``{class::test[id]: passed|failed|error message}``."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n", encoding="utf-8")
    (tmp_path / "test_broken.py").write_text(source, encoding="utf-8")
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "test_broken.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        key = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcomes[key] = "passed" if failure is None else "failed: " + (failure.get("message") or "")
    return outcomes


def failed(outcomes: dict[str, str], cls: str) -> dict[str, str]:
    return {k.split("::", 1)[1]: v for k, v in outcomes.items() if k.startswith(cls + "::") and v != "passed"}


def test_each_broken_vendor_fails_exactly_the_check_it_breaks(tmp_path: Path) -> None:
    sample = TRADES_SAMPLE.name
    outcomes = run_pytest(tmp_path, textwrap.dedent(BROKEN).format(tests=str(TESTS), sample=str(TRADES_SAMPLE)))
    assert len(outcomes) == 6 * 10, sorted(outcomes)

    off = failed(outcomes, "TestOffByOne")
    assert list(off) == [f"test_file_line_numbers_are_physical[{sample}]"]
    assert (
        "the first row is on line 1, expected physical line 2" in off[f"test_file_line_numbers_are_physical[{sample}]"]
    )

    assert list(failed(outcomes, "TestGreedy")) == ["test_describe_file_ignores_junk"]

    shape = failed(outcomes, "TestWrongShape")
    assert list(shape) == [f"test_read_and_parse_returns_the_parse_schema[{sample}]"]
    assert "missing trade_id; mistyped px (expected String, got Float64)" in next(iter(shape.values()))

    elsewhere = failed(outcomes, "TestElsewhere")
    assert list(elsewhere) == [f"test_row_exchanges_are_registered[{sample}]"]
    assert "unknown exchange 'nowhere'" in next(iter(elsewhere.values()))

    empty = failed(outcomes, "TestNoSamples")
    assert sorted(empty) == sorted(
        f"{name}[no-sample-files]"
        for name in (
            "test_describe_file_recognises_sample",
            "test_read_and_parse_returns_the_parse_schema",
            "test_file_line_numbers_are_physical",
            "test_iter_batches_concatenate_to_read_and_parse",
            "test_empty_file_is_a_clean_error",
            "test_row_exchanges_are_registered",
        )
    )
    assert all("sample_files is empty" in message for message in empty.values())

    unregistered = failed(outcomes, "TestNotRegistered")
    assert "test_vendor_is_registered_by_its_plugin" in unregistered
    assert "registers ToyVendor as 'toy', not OffByOne" in unregistered["test_vendor_is_registered_by_its_plugin"]
