"""Where Tardis files live in bronze, and what their paths say.

Two layouts are recognised under ``<lake>/bronze/tardis/`` (at any depth):

* Tardis's own download names, as ``tardis-dev`` clients write them:
  ``{exchange}_{data_type}_{YYYY-MM-DD}_{symbol}.csv.gz`` (``default_file_name`` in tardis-python);
* the Hive layout Pointline's downloader writes by default:
  ``exchange={exchange}/type={data_type}/date={YYYY-MM-DD}/{symbol}.csv.gz``.

Plain ``.csv`` (a file the user gunzipped) is accepted in both. Anything under a hidden directory (the
downloader's ``.incoming/`` staging area) or with another suffix (``.part``, checksums) is not a bronze file.

The symbol in a path is a *hint* (progress, discovery filters): rows carry their own ``symbol`` column,
which is the only source of ``exchange_symbol``. That is what makes grouped files (``PERPETUALS``,
``OPTIONS``, ...) correct.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

GROUPED_SYMBOLS = frozenset({"PERPETUALS", "FUTURES", "OPTIONS", "SPOT"})
"""Tardis pseudo-symbols whose files hold every instrument of one market type, one row per instrument."""

_UNSAFE = re.compile(r'[:\\/?*<>|"]')
# Exchange ids use lower case, digits and '-' only, so the first '_' ends the exchange; the data type
# (which may contain '_', e.g. book_snapshot_25, incremental_book_L2) ends at the first '_YYYY-MM-DD_'.
_DOWNLOAD_NAME = re.compile(
    r"^(?P<exchange>[a-z0-9][a-z0-9-]*)_(?P<data_type>[A-Za-z0-9_]+?)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<symbol>.+)$"
)
_HIVE_KEYS = ("exchange", "type", "date")
SUFFIXES = (".csv.gz", ".csv")


def normalize_symbol(symbol: str) -> str:
    """The symbol as Tardis's dataset URLs spell it: ``:`` and ``/`` become ``-``, upper case.

    Same rule as ``_normalize_symbol`` in tardis-python (``symbol.replace(":", "-").replace("/", "-").upper()``).
    """
    return symbol.replace(":", "-").replace("/", "-").upper()


def sanitize_symbol(symbol: str) -> str:
    """A symbol made safe for a file name the way tardis-python's ``default_file_name`` does it."""
    return _UNSAFE.sub("-", symbol)


@dataclass(frozen=True)
class PathInfo:
    """What a bronze path tells about a Tardis file."""

    exchange: str
    data_type: str
    date: dt.date
    symbol: str
    layout: str
    """``"download"`` (Tardis file name) or ``"hive"``."""

    @property
    def grouped(self) -> bool:
        return self.symbol.upper() in GROUPED_SYMBOLS


def _strip_suffix(name: str) -> str | None:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_relative(relative: PurePosixPath) -> PathInfo | None:
    """Read a path relative to ``bronze/tardis``; None when it is not a Tardis bronze file."""
    if any(part.startswith(".") for part in relative.parts):
        return None
    stem = _strip_suffix(relative.name)
    if stem is None:
        return None
    parents = relative.parts[:-1]
    if len(parents) >= 3:
        hive = dict(part.split("=", 1) for part in parents[-3:] if "=" in part)
        if tuple(hive) == _HIVE_KEYS and all(hive.values()):
            day = _date(hive["date"])
            if day is None:
                return None
            return PathInfo(hive["exchange"], hive["type"], day, stem, "hive")
    match = _DOWNLOAD_NAME.match(stem)
    if match is None:
        return None
    day = _date(match["date"])
    if day is None:
        return None
    return PathInfo(match["exchange"], match["data_type"], day, match["symbol"], "download")


def download_name(exchange: str, data_type: str, day: dt.date, symbol: str) -> str:
    """Tardis's default download file name for one dataset file."""
    return f"{exchange}_{data_type}_{day.isoformat()}_{sanitize_symbol(normalize_symbol(symbol))}.csv.gz"


def hive_path(exchange: str, data_type: str, day: dt.date, symbol: str) -> PurePosixPath:
    """The Hive-layout path (relative to ``bronze/tardis``) of one dataset file."""
    return PurePosixPath(
        f"exchange={exchange}",
        f"type={data_type}",
        f"date={day.isoformat()}",
        f"{sanitize_symbol(normalize_symbol(symbol))}.csv.gz",
    )


def relative_path(exchange: str, data_type: str, day: dt.date, symbol: str, layout: str) -> PurePosixPath:
    """Where the downloader puts a file, relative to ``bronze/tardis``, for ``layout`` hive or download."""
    if layout == "hive":
        return hive_path(exchange, data_type, day, symbol)
    if layout == "download":
        return PurePosixPath(download_name(exchange, data_type, day, symbol))
    raise ValueError(f"unknown layout {layout!r} (expected 'hive' or 'download')")
