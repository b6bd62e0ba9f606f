"""Exchanges as data: plugins register them from packaged TOML, core hard-codes none.

A vendor package ships e.g. ``exchanges.toml``::

    [[exchange]]
    name = "binance-futures"
    asset_class = "crypto_derivative"
    timezone = "UTC"
    description = "Binance USD-M futures"

and returns :func:`load_exchanges_toml` of it from its ``pointline_register_exchanges`` hook.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from pointline.errors import PluginError
from pointline.timeutil import check_timezone

ASSET_CLASSES = frozenset(
    {
        "crypto_spot",
        "crypto_derivative",
        "crypto_option",
        "equity",
        "future",
        "option",
        "forex",
        "index",
        "mixed",
    }
)
"""Asset classes an exchange may declare; registration rejects anything else."""


@dataclass(frozen=True)
class ExchangeSpec:
    """One exchange: its id, asset class, the IANA timezone that defines its local date, and codes."""

    name: str
    asset_class: str
    timezone: str
    mic: str | None = None
    calendar: str | None = None
    """exchange_calendars code (``XNYS``); null for 24/7 venues."""
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise PluginError(f"exchange name {self.name!r} is empty or padded")
        if self.asset_class not in ASSET_CLASSES:
            raise PluginError(
                f"exchange {self.name!r}: unknown asset class {self.asset_class!r} "
                f"(known: {', '.join(sorted(ASSET_CLASSES))})"
            )
        check_timezone(self.timezone)


def load_exchanges_toml(source: Path | Traversable) -> list[ExchangeSpec]:
    """Read ``[[exchange]]`` entries from a TOML file (a path or an ``importlib.resources`` file)."""
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PluginError(f"{source}: invalid TOML: {exc}") from None
    out: list[ExchangeSpec] = []
    for i, entry in enumerate(data.get("exchange", []), start=1):
        try:
            out.append(ExchangeSpec(**entry))
        except TypeError as exc:  # an unknown or missing key
            raise PluginError(f"{source}: exchange #{i}: {exc}") from None
        except PluginError as exc:  # an invalid value: say which file holds it
            raise PluginError(f"{source}: exchange #{i}: {exc}") from None
    return out
