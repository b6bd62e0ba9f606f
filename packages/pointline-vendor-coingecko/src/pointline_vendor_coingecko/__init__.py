"""CoinGecko vendor plugin for Pointline (registered through the ``coingecko`` entry point)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pointline-vendor-coingecko")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
