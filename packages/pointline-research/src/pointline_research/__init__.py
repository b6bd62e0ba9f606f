"""Pointline research API: point-in-time reads, as-of joins, bars, discovery and DuckDB over the lake.

``from pointline_research import query, joins, bars, discovery``:

* :mod:`~pointline_research.query` — one instrument by exchange + exact symbol, across SCD2 versions;
* :mod:`~pointline_research.core` — lazy scans by explicit ``symbol_id``;
* :mod:`~pointline_research.joins` — as-of joins with a documented tie order (docs/join-semantics.md);
* :mod:`~pointline_research.bars` — time, tick, volume and dollar bars, labelled by bar end;
* :mod:`~pointline_research.discovery` — exchanges, symbols, coverage, symbol summaries;
* :mod:`~pointline_research.duck` — a DuckDB connection with every table as a view.

This package depends on ``pointline`` (core) only and never on a vendor package.
"""

from importlib.metadata import PackageNotFoundError, version

from pointline_research import bars, core, discovery, duck, joins, query

try:
    __version__ = version("pointline-research")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["bars", "core", "discovery", "duck", "joins", "query"]
