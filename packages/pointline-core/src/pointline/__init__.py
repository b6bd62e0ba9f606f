"""Pointline core: the plugin contract, table registry, exact codec, Delta storage, ingestion and CLI.

Public entry points:

* :mod:`pointline.vendor` — the :class:`~pointline.vendor.Vendor` base class and capabilities;
* :mod:`pointline.plugins.hookspecs` — ``hookimpl`` and the hook specifications;
* :mod:`pointline.tables` — :class:`~pointline.tables.spec.TableSpec` and the canonical tables;
* :mod:`pointline.codec` — exact fixed-point encode/decode;
* :mod:`pointline.storage.delta` — :class:`~pointline.storage.delta.TableStore`;
* :func:`pointline.plugins.host.get_host` — what installed plugins registered.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pointline-core")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
