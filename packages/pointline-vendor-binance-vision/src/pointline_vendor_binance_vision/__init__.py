"""Binance Vision vendor plugin for Pointline (registered through the ``binance-vision`` entry point)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pointline-vendor-binance-vision")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
