"""The typed errors Pointline raises.

Every error a user can cause derives from :class:`PointlineError`; the CLI prints those as one line and
exits non-zero, while anything else is a bug and keeps its traceback. Messages name the file, line and
column wherever one is known, and say what was expected.
"""

from __future__ import annotations


class PointlineError(Exception):
    """Base class of every error caused by input, configuration or environment (not by a bug)."""


class ConfigError(PointlineError):
    """The lake location or a configuration file is missing or malformed."""


class PluginError(PointlineError):
    """A plugin could not be loaded, or it registered something inconsistent."""


class RegistrationConflict(PluginError):
    """Two plugins registered the same name with different definitions."""


class UnknownTableError(PointlineError):
    """A table name is not registered by core or by any installed plugin."""


class UnknownVendorError(PointlineError):
    """A vendor name is not registered by any installed plugin."""


class UnknownExchangeError(PointlineError):
    """An exchange is not registered by any installed plugin."""


class SchemaMismatchError(PointlineError):
    """A frame does not match a table's registered schema.

    The message lists missing, unexpected and mistyped columns, so the fix is obvious.
    """

    def __init__(
        self,
        table: str,
        *,
        missing: list[str],
        unexpected: list[str],
        mistyped: list[tuple[str, str, str]],
        nulls: list[str] | None = None,
    ) -> None:
        self.table = table
        self.missing = missing
        self.unexpected = unexpected
        self.mistyped = mistyped
        self.nulls = nulls or []
        parts: list[str] = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected)}")
        if mistyped:
            parts.append("mistyped " + ", ".join(f"{c} (expected {want}, got {got})" for c, want, got in mistyped))
        if self.nulls:
            parts.append(f"nulls in non-nullable {', '.join(self.nulls)}")
        super().__init__(f"frame does not match the schema of table {table!r}: {'; '.join(parts)}")


class EncodingError(PointlineError):
    """A value cannot be represented exactly on its instrument's increment grid."""


class BronzeFormatError(PointlineError):
    """A bronze file cannot be read: truncated, empty, missing columns, or not the expected format.

    ``path``, ``line`` and ``column`` are kept so the ingestion log can record them.
    """

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, column: str | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = ":".join(str(p) for p in (path, line) if p is not None)
        col = f" column {column!r}" if column else ""
        super().__init__(f"{where}{col}: {message}" if where or col else message)


class TimeInputError(PointlineError):
    """A time argument is ambiguous (a naive datetime) or cannot be parsed."""


class DownloadError(PointlineError):
    """A vendor download failed after its retries."""
