"""Core's vendor conformance suite, run against the Tardis vendor and every real sample."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pointline.testing.conformance import VendorConformance
from tardis_helpers import ALL_SAMPLES, TARDIS_NAMES

from pointline_vendor_tardis import hooks
from pointline_vendor_tardis.vendor import TardisVendor


class TestTardisConformance(VendorConformance):
    vendor = TardisVendor()
    sample_files: ClassVar[list[Path]] = [path for path, _ in ALL_SAMPLES]
    plugin = hooks  # the installed entry point itself is tested in test_plugin.py

    def bronze_relative_path(self, sample: Path) -> str:
        """The gz samples carry Tardis download names already; the plain ones get the name they would have had."""
        return TARDIS_NAMES.get(sample.name, sample.name)

    def junk_relative_path(self) -> str:
        return ".incoming/exchange=deribit/type=trades/date=2020-01-01/BTC-PERPETUAL.csv.gz.part"
