"""Pointline hooks of the CoinGecko plugin (the module the ``coingecko`` entry point names).

It implements no hook yet, on purpose: CoinGecko data is keyed by asset, not by venue, so the plugin
registers no exchange, and the table it will fill (``dim_asset_stats``) is core's. The vendor, an
``ApiSnapshotSource`` that captures API responses into bronze, is registered here once it exists.
"""

from __future__ import annotations
