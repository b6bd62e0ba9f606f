"""Where the lake lives.

Resolution order: an explicit ``--lake`` argument, then ``POINTLINE_LAKE``, then ``lake_root`` in the
TOML config file (``POINTLINE_CONFIG``, else ``~/.config/pointline/config.toml``), then ``./lake``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pointline.errors import ConfigError

DEFAULT_LAKE = Path("lake")


def config_path() -> Path:
    """The TOML config file: ``$POINTLINE_CONFIG``, else ``$XDG_CONFIG_HOME/pointline/config.toml``."""
    explicit = os.environ.get("POINTLINE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "pointline" / "config.toml"


def read_config() -> dict[str, object]:
    """The parsed config file (empty when the default file does not exist)."""
    path = config_path()
    if not path.exists():
        if os.environ.get("POINTLINE_CONFIG"):
            raise ConfigError(f"POINTLINE_CONFIG points at {path}, which does not exist")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def resolve_lake_root(explicit: str | Path | None = None) -> Path:
    """The lake root directory (not created here)."""
    if explicit is not None and str(explicit):
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("POINTLINE_LAKE")
    if env:
        return Path(env).expanduser().resolve()
    configured = read_config().get("lake_root")
    if configured is not None:
        if not isinstance(configured, str):
            raise ConfigError(f"{config_path()}: lake_root must be a string path")
        return Path(configured).expanduser().resolve()
    return DEFAULT_LAKE.resolve()


@dataclass(frozen=True)
class Lake:
    """The lake's directory layout: ``bronze/<vendor>/...``, ``silver/<table>``, ``gold/<table>``, ..."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | Path | None = None) -> Lake:
        """The lake from ``--lake``, ``$POINTLINE_LAKE``, the config file, or ``./lake``."""
        return cls(resolve_lake_root(explicit))

    @property
    def bronze(self) -> Path:
        """Immutable vendor files: ``<root>/bronze``."""
        return self.root / "bronze"

    def vendor_bronze(self, vendor: str) -> Path:
        """One vendor's bronze directory: ``<root>/bronze/<vendor>``."""
        return self.bronze / vendor

    @property
    def state(self) -> Path:
        """Lock and counter files (not data)."""
        return self.root / "_state"

    def table_path(self, tier: str, table: str) -> Path:
        """A Delta table's directory: ``<root>/<tier>/<table>``."""
        return self.root / tier / table
