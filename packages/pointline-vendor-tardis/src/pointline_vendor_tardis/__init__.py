"""Tardis.dev vendor plugin for Pointline.

Parses Tardis's downloadable CSV datasets into Pointline's canonical tables, recognises Tardis's own
download names and the Hive bronze layout, registers every Tardis exchange id, turns the instruments API
(or a saved copy of it) into dim_symbol versions, and downloads datasets resumably.
"""

from __future__ import annotations

from pointline_vendor_tardis.vendor import TardisVendor

__version__ = "0.1.0"
__all__ = ["TardisVendor", "__version__"]
