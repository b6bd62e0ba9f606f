"""Errors the research API raises; all are :class:`pointline.errors.PointlineError`, so the CLI prints
them as one line and exits 2."""

from __future__ import annotations

from pointline.errors import PointlineError


class UnknownSymbolError(PointlineError):
    """No dim_symbol version has exactly this (exchange, exchange_symbol)."""


class ResearchInputError(PointlineError):
    """An argument of a research helper is unusable: an unknown column, an empty window, a bad threshold."""


class SqlError(PointlineError):
    """DuckDB rejected a `pointline sql` statement."""
