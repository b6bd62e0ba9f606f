"""Quant360 vendor plugin for Pointline (registered through the ``quant360`` entry point)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pointline-vendor-quant360")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
